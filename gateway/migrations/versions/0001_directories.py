"""directories: departments, matters, inspectors, targets, conflicts"""
from gateway.migrations import helpers as h

revision = "0001_directories"
down_revision = None


def upgrade() -> None:
    h.create_table(
        "departments",
        h.department_code("code"),
        *h.strings(name=200, short_name=100, level=16),
        h.department_code("parent_code", nullable=True),
        *h.strings(plugin=100),
        *h.flags("installed"),
        key=["code"],
    )
    h.create_table(
        "targets",
        h.uscc(),
        *h.strings(name=200, type=32, township=50, level=16, address=300, legal_representative=50),
        *h.texts("business_scope", "licences"),
        h.status(),
        *h.strings(risk_class=1),
        *h.flags("abnormal_list", "serious_violation_list"),
        *h.integers("complaint_count"),
        *h.flags("active"),
        *h.timestamps(),
        unique=["uscc"],
        indexes=["name", ("ix_targets_risk_class", ["risk_class"]), ("ix_targets_township_type", ["township", "type"])],
    )

    h.create_table(
        "inspectors",
        h.department_code(fk=True),
        *h.strings(name=50, gender=8, unit=200, position=100, expertise=200, certificate_no=40),
        *h.dates("certificate_valid_until", nullable=True),
        *h.strings(phone=20),
        *h.flags("active"),
        *h.timestamps(),
        unique=["certificate_no"],
        indexes=["department_code"],
    )

    h.create_table(
        "matter_versions",
        *h.strings(code=64, version=32),
        h.department_code(fk=True),
        *h.strings(name=300, content_sha256=64),
        *h.jsons("content"),
        *h.flags("current"),
        h.at("created_at"),
        unique=[("code", "content_sha256")],
        indexes=["code"],
    )

    h.create_table(
        "conflicts",
        h.ref("inspector_id", "inspectors.id", ondelete="CASCADE"),
        h.ref("target_id", "targets.id", ondelete="CASCADE"),
        *h.strings(reason=300),
        h.at("declared_at"),
        unique=[("inspector_id", "target_id")],
        indexes=["inspector_id", "target_id"],
    )


def downgrade() -> None:
    h.drop_tables("conflicts", "matter_versions", "inspectors", "targets", "departments")
