"""A plan's draw, stage by stage (DESIGN "The draw"): freeze, commit, seed, run.

One row per attempt. The database itself refuses a second draw: ``active_plan_id`` is unique
(one draw per plan that is not cancelled) and ``open_year`` is unique (one draw in progress per
year, so every draw freezes its population after the previous draw's tasks exist and the yearly
cap of article 15 holds across plans). Everything written at a stage is never changed afterwards.
"""
from __future__ import annotations

import gzip
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, utcnow
from gateway.planning.models import Plan

DRAW_STATUSES = ("frozen", "committed", "seeded", "drawn", "cancelled", "superseded")
# Before the reveal a draw can still be cancelled (with a reason); from the reveal on it cannot.
CANCELLABLE_STATUSES = ("frozen", "committed")
OPEN_STATUSES = ("frozen", "committed", "seeded")


class Draw(Base):
    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), default="frozen")
    # = plan_id until the draw is cancelled (unique: a plan is drawn once).
    active_plan_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    # = year while the draw is in progress (unique: one open draw per year).
    open_year: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)

    # Freeze: strata [{key, matter, risk_class, ratio, population, key_targets}], exclusions, hash.
    population_sha256: Mapped[str] = mapped_column(String(64))
    # The large columns load only when used (listings read ``stats``).
    strata: Mapped[list[dict[str, Any]]] = mapped_column(JSON, deferred=True)
    exclusions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, deferred=True)
    # Per stratum: key, matter, risk_class, ratio, population (size), key_targets (count),
    # sample_size; and the number of exclusions per reason.
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    key_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The eligibility changes between the plan's publication and the freeze that moved a target
    # into or out of a stratum (gateway.draw.moves); None for draws frozen before it existed.
    eligibility_changes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)
    frozen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    frozen_by: Mapped[str] = mapped_column(String(200))

    # Commit: [{order, role, name, commitment}] — fixed before any digit is revealed.
    commitments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # Per commitment, in order: the keyed digest of the participant's identity (never published).
    identity_digests: Mapped[list[str | None] | None] = mapped_column(JSON, nullable=True, deferred=True)
    # Every witness present, [{name, category}] (public).
    witnesses: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    committed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    committed_by: Mapped[str] = mapped_column(String(200), default="")

    # Seed (reveal): [{order, role, name, digits, salt}], everyone present by role, the seed.
    contributions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    participants: Mapped[dict[str, list[str]] | None] = mapped_column(JSON, nullable=True)
    seed: Mapped[str | None] = mapped_column(String(400), nullable=True)
    seeded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    seeded_by: Mapped[str] = mapped_column(String(200), default="")

    # Run: the public record (its UTF-8 text gzip-compressed, see pack_record), the text's hash,
    # and the internal team inputs.
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    drawn_by: Mapped[str] = mapped_column(String(200), default="")
    record_gzip: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    record_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    task_count: Mapped[int] = mapped_column(Integer, default=0)
    team_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)

    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    cancelled_by: Mapped[str] = mapped_column(String(200), default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[Plan] = relationship(lazy="joined")

    @property
    def record(self) -> str | None:
        """The public record's text, exactly as published (hashes to ``record_sha256``)."""
        return None if self.record_gzip is None else unpack_record(self.record_gzip)


def pack_record(text: bytes) -> bytes:
    """The stored form of a record's UTF-8 text: gzip at level 1 (a 26 MB record in about 0.1 s,
    to a fifth of its size), without a timestamp, so the same text always packs to the same bytes."""
    return gzip.compress(text, compresslevel=1, mtime=0)


def unpack_record(packed: bytes) -> str:
    return gzip.decompress(packed).decode("utf-8")


# The higher-level inspections drive the freeze's exclusions; importing them here registers
# their table with every import of the draw's models.
from gateway.higher_level.models import HigherLevelInspection  # noqa: E402,F401
