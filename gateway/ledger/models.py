"""The ledger's tables: inspections registered outside the draw, and the published yearly caps."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, utcnow


class RegisteredInspection(Base):
    """An inspection of a target outside the draw (专项检查, 投诉举报核查, 转办交办, 日常巡查, 案件办理),
    registered by its department. ``over_cap_reason`` is the legal reason stated when it exceeds a
    cap ('' when it does not); ``joint_task_id`` is set when the visit was joined into a joint task."""

    __tablename__ = "registered_inspections"
    __table_args__ = (Index("ix_registered_inspections_year_uscc", "year", "uscc"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18))
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    legal_reason_code: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    inspected_on: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(16), default="api")
    over_cap_reason: Mapped[str] = mapped_column(Text, default="")
    joint_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class InspectionCaps(Base):
    """The caps the county office publishes for a year: at most ``per_department`` inspections of one
    target by one department, and ``total`` by all departments together (同一部门每年不超过2次，各部门
    合计不超过4次). Versioned like plans: each publication is a new version, and the current caps of
    a year are its latest published version. ``exempt_channels`` do not count; with
    ``key_targets_exempt`` the freeze does not exclude article 15 key targets for the caps."""

    __tablename__ = "inspection_caps"
    __table_args__ = (UniqueConstraint("year", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    per_department: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    exempt_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    key_targets_exempt: Mapped[bool] = mapped_column(Boolean, default=True)
    # The document that sets them (文号 or title), shown on the public page.
    basis: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    published_by: Mapped[str] = mapped_column(String(200), default="")


class LedgerTargetCount(Base):
    """A target's inspections of a year that count toward the caps, in all (maintained by
    :mod:`gateway.ledger.counts` in the transaction of every write to the ledger, so that the freeze
    reads the targets at a cap through ``(year, n)`` instead of grouping the whole ledger)."""

    __tablename__ = "ledger_target_counts"
    # The codes ride in the index: the freeze reads the targets at a cap from it alone (migration 0037).
    __table_args__ = (Index("ix_ledger_target_counts_year_n", "year", "n", postgresql_include=["uscc"]),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class LedgerDepartmentCount(Base):
    """A target's counted inspections of a year by one department (``department_code`` '' for the
    higher-level records naming none: they count in the total only); maintained like
    :class:`LedgerTargetCount`."""

    __tablename__ = "ledger_department_counts"
    __table_args__ = (Index("ix_ledger_department_counts_year_n", "year", "n",
                            postgresql_include=["uscc", "department_code"]),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    department_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class LedgerCountAddition(Base):
    """A draw's tasks of one target and lead department (``department_code`` '' for none), ``n`` of
    them, counted toward the caps of ``year`` on top of :class:`LedgerTargetCount` and
    :class:`LedgerDepartmentCount`, which their readers add them to (:mod:`gateway.ledger.counts`).

    A draw appends its counts here in one plain insert rather than updating a row of each counts
    table per drawn target: at a million targets that upsert rewrote every page of both tables and
    of their ``(year, n)`` indexes, the last and longest of the run's jobs. A recount of a target
    (:func:`gateway.ledger.counts.refresh`) folds its additions into its counts."""

    __tablename__ = "ledger_count_additions"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    department_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    draw_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
