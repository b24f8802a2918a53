"""What the inspectors' offline pages need on the server (issue 19).

``ResultSubmission``: one row per idempotency key of a submitted result, so that a submission the
phone replays (the network dropped before the answer arrived) returns the stored result instead
of storing another. ``FieldUpload``: a resumable upload of one photo or signature, sent in
chunks; the bytes received so far wait in ``<instance>/uploads/<key>.part`` and become an
``Attachment`` once complete and matching their declared SHA-256.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, utcnow


class ResultSubmission(Base):
    __tablename__ = "result_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("inspection_results.id"))
    version: Mapped[int] = mapped_column(Integer)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FieldUpload(Base):
    __tablename__ = "field_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
