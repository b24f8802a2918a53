"""Team matching (DESIGN "The draw", step 5) and the article 14 replacement.

Inspectors get tickets from their certificate numbers under the draw's seed, exactly like
targets. Targets are taken in ticket order. For each target the required departments are the
plan's lead department followed by the department of each matter the target was drawn for
(without repeats); the team has ``max(2, number of required departments)`` members:

1. for each required department in that order, the eligible inspector of that department with the
   lowest (current load, ticket, id);
2. if the team is still short (only when a single department is required), the remaining places
   go, one at a time, to the lowest (current load, ticket, id) among the required departments.

Eligible means certified, active, not already in this team and without a declared conflict with
the target. Each pick adds one to the inspector's load, so work spreads evenly and every choice is
reproducible from the seed. Pure: no Flask, no database.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Collection, Iterable, Mapping, Sequence

from gateway.draw.sampler import Ticketer
from gateway.draw.strata import JointTarget

MIN_TEAM_SIZE = 2

Conflicts = Iterable[tuple[str, str]]
"""Declared conflicts of interest as (inspector id, USCC) pairs."""


@dataclass(frozen=True, slots=True)
class Inspector:
    """An inspector as the matching sees them.

    ``id`` is the internal, stable identifier; ``certificate`` (the law-enforcement certificate
    number) only feeds the ticket and is never published.
    """

    id: str
    certificate: str
    department: str
    certified: bool = True
    active: bool = True

    @property
    def eligible(self) -> bool:
        return self.certified and self.active


@dataclass(frozen=True, slots=True)
class TeamRequest:
    """What one target needs: the departments that must be on its team, lead department first."""

    uscc: str
    departments: tuple[str, ...]

    @property
    def size(self) -> int:
        return team_size(self.departments)


@dataclass(frozen=True, slots=True)
class Team:
    """The inspectors (internal ids) matched to one target, in the order they were picked."""

    uscc: str
    members: tuple[str, ...]


class NoFeasibleTeam(Exception):
    """No team satisfying the rules exists for ``uscc``: ``department`` has nobody left to send."""

    def __init__(self, uscc: str, department: str) -> None:
        self.uscc = uscc
        self.department = department
        super().__init__(
            f"检查对象 {uscc} 无法组成检查组：部门 {department} 没有可派出的执法检查人员"
            "（需持证、在岗、未在本组且与该对象无利益冲突）"
        )


def team_size(departments: Collection[str]) -> int:
    """Members a team needs: at least two, and at least one per required department."""
    return max(MIN_TEAM_SIZE, len(departments))


def required_departments(
    lead_department: str, matters: Iterable[str], matter_departments: Mapping[str, str]
) -> tuple[str, ...]:
    """The lead department, then each matter's department in matter order, without repeats."""
    departments = [lead_department]
    for matter in matters:
        try:
            department = matter_departments[matter]
        except KeyError:
            raise ValueError(f"抽查事项 {matter} 未指明牵头部门") from None
        if department not in departments:
            departments.append(department)
    return tuple(departments)


def team_requests(
    targets: Iterable[JointTarget], lead_department: str, matter_departments: Mapping[str, str]
) -> list[TeamRequest]:
    """One request per joint target, keeping the targets' (ticket) order."""
    return [
        TeamRequest(target.uscc, required_departments(lead_department, target.matters, matter_departments))
        for target in targets
    ]


def conflicts_by_target(conflicts: Conflicts) -> dict[str, frozenset[str]]:
    """Group (inspector id, USCC) conflict pairs by USCC."""
    grouped: dict[str, set[str]] = {}
    for inspector_id, uscc in conflicts:
        grouped.setdefault(uscc, set()).add(inspector_id)
    return {uscc: frozenset(ids) for uscc, ids in grouped.items()}


class _Pool:
    """Eligible inspectors per department in a heap of (load, ticket key, id)."""

    def __init__(self, inspectors: Iterable[Inspector], seed: str, loads: Mapping[str, int]) -> None:
        ticketer = Ticketer(seed)
        self.department_of: dict[str, str] = {}
        self._heaps: dict[str, list[tuple[int, str, str]]] = {}
        for inspector in inspectors:
            if inspector.id in self.department_of:
                raise ValueError(f"执法检查人员标识重复：{inspector.id}")
            self.department_of[inspector.id] = inspector.department
            if inspector.eligible:
                entry = (loads.get(inspector.id, 0), ticketer.key(inspector.certificate), inspector.id)
                self._heaps.setdefault(inspector.department, []).append(entry)
        for heap in self._heaps.values():
            heapq.heapify(heap)

    def _pop_barred(self, department: str, barred: Collection[str]) -> tuple[list, list]:
        heap = self._heaps.get(department, [])
        skipped = []
        while heap and heap[0][2] in barred:
            skipped.append(heapq.heappop(heap))
        return heap, skipped

    def peek(self, department: str, barred: Collection[str]) -> tuple[int, str, str] | None:
        """The best (load, ticket key, id) of ``department`` outside ``barred``, or None."""
        heap, skipped = self._pop_barred(department, barred)
        best = heap[0] if heap else None
        for entry in skipped:
            heapq.heappush(heap, entry)
        return best

    def take(self, department: str, barred: Collection[str], uscc: str) -> str:
        """Pick the best inspector of ``department`` outside ``barred`` and add one to their load."""
        heap = self._heaps.get(department)
        if heap and heap[0][2] not in barred:  # the usual case, in one heap operation
            load, key, inspector_id = heap[0]
            heapq.heapreplace(heap, (load + 1, key, inspector_id))
            return inspector_id
        heap, skipped = self._pop_barred(department, barred)
        if not heap:
            raise NoFeasibleTeam(uscc, department)
        load, key, inspector_id = heapq.heappop(heap)
        heapq.heappush(heap, (load + 1, key, inspector_id))
        for entry in skipped:
            heapq.heappush(heap, entry)
        return inspector_id


def _form_team(pool: _Pool, request: TeamRequest, conflicted: frozenset[str]) -> Team:
    uscc, departments = request.uscc, request.departments
    members: list[str] = []
    barred = set(conflicted)
    for place in range(team_size(departments)):
        if place < len(departments):  # one place per required department, in order
            department = departments[place]
        elif len(departments) == 1:  # most targets: the remaining place goes to it, nothing to compare
            department = departments[0]
        else:
            department = _least_loaded(pool, departments, barred, uscc)
        member = pool.take(department, barred, uscc)
        members.append(member)
        barred.add(member)
    return Team(uscc, tuple(members))


def _least_loaded(pool: _Pool, departments: Sequence[str], barred: Collection[str], uscc: str) -> str:
    """The required department whose best eligible inspector has the lowest (load, ticket, id)."""
    candidates = [(best, department) for department in departments
                  if (best := pool.peek(department, barred)) is not None]
    if not candidates:
        raise NoFeasibleTeam(uscc, departments[0])
    return min(candidates)[1]


def match_teams(
    requests: Iterable[TeamRequest],
    inspectors: Iterable[Inspector],
    seed: str,
    conflicts: Conflicts = (),
    initial_load: Mapping[str, int] | None = None,
) -> list[Team]:
    """Match a team to every request, in the order given (the targets' ticket order).

    ``initial_load`` is each inspector's load before this draw (absent means 0). Raises
    :class:`NoFeasibleTeam` for the first target that cannot be staffed.
    """
    return TeamMatcher(inspectors, seed, conflicts, initial_load).match(requests)


class TeamMatcher:
    """:func:`match_teams` a part of the requests at a time: each call to :meth:`match` goes on
    from the loads the previous calls left, so matching the parts in order gives the same teams as
    matching them all at once (the draw matches its tasks a record part at a time)."""

    def __init__(self, inspectors: Iterable[Inspector], seed: str, conflicts: Conflicts = (),
                 initial_load: Mapping[str, int] | None = None) -> None:
        self._pool = _Pool(inspectors, seed, initial_load or {})
        self._conflicted = conflicts_by_target(conflicts)

    def match(self, requests: Iterable[TeamRequest]) -> list[Team]:
        pool, conflicted, empty = self._pool, self._conflicted, frozenset()
        return [_form_team(pool, request, conflicted.get(request.uscc, empty)) for request in requests]


def replacement(
    team: Team,
    leaving: str,
    inspectors: Iterable[Inspector],
    seed: str,
    conflicts: Conflicts = (),
    loads: Mapping[str, int] | None = None,
) -> str:
    """Return who replaces ``leaving`` on ``team`` (article 14), by the draw's own rule.

    The replacement comes from the leaving inspector's department, so the team keeps its
    composition: the eligible inspector with the lowest (current load, ticket, id) who is not on
    the team (the leaving inspector included) and has no declared conflict with the target.
    ``loads`` are the inspectors' current loads. Raises :class:`NoFeasibleTeam` if nobody is left.
    """
    if leaving not in team.members:
        raise ValueError(f"执法检查人员 {leaving} 不在检查对象 {team.uscc} 的检查组中")
    pool = _Pool(inspectors, seed, loads or {})
    department = pool.department_of.get(leaving)
    if department is None:
        raise ValueError(f"未知的执法检查人员：{leaving}")
    barred = set(team.members) | conflicts_by_target(conflicts).get(team.uscc, frozenset())
    return pool.take(department, barred, team.uscc)


def team_violations(
    request: TeamRequest,
    members: Sequence[str],
    inspectors: Mapping[str, Inspector],
    conflicted: Collection[str] = (),
) -> list[str]:
    """Return the rules ``members`` break as a team for ``request`` (Chinese), empty if none.

    ``inspectors`` maps inspector id to inspector; ``conflicted`` holds the ids of inspectors
    with a declared conflict with this target.
    """
    problems = []
    if len(set(members)) != len(members):
        problems.append("检查组成员重复")
    if len(members) < request.size:
        problems.append(f"检查组应至少 {request.size} 人，实际 {len(members)} 人")
    present = set()
    for member in members:
        inspector = inspectors.get(member)
        if inspector is None:
            problems.append(f"未知的执法检查人员：{member}")
            continue
        present.add(inspector.department)
        if not inspector.eligible:
            problems.append(f"执法检查人员 {member} 未持证或不在岗")
        if inspector.department not in request.departments:
            problems.append(f"执法检查人员 {member} 所属部门 {inspector.department} 不在本任务所需部门之列")
        if member in conflicted:
            problems.append(f"执法检查人员 {member} 与检查对象 {request.uscc} 存在利益冲突")
    for department in request.departments:
        if department not in present:
            problems.append(f"检查组缺少部门 {department} 的执法检查人员")
    return problems
