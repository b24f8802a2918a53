"""The freeze decides whole groups of targets at once (one shape: risk class, matters' codes and the
county's caps reached, the latter joined in SQL); its strata, exclusions and caps section must be
those of deciding every target alone with :func:`gateway.draw.eligibility.decide`, from the ledger's
counts of the targets at a cap read into Python as the freeze once did."""
from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import select

from gateway.directory.models import Department, Target
from gateway.draw import population as population_module
from gateway.draw.eligibility import CAPS_REASON, Candidate, KeyRule, YearCaps, decide, higher_level_matters
from gateway.draw.population import (
    MEETS,
    RELATED,
    caps_section,
    compute_population,
    higher_level_records,
    matter_code_clause,
    plan_matters,
    scope_clause,
    yearly_inspections,
)
from gateway.higher_level.models import HigherLevelInspection
from gateway.ledger import service as ledger
from gateway.ledger.queries import counts_by_target, current_caps
from gateway.planning.models import Plan
from gateway.security.principal import Principal
from tests.drawdb import COUNTY, YEAR, build_directory, published_plan


def one_by_one(session, plan):
    """Strata (key -> USCCs), sorted exclusions and caps section, deciding every candidate alone."""
    matters = plan_matters(session, plan)
    key_rule = KeyRule.from_dict(plan.key_rule)
    published = current_caps(session, plan.year)
    caps = None if published is None else YearCaps(published.per_department, published.total,
                                                   published.key_targets_exempt)
    at_cap = counts_by_target(session, plan.year, caps=published, at_cap_only=True) if published else {}
    inspections = yearly_inspections(session, plan.year)
    higher = higher_level_records(session, plan.year)
    levels = dict(session.execute(select(Department.code, Department.level)).all())
    departments = {m.code: m.department for m in matters}
    flags = [matter_code_clause(m.criteria) for m in matters]
    strata: dict[str, set[str]] = {}
    exclusions = []
    for target, *values in session.execute(select(Target, *flags).where(scope_clause(plan.scope))):
        matched = tuple(m.code for m, v in zip(matters, values) if v == MEETS)
        marked = tuple(m.code for m, v in zip(matters, values) if v == RELATED)
        if not matched and not marked:
            continue
        key = key_rule.is_key(target.risk_class, target.abnormal_list, target.serious_violation_list,
                              target.complaint_count)
        counted = at_cap.get(target.uscc)
        capped_total, capped = (caps.barred(counted.total, counted.by_department, departments)
                                if counted and caps.applies(key) else (False, frozenset()))
        decision = decide(Candidate(
            uscc=target.uscc, risk_class=target.risk_class, status=target.status, active=target.active, key=key,
            matched=matched, marked=marked,
            higher_level=frozenset(higher_level_matters(higher.get(target.uscc, ()), departments, levels)),
            inspections=inspections.get(target.uscc, 0), capped_total=capped_total, capped=capped))
        exclusions += decision.exclusions
        for matter in decision.eligible:
            strata.setdefault(f"{matter}:{'key' if key else target.risk_class}", set()).add(target.uscc)
    exclusions.sort(key=lambda e: (e.uscc, e.matter or "", e.reason))
    return strata, exclusions, caps_section(published, at_cap, exclusions)


def register(session, uscc, department, day):
    principal = Principal(role="department_operator", name="登记员", department_code=department)
    ledger.register(session, principal, {
        "uscc": uscc, "department_code": department, "channel": "routine", "legal_reason_code": "law",
        "legal_basis": "《中华人民共和国安全生产法》第六十五条", "inspected_on": date(YEAR, 3, day),
        "reference": f"{department}-{uscc}-{day}", "over_cap_reason": "测试"}, today=date(YEAR, 12, 31))


def higher_level(session, uscc, n, level, department="", matter=""):
    session.add(HigherLevelInspection(
        record_key=f"shape-{uscc}-{n}", uscc=uscc, authority="焦作市某局", level=level, department_code=department,
        matter_code=matter, inspected_on=date(YEAR, 2, 1 + n % 28), year=YEAR))


@pytest.mark.parametrize("key_targets_exempt", [True, False])
def test_deciding_by_shape_equals_deciding_every_target_alone(gateway, key_targets_exempt, monkeypatch):
    monkeypatch.setattr(population_module, "COUNTS_CHUNK", 2)  # the caps section's counts read in several chunks
    made = build_directory(gateway, per_matter=16)
    rng = random.Random(20)
    usccs = sorted({u for targets in made["targets"].values() for u in targets})
    departments = sorted(gateway.registry.departments)
    matter_departments = sorted({m.department_code for m in gateway.registry.matters.values()})
    with gateway.write() as session:
        ledger.publish_caps(session, COUNTY, year=YEAR, per_department=1, total=3, basis="测试",
                            key_targets_exempt=key_targets_exempt)
    with gateway.write() as session:
        for n, uscc in enumerate(usccs):
            if rng.random() < 0.1:
                session.scalar(select(Target).where(Target.uscc == uscc)).status = "closed"
            # at no cap, at one or two departments' caps, at the total cap
            for day, department in enumerate(rng.sample(departments, rng.choice((0, 0, 1, 2, 3))), start=1):
                register(session, uscc, department, day)
            if rng.random() < 0.15:
                higher_level(session, uscc, n, rng.choice(("city", "province")),
                             department=rng.choice(("", *matter_departments)))
            if rng.random() < 0.1:  # twice inspected by the county outside the gateway: the yearly cap
                higher_level(session, uscc, 100 + n, "county")
                higher_level(session, uscc, 200 + n, "county")
    plan_id = published_plan(gateway, key_rule={"risk_classes": ["D"], "abnormal_list": True})
    with gateway.read() as session:
        plan = session.get(Plan, plan_id)
        population = compute_population(session, plan, plan_matters(session, plan))
        strata, exclusions, caps = one_by_one(session, plan)
    assert {s.key: set(s.population) for s in population.strata if s.population} == strata
    assert population.exclusions == exclusions
    assert population.caps == caps
    reasons = {e.reason for e in exclusions}
    assert {CAPS_REASON, "higher_level_inspected", "cap_reached", "deregistered_or_closed"} <= reasons
    assert len(caps["counts"]) > 3
