"""Team matching: composition, conflicts, balanced load, reproducibility, failure, replacement."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.draw.sampler import ranked, ticket, ticket_key
from gateway.draw.teams import (
    Inspector,
    NoFeasibleTeam,
    Team,
    TeamRequest,
    conflicts_by_target,
    match_teams,
    replacement,
    required_departments,
    team_size,
    team_violations,
)

SEED = "3141592653-5897932384-62643383"
DEPARTMENTS = ["SCJG", "NYNC", "YJGL", "SWJ"]


def test_required_departments_and_team_size():
    matter_departments = {"M1": "SCJG", "M2": "NYNC", "M3": "SCJG"}
    assert required_departments("SCJG", ["M1", "M3"], matter_departments) == ("SCJG",)
    assert required_departments("SCJG", ["M2", "M1"], matter_departments) == ("SCJG", "NYNC")
    assert required_departments("YJGL", ["M2"], matter_departments) == ("YJGL", "NYNC")
    assert team_size(("SCJG",)) == 2
    assert team_size(("SCJG", "NYNC", "YJGL")) == 3
    with pytest.raises(ValueError, match="M9"):
        required_departments("SCJG", ["M9"], matter_departments)


def test_lowest_load_then_ticket_first():
    inspectors = [Inspector(f"a{n}", f"CERT-A-{n}", "SCJG") for n in range(4)]
    by_ticket = ranked([i.certificate for i in inspectors], SEED)
    ids = {i.certificate: i.id for i in inspectors}
    order = [ids[c] for c in by_ticket]
    requests = [TeamRequest(f"T{n}", ("SCJG",)) for n in range(3)]
    teams = match_teams(requests, inspectors, SEED)
    assert teams[0].members == (order[0], order[1])
    assert teams[1].members == (order[2], order[3])
    assert teams[2].members == (order[0], order[1])
    loaded = match_teams(requests[:1], inspectors, SEED, initial_load={order[0]: 3})
    assert loaded[0].members == (order[1], order[2])


def test_no_feasible_team_names_target_and_department():
    inspectors = [
        Inspector("a1", "C1", "SCJG"),
        Inspector("a2", "C2", "SCJG"),
        Inspector("b1", "C3", "NYNC", active=False),
    ]
    with pytest.raises(NoFeasibleTeam) as caught:
        match_teams([TeamRequest("91410822MA00000001", ("SCJG", "NYNC"))], inspectors, SEED)
    assert caught.value.uscc == "91410822MA00000001"
    assert caught.value.department == "NYNC"
    assert "91410822MA00000001" in str(caught.value) and "NYNC" in str(caught.value)
    assert "无法组成检查组" in str(caught.value)
    with pytest.raises(NoFeasibleTeam) as caught:
        match_teams([TeamRequest("X", ("SCJG",))], inspectors, SEED, conflicts=[("a2", "X")])
    assert caught.value.department == "SCJG"


@st.composite
def scenarios(draw):
    departments = DEPARTMENTS[: draw(st.integers(1, 4))]
    inspectors = []
    for department in departments:
        for n in range(draw(st.integers(1, 6))):
            inspectors.append(
                Inspector(
                    f"{department}-{n}",
                    f"豫执法证{department}{n:03d}",
                    department,
                    certified=draw(st.integers(0, 9)) > 0,
                    active=draw(st.integers(0, 9)) > 0,
                )
            )
    targets = [f"91410822MA{n:08d}" for n in range(draw(st.integers(1, 25)))]
    requests = [
        TeamRequest(
            uscc,
            tuple(dict.fromkeys([departments[0], *draw(st.lists(st.sampled_from(departments), max_size=3))])),
        )
        for uscc in targets
    ]
    pairs = [(i.id, u) for i in inspectors for u in targets]
    conflicts = draw(st.lists(st.sampled_from(pairs), max_size=15)) if pairs else []
    return inspectors, requests, conflicts


def first_infeasible(inspectors, requests, conflicts):
    """The (USCC, department) the rules say cannot be staffed, by brute counting."""
    conflicted = conflicts_by_target(conflicts)
    for request in requests:
        available = {
            d: [i for i in inspectors if i.department == d and i.eligible and i.id not in conflicted.get(request.uscc, ())]
            for d in request.departments
        }
        for department in request.departments:
            if not available[department]:
                return request.uscc, department
        if sum(len(a) for a in available.values()) < request.size:
            return request.uscc, request.departments[0]
    return None


@settings(max_examples=150, deadline=None)
@given(scenario=scenarios(), shuffle_seed=st.integers(0, 2**32))
def test_teams_obey_the_rules(scenario, shuffle_seed):
    inspectors, requests, conflicts = scenario
    infeasible = first_infeasible(inspectors, requests, conflicts)
    if infeasible:
        with pytest.raises(NoFeasibleTeam) as caught:
            match_teams(requests, inspectors, SEED, conflicts)
        assert (caught.value.uscc, caught.value.department) == infeasible
        return
    teams = match_teams(requests, inspectors, SEED, conflicts)
    by_id = {i.id: i for i in inspectors}
    conflicted = conflicts_by_target(conflicts)
    assert [t.uscc for t in teams] == [r.uscc for r in requests]
    for request, team in zip(requests, teams):
        assert team_violations(request, team.members, by_id, conflicted.get(request.uscc, ())) == []
        assert len(team.members) == request.size

    loads = defaultdict(int)
    for team in teams:
        for member in team.members:
            loads[member] += 1
    same_eligibility = defaultdict(list)
    for inspector in inspectors:
        if inspector.eligible:
            barred = frozenset(u for i, u in conflicts if i == inspector.id)
            same_eligibility[(inspector.department, barred)].append(loads[inspector.id])
    for group in same_eligibility.values():
        assert max(group) - min(group) <= 1

    rng = random.Random(shuffle_seed)
    shuffled_inspectors = rng.sample(inspectors, len(inspectors))
    shuffled_conflicts = rng.sample(conflicts, len(conflicts))
    assert match_teams(requests, shuffled_inspectors, SEED, shuffled_conflicts) == teams


def test_team_violations_reports_each_broken_rule():
    inspectors = {
        "a1": Inspector("a1", "C1", "SCJG"),
        "a2": Inspector("a2", "C2", "SCJG", certified=False),
        "c1": Inspector("c1", "C3", "SWJ"),
    }
    request = TeamRequest("X", ("SCJG", "NYNC"))
    problems = team_violations(request, ["a1", "a2", "c1", "zz"], inspectors, {"a1"})
    text = "\n".join(problems)
    for fragment in ("利益冲突", "未持证", "SWJ", "未知", "缺少部门 NYNC"):
        assert fragment in text
    assert team_violations(request, ["a1"], inspectors)[0].startswith("检查组应至少 2 人")


def test_replacement_is_next_eligible_by_load_and_ticket(draw):
    inspectors = draw["inspectors"]
    by_id = {i.id: i for i in inspectors}
    team = draw["teams"][0]
    leaving = team.members[0]
    department = by_id[leaving].department
    loads = defaultdict(int)
    for t in draw["teams"]:
        for member in t.members:
            loads[member] += 1
    conflicts = draw["conflicts"] + [(f"{department}-1", team.uscc)]
    chosen = replacement(team, leaving, inspectors, draw["seed"], conflicts, loads)
    conflicted = conflicts_by_target(conflicts)[team.uscc]
    candidates = [
        i
        for i in inspectors
        if i.department == department and i.eligible and i.id not in team.members and i.id not in conflicted
    ]
    best = min(candidates, key=lambda i: (loads[i.id], ticket_key(ticket(i.certificate, draw["seed"])), i.id))
    assert chosen == best.id
    assert replacement(team, leaving, list(reversed(inspectors)), draw["seed"], conflicts, loads) == chosen


def test_replacement_fails_when_nobody_is_left():
    inspectors = [Inspector("a1", "C1", "SCJG"), Inspector("a2", "C2", "SCJG"), Inspector("a3", "C3", "SCJG")]
    team = Team("X", ("a1", "a2"))
    assert replacement(team, "a1", inspectors, SEED) == "a3"
    with pytest.raises(NoFeasibleTeam) as caught:
        replacement(team, "a1", inspectors, SEED, conflicts=[("a3", "X")])
    assert (caught.value.uscc, caught.value.department) == ("X", "SCJG")
    with pytest.raises(ValueError):
        replacement(team, "a3", inspectors, SEED)


def test_a_short_team_of_several_departments_takes_the_lowest_among_them(monkeypatch):
    """The published rule (docs/verify-a-draw.md, step 6): a team still short after one inspector
    per required department takes the lowest (load, ticket) among those departments. With teams of
    at least two only a single department can leave a place; a larger minimum shows the general case."""
    from gateway.draw import teams as teams_module

    monkeypatch.setattr(teams_module, "MIN_TEAM_SIZE", 3)
    inspectors = [Inspector(f"s{n}", f"CERT-S-{n}", "SCJG") for n in range(2)]
    inspectors += [Inspector(f"n{n}", f"CERT-N-{n}", "NYNC") for n in range(2)]
    request = TeamRequest("T1", ("SCJG", "NYNC"))
    by_ticket = {c: n for n, c in enumerate(ranked([i.certificate for i in inspectors], SEED))}
    first, second = {}, {}
    for department in ("SCJG", "NYNC"):
        first[department], second[department] = sorted(
            (i for i in inspectors if i.department == department), key=lambda i: by_ticket[i.certificate])
    scjg_next, nync_next = second["SCJG"], second["NYNC"]
    # Each department's second inspector is the candidate; the lower (load, ticket) wins, and a load
    # given before the draw outweighs any ticket.
    for loads, winner in (({scjg_next.id: 1}, nync_next), ({nync_next.id: 1}, scjg_next)):
        (team,) = match_teams([request], inspectors, SEED, initial_load=loads)
        assert team.members == (first["SCJG"].id, first["NYNC"].id, winner.id)
    with pytest.raises(NoFeasibleTeam) as failure:
        match_teams([request], inspectors[:1] + inspectors[2:3], SEED)
    assert failure.value.department == "SCJG"
