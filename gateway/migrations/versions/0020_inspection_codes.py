"""Inspection codes and check-ins (issue 17): the check-ins of tasks' teams (扫码入企)

The county's signing keys live outside the database (docs/enterprise.md); only check-ins are stored.
"""
from gateway.migrations import helpers as h

revision = "0020_inspection_codes"
down_revision = "0021_enterprise_portal"


def upgrade() -> None:
    h.create_table(
        "task_checkins",
        *h.refs(task_id="tasks.id", access_code_id="enterprise_access_codes.id"),
        h.at("arrived_at"),
        *h.strings(code_kid=32),
        *h.jsons("team"),
        *h.flags("location_consent"),
        *h.floats("latitude", "longitude", nullable=True),
        h.at("located_at", nullable=True),
        h.at("departed_at", nullable=True),
        h.ref("departure_result_id", "inspection_results.id", nullable=True),
        indexes=["task_id"],
    )


def downgrade() -> None:
    h.drop_tables("task_checkins")
