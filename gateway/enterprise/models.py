"""The inspected enterprise's records: access codes, portal sessions, notices (检查通知书),
statements (陈述申辩), recusal requests, ratings and rectification evidence."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, utcnow

ACCESS_CODE_PURPOSES = ("sign_in", "check_in")
DELIVERY_METHODS = ("in_person", "post", "sms", "email", "platform")
DELIVERY_METHOD_LABELS = {"in_person": "直接送达", "post": "邮寄送达", "sms": "短信送达", "email": "电子邮件送达",
                          "platform": "平台送达"}


class AccessCode(Base):
    """One enterprise access code (企业访问码) for one task. Only its SHA-256 is stored; the clear
    code is shown once, on the notice (or on the portal after a sign-in rotated it).

    The code reads ``LLLL-SSSS-SSSS``: ``locator`` (the first group, stored in clear) finds the
    row, so wrong tries count against that code only; the rest is the secret."""

    __tablename__ = "enterprise_access_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    locator: Mapped[str] = mapped_column(String(8))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    # Sign-in is one-time: set when the code opened a portal session.
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Check-in (扫码入企) may confirm one arrival with the code, independently of sign-in.
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # A newer code for the same task (a notice sent again) ends this one for every purpose.
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The code this one replaces (a re-issued notice, or the successor a sign-in hands out).
    rotated_from_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise_access_codes.id"), nullable=True)


class EnterpriseSession(Base):
    """A signed-in portal session of an enterprise, apart from staff sessions: the cookie holds a
    random id whose SHA-256 is the key here."""

    __tablename__ = "enterprise_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    access_code_id: Mapped[int] = mapped_column(ForeignKey("enterprise_access_codes.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Notice(Base):
    """The inspection notice (检查通知书) of one task, and its delivery."""

    __tablename__ = "inspection_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), unique=True)
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    generated_by: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200), default="")
    access_code_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise_access_codes.id"), nullable=True)
    delivery_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    delivered_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    delivery_note: Mapped[str] = mapped_column(Text, default="")


class Statement(Base):
    """A statement (陈述申辩) the enterprise filed on a draft result, and the lead department's answer."""

    __tablename__ = "enterprise_statements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("inspection_results.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18))
    text: Mapped[str] = mapped_column(Text)
    attachment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    filed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class RecusalRequest(Base):
    """The enterprise asks that a team member step aside (申请回避); it becomes a reassignment request."""

    __tablename__ = "enterprise_recusal_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("task_members.id"))
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reassignment_id: Mapped[int | None] = mapped_column(ForeignKey("reassignments.id"), nullable=True)


class Rating(Base):
    """The enterprise's rating of one inspection: one per task. The inspecting department sees
    only aggregates of at least ``MIN_RATINGS_SHOWN`` ratings; the office sees each."""

    __tablename__ = "inspection_ratings"
    __table_args__ = (UniqueConstraint("task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    department_code: Mapped[str] = mapped_column(String(64), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RectificationEvidence(Base):
    """A file the enterprise uploaded to show a problem was rectified (整改材料), for the follow-up."""

    __tablename__ = "enterprise_rectification_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
