"""draws, higher-level inspections, reassignments and task history"""
from gateway.migrations import helpers as h

revision = "0004_draws"
down_revision = "0003_audit_outbox"


def upgrade() -> None:
    h.create_table(
        "higher_level_inspections",
        *h.strings(record_key=300),
        h.uscc(),
        *h.strings(authority=200, level=16),
        h.department_code(),
        *h.strings(matter_code=64),
        *h.dates("inspected_on"),
        *h.integers("year"),
        *h.strings(reference=100, source=32),
        *h.timestamps(),
        unique=["record_key"],
        indexes=[("ix_higher_level_inspections_year_uscc", ["year", "uscc"])],
    )

    h.create_table(
        "draws",
        h.ref("plan_id", "plans.id"),
        *h.integers("year"),
        h.status(),
        h.ref("active_plan_id", nullable=True),
        *h.integers("open_year", nullable=True),
        *h.strings(population_sha256=64),
        *h.jsons("strata", "exclusions", "stats", "key_rule"),
        *h.at_by("frozen"),
        *h.jsons("commitments", nullable=True),
        *h.at_by("committed", pending=True),
        *h.jsons("contributions", "participants", nullable=True),
        *h.strings(nullable=True, seed=400),
        *h.at_by("seeded", pending=True),
        *h.at_by("drawn", pending=True),
        *h.texts("record", nullable=True),
        *h.strings(nullable=True, record_sha256=64),
        *h.integers("task_count"),
        *h.jsons("team_inputs", nullable=True),
        *h.at_by("cancelled", pending=True),
        *h.texts("cancel_reason"),
        unique=["active_plan_id", "open_year"],
        indexes=["plan_id", "year"],
    )

    h.create_table(
        "task_events",
        h.ref("task_id", "tasks.id", ondelete="CASCADE"),
        h.at("at"),
        h.actor("actor"),
        *h.strings(action=64),
        *h.jsons("details"),
        indexes=["task_id"],
    )

    h.create_table(
        "reassignments",
        *h.refs(task_id="tasks.id", member_id="task_members.id", inspector_id="inspectors.id"),
        h.department_code(fk=True),
        *h.strings(reason_code=32),
        *h.texts("reason"),
        h.status(),
        *h.by_at("requested"),
        *h.by_at("decided", pending=True),
        *h.texts("decision_note"),
        h.ref("replacement_inspector_id", "inspectors.id", nullable=True),
        h.ref("replacement_member_id", "task_members.id", nullable=True),
        *h.jsons("replacement_inputs", nullable=True),
        *h.strings(nullable=True, filing_status=16, filing_number=100),
        *h.by_at("filed", pending=True),
        *h.texts("filing_note"),
        unique=["filing_number"],
        indexes=["department_code", "task_id"],
    )

    h.add_columns("plans", *h.jsons("cooperating_departments", server_default="[]"),
                  *h.jsons("key_rule", server_default="{}"), *h.strings(published_by=200, server_default=""))
    h.add_columns("task_members", *h.strings(source=16, server_default="draw"), h.at("removed_at", nullable=True))



def downgrade() -> None:
    h.drop_columns("task_members", "removed_at", "source")
    h.drop_columns("plans", "published_by", "key_rule", "cooperating_departments")

    h.drop_tables("reassignments", "task_events", "draws", "higher_level_inspections")
