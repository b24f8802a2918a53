"""The frozen strata of a draw, one ``draw_frozen_strata`` row per stratum (issue 20).

The freeze writes each stratum as soon as it is hashed (:func:`FrozenWriter.add`) and the run, the
superseding of a seeded draw and every other reader go through :func:`entries` or
:func:`strata`, which read one stratum at a time, so that no more than one population (the run:
two, the next one prefetched) is held at once. A population is stored as its canonical JSON
(sorted USCCs), exactly the bytes that ``population_sha256`` hashes, gzip-compressed.
"""
from __future__ import annotations

import gzip
import hashlib
import operator
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gateway.draw.models import DrawFrozenStratum
from gateway.draw.record import ratio_text
from gateway.draw.record_v2 import _canonical as canonical_bytes
from gateway.draw.strata import Stratum

META_COLUMNS = (DrawFrozenStratum.position, DrawFrozenStratum.key, DrawFrozenStratum.matter,
                DrawFrozenStratum.risk_class, DrawFrozenStratum.ratio, DrawFrozenStratum.size,
                DrawFrozenStratum.population_sha256)


def pack(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=1, mtime=0)


class FrozenWriter:
    """Writes a draw's strata in order, hashing the population chain as it goes: ``whole`` is then
    ``population_sha256`` and ``own`` each stratum's population hash (the values of
    :func:`gateway.draw.record.population_digests`)."""

    def __init__(self, connection, draw_id: int) -> None:
        self.connection, self.draw_id = connection, draw_id
        self._whole = hashlib.sha256(b"[")
        self.own: list[str] = []

    def add(self, key: str, matter: str, risk_class: str, ratio: Decimal | str, population: Sequence[str],
            key_targets: Sequence[str]) -> str:
        """Write one stratum (``population`` sorted) and return its population hash."""
        ratio = ratio if isinstance(ratio, str) else ratio_text(ratio)
        body = canonical_bytes(population if isinstance(population, (list, tuple)) else list(population))
        digest = hashlib.sha256(body).hexdigest()
        position = len(self.own)
        self._whole.update(b"," if position else b"")
        self._whole.update(b'{"key":' + canonical_bytes(key) + b',"population":' + body
                           + b',"ratio":' + canonical_bytes(ratio) + b"}")
        same = key_targets is population or (len(key_targets) == len(population)
                                              and all(map(operator.eq, key_targets, population)))
        self.connection.execute(insert(DrawFrozenStratum).values(
            draw_id=self.draw_id, position=position, key=key, matter=matter, risk_class=risk_class or "",
            ratio=ratio, size=len(population), population_sha256=digest, population_gzip=pack(body),
            key_targets_gzip=None if same else pack(canonical_bytes(list(key_targets)))))
        self.own.append(digest)
        return digest

    @property
    def whole(self) -> str:
        done = self._whole.copy()
        done.update(b"]")
        return done.hexdigest()


def meta(connection, draw_id: int) -> list[dict[str, Any]]:
    """Each stratum's ``position``, ``key``, ``matter``, ``risk_class``, ``ratio`` (text), ``size``
    and ``population_sha256``, in order, without the populations."""
    rows = connection.execute(select(*META_COLUMNS).where(DrawFrozenStratum.draw_id == draw_id)
                              .order_by(DrawFrozenStratum.position))
    return [dict(row._mapping) for row in rows]


def load(connection, draw_id: int, position: int) -> dict[str, Any]:
    """One stratum's entry: ``{key, matter, risk_class, ratio, population, key_targets}``."""
    row = connection.execute(select(*META_COLUMNS, DrawFrozenStratum.population_gzip,
                                    DrawFrozenStratum.key_targets_gzip)
                             .where(DrawFrozenStratum.draw_id == draw_id,
                                    DrawFrozenStratum.position == position)).one()
    population = orjson.loads(gzip.decompress(row.population_gzip))
    key_targets = population if row.key_targets_gzip is None else orjson.loads(gzip.decompress(row.key_targets_gzip))
    return {"key": row.key, "matter": row.matter, "risk_class": row.risk_class, "ratio": row.ratio,
            "population": population, "key_targets": key_targets}


def key_targets(connection, draw_id: int) -> dict[str, list[str]]:
    """Each stratum's key-inspection targets by key (a key stratum's: its whole population)."""
    rows = connection.execute(select(DrawFrozenStratum.position, DrawFrozenStratum.key,
                                     DrawFrozenStratum.key_targets_gzip)
                              .where(DrawFrozenStratum.draw_id == draw_id).order_by(DrawFrozenStratum.position)).all()
    out = {}
    for position, key, own in rows:
        if own is None:  # a key stratum: its population, read on its own
            own = connection.execute(select(DrawFrozenStratum.population_gzip).where(
                DrawFrozenStratum.draw_id == draw_id, DrawFrozenStratum.position == position)).scalar_one()
        out[key] = orjson.loads(gzip.decompress(own))
    return out


def _connection(source):
    return source.connection() if isinstance(source, Session) else source


def entries(source: Session | Any, draw_id: int) -> Iterator[dict[str, Any]]:
    """The draw's frozen strata entries in order, one read (and held) at a time. ``source`` is a
    session or a connection."""
    connection = _connection(source)
    for item in meta(connection, draw_id):
        yield load(connection, draw_id, item["position"])


def to_stratum(entry: dict[str, Any]) -> Stratum:
    return Stratum(entry["key"], entry["matter"], Decimal(entry["ratio"]), tuple(entry["population"]),
                   entry["risk_class"])


def strata(source: Session | Any, draw_id: int) -> Iterator[Stratum]:
    """The draw's frozen strata as :class:`Stratum` objects, one at a time."""
    return (to_stratum(entry) for entry in entries(source, draw_id))
