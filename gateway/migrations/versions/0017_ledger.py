"""The ledger: inspections registered outside the draw, and the yearly caps

Issue 16: every inspection of a target in one ledger (drawn tasks, higher-level inspections and
registered inspections), and the caps the county office publishes per year (国办发〔2024〕54号).
"""
from gateway.migrations import helpers as h

revision = "0017_ledger"
down_revision = "0016_listing_and_contributions"


def upgrade() -> None:
    h.create_table(
        "registered_inspections",
        h.uscc(),
        h.department_code(fk=True),
        *h.strings(channel=32, legal_reason_code=64),
        *h.texts("legal_basis"),
        *h.dates("inspected_on"),
        *h.integers("year"),
        *h.strings(reference=100, source=16),
        *h.texts("over_cap_reason"),
        h.ref("joint_task_id", "tasks.id", nullable=True),
        *h.by_at("created"),
        indexes=["department_code", ("ix_registered_inspections_year_uscc", ["year", "uscc"])],
    )
    h.create_table(
        "inspection_caps",
        *h.integers("year", "version", "per_department", "total"),
        *h.jsons("exempt_channels"),
        *h.flags("key_targets_exempt"),
        *h.texts("basis"),
        *h.at_by("published", pending=True),
        unique=[("year", "version")],
    )


def downgrade() -> None:
    h.drop_tables("inspection_caps", "registered_inspections")
