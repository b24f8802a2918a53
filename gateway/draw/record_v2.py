"""The public draw record, format ``shuangsui.draw/2``: a small index and one part per stratum.

Version 1 was one JSON document holding every stratum's population: 261 MB at 10M targets, which
nobody can fetch to check the one stratum they care about. Version 2 splits it:

- the **index** (canonical JSON, see :func:`gateway.draw.record.canonical_json`): everything but
  the strata's lists and the tasks (plan, participants, seed, contributions, commitments,
  exclusions, caps and eligibility sections, …) plus ``parts``:

  - ``parts.strata``: one descriptor per stratum, in record order: ``part`` (1, 2, …), ``key``,
    ``matter``, ``risk_class``, ``ratio``, ``population_size``, ``population_sha256``,
    ``sample_size``, and ``sha256``/``bytes`` of the part's exact text. An enterprise knows its
    matters and its credit risk class (or that it is a key-inspection target): the descriptors
    tell it which parts concern it.
  - ``parts.tasks``: the tasks, in ticket order, in parts of at most :data:`TASKS_PER_PART`
    (``part``, ``count``, ``first`` and ``last`` task number, ``sha256``, ``bytes``).

  ``population_sha256`` is computed exactly as in version 1 (it was announced at freeze time,
  over every stratum's whole list); ``strata_sha256`` is the SHA-256 of the canonical JSON of
  ``[{"key", "population_sha256", "ratio"}, …]`` of every stratum in order, also fixed at freeze
  time, so that one stratum can be tied to the frozen populations without the others.
- a **stratum part**: the canonical JSON of the stratum's version 1 entry (``key``, ``matter``,
  ``risk_class``, ``ratio``, ``population``, ``population_sha256``, ``sample_size``,
  ``selected``, ``key_targets``).
- a **tasks part**: the canonical JSON of a list of task entries (as in version 1).

The **whole record** is one JSON document, the index's fields with ``strata`` and ``tasks`` as in
version 1, written so that every part sits on a line of its own (:func:`whole_record_chunks`)::

    {<index fields>,"strata":[
    <stratum part 1>,
    <stratum part 2>
    ],"tasks":[
    <tasks part 1 without its brackets>,
    <tasks part 2 without its brackets>
    ]}

Any JSON reader loads it as one document; a verifier reads it line by line, one part at a time.
Pure: no Flask, no database.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

import orjson

from gateway.draw.record import FORMAT_V2, canonical_json, population_digests

TASKS_PER_PART = 20_000

STRATA_OPEN = b',"strata":['
TASKS_OPEN = b'],"tasks":['
CLOSE = b"]}"


def _canonical(value: Any) -> bytes:
    """:func:`canonical_json`, faster: the same bytes for the record's values (strings, integers,
    booleans, null, lists and objects; sorted keys, compact, UTF-8)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def strata_sha256(entries: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of ``[{"key", "population_sha256", "ratio"}, …]``."""
    return hashlib.sha256(canonical_json([
        {"key": e["key"], "population_sha256": e["population_sha256"], "ratio": e["ratio"]} for e in entries
    ])).hexdigest()


def stratum_descriptor(number: int, entry: Mapping[str, Any], text: bytes) -> dict[str, Any]:
    """The index's descriptor of stratum part ``number`` (its exact text ``text``)."""
    return {
        "part": number, "key": entry["key"], "matter": entry["matter"], "risk_class": entry["risk_class"],
        "ratio": entry["ratio"], "population_size": len(entry["population"]),
        "population_sha256": entry["population_sha256"], "sample_size": entry["sample_size"],
        "sha256": hashlib.sha256(text).hexdigest(), "bytes": len(text),
    }


def tasks_descriptor(number: int, tasks: Sequence[Mapping[str, Any]], text: bytes) -> dict[str, Any]:
    return {"part": number, "count": len(tasks), "first": tasks[0]["number"] if tasks else None,
            "last": tasks[-1]["number"] if tasks else None,
            "sha256": hashlib.sha256(text).hexdigest(), "bytes": len(text)}


def task_chunks(tasks: Sequence[Any], size: int = TASKS_PER_PART) -> list[Sequence[Any]]:
    """The tasks cut into parts of at most ``size``, in order (none when there are no tasks)."""
    return [tasks[start:start + size] for start in range(0, len(tasks), size)]


def whole_record_chunks(index: bytes, strata: Iterable[bytes], tasks: Iterable[bytes]) -> Iterator[bytes]:
    """The whole record's text, in pieces: the index's fields, then each part on its own line."""
    if not index.endswith(b"}") or index == b"{}":
        raise ValueError("index must be a non-empty JSON object")
    yield index[:-1] + STRATA_OPEN
    for position, text in enumerate(strata):
        yield (b",\n" if position else b"\n") + text
    yield b"\n" + TASKS_OPEN
    for position, text in enumerate(tasks):
        inner = text[1:-1]
        if inner:
            yield (b",\n" if position else b"\n") + inner
    yield b"\n" + CLOSE


@dataclass
class RecordParts:
    """A version 2 record being written: parts are added one at a time and can be released."""

    index_fields: dict[str, Any]
    strata: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)

    def add_stratum(self, entry: Mapping[str, Any]) -> bytes:
        """Serialise one stratum's entry; return the part's text (the caller stores it)."""
        text = _canonical(entry)
        self.strata.append(stratum_descriptor(len(self.strata) + 1, entry, text))
        return text

    def add_tasks(self, tasks: Sequence[Mapping[str, Any]]) -> bytes:
        text = _canonical(list(tasks))
        self.tasks.append(tasks_descriptor(len(self.tasks) + 1, tasks, text))
        return text

    def index(self) -> dict[str, Any]:
        return {**self.index_fields, "format": FORMAT_V2, "strata_sha256": strata_sha256(self.strata),
                "parts": {"strata": self.strata, "tasks": self.tasks}}

    def index_text(self) -> bytes:
        return _canonical(self.index())


def split_record(record: Mapping[str, Any], tasks_per_part: int = TASKS_PER_PART) -> tuple[bytes, list[bytes], list[bytes]]:
    """Split a whole record (a dict with ``strata`` and ``tasks`` entries in full, as version 1
    holds them) into the version 2 index and parts: ``(index, stratum parts, tasks parts)``."""
    fields = {k: v for k, v in record.items() if k not in ("strata", "tasks", "parts", "strata_sha256", "format")}
    parts = RecordParts(fields)
    strata = [parts.add_stratum(entry) for entry in record["strata"]]
    tasks = [parts.add_tasks(chunk) for chunk in task_chunks(list(record["tasks"]), tasks_per_part)]
    whole, _ = population_digests(record["strata"])
    if whole != record.get("population_sha256"):
        raise ValueError("population_sha256 does not match the strata")
    return parts.index_text(), strata, tasks


def whole_record_text(index: bytes, strata: Iterable[bytes], tasks: Iterable[bytes]) -> bytes:
    return b"".join(whole_record_chunks(index, strata, tasks))


def index_of_whole(record: Mapping[str, Any]) -> dict[str, Any]:
    """The index's fields of a loaded whole record (everything but ``strata`` and ``tasks``)."""
    return {k: v for k, v in record.items() if k not in ("strata", "tasks")}


class LayoutError(ValueError):
    """A whole record's text is not in the line layout of :func:`whole_record_chunks`."""


def read_whole_record(lines: Iterable[bytes]) -> Iterator[tuple[str, Any]]:
    """Read a whole record's text line by line, yielding ``("index", bytes)``, then
    ``("stratum", bytes)`` for each stratum part and ``("tasks", bytes)`` for each tasks part, each
    exactly as the part's own text, so that its SHA-256 can be checked against the index. Raises
    :class:`LayoutError` when the text is not in that layout (e.g. a re-serialised document)."""
    iterator = iter(lines)
    first = next(iterator, b"").rstrip(b"\r\n")
    if not first.endswith(STRATA_OPEN) or not first.startswith(b"{"):
        raise LayoutError("not in the line layout")
    yield "index", first[: -len(STRATA_OPEN)] + b"}"
    section = "stratum"
    for raw in iterator:
        line = raw.rstrip(b"\r\n")
        if line == TASKS_OPEN:
            section = "tasks"
            continue
        if line == CLOSE:
            section = "end"
            continue
        if section == "end" or not line:
            raise LayoutError("text after the end of the record")
        text = line[:-1] if line.endswith(b",") else line
        yield section, (b"[" + text + b"]") if section == "tasks" else text
    if section != "end":
        raise LayoutError("the record is cut short")
