"""Plan filing (备案) with the county justice bureau, and the public reasons for site visits

Issue 16, items 4 and 5: a plan records its filing number and date (a draw needs them first, unless
the setting draw_requires_filing is off), and the reason for each site visit it chooses for a matter
that could be checked by written check or data comparison. Item 3: task_joins, another department's
visit joined into a task (one joint visit, both checklists).
"""
import sqlalchemy as sa

from gateway.migrations import helpers as h

revision = "0018_plan_filing"
down_revision = "0017_ledger"


# Plain ADD/DROP COLUMN (SQLite 3.35+ drops a column in place): a batch would rebuild "plans", which
# draws, tasks and plan_matters reference, and SQLite refuses to drop a referenced table.
def upgrade() -> None:
    h.add_columns("plans", *h.jsons("site_visit_reasons", server_default=sa.text("'{}'")),
                  *h.strings(filing_number=100, server_default=""), *h.dates("filed_on", nullable=True),
                  *h.strings(filed_by=200, server_default=""), h.at("filed_at", nullable=True), batch=False)
    h.create_table(
        "task_joins",
        h.ref("task_id", "tasks.id", ondelete="CASCADE"),
        h.department_code(fk=True),
        *h.strings(matter_code=64),
        h.ref("matter_version_id", "matter_versions.id"),
        h.ref("registered_inspection_id", nullable=True),
        *h.texts("reason"),
        *h.by_at("joined"),
        unique=[("task_id", "matter_code")],
        indexes=[("ix_task_joins_task_id", ["task_id"])],
    )


def downgrade() -> None:
    h.drop_tables("task_joins")
    h.drop_columns("plans", "filed_at", "filed_by", "filed_on", "filing_number", "site_visit_reasons", batch=False)
