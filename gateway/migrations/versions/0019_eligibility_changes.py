"""Who may change a target's eligibility, and the record shows it (issue 15, item 1)

The registration authority is a department flag; every change of an eligibility field is kept in an
append-only table with its reason code; other departments' proposals wait for the owner; a draw
keeps, from its freeze, the changes that moved targets between strata since the plan's publication.
"""
import sqlalchemy as sa

from gateway.migrations import helpers as h

revision = "0019_eligibility_changes"
down_revision = "0018_plan_filing"


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy would drop and recreate departments and plans, which other
    # tables' rows refer to.
    h.add_columns("departments", *h.flags("registration_authority", server_default=sa.false()), batch=False)
    h.add_columns("draws", *h.jsons("eligibility_changes", nullable=True), batch=False)
    # Issue 15, item 12: a plan adjusts a matter's minimum ratio where it is a county default.
    h.add_columns("plans", *h.jsons("min_ratios", nullable=True), batch=False)
    h.create_table(
        "target_eligibility_changes",
        h.ref("target_id", "targets.id"),
        h.uscc(),
        *h.strings(field=32, old_value=32, new_value=32, reason_code=32, source=16),
        h.actor("actor"),
        *h.strings(actor_role=32),
        h.department_code("actor_department"),
        h.at("changed_at"),
        indexes=["target_id", "uscc", "changed_at"],
    )
    h.create_table(
        "eligibility_proposals",
        h.ref("target_id", "targets.id"),
        *h.strings(field=32, new_value=32, reason_code=32),
        *h.texts("note"),
        h.actor("proposed_by"),
        h.department_code("proposed_by_department"),
        h.at("proposed_at"),
        h.status(),
        *h.by_at("decided", nullable=True),
        *h.texts("decision_note", nullable=True),
        indexes=["target_id", "status"],
    )


def downgrade() -> None:
    h.drop_tables("eligibility_proposals", "target_eligibility_changes")
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy would drop and recreate plans and
    # departments, which other tables' rows refer to.
    for table, column in (("plans", "min_ratios"), ("draws", "eligibility_changes"),
                          ("departments", "registration_authority")):
        h.drop_columns(table, column, batch=False)
