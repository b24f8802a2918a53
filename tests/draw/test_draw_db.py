"""The draw on a real database (SQLite and PostgreSQL): stages, exclusions, teams, tasks, record."""
from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from gateway.api.errors import status_of
from gateway.directory.models import Inspector, Target
from gateway.draw import frozen as frozen_strata
from gateway.draw import parts
from gateway.draw import service as draws
from gateway.draw.commitment import commitment_problems
from gateway.draw.models import Draw
from gateway.draw.record import record_problems
from gateway.draw.verify import verify_record
from gateway.errors import DomainError
from gateway.higher_level.models import HigherLevelInspection
from gateway.ledger.counts import ADDITIONS
from gateway.security.audit import AuditEntry, verify_chain
from gateway.security.principal import Principal
from gateway.sync.models import OutboxRecord
from gateway.tasks.models import Task, TaskMember
from tests.drawdb import (
    COUNTY,
    REVEALS,
    WITNESSES,
    YEAR,
    build_directory,
    commitments_for,
    complete_draw,
    declare_conflict,
    freeze_and_seed,
    published_plan,
)


@pytest.fixture
def directory(gateway):
    return build_directory(gateway)


def record_of(gateway, draw_id):
    with gateway.read() as session:
        return json.loads(draws.public_record(draws.get_draw(session, draw_id)))


def test_a_complete_draw_verifies_and_creates_one_joint_task_per_target(gateway, directory):
    plan_id = published_plan(gateway)
    with gateway.write() as session:
        frozen = draws.freeze(session, COUNTY, plan_id)
        announced = frozen.population_sha256
        assert frozen.seed is None and frozen.status == "frozen"
    draw_id = frozen.id
    with gateway.write() as session:
        draws.commit(session, COUNTY, draw_id, commitments_for())
        draws.reveal_seed(session, COUNTY, draw_id, REVEALS, WITNESSES)
    draws.run_and_record_failure(gateway, COUNTY, draw_id)
    record = record_of(gateway, draw_id)

    report = verify_record(record, expected_population_sha256=announced)
    assert report.ok, report.lines()
    # the service builds its record without re-checking it; the full shape check must still pass
    assert record_problems(record) == []
    assert commitment_problems(record["commitments"], record["contributions"]) == []
    assert record["seed"] == "-".join(r["digits"] for r in REVEALS)
    assert record["participants"]["witness"] == ["赵六", "钱七"]
    assert record["witnesses"] == [{"name": "赵六", "category": "市场主体代表"}, {"name": "钱七", "category": "新闻媒体代表"}]
    # ratio floor and exact sample sizes
    for stratum in record["strata"]:
        matter = gateway.registry.matters[stratum["matter"]]
        assert Decimal(stratum["ratio"]) >= matter.min_ratio
        assert stratum["sample_size"] == math.ceil(Decimal(stratum["ratio"]) * len(stratum["population"]))
    # one task per drawn target, covering every matter it was drawn for
    selected: dict[str, set[str]] = {}
    for stratum in record["strata"]:
        for uscc in stratum["selected"]:
            selected.setdefault(uscc, set()).add(stratum["matter"])
    assert sorted(t["uscc"] for t in record["tasks"]) == sorted(selected)
    assert any(len(m) > 1 for m in selected.values()), "the directory has targets under two matters"
    with gateway.read() as session:
        tasks = session.scalars(select(Task).where(Task.draw_id == draw_id).order_by(Task.id)).all()
        assert [t.number for t in tasks] == [t["number"] for t in record["tasks"]]
        for task in tasks:
            assert set(task.matter_codes) == selected[task.target.uscc]
            assert (task.window_start, task.window_end) == (date(YEAR, 4, 1), date(YEAR, 11, 30))
        assert session.scalar(select(func.count()).select_from(OutboxRecord).where(
            OutboxRecord.kind == "draw", OutboxRecord.entity_id == draw_id)) == 1
        actions = [a for a in session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)) if a.startswith("draws.")]
        assert actions == ["draws.freeze", "draws.commit", "draws.seed", "draws.run"]
        assert verify_chain(session) is None
        draw = session.get(Draw, draw_id)
        assert draw.open_year is None and draw.status == "drawn" and draw.task_count == len(tasks)


def test_teams_follow_the_rules_and_internal_check_matches(gateway, directory):
    plan_id = published_plan(gateway)
    # a conflict with a target that will surely be drawn (ratio 1 for class D)
    d_target = directory["targets"]["refined_oil"][3]
    inspector_id = directory["inspectors"][gateway.registry.matters["refined_oil"].department_code][0]
    declare_conflict(gateway, inspector_id, d_target)
    draw_id = complete_draw(gateway, plan_id)
    with gateway.read() as session:
        draw = session.get(Draw, draw_id)
        report, teams = draws.verify_draw_teams(session, draw)
        assert report.ok, [f for f in report.tasks if not f.ok]
        inspectors = {i.id: i for i in session.scalars(select(Inspector))}
        for task in session.scalars(select(Task).where(Task.draw_id == draw_id)):
            members = [m for m in task.members if m.active]
            assert len(members) >= 2 and len({m.inspector_id for m in members}) == len(members)
            departments = {m.department_code for m in members}
            assert task.lead_department in departments
            for code in task.matter_codes:
                matter = gateway.registry.matters[code]
                assert matter.department_code in departments
                assert set(gateway.registry.cooperating_departments(code)) <= departments
            for m in members:
                person = inspectors[m.inspector_id]
                assert person.active and person.is_certified_on(date.today())
            assert sum(m.role == "lead" for m in members) == 1
            if task.target.uscc == d_target:
                assert inspector_id not in {m.inspector_id for m in members}
        internal = draws.internal_view(session, draw, gateway.settings)
        assert internal.teams_ok is True
        record = json.loads(draw.record)
        opaque = {t["number"]: sorted(i["id"] for i in t["inspectors"]) for t in record["tasks"]}
        assert all(sorted(i["opaque_id"] for i in t["inspectors"]) == opaque[t["number"]] for t in internal.tasks)
        text = draw.record
        for person in inspectors.values():
            assert person.certificate_no not in text and person.name not in text and person.phone not in text


def test_exclusions_have_reasons_and_key_targets_bypass_the_cap(gateway, directory):
    oil = directory["targets"]["refined_oil"]
    oil_department = gateway.registry.matters["refined_oil"].department_code
    with gateway.write() as session:
        closed = session.scalar(select(Target).where(Target.uscc == oil[0]))
        closed.status = "deregistered"
        # looks like a refined-oil target (holds the licence) but is an individual business
        wrong_type = session.scalar(select(Target).where(Target.uscc == oil[1]))
        wrong_type.type = "individual_business"
        session.add(HigherLevelInspection(
            record_key="k1", uscc=oil[2], authority="焦作市某局", level="city", department_code=oil_department,
            matter_code="", inspected_on=date(YEAR, 2, 1), year=YEAR))
        session.add(HigherLevelInspection(  # another year: no effect
            record_key="k2", uscc=oil[5], authority="河南省某厅", level="province", department_code="",
            matter_code="", inspected_on=date(YEAR - 1, 6, 1), year=YEAR - 1))
    # two earlier non-key inspections this year for every target: everyone but key targets is capped
    first = complete_draw(gateway, published_plan(gateway, ratios={"A": "1", "B": "1", "C": "1", "D": "1"}))
    second = complete_draw(gateway, published_plan(gateway, ratios={"A": "1", "B": "1", "C": "1", "D": "1"}))
    plan_id = published_plan(gateway, ratios={"A": "1", "B": "1", "C": "1", "D": "1"})
    with gateway.write() as session:
        third = draws.freeze(session, COUNTY, plan_id)
        third_strata = list(frozen_strata.entries(session, third.id))
        exclusions = {(e["uscc"], e["matter"]): e["reason"] for e in third.exclusions}
        assert exclusions[(oil[0], None)] == "deregistered_or_closed"
        assert exclusions[(oil[1], "refined_oil")] == "criteria_not_met"
        assert exclusions[(oil[2], "refined_oil")] == "higher_level_inspected"
        key_targets = {u for s in third_strata for u in s["key_targets"]}
        population = {u for s in third_strata for u in s["population"]}
        assert population == key_targets and key_targets, "only key-inspection targets are left"
        assert any(r == "cap_reached" for r in exclusions.values())
        assert oil[5] in {u for s in third_strata if s["matter"] == "refined_oil" for u in s["population"]} or \
            exclusions.get((oil[5], None)) == "cap_reached"
    with gateway.read() as session:
        counts = session.execute(
            select(Task.target_id, func.count()).where(Task.key_inspection.is_(False)).group_by(Task.target_id)
        ).all()
        assert max(n for _, n in counts) <= 2
        for draw_id in (first, second):
            record = json.loads(session.get(Draw, draw_id).record)
            assert (oil[2] not in {u for s in record["strata"] if s["matter"] == "refined_oil" for u in s["population"]})


def test_stages_run_in_order_and_only_once(gateway, directory):
    plan_id = published_plan(gateway)
    with gateway.write() as session:
        draw = draws.freeze(session, COUNTY, plan_id)
        draw_id = draw.id
    for stage in (lambda s: draws.reveal_seed(s, COUNTY, draw_id, REVEALS),
                  lambda s: draws.run(s, COUNTY, draw_id, gateway.settings)):
        with pytest.raises(DomainError) as caught, gateway.write() as session:
            stage(session)
        assert status_of(caught.value) == 409 and caught.value.code == "wrong_stage"
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.freeze(session, COUNTY, plan_id)
    assert caught.value.code == "draw_exists"
    other_plan = published_plan(gateway)
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.freeze(session, COUNTY, other_plan)
    assert caught.value.code == "draw_in_progress"
    with gateway.write() as session:
        draws.commit(session, COUNTY, draw_id, commitments_for())
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.commit(session, COUNTY, draw_id, commitments_for())
    assert caught.value.code == "wrong_stage"
    with gateway.write() as session:
        draws.reveal_seed(session, COUNTY, draw_id, REVEALS)
    draws.run_and_record_failure(gateway, COUNTY, draw_id)
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.run(session, COUNTY, draw_id, gateway.settings)
    assert caught.value.code == "draw_finished"
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.cancel(session, COUNTY, draw_id, "想重新抽")
    assert caught.value.code == "draw_finished"
    with gateway.write() as session:  # the year is free again
        assert draws.freeze(session, COUNTY, other_plan).status == "frozen"


def test_revealed_digits_must_match_the_commitments(gateway, directory):
    plan_id = published_plan(gateway)
    with gateway.write() as session:
        draw_id = draws.freeze(session, COUNTY, plan_id).id
        draws.commit(session, COUNTY, draw_id, commitments_for())
    changed = [dict(r) for r in REVEALS]
    changed[1]["digits"] = "89793239"
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.reveal_seed(session, COUNTY, draw_id, changed)
    assert status_of(caught.value) == 422 and "contributions.1.digits" in caught.value.errors
    missing = REVEALS[:3] + [{"role": "witness", "name": "不速之客", "digits": "1", "salt": "salt-salt"}]
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.reveal_seed(session, COUNTY, draw_id, missing)
    assert set(caught.value.errors) == {"contributions", "contributions.3.name"}
    with gateway.read() as session:
        assert session.get(Draw, draw_id).status == "committed"


def test_commitments_need_the_three_roles(gateway, directory):
    plan_id = published_plan(gateway)
    with gateway.write() as session:
        draw_id = draws.freeze(session, COUNTY, plan_id).id
    no_supervisor = [c for c in commitments_for() if c["role"] != "supervisor"] + [
        {"role": "witness", "name": "孙八", "commitment": "0" * 64}]
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.commit(session, COUNTY, draw_id, no_supervisor)
    assert status_of(caught.value) == 422 and "监督人员" in caught.value.errors["commitments"][0]


def test_no_feasible_team_names_target_and_department_and_writes_nothing(gateway, directory):
    plan_id = published_plan(gateway)
    draw_id = freeze_and_seed(gateway, plan_id)
    crop = gateway.registry.matters["crop_seed"].department_code
    with gateway.write() as session:
        for inspector in session.scalars(select(Inspector).where(Inspector.department_code == crop)):
            inspector.active = False
    with pytest.raises(DomainError) as caught:
        draws.run_and_record_failure(gateway, COUNTY, draw_id)
    error = caught.value
    assert status_of(error) == 409 and error.code == "no_feasible_team"
    assert error.details["department"] == crop and error.details["uscc"] in error.message
    with gateway.read() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0
        assert session.scalar(select(func.count()).select_from(TaskMember)) == 0
        draw = session.get(Draw, draw_id)
        assert (draw.status, draw.record, draw.open_year) == ("seeded", None, YEAR)
        assert session.scalar(select(func.count()).select_from(OutboxRecord).where(OutboxRecord.kind == "draw")) == 0
        assert session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).first() == "draws.run_failed"
    with gateway.write() as session:  # inspectors are back: the same frozen population and seed now draw
        for inspector in session.scalars(select(Inspector).where(Inspector.department_code == crop)):
            inspector.active = True
    draws.run_and_record_failure(gateway, COUNTY, draw_id)
    assert verify_record(record_of(gateway, draw_id)).ok


def test_the_frozen_population_never_changes(gateway, directory):
    plan_id = published_plan(gateway)
    with gateway.write() as session:
        frozen = draws.freeze(session, COUNTY, plan_id)
        draw_id, announced = frozen.id, frozen.population_sha256
        strata = list(frozen_strata.entries(session, draw_id))
    member = strata[0]["population"][0] if strata[0]["population"] else next(
        u for s in strata for u in s["population"])
    with gateway.write() as session:
        session.scalar(select(Target).where(Target.uscc == member)).status = "closed"
    with gateway.write() as session:
        draws.commit(session, COUNTY, draw_id, commitments_for())
        draws.reveal_seed(session, COUNTY, draw_id, REVEALS)
    draws.run_and_record_failure(gateway, COUNTY, draw_id)
    record = record_of(gateway, draw_id)
    assert record["population_sha256"] == announced
    assert any(member in s["population"] for s in record["strata"])


def test_cancelled_draw_stays_on_record_and_frees_the_plan(gateway, directory):
    plan_id = published_plan(gateway)
    with gateway.write() as session:
        first = draws.freeze(session, COUNTY, plan_id)
        draws.cancel(session, COUNTY, first.id, "监督人员未到场")
    with gateway.write() as session:
        second = draws.freeze(session, COUNTY, plan_id)
        assert second.id != first.id
        old = session.get(Draw, first.id)
        assert (old.status, old.cancel_reason, old.active_plan_id) == ("cancelled", "监督人员未到场", None)


def test_only_the_county_office_runs_draws(gateway, directory):
    plan_id = published_plan(gateway)
    for role in ("department_head", "department_operator", "supervisor", "inspector", "public"):
        with pytest.raises(DomainError) as caught, gateway.write() as session:
            draws.freeze(session, Principal(role=role, department_code="market"), plan_id)
        assert status_of(caught.value) in (401, 403)


def test_drafts_and_superseded_plans_are_not_drawn(gateway, directory):
    from gateway.planning import service as plans
    from tests.drawdb import plan_body

    with gateway.write() as session:
        draft = plans.create_plan(session, COUNTY, plan_body(gateway), gateway.settings)
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.freeze(session, COUNTY, draft.id)
    assert caught.value.code == "plan_not_published"


def test_a_draw_in_many_tasks_parts_hashes_its_whole_record_and_counts_every_task(gateway, directory, monkeypatch):
    # Tasks parts of three: the first parts are handed in before the strata's parts are stored,
    # and the ledger's additions are built a part at a time.
    monkeypatch.setattr(draws, "TASKS_PER_PART", 3)
    draw_id = complete_draw(gateway, published_plan(gateway))
    with gateway.read() as session:
        draw = draws.get_draw(session, draw_id)
        whole = b"".join(parts.whole_record_stream(session, draw))
        assert hashlib.sha256(whole).hexdigest() == draw.record_sha256
        index = parts.index(draw)
        tasks = session.execute(select(Target.uscc, Task.lead_department).join(Target, Target.id == Task.target_id)
                                .where(Task.draw_id == draw_id)).all()
        added = session.execute(select(ADDITIONS.c.uscc, ADDITIONS.c.department_code, ADDITIONS.c.n)
                                .where(ADDITIONS.c.draw_id == draw_id)).all()
    assert len(index["parts"]["tasks"]) == math.ceil(len(tasks) / 3) > 2
    assert sorted(added) == sorted((uscc, department, 1) for uscc, department in tasks)
    assert verify_record(json.loads(whole)).ok
