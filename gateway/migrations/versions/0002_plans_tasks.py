"""plans and tasks"""
from gateway.migrations import helpers as h

revision = "0002_plans_tasks"
down_revision = "0001_directories"


def upgrade() -> None:
    h.create_table(
        "plans",
        *h.strings(number=100),
        *h.integers("version", "year"),
        *h.strings(kind=16, title=300),
        h.department_code("lead_department", fk=True),
        h.status(),
        *h.jsons("scope", "ratios"),
        *h.strings(frequency=100),
        *h.dates("window_start", "window_end"),
        *h.texts("description"),
        h.at("published_at", nullable=True),
        *h.flags("published_late"),
        h.ref("amends_id", "plans.id", nullable=True),
        *h.texts("amend_reason"),
        *h.strings(created_by=100),
        h.at("created_at"),
        unique=[("number", "version")],
        indexes=["number", "year"],
    )

    h.create_table(
        "plan_matters",
        h.ref("plan_id", "plans.id", ondelete="CASCADE"),
        *h.strings(matter_code=64),
        h.ref("matter_version_id", "matter_versions.id"),
        h.department_code(fk=True),
        unique=[("plan_id", "matter_code")],
        indexes=["plan_id"],
    )

    h.create_table(
        "tasks",
        *h.strings(number=120),
        h.ref("plan_id", "plans.id"),
        h.ref("draw_id", nullable=True),
        h.ref("target_id", "targets.id"),
        h.department_code("lead_department", fk=True),
        *h.jsons("matter_codes"),
        *h.flags("key_inspection"),
        *h.dates("window_start", "window_end"),
        h.status(),
        h.at("created_at"),
        unique=["number", ("plan_id", "target_id")],
        indexes=["draw_id", "lead_department", "plan_id", "target_id"],
    )

    h.create_table(
        "task_members",
        h.ref("task_id", "tasks.id", ondelete="CASCADE"),
        h.ref("inspector_id", "inspectors.id"),
        h.department_code(fk=True),
        *h.strings(role=16),
        *h.flags("active"),
        h.at("added_at"),
        indexes=["inspector_id", "task_id"],
    )


def downgrade() -> None:
    h.drop_tables("task_members", "tasks", "plan_matters", "plans")
