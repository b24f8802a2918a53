"""Inspection tasks (article 13): one target, the matters it was drawn for, one team."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, utcnow
from gateway.directory.models import Inspector, Target

TASK_STATUSES = ("assigned", "recorded", "reviewed", "published")
MEMBER_ROLES = ("lead", "member")


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("plan_id", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Human task number, e.g. 武陟联抽〔2026〕3号-0007
    number: Mapped[str] = mapped_column(String(120), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    draw_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    lead_department: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
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

    task: Mapped[Task] = relationship(back_populates="members")
    inspector: Mapped[Inspector] = relationship(lazy="joined")
