"""Inspection tasks (article 13): one target, the matters it was drawn for, one team."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, utcnow
from gateway.directory.models import Inspector, Target

TASK_STATUSES = ("assigned", "recorded", "reviewed", "published")
MEMBER_ROLES = ("lead", "member")
MEMBER_SOURCES = ("draw", "reassignment", "join")
REASSIGNMENT_REASONS = ("conflict_of_interest", "other")
REASSIGNMENT_STATUSES = ("requested", "approved", "rejected")
FILING_STATUSES = ("pending", "filed")
UNDRAWN = text("draw_id IS NULL")


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # One target, one task per plan. On PostgreSQL the target leads: the only index a draw's new
        # task enters at random, it serves every lookup by target, and a plan's tasks are read from
        # (plan_id, lead_department), where a draw appends (migration 0036). SQLite keeps the
        # layout it was created with, which only a copy of the table could change.
        UniqueConstraint("target_id", "plan_id").ddl_if(dialect="postgresql"),
        Index("ix_tasks_plan_id", "plan_id", "lead_department").ddl_if(dialect="postgresql"),
        UniqueConstraint("plan_id", "target_id").ddl_if(dialect="sqlite"),
        Index("ix_tasks_target_id", "target_id").ddl_if(dialect="sqlite"),
        Index("ix_tasks_lead_department", "lead_department").ddl_if(dialect="sqlite"),
        # The few tasks made outside a draw: a plan's task count adds them to its draws' counts
        # (gateway.results.public.plan_task_counts) instead of counting every task of the plan.
        Index("ix_tasks_plan_undrawn", "plan_id", postgresql_where=UNDRAWN, sqlite_where=UNDRAWN),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Human task number, e.g. 武陟联抽〔2026〕3号-0007. An identifier: compared byte by byte on
    # PostgreSQL (code point order, as Python sorts), which also makes its unique index cheaper
    # to fill when a draw inserts tens of thousands of tasks.
    number: Mapped[str] = mapped_column(String(120).with_variant(String(120, collation="C"), "postgresql"),
                                        unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    # The draw that created the task (one per plan); queries go by plan_id, whose index they use.
    draw_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    lead_department: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    # Codes of the matters this one visit covers ("one visit, many matters").
    matter_codes: Mapped[list[str]] = mapped_column(JSON)
    # Whether the target was drawn as a key-inspection (high-risk) target.
    key_inspection: Mapped[bool] = mapped_column(Boolean, default=False)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="assigned")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    target: Mapped[Target] = relationship(lazy="joined")
    members: Mapped[list["TaskMember"]] = relationship(
        back_populates="task", order_by="TaskMember.id", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def team(self) -> list["TaskMember"]:
        return [m for m in self.members if m.active]


class TaskMember(Base):
    """An inspector on a task's team. A reassignment (article 14) deactivates a row and adds its
    replacement; rows are never deleted, so the team's history stays."""

    __tablename__ = "task_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    role: Mapped[str] = mapped_column(String(16), default="member")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # "draw" for the team as drawn, "reassignment" for an approved article 14 replacement.
    source: Mapped[str] = mapped_column(String(16), default="draw")
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    task: Mapped[Task] = relationship(back_populates="members")
    inspector: Mapped[Inspector] = relationship(lazy="joined")


class TaskJoin(Base):
    """Another department's visit joined into a task (issue 16, 综合查一次): the task covers that
    department's matter too, pinned to its current version, with the inspectors it sends; a
    registered inspection of that department, when named, points to the task (``joint_task_id``)."""

    __tablename__ = "task_joins"
    __table_args__ = (UniqueConstraint("task_id", "matter_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    matter_code: Mapped[str] = mapped_column(String(64))
    matter_version_id: Mapped[int] = mapped_column(ForeignKey("matter_versions.id"))
    registered_inspection_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    joined_by: Mapped[str] = mapped_column(String(200), default="")
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TaskEvent(Base):
    """One entry of a task's history (reassignment requested, approved, member replaced, filed …)."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    # Ids and reasons only: never phone or certificate numbers.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Reassignment(Base):
    """An article 14 change of one team member: request with a reason, the unit head's decision,
    the replacement drawn by the draw's own rule, and the filing with the county office."""

    __tablename__ = "reassignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("task_members.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"))
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    reason_code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Who asked (account, inspector or name): never the one who decides.
    requested_by_key: Mapped[str] = mapped_column(String(200), default="")
    # Drawn by the gateway at the request, published only as its SHA-256 until the approval reveals it.
    nonce: Mapped[str | None] = mapped_column(String(64), nullable=True)
    nonce_commitment: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    replacement_inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspectors.id"), nullable=True)
    replacement_member_id: Mapped[int | None] = mapped_column(ForeignKey("task_members.id"), nullable=True)
    # What the replacement was computed from (loads, barred ids), so anyone with access can redo it.
    replacement_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The filing with the county office (报县双随机办备案): pending from approval until filed.
    filing_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    filing_number: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    filed_by: Mapped[str] = mapped_column(String(200), default="")
    filed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    filing_note: Mapped[str] = mapped_column(Text, default="")

    task: Mapped[Task] = relationship(lazy="joined")
