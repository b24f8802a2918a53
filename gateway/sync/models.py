"""The transactional outbox: what must reach the provincial platform (article 19), and the sync
workers that deliver it.

An outbox row is one platform record. Its ``record_id`` is the platform record id and the
record's idempotency key; its ``payload`` is built once from the published entity and kept, so
every resend carries identical content. Retries live in the row (``attempts``,
``next_attempt_at``, ``last_error``); a batch's ``Idempotency-Key`` lives in ``batch_key`` until the
platform answers, so a batch whose answer was lost is resent as the same batch under the same key.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, utcnow

RECORD_KINDS = ("plan", "draw", "result", "disposition")
OUTBOX_STATES = ("pending", "in_flight", "delivered", "dead")
STATE_LABELS = {"pending": "待推送", "in_flight": "推送中", "delivered": "已送达", "dead": "死信（需人工处理）"}
WAITING = text("state IN ('pending', 'in_flight')")
DEAD = text("state = 'dead'")
UNDELIVERED = text("state <> 'delivered'")
LEASED = text("batch_key IS NOT NULL")
KIND_LABELS = {"plan": "抽查计划", "draw": "抽取结果", "result": "抽查检查结果", "disposition": "后续处置"}


class OutboxRecord(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("record_id"),
        # Only partial indexes on the state (migration 0033_outbox_indexes): a row's lease and its
        # delivery each rewrite it, and an index over every row gains an entry at each rewrite.
        # The claim's path: the waiting rows of a kind in id order, none of the delivered ones.
        Index("ix_outbox_waiting", "kind", "id", postgresql_where=WAITING, sqlite_where=WAITING),
        Index("ix_outbox_dead", "kind", "id", postgresql_where=DEAD, sqlite_where=DEAD),
        # The article 19 alert's path: the undelivered rows by publication deadline.
        Index("ix_outbox_undelivered_due", "due_date", "id", postgresql_where=UNDELIVERED, sqlite_where=UNDELIVERED),
        Index("ix_outbox_batch_key", "batch_key", postgresql_where=LEASED, sqlite_where=LEASED),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The platform record id and idempotency key, stable across retries, e.g. "410823-result-42".
    record_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(Integer)
    # Department whose record this is (for department-scoped sync status).
    department_code: Mapped[str] = mapped_column(String(64), default="")
    # Snapshot of the platform record, built once so every resend carries the same content.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    field_errors: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The date by which the record must be public (article 19), for alerts.
    due_date: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The Idempotency-Key of the batch this row was last sent in, kept until the platform answers.
    batch_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Bumped when an operator resends or reconciliation re-queues: part of the batch key, so a
    # deliberate resend is processed afresh instead of replaying an earlier answer.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # accepted, duplicate, rejected, conflict, build_failed, timeout, connection_error, http_503, ...
    last_outcome: Mapped[str] = mapped_column(String(32), default="")

    def requeue(self, now: datetime, outcome: str, error: str = "") -> None:
        """Back to pending as a new generation, with nothing of the last attempt or delivery kept."""
        self.state = "pending"
        self.next_attempt_at = now
        self.generation = (self.generation or 0) + 1
        self.batch_key = self.lease_owner = self.lease_expires_at = None
        self.field_errors = self.receipt = self.delivered_at = None
        self.last_outcome = outcome
        self.last_error = error


class SyncWorker(Base):
    """A running sync worker: its lease on being alive, and what it has done.

    On SQLite exactly one live row may exist (the single-worker lock); on PostgreSQL any number.
    A row whose ``expires_at`` has passed belongs to a worker that died without saying goodbye.
    """

    __tablename__ = "sync_workers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The lease owner written into the outbox rows it claims: "<host>:<pid>:<random>".
    name: Mapped[str] = mapped_column(String(100), unique=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    batches: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    dead: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
