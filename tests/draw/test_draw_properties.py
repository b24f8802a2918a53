"""Properties no draw may ever break (article 15 and DESIGN "The draw"), on generated directories
with declared conflicts, earlier draws of the year (the cap) and higher-level inspection records.

Each example builds a fresh directory in the real database, publishes three plans of one
year and draws them one after the other through the real services. After every draw:

- each stratum's ratio is the larger of the plan's and the matter's minimum, and exactly
  ``ceil(ratio × N)`` targets are drawn;
- no target has more than two non-key inspections in the year, across all plans;
- no target is drawn for a matter a higher-level authority inspected it for this year;
- nobody inspects a target they declared a conflict with;
- every team has at least two distinct, certified, active inspectors and every department it needs;
- within a department, inspectors with the same eligibility differ by at most one task;
- a draw that cannot staff a team writes nothing.
"""
from __future__ import annotations

import json
import math
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from gateway.demo.generate import make_uscc
from gateway.directory.models import Conflict, Inspector
from gateway.draw import frozen as frozen_strata
from gateway.draw import service as draws
from gateway.draw.eligibility import LEVEL_RANK, KeyRule
from gateway.draw.models import Draw
from gateway.errors import DomainError
from gateway.higher_level.models import HigherLevelInspection
from gateway.planning import service as plans
from gateway.planning.models import Plan
from gateway.plugins.manager import build_plugin_manager, load_registry
from gateway.tasks.models import Task
from tests.drawdb import COUNTY, REVEALS, YEAR, add_target, commitments_for, plan_body, publish_filed

RATIOS = st.sampled_from(["0", "0.05", "0.3", "0.5", "1", "1", "1"])
TABLES = ("task_events", "reassignments", "task_members", "tasks", "draws", "plan_matters", "plans", "conflicts",
          "higher_level_inspections", "inspectors", "target_eligibility_changes", "eligibility_proposals",
          "targets", "outbox", "audit_log", "ledger_count_additions", "ledger_department_counts",
          "ledger_target_counts")


@st.composite
def scenarios(draw, matter_codes: tuple[str, ...], departments: tuple[str, ...]):
    n_targets = draw(st.integers(min_value=4, max_value=24))
    targets = [
        {
            "matters": draw(st.lists(st.sampled_from(matter_codes), min_size=1, max_size=2, unique=True)),
            "risk": draw(st.sampled_from("ABCD")),
            "status": draw(st.sampled_from(["operating"] * 8 + ["closed", "deregistered"])),
            "abnormal": draw(st.booleans()) and draw(st.booleans()),
            "complaints": draw(st.integers(min_value=0, max_value=4)),
        }
        for _ in range(n_targets)
    ]
    staff = {d: draw(st.sampled_from([1, 2, 3, 4, 4, 4])) for d in departments}
    conflicts = draw(st.lists(st.tuples(st.sampled_from(departments), st.integers(0, 3), st.integers(0, n_targets - 1)),
                              max_size=6))
    higher = draw(st.lists(st.tuples(st.integers(0, n_targets - 1), st.sampled_from(["city", "province"]),
                                     st.sampled_from(["all", "department", "matter"])), max_size=4))
    plan_specs = draw(st.lists(
        st.tuples(st.sampled_from(["joint", "joint", "annual"]), st.fixed_dictionaries({k: RATIOS for k in "ABCD"}),
                  st.sampled_from(matter_codes)),
        min_size=3, max_size=3))
    digits = draw(st.lists(st.text("0123456789", min_size=7, max_size=9), min_size=3, max_size=3))
    return {"targets": targets, "staff": staff, "conflicts": conflicts, "higher": higher, "plans": plan_specs,
            "digits": digits}


def _reset(gateway) -> None:
    with gateway.write() as session:
        for table in TABLES:
            session.execute(text(f'DELETE FROM "{table}"'))


def _build(gateway, scenario) -> None:
    registry = gateway.registry
    today = date.today()
    with gateway.write() as session:
        ids = []
        for serial, spec in enumerate(scenario["targets"], start=1):
            chosen = [registry.matters[m] for m in spec["matters"]]
            types = set(chosen[0].criteria.target_types or ["enterprise"])
            for matter in chosen[1:]:
                types &= set(matter.criteria.target_types or types)
            if not types:
                chosen = chosen[:1]
                types = set(chosen[0].criteria.target_types or ["enterprise"])
            kind = sorted(types)[0]
            target = add_target(session, {
                "uscc": make_uscc(kind, 1000 + serial), "name": f"对象{serial}", "type": kind,
                "business_scope": "；".join(m.criteria.scope_keywords[0] for m in chosen if m.criteria.scope_keywords),
                "licences": [m.criteria.required_licences[0] for m in chosen if m.criteria.required_licences],
                "risk_class": spec["risk"], "status": spec["status"], "abnormal_list": spec["abnormal"],
                "complaint_count": spec["complaints"],
            })
            ids.append(target)
        people: dict[str, list[Inspector]] = {}
        for d_index, (code, count) in enumerate(sorted(scenario["staff"].items()), start=1):
            people[code] = []
            for serial in range(count + 1):  # the last one is never eligible
                person = Inspector(department_code=code, name=f"{code}{serial}", gender="female",
                                   certificate_no=f"9{d_index:02d}{serial:04d}00", phone="",
                                   certificate_valid_until=today + timedelta(days=365),
                                   active=serial < count)
                session.add(person)
                people[code].append(person)
        session.flush()
        seen = set()
        for code, index, target_index in scenario["conflicts"]:
            person = people[code][index % len(people[code])]
            pair = (person.id, ids[target_index].id)
            if pair not in seen:
                seen.add(pair)
                session.add(Conflict(inspector_id=pair[0], target_id=pair[1], reason="利害关系"))
        for n, (target_index, level, scope) in enumerate(scenario["higher"]):
            target = ids[target_index]
            spec = scenario["targets"][target_index]
            matter = spec["matters"][0]
            session.add(HigherLevelInspection(
                record_key=f"h{n}", uscc=target.uscc, authority="上级机关", level=level,
                department_code=registry.matters[matter].department_code if scope == "department" else "",
                matter_code=matter if scope == "matter" else "", inspected_on=date(YEAR, 1, 15), year=YEAR))


def _plan(gateway, kind, ratios, matter) -> int:
    registry = gateway.registry
    if kind == "annual":
        body = plan_body(gateway, kind="annual", matters=[matter], lead=registry.matters[matter].department_code,
                         ratios=ratios)
    else:
        body = plan_body(gateway, ratios=ratios)
    with gateway.write() as session:
        plan = plans.create_plan(session, COUNTY, body, gateway.settings)
        publish_filed(session, COUNTY, plan.id, gateway.settings)
        return plan.id


def _check_draw(gateway, draw_id: int, first: bool) -> None:
    registry = gateway.registry
    today = date.today()
    with gateway.read() as session:
        draw = session.get(Draw, draw_id)
        plan = session.get(Plan, draw.plan_id)
        info = {m.code: m for m in draws.plan_matters(session, plan)}
        selected_for: dict[str, set[str]] = {}
        for entry in list(frozen_strata.entries(session, draw.id)):
            minimum = info[entry["matter"]].min_ratio
            ratio = Decimal(entry["ratio"])
            if entry["key"] == f"{entry['matter']}:key":  # key targets: all of them unless the plan says less
                ordinary = max(max(Decimal(plan.ratios[rc]), minimum) for rc in "ABCD")
                assert ratio == max(KeyRule.from_dict(plan.key_rule).ratio(entry["matter"]), ordinary)
                assert entry["key_targets"] == entry["population"]
            else:
                assert ratio == max(Decimal(plan.ratios[entry["risk_class"]]), minimum) >= minimum
                assert entry["key_targets"] == []
            size = draw.stats["strata"][[s["key"] for s in draw.stats["strata"]].index(entry["key"])]["sample_size"]
            assert size == math.ceil(ratio * len(entry["population"]))
        record = json.loads(draw.record)
        for stratum in record["strata"]:
            assert len(stratum["selected"]) == stratum["sample_size"]
            for uscc in stratum["selected"]:
                selected_for.setdefault(uscc, set()).add(stratum["matter"])
        levels = dict(session.execute(select(text("code"), text("level")).select_from(text("departments"))).all())
        higher: dict[str, list[HigherLevelInspection]] = {}
        for record_row in session.scalars(select(HigherLevelInspection).where(HigherLevelInspection.year == plan.year)):
            higher.setdefault(record_row.uscc, []).append(record_row)
        conflicts = set(session.execute(select(Conflict.inspector_id, Conflict.target_id)).all())
        inspectors = {i.id: i for i in session.scalars(select(Inspector))}
        tasks = session.scalars(select(Task).where(Task.draw_id == draw_id)).all()
        assert len(tasks) == len(selected_for) == draw.task_count
        loads: dict[int, int] = {}
        conflicted_in_draw: set[int] = set()
        for task in tasks:
            uscc = task.target.uscc
            assert set(task.matter_codes) == selected_for[uscc]
            for matter in task.matter_codes:
                department = registry.matters[matter].department_code
                for row in higher.get(uscc, []):
                    if LEVEL_RANK[row.level] <= LEVEL_RANK[levels[department]]:
                        continue
                    covers = row.matter_code == matter if row.matter_code else (
                        row.department_code == department if row.department_code else True)
                    assert not covers, f"{uscc} drawn for {matter} despite a higher-level inspection"
            members = [m for m in task.members if m.active]
            ids = [m.inspector_id for m in members]
            required = draws.required_departments(plan, task.matter_codes, info)
            assert len(set(ids)) == len(ids) >= max(2, len(required))
            assert set(required) <= {m.department_code for m in members}
            for m in members:
                person = inspectors[m.inspector_id]
                assert person.active and person.is_certified_on(today) and person.department_code == m.department_code
                assert (m.inspector_id, task.target_id) not in conflicts
                loads[m.inspector_id] = loads.get(m.inspector_id, 0) + 1
            conflicted_in_draw |= {i for i, t in conflicts if t == task.target_id}
        if first:
            pool = [plan.lead_department, *plan.cooperating_departments]
            for department in pool:
                same = [i.id for i in inspectors.values() if i.department_code == department and i.active
                        and i.is_certified_on(today) and i.id not in conflicted_in_draw]
                if same:
                    counts = [loads.get(i, 0) for i in same]
                    assert max(counts) - min(counts) <= 1, (department, counts)
        yearly = session.execute(
            select(Task.target_id, func.count()).join(Plan, Plan.id == Task.plan_id)
            .where(Plan.year == plan.year, Task.key_inspection.is_(False)).group_by(Task.target_id)).all()
        assert all(n <= 2 for _, n in yearly), yearly


def _draw(gateway, plan_id: int, digits) -> tuple[int, bool]:
    reveals = [dict(r, digits=d) for r, d in zip(REVEALS[:3], digits)]
    with gateway.write() as session:
        draw = draws.freeze(session, COUNTY, plan_id)
        draws.commit(session, COUNTY, draw.id, commitments_for(reveals))
        draws.reveal_seed(session, COUNTY, draw.id, reveals)
        draw_id = draw.id
    try:
        draws.run_and_record_failure(gateway, COUNTY, draw_id)
    except DomainError as exc:
        assert exc.code == "no_feasible_team" and exc.details["department"] in gateway.registry.departments
        with gateway.write() as session:
            assert session.scalar(select(func.count()).select_from(Task).where(Task.draw_id == draw_id)) == 0
            assert session.get(Draw, draw_id).status == "seeded"
            # a revealed draw is not cancelled: the plan is amended, which supersedes it and frees the year
            amended = plans.amend_plan(session, COUNTY, plan_id, {"reason": "无法组成检查组"})
            publish_filed(session, COUNTY, amended.id, gateway.settings)
            assert session.get(Draw, draw_id).status == "superseded"
        return draw_id, False
    return draw_id, True


REGISTRY = load_registry(build_plugin_manager())


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario=scenarios(tuple(REGISTRY.matters), tuple(sorted(REGISTRY.departments))))
def test_no_draw_breaks_the_rules(gateway, scenario):
    _reset(gateway)
    _build(gateway, scenario)
    first = True
    for kind, ratios, matter in scenario["plans"]:
        plan_id = _plan(gateway, kind, ratios, matter)
        draw_id, done = _draw(gateway, plan_id, scenario["digits"])
        if not done:
            event("no feasible team: nothing written")
            continue
        _check_draw(gateway, draw_id, first)
        first = False
        with gateway.read() as session:
            reasons = session.get(Draw, draw_id).stats["exclusions"]
            tasks = session.scalar(select(func.count()).select_from(Task).where(Task.draw_id == draw_id))
            key = session.scalar(select(func.count()).select_from(Task).where(
                Task.draw_id == draw_id, Task.key_inspection.is_(True)))
        event(f"draw with tasks: {tasks > 0}")
        event(f"key-inspection tasks: {key > 0}")
        for reason in reasons:
            event(f"excluded: {reason}")


# ------------------------------------------------ a revealed seed's selection cannot be steered

ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("cancel")), st.tuples(st.just("run")), st.tuples(st.just("refreeze")),
    st.tuples(st.just("amend")), st.tuples(st.just("commit")), st.tuples(st.just("reseed")),
    st.tuples(st.just("deactivate"), st.integers(0, 200)),
    st.tuples(st.just("risk"), st.integers(0, 200), st.sampled_from("ABCD")),
), min_size=1, max_size=6)


_CLIENTS: dict[int, dict] = {}


def _selection_of(client, draw_id: int) -> tuple[str, dict[str, list[str]]]:
    """(status, per stratum the USCCs the draw's revealed seed selects), as the public sees them."""
    from gateway.draw.strata import Stratum, draw_targets

    shown = client.get(f"/api/v1/draws/{draw_id}").get_json()
    assert "status" in shown, shown
    if shown["status"] == "drawn":
        record = client.get(f"/api/v1/draws/{draw_id}/record").get_json()
        return shown["status"], {s["key"]: s["selected"] for s in record["strata"]}
    if shown["status"] == "superseded":
        return shown["status"], shown["would_be_selection"]
    population = client.get(f"/api/v1/draws/{draw_id}/population").get_json()
    strata = [Stratum(s["key"], s["matter"], Decimal(s["ratio"]), tuple(s["population"]), s["risk_class"])
              for s in population["strata"]]
    selections, _ = draw_targets(strata, shown["seed"])
    return shown["status"], {s.key: list(s.selected) for s in selections}


def _act(account, action, draw_id, plan_id, usccs, commitments, reveals) -> None:
    kind = action[0]
    if kind == "cancel":
        account.post(f"/api/v1/draws/{draw_id}/cancel", json={"reason": "结果不理想，重新抽取"})
    elif kind == "run":
        account.post(f"/api/v1/draws/{draw_id}/run")
    elif kind == "refreeze":
        account.post("/api/v1/draws", json={"plan_id": plan_id})
    elif kind == "amend":
        amended = account.post(f"/api/v1/plans/{plan_id}/amendments", json={"reason": "调整比例"})
        if amended.status_code == 201:
            amended_id = amended.get_json()["id"]
            account.post(f"/api/v1/plans/{amended_id}/publish")
            account.post(f"/api/v1/plans/{amended_id}/filing", json={"filing_number": f"武司备测{amended_id}",
                                                                    "filed_on": date.today().isoformat()})
    elif kind == "commit":
        account.post(f"/api/v1/draws/{draw_id}/commitments", json={"commitments": commitments})
    elif kind == "reseed":
        account.post(f"/api/v1/draws/{draw_id}/seed", json={"contributions": reveals, "witnesses": []})
    elif kind == "deactivate":
        account.post(f"/api/v1/targets/{usccs[action[1] % len(usccs)]}/deactivate",
                     query_string={"reason_code": "business_closed"})
    elif kind == "risk":
        account.patch(f"/api/v1/targets/{usccs[action[1] % len(usccs)]}",
                      json={"risk_class": action[2], "reason_code": "credit_reclassified"})


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=ACTIONS, role=st.sampled_from(["county_office", "department_head"]))
@example(actions=[("cancel",), ("refreeze",), ("commit",), ("reseed",), ("run",)], role="county_office")
@example(actions=[("deactivate", 0), ("risk", 1, "D"), ("amend",), ("run",)], role="county_office")
def test_no_sequence_of_calls_by_one_account_changes_what_a_revealed_seed_selects(
        gateway, client_as, actions, role):
    from tests.drawdb import build_directory, freeze_and_seed, published_plan

    _reset(gateway)
    clients = _CLIENTS.setdefault(id(client_as), {})  # one account per role for every example
    for name in ("supervisor", role):
        if name not in clients:
            clients[name] = client_as(name, department="market") if name == "department_head" else client_as(name)
    client = clients["supervisor"]  # watches what the public sees, without the public's rate limit
    found = build_directory(gateway, per_matter=4, per_department=2)
    plan_id = published_plan(gateway)
    draw_id = freeze_and_seed(gateway, plan_id)
    status, expected = _selection_of(client, draw_id)
    seed = client.get(f"/api/v1/draws/{draw_id}").get_json()["seed"]
    assert status == "seeded" and any(expected.values())
    other = [dict(r, digits=r["digits"][::-1]) for r in REVEALS]
    account = clients[role]
    usccs = sorted(u for targets in found["targets"].values() for u in targets)
    for action in actions:
        _act(account, action, draw_id, plan_id, usccs, commitments_for(other), other)
        status, selected = _selection_of(client, draw_id)
        assert status in ("seeded", "drawn", "superseded"), action
        assert client.get(f"/api/v1/draws/{draw_id}").get_json()["seed"] == seed
        assert selected == expected, action
