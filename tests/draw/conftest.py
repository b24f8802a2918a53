"""Fixtures for the draw tests: a small but complete joint draw, built with the pure draw code."""

from __future__ import annotations

import copy
import json
import random
from decimal import Decimal

import pytest

from gateway.draw.record import Contribution, Exclusion, Participant, build_record, task_entry
from gateway.draw.sampler import build_seed
from gateway.draw.strata import Stratum, merge_targets, select_strata
from gateway.draw.teams import Inspector, match_teams, team_requests

DRAW_ID = "draw-2026-0003"
OPAQUE_KEY = b"test-secret-key"
LEAD = "SCJG"
MATTER_DEPARTMENTS = {"SCJG-01": "SCJG", "NY-01": "NYNC", "YJ-01": "YJGL"}
CONTRIBUTIONS = [
    Contribution("organiser", "张三", "31415926535"),
    Contribution("operator", "李四", "89793238"),
    Contribution("supervisor", "王五", "46264338"),
    Contribution("witness", "赵六", "3279"),
]


def fake_usccs(count: int, rng: random.Random) -> list[str]:
    """USCC-shaped codes: 91 + Wuzhi's division code 410822 + ten alphanumerics."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return sorted({"91410822" + "".join(rng.choices(alphabet, k=10)) for _ in range(count)})


def build_draw():
    rng = random.Random(2026)
    universe = fake_usccs(400, rng)
    strata = []
    for matter in MATTER_DEPARTMENTS:
        members = rng.sample(universe, 240)
        high = sorted(members[:40])
        low = sorted(members[40:])
        strata.append(Stratum(f"{matter}:high", matter, Decimal("0.2"), tuple(high), "high"))
        strata.append(Stratum(f"{matter}:low", matter, Decimal("0.03"), tuple(low), "low"))
    seed = build_seed([c.digits for c in CONTRIBUTIONS])
    selections = select_strata(strata, seed)
    targets = merge_targets(selections, seed)
    inspectors = [
        Inspector(f"{dept}-{n}", f"豫执法证{dept}{n:04d}", dept, certified=n != 5)
        for dept in sorted(set(MATTER_DEPARTMENTS.values()))
        for n in range(6)
    ]
    conflicts = [("SCJG-0", targets[0].uscc), ("NYNC-1", targets[1].uscc)]
    requests = team_requests(targets, LEAD, MATTER_DEPARTMENTS)
    teams = match_teams(requests, inspectors, seed, conflicts)
    by_id = {inspector.id: inspector for inspector in inspectors}
    tasks = [
        task_entry(f"武陟联抽〔2026〕3号-{n:03d}", target, team, by_id, DRAW_ID, OPAQUE_KEY)
        for n, (target, team) in enumerate(zip(targets, teams), start=1)
    ]
    record = build_record(
        draw_id=DRAW_ID,
        plan={
            "number": "武陟联抽〔2026〕3号",
            "name": "2026 年度武陟县跨部门联合双随机抽查计划",
            "year": 2026,
            "lead_department": LEAD,
            "matters": [{"code": code, "department": dept} for code, dept in MATTER_DEPARTMENTS.items()],
        },
        contributions=CONTRIBUTIONS,
        participants=[Participant("witness", "钱七")],
        selections=selections,
        exclusions=[Exclusion("91410822ZZZZZZZZZZ", "deregistered_or_closed")],
        tasks=tasks,
        frozen_at="2026-04-02T09:00:00+08:00",
        drawn_at="2026-04-02T10:00:00+08:00",
    )
    return {
        "record": record,
        "seed": seed,
        "strata": strata,
        "targets": targets,
        "inspectors": inspectors,
        "conflicts": conflicts,
        "requests": requests,
        "teams": teams,
        "opaque_key": OPAQUE_KEY,
    }


@pytest.fixture(scope="session")
def draw():
    """The sample draw's internal inputs and outputs and its public record (never mutate it)."""
    return build_draw()


@pytest.fixture
def record(draw):
    """A fresh copy of the sample draw's public record, as JSON would give it back."""
    return json.loads(json.dumps(copy.deepcopy(draw["record"]), ensure_ascii=False))
