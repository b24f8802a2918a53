"""Inspection results, their attachments, follow-up dispositions and risk events (articles 18–24).

A task's result is a chain of versions. Version 1 is recorded by the task's team, reviewed and
published by the lead department. A published version never changes again (a mapper event below
refuses it, whatever code path tries); a correction is a new version with a reason that goes
through review and publication in turn. The same holds for dispositions.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, utcnow
from gateway.directory.models import Target
from gateway.tasks.models import Task
from schemas.platform import DISPOSITIONS

RESULT_STATUSES = ("recorded", "returned", "reviewed", "published")
RESULT_STATUS_LABELS = {
    "recorded": "已录入",
    "returned": "已退回修改",
    "reviewed": "已审核",
    "published": "已公示",
}
SIGNATURE_STATUSES = ("signed", "refused")
SIGNATURE_LABELS = {"signed": "检查对象已签字确认", "refused": "检查对象拒绝签字"}
DISPOSITION_STATUSES = ("recorded", "published")
DISPOSITION_STATUS_LABELS = {"recorded": "已录入", "published": "已公示"}


class ImmutableRecordError(RuntimeError):
    """Something tried to change a published result or disposition."""


result_attachment_links = Table(
    "inspection_result_attachments",
    Base.metadata,
    Column("result_id", ForeignKey("inspection_results.id", ondelete="CASCADE"), primary_key=True),
    Column("attachment_id", ForeignKey("attachments.id"), primary_key=True),
)


class Attachment(Base):
    """A photo or scanned PDF uploaded for a task (article 20: the written materials are archived).

    The bytes live once under ``<instance>/attachments/<sha256[:2]>/<sha256>``; this row is one
    upload of them, with the name it was uploaded under."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_by_inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspectors.id"), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class InspectionResult(Base):
    """One version of a task's inspection result (抽查检查结果)."""

    __tablename__ = "inspection_results"
    # By status, then latest published first: the public lists read the newest published results
    # from the index's end instead of sorting every one (a province publishes millions).
    __table_args__ = (UniqueConstraint("task_id", "version"),
                      Index("ix_inspection_results_status_published", "status", "published_on", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="recorded")
    # A correction names the published version it corrects and why.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_results.id"), nullable=True)
    correction_reason: Mapped[str] = mapped_column(Text, default="")

    # {matter code: {check item code: value}}, as the merged checklist schema dumps it.
    checklists: Mapped[dict[str, Any]] = mapped_column(JSON)
    result_codes: Mapped[list[str]] = mapped_column(JSON)
    has_problems: Mapped[bool] = mapped_column(Boolean, default=False)
    requires_follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    methods: Mapped[list[str]] = mapped_column(JSON)
    completed_on: Mapped[date] = mapped_column(Date, index=True)
    # Finished after the task's inspection window closed (allowed, reported in the statistics).
    completed_late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Article 19: 20 working days after completion; provisional while the year's holidays are unknown.
    deadline: Mapped[date] = mapped_column(Date, index=True)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)

    # Article 18: the target signs the feedback, or its refusal is recorded with a note.
    signature_status: Mapped[str] = mapped_column(String(16))
    signer_name: Mapped[str] = mapped_column(String(50), default="")
    signer_title: Mapped[str] = mapped_column(String(100), default="")
    refusal_note: Mapped[str] = mapped_column(Text, default="")
    # The handwritten signature drawn on the phone (a PNG attachment) and its SHA-256, when there is one.
    signature_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"), nullable=True)
    signature_sha256: Mapped[str] = mapped_column(String(64), default="")
    remarks: Mapped[str] = mapped_column(Text, default="")

    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspectors.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_by: Mapped[str] = mapped_column(String(200), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
    published_by: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The publication day in China (the day the article 19 clock compares with the deadline).
    published_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    published_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # What the public saw of the target when this version was published ({name, address,
    # legal_representative}): a later edit of the directory does not rewrite a published result.
    public_target: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)

    task: Mapped[Task] = relationship(lazy="joined")
    attachments: Mapped[list[Attachment]] = relationship(
        secondary=result_attachment_links, order_by="Attachment.id", lazy="selectin"
    )

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def target_as_published(self) -> dict[str, str]:
        """The target as the public sees this version: its snapshot once published."""
        target = self.task.target
        shown = self.public_target or target_snapshot(target)
        return {"uscc": target.uscc, **shown}


PUBLIC_TARGET_FIELDS = ("name", "address", "legal_representative")


def target_snapshot(target: Target) -> dict[str, str]:
    return {f: getattr(target, f) or "" for f in PUBLIC_TARGET_FIELDS}


# The platform contract's disposition kinds (labels in ``schemas.platform.DISPOSITIONS``).
DISPOSITION_KINDS = tuple(DISPOSITIONS)


class Disposition(Base):
    """A follow-up disposition (后续处置, article 22) on a result that found problems."""

    __tablename__ = "dispositions"
    __table_args__ = (Index("ix_dispositions_status_published", "status", "published_on", "id"),)  # as results'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("inspection_results.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    # The competent department that decided (one of the task's departments).
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # 行政处罚决定书文号 (required for an administrative penalty), or the transfer letter's number.
    decision_number: Mapped[str] = mapped_column(String(100), default="")
    # The authority a case was transferred to.
    receiving_authority: Mapped[str] = mapped_column(String(200), default="")
    decided_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="recorded")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("dispositions.id"), nullable=True)
    correction_reason: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_by: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    published_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    result: Mapped[InspectionResult] = relationship(lazy="joined")

    @property
    def is_published(self) -> bool:
        return self.status == "published"


class RiskEvent(Base):
    """A change the published record made to a target's risk flags (articles 23, 24, 28).

    ``chain`` groups the events of one task's result versions (``result:<task id>``) or of one
    disposition and its corrections (``disposition:<first id>``): a correction never stacks a
    second raise on top of the first; it is measured from the chain's baseline."""

    __tablename__ = "risk_events"
    __table_args__ = (UniqueConstraint("source_type", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    source_type: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(Integer)
    chain: Mapped[str] = mapped_column(String(64), index=True)
    rules: Mapped[list[str]] = mapped_column(JSON)
    baseline_risk_class: Mapped[str] = mapped_column(String(1))
    risk_class_before: Mapped[str] = mapped_column(String(1))
    risk_class_after: Mapped[str] = mapped_column(String(1))
    lists_set: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    target: Mapped[Target] = relationship(lazy="joined")


class ResultContribution(Base):
    """A cooperating department's own check items of a task, saved by its member on the team
    (article 5): the lead department's member submits the whole result, which takes them in."""

    __tablename__ = "result_contributions"
    __table_args__ = (UniqueConstraint("task_id", "department_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    department_code: Mapped[str] = mapped_column(String(64))
    checklists: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_inspector_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


LISTING_STATUS_LABELS = {"pending": "待决定", "accepted": "已决定列入", "rejected": "已决定不列入"}


class ListingProposal(Base):
    """A published result's proposal to put its target on a list (article 24). Listing is the
    registration authority's lawful decision: only its head's decision sets the target's flag."""

    __tablename__ = "listing_proposals"
    __table_args__ = (UniqueConstraint("result_id", "list_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    list_name: Mapped[str] = mapped_column(String(32))
    result_id: Mapped[int] = mapped_column(ForeignKey("inspection_results.id"))
    proposed_by_department: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)

    target: Mapped[Target] = relationship(lazy="joined")


def _refuse_changes_once_published(_mapper, _connection, target) -> None:
    state = inspect(target)
    status_history = state.attrs.status.history
    was = status_history.deleted[0] if status_history.deleted else target.status
    if was != "published":
        return
    changed = [attr.key for attr in state.attrs if attr.history.has_changes()]
    if changed:
        raise ImmutableRecordError(
            f"{type(target).__name__} {target.id} is published and cannot change ({', '.join(changed)})"
        )


def _refuse_delete_once_published(_mapper, _connection, target) -> None:
    if inspect(target).committed_state.get("status", target.status) == "published":
        raise ImmutableRecordError(f"{type(target).__name__} {target.id} is published and cannot be deleted")


for _model in (InspectionResult, Disposition):
    event.listen(_model, "before_update", _refuse_changes_once_published)
    event.listen(_model, "before_delete", _refuse_delete_once_published)
