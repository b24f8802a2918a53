"""The public draw record, format ``shuangsui.draw/2``: a small index and bounded parts per stratum.

Version 1 was one JSON document holding every stratum's population: 261 MB at 10M targets, which
nobody can fetch to check the one stratum they care about. Version 2 splits it:

- the **index** (canonical JSON, see :func:`gateway.draw.record.canonical_json`): everything but
  the strata's lists and the tasks (plan, participants, seed, contributions, commitments,
  exclusions, caps and eligibility sections, …) plus ``parts``:

  - ``parts.strata``: one descriptor per stratum, in record order: ``key``, ``matter``,
    ``risk_class``, ``ratio``, ``population_size``, ``population_sha256``, ``sample_size``, and
    where its parts are. A stratum of at most :data:`STRATUM_CHUNK` members is one part:
    ``part`` (1, 2, …), ``sha256``/``bytes`` of the part's exact text, ``first``/``last`` the
    first and last credit code of its population. A larger stratum lists its parts in ``chunks``
    (each ``part``, ``count``, ``first``, ``last``, ``sha256``, ``bytes``) and gives
    ``last_selected``, the selected member with the largest ticket (null when none is drawn).
    An enterprise knows its matters, its credit risk class (or that it is a key-inspection
    target) and its code: the descriptors tell it the one part per stratum that can hold it.
    Records made before the chunks have one part per stratum and no ``first``/``last``.
  - ``parts.tasks``: the tasks, in ticket order, in parts of at most :data:`TASKS_PER_PART`
    (``part``, ``count``, ``first`` and ``last`` task number, ``sha256``, ``bytes``).

  ``population_sha256`` is computed exactly as in version 1 (it was announced at freeze time,
  over every stratum's whole list); ``strata_sha256`` is the SHA-256 of the canonical JSON of
  ``[{"key", "population_sha256", "ratio"}, …]`` of every stratum in order, also fixed at freeze
  time, so that one stratum can be tied to the frozen populations without the others.
- a **stratum part**, of a stratum in one part: the canonical JSON of the stratum's version 1
  entry (``key``, ``matter``, ``risk_class``, ``ratio``, ``population``, ``population_sha256``,
  ``sample_size``, ``selected``, ``key_targets``).
- a **chunk**, one part of a larger stratum: the canonical JSON of ``{chunk (1, 2, …), key,
  matter, population, selected, key_targets}``: the next at most :data:`STRATUM_CHUNK` members
  of the stratum's population (sorted by USCC), and those of them selected (in ticket order) or
  key targets. The population's hash runs on over the chunks: the canonical JSON of the whole
  list is ``[`` + each chunk's list without brackets, joined by ``,`` + ``]``. A verifier checks
  the selection chunk by chunk against the ticket of ``last_selected`` (see
  :class:`gateway.draw.verify._Chunked`), so no part, nor its memory, grows with the province.
- a **tasks part**: the canonical JSON of a list of task entries (as in version 1).
- an **exclusions part** (``parts.exclusions`` in the index: ``part``, ``count``, ``sha256``,
  ``bytes``, ``first``, ``last``): ``{"counts", "exclusions"}``, at most
  :data:`EXCLUSIONS_PER_PART` exclusions in record order (by USCC) and the ``inspection_caps``
  counts of their targets; ``first`` and ``last`` are its first and last exclusion's USCC, so an
  enterprise's own exclusions are found in one part (records made before them lack both). A draw with exclusions keeps
  neither ``exclusions`` nor ``inspection_caps.counts`` in its index (a province's caps exclude
  hundreds of thousands); records made before these parts keep both there.

The **whole record** is one JSON document, the index's fields with ``strata`` and ``tasks`` as in
version 1, written so that every part sits on a line of its own and the index comes last
(:func:`whole_record_chunks`)::

    {"strata":[
    <stratum part 1>,
    <stratum part 2>
    ],"tasks":[
    <tasks part 1 without its brackets>,
    <tasks part 2 without its brackets>
    ],"exclusion_parts":[
    <exclusions part 1>
    ],<the index's text without its opening brace>

(the chunks of a large stratum each on its line, in order). Any JSON reader loads it as one
document; a verifier reads the last line first (the index), then
the parts one line at a time. With the index last, the draw hashes the whole text as it writes
each part: ``record_sha256`` stays the SHA-256 of the whole published text, as in version 1.
Pure: no Flask, no database.
"""
from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping, Sequence

import orjson

from gateway.draw.record import FORMAT_V2, canonical_json, population_digests

TASKS_PER_PART = 20_000
# A stratum of more members is cut into parts of at most this many (about 2 MB each), so that no
# part, and no verifier's memory, grows with the province's largest stratum.
STRATUM_CHUNK = 100_000
# The exclusions (a province's caps exclude hundreds of thousands) leave the index for parts of at
# most this many, each with the caps counts of its own targets.
EXCLUSIONS_PER_PART = 20_000

HEAD = b'{"strata":['
TASKS_OPEN = b'],"tasks":['
EXCLUSIONS_OPEN = b'],"exclusion_parts":['
INDEX_OPEN = b"],"


def _canonical(value: Any) -> bytes:
    """:func:`canonical_json`, faster: the same bytes for the record's values (strings, integers,
    booleans, null, lists and objects; sorted keys, compact, UTF-8)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def strata_sha256(entries: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of ``[{"key", "population_sha256", "ratio"}, …]``."""
    return hashlib.sha256(canonical_json([
        {"key": e["key"], "population_sha256": e["population_sha256"], "ratio": e["ratio"]} for e in entries
    ])).hexdigest()


Piece = bytes | range
"""A piece of a stratum part's text: literal text, or (a ``range``) the canonical JSON of those
members of the stratum's population without its brackets (the literal pieces around it hold them)."""

_MARKED = re.compile(rb'"\\u0000([a-z_]+)\\u0000"')


@dataclass(frozen=True)
class StratumPart:
    """One part of a stratum (the stratum in one part, or one chunk): its ``members`` (a range of
    the stratum's population) and its exact text as ``pieces``, so that the population's text, which
    the freeze stored already, is not serialised again (:meth:`RecordParts.add_stratum_parts`)."""

    members: range
    pieces: tuple[Piece, ...]


def _pieces(value: Mapping[str, Any], ranges: Mapping[str, range]) -> tuple[Piece, ...]:
    """The canonical JSON of ``value`` whose fields named in ``ranges`` hold those ranges of the
    population, as pieces: serialised with a mark in their place, then cut at the marks."""
    cut = _MARKED.split(_canonical({**value, **{name: f"\0{name}\0" for name in ranges}}))
    pieces: list[Piece] = [cut[0] + b"["]
    for at in range(1, len(cut), 2):
        pieces += [ranges[cut[at].decode()], b"]" + cut[at + 1] + (b"[" if at + 2 < len(cut) else b"")]
    return tuple(pieces)


def chunk_ranges(count: int, size: int) -> list[range]:
    """The members of each part of a stratum of ``count`` members, in parts of at most ``size``
    (one part, possibly empty, when it has no more)."""
    return [range(start, min(start + size, count)) for start in range(0, max(count, 1), size)]


def stratum_parts(entry: Mapping[str, Any], size: int) -> list[StratumPart]:
    """A stratum's entry as its parts: one, or when it has more than ``size`` members one per chunk
    of at most ``size`` (its population is sorted by USCC: each chunk a range of codes), each with
    its own members' selection (in ticket order) and key targets: ``{chunk, key, matter,
    population, selected, key_targets}``. A key stratum's key targets are its population (the same
    list): they are a range too."""
    population = entry["population"]
    key_targets = entry.get("key_targets")
    key_targets = () if key_targets is None else key_targets
    whole = range(len(population))
    if len(population) <= size:
        return [StratumPart(whole, _pieces(entry, {"population": whole, **(
            {"key_targets": whole} if key_targets is population else {})}))]
    ranges = chunk_ranges(len(population), size)
    inside: list[list[str]] = [[] for _ in ranges]
    lasts = [population[r[-1]] for r in ranges]
    for uscc in entry["selected"]:  # in ticket order
        at = bisect_left(lasts, uscc)
        if at == len(ranges):
            raise ValueError(f"分层 {entry['key']} 的抽中对象 {uscc} 不在其总体名单中")
        inside[at].append(uscc)
    keyed = set(key_targets) if key_targets is not population else None
    out = []
    for number, (members, chosen) in enumerate(zip(ranges, inside), start=1):
        chunk: dict[str, Any] = {"chunk": number, "key": entry["key"], "matter": entry["matter"], "selected": chosen}
        own = {"population": members}
        if keyed is None:
            own["key_targets"] = members
        else:
            chunk["key_targets"] = [population[n] for n in members if population[n] in keyed] if keyed else []
        out.append(StratumPart(members, _pieces(chunk, own)))
    return out


def members_text(population: Sequence[str], members: range) -> bytes:
    """The canonical JSON of those members of a population, without its brackets."""
    return _canonical(population[members.start:members.stop])[1:-1]


def part_text(part: StratumPart, population: Sequence[str]) -> bytes:
    """A stratum part's text, its population serialised here."""
    return b"".join(p if isinstance(p, bytes) else members_text(population, p) for p in part.pieces)


def stratum_chunks(entry: Mapping[str, Any], size: int) -> list[dict[str, Any]]:
    """The chunk entries of a stratum of more than ``size`` members (see :func:`stratum_parts`)."""
    population = entry["population"]
    return [orjson.loads(part_text(part, population)) for part in stratum_parts(entry, size)]


def _stratum_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"key": entry["key"], "matter": entry["matter"], "risk_class": entry["risk_class"],
            "ratio": entry["ratio"], "population_size": len(entry["population"]),
            "population_sha256": entry["population_sha256"], "sample_size": entry["sample_size"]}


def is_chunked(descriptor: Mapping[str, Any]) -> bool:
    """Whether a stratum descriptor lists its stratum's parts in ``chunks`` (a large stratum)."""
    return isinstance(descriptor.get("chunks"), list)


def descriptor_parts(descriptor: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The parts of one stratum: its ``chunks``, or the descriptor itself (a stratum in one part)."""
    return descriptor["chunks"] if is_chunked(descriptor) else [descriptor]


def tasks_descriptor(number: int, tasks: Sequence[Mapping[str, Any]], text: bytes) -> dict[str, Any]:
    return _tasks_descriptor(number, len(tasks), tasks[0]["number"] if tasks else None,
                             tasks[-1]["number"] if tasks else None, text)


def _tasks_descriptor(number: int, count: int, first: str | None, last: str | None, text: bytes) -> dict[str, Any]:
    return {"part": number, "count": count, "first": first, "last": last,
            "sha256": hashlib.sha256(text).hexdigest(), "bytes": len(text)}


def task_chunks(tasks: Sequence[Any], size: int = TASKS_PER_PART) -> list[Sequence[Any]]:
    """The tasks cut into parts of at most ``size``, in order (none when there are no tasks)."""
    return [tasks[start:start + size] for start in range(0, len(tasks), size)]


def _stratum_piece(position: int, text: bytes) -> bytes:
    return (b",\n" if position else b"\n") + text


def _tasks_piece(position: int, text: bytes) -> bytes:
    return (b",\n" if position else b"\n") + text[1:-1]


def _index_piece(index: bytes) -> bytes:
    if not index.startswith(b"{") or index == b"{}":
        raise ValueError("index must be a non-empty JSON object")
    return b"\n" + INDEX_OPEN + index[1:]


def whole_record_chunks(index: bytes, strata: Iterable[bytes], tasks: Iterable[bytes],
                        exclusions: Iterable[bytes] = ()) -> Iterator[bytes]:
    """The whole record's text, in pieces: each part on its own line, the index last."""
    yield HEAD
    for position, text in enumerate(strata):
        yield _stratum_piece(position, text)
    yield b"\n" + TASKS_OPEN
    for position, text in enumerate(tasks):
        if len(text) > 2:
            yield _tasks_piece(position, text)
    for position, text in enumerate(exclusions):
        yield (b"" if position else b"\n" + EXCLUSIONS_OPEN) + _stratum_piece(position, text)
    yield _index_piece(index)


def exclusion_pieces(fields: Mapping[str, Any], size: int = EXCLUSIONS_PER_PART) -> list[dict[str, Any]]:
    """The record's exclusions cut into parts of at most ``size``, in order, each
    ``{"counts", "exclusions"}`` with the ``inspection_caps`` counts of its own targets."""
    exclusions = list(fields.get("exclusions") or ())
    caps = fields.get("inspection_caps")
    counts = caps.get("counts", {}) if isinstance(caps, Mapping) else {}
    out = []
    for start in range(0, len(exclusions), size):
        chunk = exclusions[start:start + size]
        out.append({"exclusions": chunk, "counts": {e["uscc"]: counts[e["uscc"]] for e in chunk if e["uscc"] in counts}})
    return out


@dataclass
class RecordParts:
    """A version 2 record being written: parts are added one at a time and can be released."""

    index_fields: dict[str, Any]
    strata: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    exclusions: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._whole = hashlib.sha256(HEAD)
        self._tasks_open = False
        self._count = 0  # stratum parts so far

    def add_stratum(self, entry: Mapping[str, Any], chunk: int | None = None) -> Iterator[tuple[int, str, bytes]]:
        """Serialise one stratum's entry: one part, or one per chunk of at most ``chunk`` members
        (:data:`STRATUM_CHUNK`) when it has more; yield ``(part number, sha256, text)`` of each,
        one at a time (the caller stores each and lets it go: a province's largest stratum has
        dozens of parts). The stratum is added once all its parts have been taken."""
        population = entry["population"]
        for number, sha256, _, texts in self.add_stratum_parts(entry, partial(members_text, population), chunk):
            yield number, sha256, b"".join(texts)

    def add_stratum_parts(self, entry: Mapping[str, Any], members_text: Callable[[range], bytes | memoryview],
                          chunk: int | None = None) -> Iterator[tuple[int, str, StratumPart, list]]:
        """:meth:`add_stratum`, the population's text of each part's members given by
        ``members_text`` (the canonical JSON of those members without its brackets: the run has
        the frozen text already); yield ``(part number, sha256, part, its text's pieces)``."""
        if self._tasks_open:
            raise ValueError("strata come before the tasks")
        population = entry["population"]
        size = chunk or STRATUM_CHUNK
        chunks = []
        for part in stratum_parts(entry, size):
            texts = [p if isinstance(p, bytes) else members_text(p) for p in part.pieces]
            sha256, length = self._add_pieces(texts)
            members = part.members
            codes = {"first": population[members[0]], "last": population[members[-1]]} if members else {}
            if len(population) <= size:
                self.strata.append({**_stratum_fields(entry), **codes, "part": self._count, "sha256": sha256,
                                    "bytes": length})
            else:
                chunks.append({"part": self._count, "count": len(members), **codes, "sha256": sha256, "bytes": length})
            yield self._count, sha256, part, texts
            del texts
        if chunks:
            selected = entry["selected"]
            self.strata.append({**_stratum_fields(entry), "last_selected": selected[-1] if selected else None,
                                "chunks": chunks})

    def _add_pieces(self, texts: Sequence[bytes | memoryview]) -> tuple[str, int]:
        """One stratum part's text, in pieces, into the whole record's hash: its SHA-256 and size."""
        own = hashlib.sha256()
        self._whole.update(b",\n" if self._count else b"\n")
        for text in texts:
            own.update(text)
            self._whole.update(text)
        self._count += 1
        return own.hexdigest(), sum(map(len, texts))

    def _open_tasks(self) -> None:
        if not self._tasks_open:
            self._tasks_open = True
            self._whole.update(b"\n" + TASKS_OPEN)

    def add_tasks(self, tasks: Sequence[Mapping[str, Any]]) -> bytes:
        if not tasks:
            raise ValueError("a tasks part holds at least one task")
        return self.add_tasks_text(_canonical(list(tasks)), len(tasks), tasks[0]["number"], tasks[-1]["number"])

    def add_tasks_text(self, text: bytes, count: int, first: str, last: str) -> bytes:
        """:meth:`add_tasks` of a part its writer serialised itself: ``text`` is the canonical JSON
        of its ``count`` task entries, numbered ``first`` to ``last``."""
        if not count:
            raise ValueError("a tasks part holds at least one task")
        self._open_tasks()
        self._whole.update(_tasks_piece(len(self.tasks), text))
        self.tasks.append(_tasks_descriptor(len(self.tasks) + 1, count, first, last, text))
        return text

    def add_exclusions(self, size: int = EXCLUSIONS_PER_PART) -> list[tuple[int, str, bytes]]:
        """Move the exclusions and their caps counts out of the index into parts (after the tasks);
        return ``(part number, sha256, text)`` of each. None (the index keeps ``exclusions: []``)
        when there are none."""
        self._open_tasks()
        out = []
        for piece in exclusion_pieces(self.index_fields, size):
            text = _canonical(piece)
            self._whole.update((b"" if out else b"\n" + EXCLUSIONS_OPEN) + _stratum_piece(len(out), text))
            out.append((len(out) + 1, hashlib.sha256(text).hexdigest(), text))
            self.exclusions.append({"part": out[-1][0], "count": len(piece["exclusions"]), "sha256": out[-1][1],
                                    "bytes": len(text), "first": piece["exclusions"][0]["uscc"],
                                    "last": piece["exclusions"][-1]["uscc"]})
        caps = self.index_fields.get("inspection_caps")
        if out:  # a new dict: the caller's fields stay as they were
            self.index_fields = {k: v for k, v in self.index_fields.items() if k != "exclusions"}
            if isinstance(caps, Mapping):
                self.index_fields["inspection_caps"] = {k: v for k, v in caps.items() if k != "counts"}
        return out

    def index(self) -> dict[str, Any]:
        parts = {"strata": self.strata, "tasks": self.tasks, **({"exclusions": self.exclusions} if self.exclusions else {})}
        return {**self.index_fields, "format": FORMAT_V2, "strata_sha256": strata_sha256(self.strata), "parts": parts}

    def finish(self) -> tuple[bytes, str]:
        """The index's text and the SHA-256 of the whole record's text."""
        self._open_tasks()
        index = _canonical(self.index())
        whole = self._whole.copy()
        whole.update(_index_piece(index))
        return index, whole.hexdigest()


def split_record(record: Mapping[str, Any], tasks_per_part: int = TASKS_PER_PART) -> tuple[bytes, list[bytes], list[bytes]]:
    """Split a whole record (a dict with ``strata`` and ``tasks`` entries in full, as version 1
    holds them) into the version 2 index and parts: ``(index, stratum parts, tasks parts)``."""
    fields = {k: v for k, v in record.items() if k not in ("strata", "tasks", "parts", "strata_sha256", "format")}
    parts = RecordParts(fields)
    strata = [text for entry in record["strata"] for _, _, text in parts.add_stratum(entry)]
    tasks = [parts.add_tasks(chunk) for chunk in task_chunks(list(record["tasks"]), tasks_per_part)]
    whole, _ = population_digests(record["strata"])
    if whole != record.get("population_sha256"):
        raise ValueError("population_sha256 does not match the strata")
    return parts.finish()[0], strata, tasks


def whole_record_text(index: bytes, strata: Iterable[bytes], tasks: Iterable[bytes]) -> bytes:
    return b"".join(whole_record_chunks(index, strata, tasks))


def index_of_whole(record: Mapping[str, Any]) -> dict[str, Any]:
    """The index's fields of a loaded whole record (everything but the parts' lists)."""
    return {k: v for k, v in record.items() if k not in ("strata", "tasks", "exclusion_parts")}


_PLAIN = bytes(range(48, 58)) + bytes(range(65, 91)) + b'",[]'
_PLAIN_TEXT = re.compile(rb'[0-9A-Z",\[\]]*')


def population_view(text: bytes) -> memoryview | None:
    """The canonical JSON of a stratum part's population, as a view into the part's text (no
    copy), or None when it cannot be cut out (e.g. a USCC with other characters than digits and
    capitals): a verifier then need not serialise a list of millions again to hash it. Such a list
    of plain strings, as it sits in canonical JSON, is its own canonical JSON."""
    start = text.find(b'"population":[')
    end = text.find(b'],"population_sha256":', start)
    if end < 0:  # a chunk of a large stratum (its keys: chunk, key, key_targets, matter, population, selected)
        end = text.find(b'],"selected":', start)
    if start < 0 or end < 0:
        return None
    view = memoryview(text)[start + len(b'"population":'):end + 1]
    return view if _PLAIN_TEXT.fullmatch(view) else None


def population_slice(text: bytes) -> bytes | None:
    """:func:`population_view`, copied out as bytes."""
    view = population_view(text)
    return None if view is None else bytes(view)


class LayoutError(ValueError):
    """A whole record's text is not in the line layout of :func:`whole_record_chunks`."""


def last_line(handle: BinaryIO) -> bytes:
    """The last line of a file opened for binary reading (without reading the rest)."""
    handle.seek(0, 2)
    end = handle.tell()
    while end > 0:
        handle.seek(end - 1)
        if handle.read(1) not in (b"\n", b"\r"):
            break
        end -= 1
    position, block, tail = end, 1 << 16, b""
    while position > 0:
        start = max(0, position - block)
        handle.seek(start)
        tail = handle.read(position - start) + tail
        position = start
        cut = tail.rfind(b"\n")
        if cut >= 0:
            return tail[cut + 1:end]
    return tail


def read_index(path: Path) -> bytes:
    """The index's exact text, from the last line of a whole record's file."""
    with path.open("rb") as handle:
        first = handle.readline().rstrip(b"\r\n")
        if first != HEAD:
            raise LayoutError("not in the line layout")
        line = last_line(handle).rstrip(b"\r\n")
    if not line.startswith(INDEX_OPEN + b'"'):
        raise LayoutError("the record is cut short")
    return b"{" + line[len(INDEX_OPEN):]


def read_parts(path: Path) -> Iterator[tuple[str, bytes]]:
    """The parts of a whole record's file, one line at a time: ``("stratum", text)`` for each
    stratum part, then ``("tasks", text)`` for each tasks part, then ``("exclusions", text)`` for
    each exclusions part, each exactly the part's own text,
    so that its SHA-256 can be checked against the index. Raises :class:`LayoutError` when the
    file is not in that layout (e.g. a re-serialised document)."""
    with path.open("rb") as handle:
        if handle.readline().rstrip(b"\r\n") != HEAD:
            raise LayoutError("not in the line layout")
        section = "stratum"
        for raw in handle:
            line = raw.rstrip(b"\r\n")
            if line == TASKS_OPEN and section == "stratum":
                section = "tasks"
                continue
            if line == EXCLUSIONS_OPEN and section == "tasks":
                section = "exclusions"
                continue
            if line.startswith(INDEX_OPEN + b'"'):
                return
            if not line:
                raise LayoutError("an empty line in the record")
            # One copy of a part at a time: a part of a province's stratum is tens of megabytes.
            if section == "tasks":
                text = b"[" + (line[:-1] if line.endswith(b",") else line) + b"]"
            elif line.endswith(b","):  # a stratum part or an exclusions part
                text = line[:-1]
            else:
                text = line
            del raw, line
            yield section, text
            del text
    raise LayoutError("the record is cut short")
