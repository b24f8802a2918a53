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

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from gateway.db import Base, utcnow
from gateway.draw.record_v2 import whole_record_chunks
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

    # Freeze: the strata (one DrawFrozenStratum row each, read through gateway.draw.frozen),
    # exclusions, hash.
    population_sha256: Mapped[str] = mapped_column(String(64))
    # The large columns load only when used (listings read ``stats``). ``legacy_strata`` (column
    # ``strata``) is [] since revision 0027: the frozen strata moved to draw_frozen_strata.
    legacy_strata: Mapped[list[dict[str, Any]]] = mapped_column("strata", JSON, deferred=True, default=list)
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
    # None for shuangsui.draw/1 (record_gzip holds the whole record); "shuangsui.draw/2":
    # record_gzip holds the index and DrawRecordPart rows the parts (gateway.draw.record_v2).
    record_format: Mapped[str | None] = mapped_column(String(32), nullable=True)
    task_count: Mapped[int] = mapped_column(Integer, default=0)
    team_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)

    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    cancelled_by: Mapped[str] = mapped_column(String(200), default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[Plan] = relationship(lazy="joined")

    @property
    def record(self) -> str | None:
        """The public record's whole text, exactly as published (hashes to ``record_sha256``).
        Of a version 2 record this joins every part: large draws should read the index and the
        parts one at a time instead (:mod:`gateway.draw.parts`)."""
        if self.record_gzip is None:
            return None
        if self.record_format is None:
            return unpack_record(self.record_gzip)
        session = object_session(self)

        def parts(kind: str):
            rows = session.scalars(select(DrawRecordPart.body_gzip).where(
                DrawRecordPart.draw_id == self.id, DrawRecordPart.kind == kind).order_by(DrawRecordPart.number))
            return (gzip.decompress(body) for body in rows)

        return b"".join(whole_record_chunks(gzip.decompress(self.record_gzip), parts("stratum"), parts("tasks"),
                                            parts("exclusions"))).decode("utf-8")


class DrawRecordPart(Base):
    """One part of a ``shuangsui.draw/2`` record: ``kind`` "stratum", "tasks" or "exclusions", numbered from 1 in
    record order; ``body_gzip`` is the part's exact text gzip-compressed (:func:`pack_record`)."""

    __tablename__ = "draw_record_parts"

    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    body_gzip: Mapped[bytes] = mapped_column(LargeBinary)


class DrawFrozenStratum(Base):
    """One stratum of a draw as frozen, written one stratum at a time by the freeze and read one
    at a time by the run (issue 20): ``position`` is the stratum's place in the draw (from 0),
    ``population_gzip`` the canonical JSON of its sorted population (hashing to
    ``population_sha256``) gzip-compressed (a member per record chunk since the run copies them:
    :func:`gateway.draw.frozen.pack_population`), ``key_targets_gzip`` that of its key-inspection targets,
    or NULL when they are the whole population (a key stratum)."""

    __tablename__ = "draw_frozen_strata"

    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    matter: Mapped[str] = mapped_column(String(100))
    risk_class: Mapped[str] = mapped_column(String(32), default="")
    ratio: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    population_sha256: Mapped[str] = mapped_column(String(64))
    population_gzip: Mapped[bytes] = mapped_column(LargeBinary)
    key_targets_gzip: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


def pack_record(text: bytes) -> bytes:
    """The stored form of a record's UTF-8 text: gzip at level 1 (a 26 MB record in about 0.1 s,
    to a fifth of its size), without a timestamp, so the same text always packs to the same bytes."""
    return gzip.compress(text, compresslevel=1, mtime=0)


def unpack_record(packed: bytes) -> str:
    return gzip.decompress(packed).decode("utf-8")


# The higher-level inspections drive the freeze's exclusions; importing them here registers
# their table with every import of the draw's models.
from gateway.higher_level.models import HigherLevelInspection  # noqa: E402,F401
