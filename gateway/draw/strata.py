"""Per-stratum selection and the merge into joint targets ("one visit, many matters").

A stratum is one matter × one risk class of a plan, with its ratio (already the larger of the
plan's and the department's minimum) and its frozen population. Each stratum independently takes
the ``ceil(ratio × N)`` targets with the smallest tickets; a target drawn in several strata then
gets a single joint target covering every matter it was drawn for.

Pure: no Flask, no database.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby, islice
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from gateway.draw.sampler import (
    TICKET_DIGITS,
    Ticketer,
    exact_ratio,
    sample_size,
    select,
    smallest_entries,
    ticket_from_key,
)


@dataclass(frozen=True, slots=True)
class Stratum:
    """One stratum's definition and frozen population.

    The population is kept sorted by USCC (Unicode code point order) and must not repeat a USCC,
    so that its canonical JSON, and hence ``population_sha256``, does not depend on the order
    a database happened to return rows in.
    """

    key: str
    matter: str
    ratio: Decimal
    population: tuple[str, ...]
    risk_class: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("分层必须有标识（key）")
        if not self.matter:
            raise ValueError(f"分层 {self.key} 未指明抽查事项")
        exact_ratio(self.ratio)
        if not isinstance(self.ratio, Decimal):
            object.__setattr__(self, "ratio", Decimal(self.ratio))
        population = tuple(self.population)
        # Usually given sorted (the freeze sorts it, the frozen strata store it so): then one pass.
        if not all(map(operator.lt, population, islice(population, 1, None))):
            population = tuple(sorted(population))
            if any(map(operator.eq, population, islice(population, 1, None))):
                repeated = next(a for a, b in zip(population, population[1:]) if a == b)
                raise ValueError(f"分层 {self.key} 的检查对象名单中重复出现 {repeated}")
        object.__setattr__(self, "population", population)

    @property
    def sample_size(self) -> int:
        """``ceil(ratio × N)`` for this stratum."""
        return sample_size(self.ratio, len(self.population))


@dataclass(frozen=True, slots=True)
class StratumSelection:
    """A stratum with its drawn targets, USCCs in ticket order."""

    stratum: Stratum
    selected: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.stratum.key

    @property
    def sample_size(self) -> int:
        return len(self.selected)


@dataclass(frozen=True, slots=True)
class JointTarget:
    """One drawn target with every matter (and stratum) it was drawn for, in plan order."""

    uscc: str
    ticket: str
    matters: tuple[str, ...]
    strata: tuple[str, ...] = field(default=())


def select_strata(
    strata: Sequence[Stratum], seed: str, cache: dict[str, str] | None = None
) -> list[StratumSelection]:
    """Draw every stratum under ``seed``; stratum keys must be unique.

    A target usually sits in one stratum per matter, so its ticket is computed once and shared
    through ``cache`` (see :func:`gateway.draw.sampler.select`; a fresh one if not given).
    """
    _check_keys(strata)
    if cache is None:
        cache = {}
    return [
        StratumSelection(stratum, tuple(select(stratum.population, seed, stratum.sample_size, cache=cache)))
        for stratum in strata
    ]


def _check_keys(strata: Iterable[Stratum], seen: set[str] | None = None) -> None:
    seen = set() if seen is None else seen
    for stratum in strata:
        if stratum.key in seen:
            raise ValueError(f"分层标识重复：{stratum.key}")
        seen.add(stratum.key)


def draw_targets(
    strata: Iterable[Stratum], seed: str,
    on_selected: Callable[[StratumSelection], StratumSelection | None] | None = None
) -> tuple[list[StratumSelection], list[JointTarget]]:
    """Select every stratum and merge the selections into joint targets.

    The same as :func:`select_strata` then :func:`merge_targets`, faster: a target sitting in
    several strata has its ticket computed once per stratum (cheaper than remembering every
    ticket of a large population), and the merge reuses the drawn targets' tickets
    (:func:`draw_tagged`, then :func:`joint_targets`).
    """
    selections, tags = draw_tagged(strata, seed, on_selected)
    return selections, list(joint_targets(selections, tags))


def draw_tagged(
    strata: Iterable[Stratum], seed: str,
    on_selected: Callable[[StratumSelection], StratumSelection | None] | None = None
) -> tuple[list[StratumSelection], list[str]]:
    """Select every stratum; return the selections and, sorted, one tag per drawn target and
    stratum: its :meth:`~gateway.draw.sampler.Ticketer.entry`, ``"\\0"`` and the character whose
    code is the stratum's position. Sorted tags are in draw order, a target's tags next to each
    other in stratum order: :func:`joint_targets` reads the joint targets from them one at a time,
    so that a large draw holds one string per drawn target instead of its objects.

    ``on_selected`` is called with each stratum's selection as soon as it is made (the service
    starts looking the drawn targets up in the database while the next stratum is drawn); it may
    hand back a lighter selection (e.g. without the population, once it has written the stratum
    out), so that the strata drawn so far are not all kept whole.
    """
    selections = []
    tags: list[str] = []
    seen: set[str] = set()
    for position, stratum in enumerate(strata):  # any iterable: the service reads the strata one at a time
        _check_keys([stratum], seen)
        entries = smallest_entries(stratum.population, seed, stratum.sample_size)
        selection = StratumSelection(stratum, tuple(e[TICKET_DIGITS:] for e in entries))
        replacement = on_selected(selection) if on_selected is not None else None
        selections.append(selection if replacement is None else replacement)
        mark = "\0" + chr(position)
        tags += [entry + mark for entry in entries]
        del stratum, selection, replacement, entries
    tags.sort()
    return selections, tags


def joint_targets(selections: Sequence[StratumSelection], tags: Iterable[str]) -> Iterator[JointTarget]:
    """The joint targets of :func:`draw_tagged`'s tags, in ticket order (ties by USCC), each with
    its matters and stratum keys in the order of the strata, without repeats."""
    keys = [s.key for s in selections]
    matters_of = [s.stratum.matter for s in selections]
    for entry, group in groupby(tags, key=lambda tag: tag[:-2]):
        positions = [ord(tag[-1]) for tag in group]
        matters = tuple(dict.fromkeys(matters_of[p] for p in positions))
        yield JointTarget(entry[TICKET_DIGITS:], ticket_from_key(entry[:TICKET_DIGITS]), matters,
                          tuple(keys[p] for p in positions))


def merge_targets(
    selections: Iterable[StratumSelection], seed: str, cache: Mapping[str, str] | None = None
) -> list[JointTarget]:
    """Merge the strata's selections into one joint target per USCC, in ticket order.

    A target's matters (and stratum keys) are listed in the order of the strata, without repeats.
    Ties of equal tickets go to the smaller USCC, as in :func:`gateway.draw.sampler.select`.
    ``cache`` is the one the selection filled, if at hand.
    """
    return merge_selected(((s.stratum.matter, s.key, s.selected) for s in selections), seed, cache)


def merge_selected(
    selected_by_stratum: Iterable[tuple[str, str, Iterable[str]]],
    seed: str,
    cache: Mapping[str, str] | None = None,
) -> list[JointTarget]:
    """:func:`merge_targets` on bare (matter, stratum key, selected USCCs) triples."""
    matters: dict[str, list[str]] = {}
    strata: dict[str, list[str]] = {}
    for matter, key, selected in selected_by_stratum:
        for uscc in selected:
            target_matters = matters.setdefault(uscc, [])
            if matter not in target_matters:
                target_matters.append(matter)
            strata.setdefault(uscc, []).append(key)
    entry = Ticketer(seed).entry
    known = (cache or {}).get
    targets = []
    for sort_entry in sorted(known(uscc) or entry(uscc) for uscc in matters):
        uscc = sort_entry[TICKET_DIGITS:]
        ticket = ticket_from_key(sort_entry[:TICKET_DIGITS])
        targets.append(JointTarget(uscc, ticket, tuple(matters[uscc]), tuple(strata[uscc])))
    return targets
