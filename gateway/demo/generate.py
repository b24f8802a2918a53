"""Deterministic, realistic demo directories built from what the installed plugins look for."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterator

from stdnum.cn import uscc as uscc_check

from gateway.demo import wuzhi
from gateway.plugins.manager import Registry

_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Registration authority + entity type digits of the USCC for each target type.
_USCC_PREFIX = {"enterprise": "91", "individual_business": "92", "farmer_cooperative": "93", "other_unit": "12"}
TYPE_WEIGHTS = (("enterprise", 55), ("individual_business", 35), ("farmer_cooperative", 7), ("other_unit", 3))
RISK_WEIGHTS = (("A", 20), ("B", 60), ("C", 15), ("D", 5))
# Share of eligible-type targets that hold a matter's licence / fall under it.
MATTER_SHARE = 0.03


def organisation_code(serial: int) -> str:
    """An 8-character body with its GB 11714 check character."""
    body = f"{serial:08d}" if serial < 10**8 else f"MA{serial % 10**6:06d}"
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def make_uscc(target_type: str, serial: int, area_code: str = wuzhi.AREA_CODE) -> str:
    partial = _USCC_PREFIX[target_type] + area_code + organisation_code(serial)
    return partial + uscc_check.calc_check_digit(partial + "0")


def _weighted(rng: random.Random, pairs) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _person(rng: random.Random) -> str:
    return rng.choice(wuzhi.SURNAMES) + "".join(rng.choice(wuzhi.GIVEN) for _ in range(rng.choice((1, 2))))


@dataclass(frozen=True)
class DemoShape:
    targets: int = 20_000
    inspectors_per_department: int = 24
    conflicts: int = 40
    seed: int = 410823


def generate_targets(registry: Registry, shape: DemoShape) -> Iterator[dict]:
    rng = random.Random(shape.seed)
    matters = list(registry.matters.values())
    for serial in range(1, shape.targets + 1):
        target_type = _weighted(rng, TYPE_WEIGHTS)
        trade = "".join(rng.sample(wuzhi.TRADE_NAMES, 2))
        if target_type == "enterprise":
            industry, scope = rng.choice(wuzhi.ENTERPRISE_INDUSTRIES)
            name = f"武陟县{trade}{industry}有限公司"
        elif target_type == "individual_business":
            industry, scope = rng.choice(wuzhi.INDIVIDUAL_TRADES)
            name = f"武陟县{trade}{industry}"
        elif target_type == "farmer_cooperative":
            industry, scope = rng.choice(wuzhi.COOPERATIVE_TRADES)
            name = f"武陟县{trade}{industry}"
        else:
            industry, scope = rng.choice(wuzhi.OTHER_UNITS)
            name = f"武陟县{rng.choice(wuzhi.TOWNSHIPS)}{industry}"
        licences: list[str] = []
        scopes = [scope]
        for matter in matters:
            criteria = matter.criteria
            if criteria.target_types and target_type not in criteria.target_types:
                continue
            if rng.random() >= MATTER_SHARE:
                continue
            if criteria.required_licences:
                licences.append(rng.choice(criteria.required_licences))
            if criteria.scope_keywords:
                scopes.append(rng.choice(criteria.scope_keywords))
        status = "operating" if rng.random() < 0.95 else rng.choice(("closed", "deregistered", "revoked", "liquidating"))
        yield {
            "uscc": make_uscc(target_type, serial),
            "name": f"{name}（{serial}）" if serial > 5000 else name,
            "type": target_type,
            "township": rng.choice(wuzhi.TOWNSHIPS),
            "level": "county",
            "address": f"河南省焦作市武陟县{rng.choice(wuzhi.TOWNSHIPS)}{rng.randint(1, 300)}号",
            "legal_representative": _person(rng),
            "business_scope": "；".join(dict.fromkeys(scopes)),
            "licences": licences,
            "status": status,
            "risk_class": _weighted(rng, RISK_WEIGHTS),
            "abnormal_list": rng.random() < 0.03,
            "serious_violation_list": rng.random() < 0.005,
            "complaint_count": min(int(rng.expovariate(2.0)), 12),
            "active": True,
        }


def generate_inspectors(registry: Registry, shape: DemoShape, today: date) -> Iterator[dict]:
    rng = random.Random(shape.seed + 1)
    for dept_index, (code, dept) in enumerate(sorted(registry.departments.items()), start=1):
        for serial in range(1, shape.inspectors_per_department + 1):
            expired = serial % 23 == 0
            yield {
                "department_code": code,
                "name": _person(rng),
                "gender": rng.choice(("male", "female")),
                "unit": dept.name,
                "position": rng.choice(wuzhi.POSITIONS),
                "expertise": rng.choice(wuzhi.EXPERTISE),
                "certificate_no": f"{wuzhi.AREA_CODE}{dept_index:02d}{serial:05d}",
                "certificate_valid_until": today - timedelta(days=30) if expired else today + timedelta(days=rng.randint(200, 1500)),
                "phone": f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                "active": serial % 19 != 0,
            }
