"""Reading and writing the parts of a ``shuangsui.draw/2`` record on the database.

The index lives in ``draws.record_gzip`` (``draws.record_format`` says which version), each part in
a ``draw_record_parts`` row, gzip-compressed. The whole record is never held at once: it is
streamed part by part (:func:`whole_record_stream`).
"""
from __future__ import annotations

import gzip
import json
import zlib
from typing import Any, Iterator

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gateway.draw.models import Draw, DrawRecordPart
from gateway.draw.record import FORMAT_V2
from gateway.draw.record_v2 import descriptor_parts, is_chunked, whole_record_chunks
from gateway.draw.sampler import Ticketer
from gateway.errors import NotFound

STRATUM, TASKS, EXCLUSIONS = "stratum", "tasks", "exclusions"


def is_v2(draw: Draw) -> bool:
    return draw.record_format == FORMAT_V2


def part_row(draw_id: int, kind: str, number: int, sha256: str, size: int, packed: bytes) -> dict[str, Any]:
    """One part's row: its text of ``size`` bytes as ``packed``, gzip-compressed by the caller (one
    member or several, see :func:`gateway.draw.frozen.pack_population`): the draw compresses its
    parts itself, so that its database worker, whose queue every write of the run waits in, only
    inserts them."""
    return dict(draw_id=draw_id, kind=kind, number=number, sha256=sha256, size=size, body_gzip=packed)


def store_part(connection, row: dict[str, Any]) -> None:
    """Insert one part's :func:`part_row` (a job of the draw's database worker, inside the draw's transaction)."""
    connection.execute(insert(DrawRecordPart).values(**row))


def index_text(draw: Draw) -> bytes:
    """The index's exact text (of a version 2 record)."""
    return gzip.decompress(draw.record_gzip)


def index(draw: Draw) -> dict[str, Any]:
    return json.loads(index_text(draw))


def part_text(session: Session, draw: Draw, kind: str, number: int) -> bytes:
    """One part's exact text; NotFound when the draw has no such part."""
    body = session.scalar(select(DrawRecordPart.body_gzip).where(
        DrawRecordPart.draw_id == draw.id, DrawRecordPart.kind == kind, DrawRecordPart.number == number))
    if body is None:
        label = {STRATUM: "分层", TASKS: "任务分块"}.get(kind, "排除分块")
        raise NotFound("record_part_not_found", f"抽取 {draw.id} 的记录没有第 {number} 个{label}。")
    return gzip.decompress(body)


def part_numbers(session: Session, draw: Draw, kind: str) -> list[int]:
    return list(session.scalars(select(DrawRecordPart.number).where(
        DrawRecordPart.draw_id == draw.id, DrawRecordPart.kind == kind).order_by(DrawRecordPart.number)))


def parts(session: Session, draw: Draw, kind: str) -> Iterator[bytes]:
    """Every part of one kind, in order, read and decompressed one at a time."""
    for number in part_numbers(session, draw, kind):
        yield part_text(session, draw, kind, number)


def whole_record_stream(session: Session, draw: Draw) -> Iterator[bytes]:
    """The whole record's text in pieces (one part at a time)."""
    return whole_record_chunks(index_text(draw), parts(session, draw, STRATUM), parts(session, draw, TASKS),
                               parts(session, draw, EXCLUSIONS))


def gzip_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks`` gzip-compressed on the fly (level 1, no timestamp), as one gzip member."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def stratum_tasks(session: Session, draw: Draw) -> Iterator[dict[str, Any]]:
    """Every task entry of the record, in ticket order, a part at a time."""
    for text in parts(session, draw, TASKS):
        yield from json.loads(text)


def stratum_entries(session: Session, draw: Draw) -> Iterator[dict[str, Any]]:
    """Every stratum's whole entry, in order, one stratum at a time: a large stratum's chunks are
    put back together (its population in USCC order, its selection in ticket order)."""
    entry = Ticketer(draw.seed).entry
    for descriptor in index(draw)["parts"]["strata"]:
        texts = (part_text(session, draw, STRATUM, part["part"]) for part in descriptor_parts(descriptor))
        if not is_chunked(descriptor):
            yield json.loads(next(texts))
            continue
        whole = {k: descriptor[k] for k in ("key", "matter", "risk_class", "ratio", "population_sha256", "sample_size")}
        whole.update(population=[], selected=[], key_targets=[])
        for text in texts:
            chunk = json.loads(text)
            for name in ("population", "selected", "key_targets"):
                whole[name] += chunk[name]
        whole["selected"].sort(key=entry)
        yield whole
