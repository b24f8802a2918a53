"""The pure article 15 rules, the commit-reveal check and the plan numbers (no database)."""
from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.draw.commitment import check_reveal, commitment, commitment_problems, salt_problem
from gateway.draw.eligibility import Candidate, HigherLevelRecord, KeyRule, decide, higher_level_matters
from gateway.draw.record import Exclusion

MATTERS = {"oil": "commerce", "seed": "agriculture", "safety": "emergency"}
LEVELS = {"commerce": "county", "agriculture": "county", "emergency": "county"}


def test_closed_and_inactive_targets_are_out_of_every_matter():
    assert decide(Candidate("U1", "B", status="deregistered", matched=("oil",))).exclusions == (
        Exclusion("U1", "deregistered_or_closed"),)
    assert decide(Candidate("U1", "B", active=False, matched=("oil",))).exclusions == (
        Exclusion("U1", "criteria_not_met"),)


def test_related_but_not_meeting_the_criteria_is_named_per_matter():
    decision = decide(Candidate("U1", "B", matched=("oil",), marked=("seed",)))
    assert decision.eligible == ("oil",)
    assert decision.exclusions == (Exclusion("U1", "criteria_not_met", "seed"),)


def test_higher_level_inspection_excludes_the_matters_it_covers():
    covered = higher_level_matters([HigherLevelRecord("city", department="commerce")], MATTERS, LEVELS)
    assert covered == {"oil"}
    assert higher_level_matters([HigherLevelRecord("province", matter="seed")], MATTERS, LEVELS) == {"seed"}
    assert higher_level_matters([HigherLevelRecord("national")], MATTERS, LEVELS) == set(MATTERS)
    # not higher than the matter's department: no effect
    assert higher_level_matters([HigherLevelRecord("county")], MATTERS, LEVELS) == set()
    assert higher_level_matters([HigherLevelRecord("city")], MATTERS, {**LEVELS, "emergency": "city"}) == {"oil", "seed"}
    partial = decide(Candidate("U1", "B", matched=("oil", "seed"), higher_level=frozenset({"oil"})))
    assert partial.eligible == ("seed",)
    assert partial.exclusions == (Exclusion("U1", "higher_level_inspected", "oil"),)
    whole = decide(Candidate("U1", "B", matched=("oil", "seed"), higher_level=frozenset({"oil", "seed"})))
    assert whole.eligible == () and whole.exclusions == (Exclusion("U1", "higher_level_inspected"),)


def test_the_yearly_cap_spares_key_targets():
    capped = decide(Candidate("U1", "B", matched=("oil",), inspections=2))
    assert capped.eligible == () and capped.exclusions == (Exclusion("U1", "cap_reached"),)
    assert decide(Candidate("U1", "B", matched=("oil",), inspections=1)).eligible == ("oil",)
    assert decide(Candidate("U1", "D", key=True, matched=("oil",), inspections=7)).eligible == ("oil",)


def test_key_rule_is_data():
    rule = KeyRule.from_dict({"risk_classes": ["C", "D"], "abnormal_list": False, "min_complaints": None})
    assert rule.is_key("C", False, False, 99)
    assert not rule.is_key("A", True, False, 99)
    assert rule.is_key("A", False, True, 0)
    assert KeyRule().reasons("A", True, False, 3) == ["abnormal_list", "complaints"]
    assert KeyRule.from_dict(KeyRule().as_dict()) == KeyRule()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from("ABCD"), st.booleans(), st.booleans(), st.integers(0, 10), st.integers(0, 3),
       st.lists(st.sampled_from(sorted(MATTERS)), unique=True), st.lists(st.sampled_from(sorted(MATTERS)), unique=True))
def test_decide_never_breaks_article_15(risk, abnormal, serious, complaints, inspections, matched, barred):
    key = KeyRule().is_key(risk, abnormal, serious, complaints)
    decision = decide(Candidate("U1", risk, key=key, matched=tuple(matched), higher_level=frozenset(barred),
                                inspections=inspections))
    assert set(decision.eligible) <= set(matched) - set(barred)
    if decision.eligible and not key:
        assert inspections < 2
    reasons = {e.reason for e in decision.exclusions}
    if set(matched) - set(barred) and (key or inspections < 2):
        assert decision.eligible == tuple(m for m in matched if m not in barred) and "cap_reached" not in reasons


def test_commit_then_reveal():
    promised = [{"order": n, "role": r, "name": f"人{n}", "commitment": commitment(d, f"salt-{n}-xyz")}
                for n, (r, d) in enumerate([("organiser", "123"), ("operator", "456"), ("supervisor", "789")], 1)]
    reveals = [{"role": p["role"], "name": p["name"], "digits": d, "salt": f"salt-{p['order']}-xyz"}
               for p, d in zip(promised, ("123", "456", "789"))]
    ordered, errors = check_reveal(promised, list(reversed(reveals)))
    assert errors == {} and [c["digits"] for c in ordered] == ["123", "456", "789"]  # commitment order wins
    ordered, errors = check_reveal(promised, [dict(reveals[0], digits="124"), *reveals[1:]])
    assert list(errors) == ["contributions.0.digits"]
    assert salt_problem("short") and salt_problem("has space here") and salt_problem("good-salt-1") is None
    public = [{**p, "salt": f"salt-{p['order']}-xyz"} for p in promised]
    contributions = [{"order": c["order"], "role": c["role"], "name": c["name"], "digits": c["digits"]}
                     for c in check_reveal(promised, reveals)[0]]
    assert commitment_problems(public, contributions) == []
    contributions[2]["digits"] = "788"
    assert "第 3 份" in commitment_problems(public, contributions)[0]


def test_my_pure_modules_import_no_flask_and_no_database():
    probe = ("import sys; import gateway.draw.eligibility, gateway.draw.commitment, gateway.planning.numbering; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy', 'psycopg', 'alembic'}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_key_rule_sql_agrees_with_python(gateway):
    from sqlalchemy import select

    from gateway.directory.models import Target
    from gateway.draw.population import key_rule_clause
    from tests.drawdb import add_target, matter_target

    combos = [(r, a, s, c) for r in "ABCD" for a in (False, True) for s in (False, True) for c in (0, 1, 3)]
    with gateway.write() as session:
        for n, (risk, abnormal, serious, complaints) in enumerate(combos, start=1):
            add_target(session, matter_target(gateway.registry, "refined_oil", n, risk, abnormal_list=abnormal,
                                              serious_violation_list=serious, complaint_count=complaints))
    rules = [KeyRule(), KeyRule(("C", "D"), False, True, None), KeyRule((), True, False, 1), KeyRule((), False, False, None)]
    with gateway.read() as session:
        for rule in rules:
            rows = session.execute(select(Target.risk_class, Target.abnormal_list, Target.serious_violation_list,
                                          Target.complaint_count, key_rule_clause(rule))).all()
            assert len(rows) == len(combos)
            for risk, abnormal, serious, complaints, key in rows:
                assert bool(key) == rule.is_key(risk, abnormal, serious, complaints), (rule, risk, abnormal)
