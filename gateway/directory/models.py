""""One list, two directories": departments, matter versions, inspectors, targets, conflicts."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, utcnow
from schemas.directory import ELIGIBILITY_FIELDS, ELIGIBILITY_REASONS, ELIGIBILITY_SOURCES  # noqa: F401  (re-exported)

TARGET_STATUSES = ("operating", "closed", "liquidating", "deregistered", "revoked", "cancelled", "moved_out")
# Statuses that take a target out of every draw (article 15 exclusions: deregistered or closed).
INACTIVE_TARGET_STATUSES = ("closed", "liquidating", "deregistered", "revoked", "cancelled", "moved_out")
RISK_CLASSES = ("A", "B", "C", "D")  # A lowest credit risk, D highest
GENDERS = ("male", "female")


class Department(Base):
    """A department as its plugin declares it; kept in the database so records can refer to it."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    plugin: Mapped[str] = mapped_column(String(100), default="")
    installed: Mapped[bool] = mapped_column(Boolean, default=True)
    # The registration authority (at most one installed department; see contributions.Department).
    registration_authority: Mapped[bool] = mapped_column(Boolean, default=False)


class MatterVersion(Base):
    """One version of an inspection matter's content (article 8: the list changes with the law;
    plans keep the version they used)."""

    __tablename__ = "matter_versions"
    __table_args__ = (UniqueConstraint("code", "content_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    name: Mapped[str] = mapped_column(String(300))
    content_sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Inspector(Base):
    """A certified law-enforcement inspector (article 9)."""

    __tablename__ = "inspectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[str] = mapped_column(String(100), default="")
    expertise: Mapped[str] = mapped_column(String(200), default="")
    certificate_no: Mapped[str] = mapped_column(String(40), unique=True)
    certificate_valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship(lazy="joined")

    def is_certified_on(self, day: date) -> bool:
        return self.active and (self.certificate_valid_until is None or self.certificate_valid_until >= day)


class Target(Base):
    """A supervised entity (article 10), keyed by its Unified Social Credit Code."""

    __tablename__ = "targets"
    __table_args__ = (
        Index("ix_targets_township_type", "township", "type"),
        Index("ix_targets_risk_class", "risk_class"),
        # With the id: the draw's lookups of credit codes read the index alone (migration 0035).
        UniqueConstraint("uscc", postgresql_include=["id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(32))
    township: Mapped[str] = mapped_column(String(50), default="")
    level: Mapped[str] = mapped_column(String(16), default="county")
    address: Mapped[str] = mapped_column(String(300), default="")
    legal_representative: Mapped[str] = mapped_column(String(50), default="")
    business_scope: Mapped[str] = mapped_column(Text, default="")
    # Licences held, stored as "|licence one|licence two|" so one LIKE finds a licence on any database.
    licences: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="operating")
    risk_class: Mapped[str] = mapped_column(String(1), default="B")
    abnormal_list: Mapped[bool] = mapped_column(Boolean, default=False)
    serious_violation_list: Mapped[bool] = mapped_column(Boolean, default=False)
    complaint_count: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def licence_list(self) -> list[str]:
        return split_licences(self.licences)


class Conflict(Base):
    """A declared conflict of interest between an inspector and a target (article 14)."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("inspector_id", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(300))
    declared_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    inspector: Mapped[Inspector] = relationship(lazy="joined")
    target: Mapped[Target] = relationship(lazy="joined")


def join_licences(licences: list[str] | tuple[str, ...]) -> str:
    cleaned = [name.strip() for name in licences if name and name.strip()]
    return "|" + "|".join(cleaned) + "|" if cleaned else ""


def split_licences(stored: str) -> list[str]:
    return [name for name in (stored or "").split("|") if name]


class EligibilityChange(Base):
    """One change of one eligibility field of a target: append-only (never updated or deleted).

    ``actor`` names who did it (internal, like the audit log); the public draw record shows only an
    opaque id derived from it with the gateway's secret."""

    __tablename__ = "target_eligibility_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str] = mapped_column(String(32))
    new_value: Mapped[str] = mapped_column(String(32))
    reason_code: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_department: Mapped[str] = mapped_column(String(64), default="")
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class EligibilityProposal(Base):
    """A department that does not own eligibility data proposes a change; the registration
    authority (or the county office) accepts, which applies it, or rejects it."""

    __tablename__ = "eligibility_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    new_value: Mapped[str] = mapped_column(String(32))
    reason_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_by_department: Mapped[str] = mapped_column(String(64), default="")
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)

    target: Mapped[Target] = relationship(lazy="joined")


def _append_only(_mapper, _connection, _target) -> None:
    raise RuntimeError("target_eligibility_changes is append-only")


event.listen(EligibilityChange, "before_update", _append_only)
event.listen(EligibilityChange, "before_delete", _append_only)


class ImportJob(Base):
    """One import of a large file in steps (targets, issue 20): validated rows are staged in batches,
    each committed with ``staged_through``, then applied in one transaction. A re-run of the same
    file (same kind, SHA-256 and mode) resumes an unfinished job instead of starting over."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_resume", "kind", "file_sha256", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    file_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    # staging -> staged -> done, or refused (bad rows in an all-or-nothing import)
    status: Mapped[str] = mapped_column(String(16), default="staging")
    staged_through: Mapped[int] = mapped_column(Integer, default=0)  # last file row committed to the stage
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)  # the first errors (row, field, message, value)
    actor: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
