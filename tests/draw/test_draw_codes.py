"""The freeze's packed codes (gateway.draw.population.candidate_codes) say exactly what the
per-matter flags and the key rule say, also past 16 matters (a second code column)."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from gateway.directory.models import Target
from gateway.draw.eligibility import INACTIVE_STATUSES, KeyRule
from gateway.draw.population import (
    MEETS,
    RELATED,
    _decode,
    candidate_codes,
    key_rule_clause,
    matter_code_clause,
    plan_matters,
)
from gateway.planning.models import Plan
from tests.drawdb import build_directory, published_plan


def test_codes_agree_with_the_flags_for_25_matters(gateway):
    build_directory(gateway, per_matter=6, per_department=2)
    plan_id = published_plan(gateway)
    with gateway.write() as session:
        closed = session.scalars(select(Target).order_by(Target.id).limit(2)).all()
        closed[0].status = "deregistered"
        closed[1].active = False
    with gateway.read() as session:
        base = plan_matters(session, session.get(Plan, plan_id))
        # 25 matters: the installed ones over and over under new codes
        matters = [replace(base[i % len(base)], code=f"m{i:02d}") for i in range(25)]
        rule = KeyRule()
        codes = candidate_codes(matters, rule)
        assert len(codes) == 2
        flags = [matter_code_clause(m.criteria) for m in matters]
        rows = session.execute(select(Target.uscc, Target.risk_class, Target.status, Target.active,
                                      key_rule_clause(rule), *codes, *flags)).all()
    assert rows
    for row in rows:
        uscc, risk_class, status, active, key = row[:5]
        shape = (risk_class, *row[5:7], 0)
        values = row[7:]
        decoded = _decode(shape, [m.code for m in matters], [])
        assert decoded.key == bool(key), uscc
        assert decoded.closed == (status in INACTIVE_STATUSES), uscc
        assert decoded.inactive == (not active), uscc
        assert decoded.matched == tuple(m.code for m, v in zip(matters, values) if v == MEETS), uscc
        assert decoded.marked == tuple(m.code for m, v in zip(matters, values) if v == RELATED), uscc
    # the second column is really used: some targets meet matters 17 to 25
    assert any(code >= "m16" for r in rows for code in _decode((r[1], *r[5:7], 0), [m.code for m in matters], []).matched)
