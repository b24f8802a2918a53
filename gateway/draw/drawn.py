"""The run's drawn targets, held compactly (issue 20): what :func:`gateway.draw.strata.draw_tagged`
and :func:`~gateway.draw.strata.joint_targets` compute, with each drawn target's database id and
key-inspection flag carried per stratum instead of in maps keyed by credit code.

Each stratum's selection gives one tag per drawn target (its :meth:`~gateway.draw.sampler.Ticketer.entry`,
``"\\0"`` and the character whose code is the stratum's position); sorted, the tags are in draw
order. A stratum's tags come out of that order in the stratum's own ticket order, so the k-th tag
of a stratum is its k-th selected target: the ids (looked up by the database, one array per
stratum) and key flags (one byte per selected target) are found by counting, and nothing but the
tags is held per drawn target. A target's task is a key inspection when it is a key target of a
stratum that drew it: the freeze puts a key target in its matters' key strata only, each of which
lists its whole population as key targets, so that is the same as being a key target of any stratum.

Pure: no Flask, no database.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from itertools import groupby
from typing import Iterator, Sequence

from gateway.draw.sampler import TICKET_DIGITS, smallest_entries, ticket_from_key
from gateway.draw.strata import JointTarget, Stratum


@dataclass(frozen=True, slots=True)
class DrawnTarget:
    """One task to be: the joint target, its target id and whether it is a key inspection."""

    target: JointTarget
    target_id: int
    key: bool


@dataclass(slots=True)
class DrawnStratum:
    """A stratum once drawn, without its population or selection."""

    key: str
    matter: str
    sample_size: int
    key_flags: bytes  # one per selected target, in ticket order: 1 if it is a key target of the stratum


class Drawn:
    """The strata's selections, one stratum at a time (:meth:`select`), then the joint targets in
    ticket order (:meth:`targets`)."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.strata: list[DrawnStratum] = []
        self._tags: list[str] = []

    def select(self, stratum: Stratum, key_targets: Sequence[str]) -> tuple[str, ...]:
        """Draw ``stratum`` (whose key-inspection targets are ``key_targets``); return its selection,
        credit codes in ticket order. Stratum keys must be unique."""
        if any(s.key == stratum.key for s in self.strata):
            raise ValueError(f"分层标识重复：{stratum.key}")
        entries = smallest_entries(stratum.population, self.seed, stratum.sample_size)
        selected = tuple(e[TICKET_DIGITS:] for e in entries)
        if not key_targets:
            flags = bytes(len(selected))
        elif len(key_targets) == len(stratum.population) and all(map(operator.eq, key_targets, stratum.population)):
            flags = b"\1" * len(selected)  # a key stratum: all of it
        else:
            keyed = set(key_targets)
            flags = bytes(uscc in keyed for uscc in selected)
        mark = "\0" + chr(len(self.strata))
        self._tags += [entry + mark for entry in entries]
        self.strata.append(DrawnStratum(stratum.key, stratum.matter, len(selected), flags))
        return selected

    def sort(self) -> None:
        """Put the tags in draw order now, ahead of :meth:`targets` (the run does it while the
        last strata's targets are looked up)."""
        self._tags.sort()

    def joint(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """Each joint target's credit code and matters (in the order of the strata, without
        repeats), in ticket order, as :meth:`targets` will give them, without their ids."""
        self.sort()
        combinations = _Combinations(self.strata)
        for entry, group in groupby(self._tags, key=_entry_of):
            yield entry[TICKET_DIGITS:], combinations[tuple([ord(tag[-1]) for tag in group])][0]

    @property
    def count(self) -> int:
        """Drawn targets counted once per stratum (an upper bound of the tasks)."""
        return len(self._tags)

    def targets(self, target_ids: Sequence[Sequence[int]]) -> Iterator[DrawnTarget]:
        """The joint targets in ticket order (ties by credit code), each with its matters and
        stratum keys in the order of the strata, without repeats. ``target_ids[p]`` holds the ids
        of stratum ``p``'s selection, in its order. The tags are released as they are read."""
        tags, self._tags = self._tags, []
        tags.sort()  # a pass, if sort() came first
        combinations = _Combinations(self.strata)
        flags_of = [s.key_flags for s in self.strata]
        seen = [0] * len(self.strata)
        for entry, group in groupby(tags, key=_entry_of):
            positions = tuple([ord(tag[-1]) for tag in group])
            key = False
            for p in positions:
                key = key or flags_of[p][seen[p]] == 1
                seen[p] += 1
            first = positions[0]
            yield DrawnTarget(JointTarget(entry[TICKET_DIGITS:], ticket_from_key(entry[:TICKET_DIGITS]),
                                          *combinations[positions]), target_ids[first][seen[first] - 1], key)


_entry_of = operator.itemgetter(slice(None, -2))
"""A tag's entry: its ticket key and credit code, without the stratum's mark."""


class _Combinations(dict):
    """The matters and stratum keys (in the order of the strata, without repeats) of each
    combination of strata that drew one target, worked out once per combination."""

    def __init__(self, strata: Sequence[DrawnStratum]) -> None:
        super().__init__()
        self.matters = [s.matter for s in strata]
        self.keys = [s.key for s in strata]

    def __missing__(self, positions: tuple[int, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        value = self[positions] = (tuple(dict.fromkeys(self.matters[p] for p in positions)),
                                   tuple(self.keys[p] for p in positions))
        return value
