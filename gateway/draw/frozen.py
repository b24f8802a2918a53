"""The frozen strata of a draw, one ``draw_frozen_strata`` row per stratum (issue 20).

The freeze writes each stratum as soon as it is hashed (:func:`FrozenWriter.add`) and the run, the
superseding of a seeded draw and every other reader go through :func:`entries` or
:func:`strata`, which read one stratum at a time, so that no more than one population (the run:
two, the next one prefetched) is held at once. A population is stored as its canonical JSON
(sorted USCCs), exactly the bytes that ``population_sha256`` hashes, gzip-compressed a record
chunk at a time (:func:`pack_population`).
"""
from __future__ import annotations

import gzip
import hashlib
import operator
import os
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gateway.draw import record_v2
from gateway.draw.models import DrawFrozenStratum
from gateway.draw.record import ratio_text
from gateway.draw.record_v2 import _canonical as canonical_bytes
from gateway.draw.strata import Stratum

META_COLUMNS = (DrawFrozenStratum.position, DrawFrozenStratum.key, DrawFrozenStratum.matter,
                DrawFrozenStratum.risk_class, DrawFrozenStratum.ratio, DrawFrozenStratum.size,
                DrawFrozenStratum.population_sha256)


def pack(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=1, mtime=0)


_OPEN, _COMMA, _CLOSE = pack(b"["), pack(b","), pack(b"]")


def pack_population(population: Sequence[str]) -> tuple[bytes, bytes]:
    """A sorted population's canonical JSON and its stored form: a gzip member of each record
    chunk's members (:func:`gateway.draw.record_v2.stratum_parts`, without the brackets), between
    members of ``[``, ``,`` and ``]``. Gzip members one after another are one gzip stream of their
    texts joined, so the stored form decompresses to the canonical JSON, and the run copies a
    chunk's member into the record's part as it is, compressing only the text around it
    (:func:`unpack_population`)."""
    texts = [record_v2.members_text(population, members)
             for members in record_v2.chunk_ranges(len(population), record_v2.STRATUM_CHUNK)]
    compressed = _packer().map(pack, texts)  # the chunks at once, while the text is joined here
    body = b"[" + b",".join(texts) + b"]"
    packed = [_OPEN]
    for member in compressed:
        packed += [member, _COMMA]
    packed[-1] = _CLOSE
    return body, b"".join(packed)


@lru_cache(maxsize=1)
def _packer() -> ThreadPoolExecutor:
    """Threads that compress a population's chunks at once: zlib lets go of the GIL while it
    compresses, and at 10M the freeze compressed some 230 MB of text."""
    return ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="frozen-pack")


@dataclass(frozen=True)
class StoredPopulation:
    """A frozen population unpacked: its canonical JSON ``text``, its list, and per record chunk
    (a range of members) where its members' text is in ``text`` and its gzip member in the stored
    form. ``chunks`` is empty when the stored form is not in the layout of :func:`pack_population`
    (a draw frozen before it, or with other chunks): its parts are then serialised again."""

    text: bytes
    population: list[str]
    chunks: dict[range, tuple[slice, slice]]


def unpack_population(packed: bytes) -> StoredPopulation:
    members = list(gzip_members(packed))
    text = b"".join(plain for _, plain in members)
    population = orjson.loads(text)
    return StoredPopulation(text, population, _chunk_members(members, population))


def _chunk_members(members: list[tuple[slice, bytes]], population: list[str]) -> dict[range, tuple[slice, slice]]:
    ranges = record_v2.chunk_ranges(len(population), record_v2.STRATUM_CHUNK)
    separators = [plain for _, plain in members[::2]]
    if len(members) != 2 * len(ranges) + 1 or separators != [b"[", *[b","] * (len(ranges) - 1), b"]"]:
        return {}
    out, at = {}, 1
    for members_range, (stored, plain) in zip(ranges, members[1::2]):
        if members_range:
            first, last = orjson.dumps(population[members_range[0]]), orjson.dumps(population[members_range[-1]])
            if not (plain.startswith(first) and plain.endswith(last)):
                return {}
        elif plain:
            return {}
        out[members_range] = (slice(at, at + len(plain)), stored)
        at += len(plain) + 1
    return out


_BLOCK = 1 << 20


def gzip_members(packed: bytes) -> Iterator[tuple[slice, bytes]]:
    """Each gzip member of ``packed``: where it is, and its text."""
    view, start = memoryview(packed), 0
    while start < len(view):
        member, end, texts = zlib.decompressobj(31), start, []
        while not member.eof:
            if end == len(view):
                raise ValueError("gzip stream cut short")
            block = view[end:end + _BLOCK]
            end += len(block)
            texts.append(member.decompress(block))
        end -= len(member.unused_data)
        yield slice(start, end), b"".join(texts)
        start = end


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
        body, packed = pack_population(population if isinstance(population, (list, tuple)) else list(population))
        digest = hashlib.sha256(body).hexdigest()
        position = len(self.own)
        self._whole.update(b"," if position else b"")
        self._whole.update(b'{"key":' + canonical_bytes(key) + b',"population":' + body
                           + b',"ratio":' + canonical_bytes(ratio) + b"}")
        same = key_targets is population or (len(key_targets) == len(population)
                                              and all(map(operator.eq, key_targets, population)))
        self.connection.execute(insert(DrawFrozenStratum).values(
            draw_id=self.draw_id, position=position, key=key, matter=matter, risk_class=risk_class or "",
            ratio=ratio, size=len(population), population_sha256=digest, population_gzip=packed,
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
