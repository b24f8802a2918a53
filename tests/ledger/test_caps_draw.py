"""The freeze excludes targets at the county's yearly caps, puts the counts in the public record,
and both verifiers re-check each such exclusion from the record alone (and refuse tampered counts)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.directory.models import Target
from gateway.draw import service as draws
from gateway.draw.verify import verify_record
from gateway.errors import Invalid
from gateway.ledger import service as ledger
from gateway.ledger.models import LedgerCountAddition, LedgerTargetCount
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from tests.drawdb import COUNTY, YEAR, build_directory, complete_draw, published_plan

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_draw.py"
LAST_DAY = date(YEAR, 12, 31)
ALL = {"A": "1", "B": "1", "C": "1", "D": "1"}


def plain_targets(gateway, usccs):
    """The given targets that are not key-inspection targets (risk class D or listed)."""
    with gateway.read() as session:
        rows = session.scalars(select(Target).where(Target.uscc.in_(usccs))).all()
        return sorted(t.uscc for t in rows if t.risk_class != "D" and not t.abnormal_list)


def register(gateway, uscc, department, channel="routine", day=1, **extra):
    with gateway.write() as session:
        principal = Principal(role="department_operator", name="登记员", department_code=department)
        row, check = ledger.register(session, principal, {
            "uscc": uscc, "department_code": department, "channel": channel, "legal_reason_code": "law",
            "legal_basis": "《中华人民共和国安全生产法》第六十五条", "inspected_on": date(YEAR, 3, day),
            "reference": f"{department}-{uscc}-{channel}-{day}", **extra}, today=LAST_DAY)
        return row.id, check


@pytest.fixture
def capped(gateway):
    directory = build_directory(gateway)
    oil = plain_targets(gateway, directory["targets"]["refined_oil"])
    department = gateway.registry.matters["refined_oil"].department_code
    others = [code for code in sorted(gateway.registry.departments) if code != department]
    with gateway.write() as session:
        ledger.publish_caps(session, COUNTY, year=YEAR, per_department=1, total=2, basis="武陟县涉企检查频次上限")
    register(gateway, oil[0], department)                   # at its department's cap for refined_oil
    register(gateway, oil[1], others[0])                    # at the total cap: out of every matter
    register(gateway, oil[1], others[1])
    for day in (1, 2, 3):                                    # complaints are exempt: never counted
        register(gateway, oil[2], department, "complaint", day)
    return {"oil": oil, "department": department, "others": others}


def record_of(gateway, draw_id):
    """The public record, its exclusions put back into the index's fields (see inline_exclusions)."""
    return inline_exclusions(raw_record(gateway, draw_id))


def raw_record(gateway, draw_id):
    with gateway.read() as session:
        return json.loads(draws.public_record(draws.get_draw(session, draw_id)))


def inline_exclusions(record):
    """A shuangsui.draw/2 record keeps its exclusions, with their caps counts, in parts of their own
    (``exclusion_parts``, hashed in the index): put back into the index's fields, as records made
    before those parts had them (and which still verify), a test can change a count and see the
    caps check itself answer, not only the part's hash."""
    pieces = record.pop("exclusion_parts", None)
    if pieces is None:
        return record
    del record["parts"]["exclusions"]
    record["exclusions"] = [e for piece in pieces for e in piece["exclusions"]]
    if "inspection_caps" in record:
        record["inspection_caps"]["counts"] = {u: c for piece in pieces for u, c in piece["counts"].items()}
    return record


def run_script(tmp_path, record):
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True,
                          encoding="utf-8", timeout=60)


def test_targets_at_a_cap_are_excluded_with_their_counts_and_verify_rechecks_it(gateway, capped, tmp_path):
    oil, department = capped["oil"], capped["department"]
    draw_id = complete_draw(gateway, published_plan(gateway, ratios=ALL))
    raw = raw_record(gateway, draw_id)
    # As published: the exclusions and their counts in parts, out of the index; a changed count is named.
    assert "exclusions" not in raw and "counts" not in raw["inspection_caps"] and raw["parts"]["exclusions"]
    assert verify_record(raw).ok and run_script(tmp_path, raw).returncode == 0
    changed = copy.deepcopy(raw)
    changed["exclusion_parts"][0]["counts"][capped["oil"][0]]["total"] = 0
    parts = next(f for f in verify_record(changed).checks if f.subject == "parts")
    assert not parts.ok and "排除分块 1" in parts.reason
    assert "排除分块 1" in run_script(tmp_path, changed).stdout
    record = record_of(gateway, draw_id)
    exclusions = {(e["uscc"], e["matter"]): e["reason"] for e in record["exclusions"]}
    assert exclusions[(oil[0], "refined_oil")] == "inspection_cap_reached"
    assert exclusions[(oil[1], None)] == "inspection_cap_reached"
    assert not any(uscc == oil[2] for uscc, _ in exclusions)
    oil_population = {u for s in record["strata"] if s["matter"] == "refined_oil" for u in s["population"]}
    assert oil[0] not in oil_population and oil[1] not in oil_population and oil[2] in oil_population
    section = record["inspection_caps"]
    assert (section["per_department"], section["total"], section["version"]) == (1, 2, 1)
    assert sorted(section["exempt_channels"]) == ["case", "complaint", "referral"]
    assert section["counts"] == {
        oil[0]: {"total": 1, "by_department": {department: 1}},
        oil[1]: {"total": 2, "by_department": {capped["others"][0]: 1, capped["others"][1]: 1}},
    }
    assert record["exclusion_reasons"]["inspection_cap_reached"]
    report = verify_record(record)
    assert report.ok, report.lines()
    assert any(f.subject == "inspection_caps" and f.ok for f in report.checks)
    result = run_script(tmp_path, record)
    assert result.returncode == 0 and "检查次数上限：一致" in result.stdout, result.stdout

    # a joint visit (综合查一次) counts once in the total and once for each department in it
    joint = copy.deepcopy(record)
    joint["inspection_caps"]["counts"][oil[1]] = {"total": 2, "by_department": {capped["others"][0]: 2,
                                                                                capped["others"][1]: 1}}
    assert verify_record(joint).ok, verify_record(joint).lines()
    result = run_script(tmp_path, joint)
    assert result.returncode == 0 and "检查次数上限：一致" in result.stdout, result.stdout

    for tamper in (
        lambda r: r["inspection_caps"]["counts"][oil[1]].update(by_department={capped["others"][0]: 3}),
        lambda r: r["inspection_caps"]["counts"][oil[0]].update(total=0, by_department={department: 0}),
        lambda r: r["inspection_caps"]["counts"][oil[1]].update(total=1, by_department={capped["others"][0]: 1}),
        lambda r: r["inspection_caps"]["counts"][oil[1]].update(total=3),
        lambda r: r["inspection_caps"].update(total=5),
        lambda r: r["inspection_caps"]["counts"].pop(oil[0]),
        lambda r: r.pop("inspection_caps"),
    ):
        tampered = copy.deepcopy(record)
        tamper(tampered)
        report = verify_record(tampered)
        assert not report.ok and not next(f for f in report.checks if f.subject == "inspection_caps").ok
        result = run_script(tmp_path, tampered)
        assert result.returncode == 1 and "检查次数上限：不一致" in result.stdout, result.stdout


def test_without_published_caps_nothing_is_excluded_for_them(gateway):
    directory = build_directory(gateway)
    oil = plain_targets(gateway, directory["targets"]["refined_oil"])
    department = gateway.registry.matters["refined_oil"].department_code
    for day in (1, 2, 3):
        register(gateway, oil[0], department, "routine", day)
    record = record_of(gateway, complete_draw(gateway, published_plan(gateway, ratios=ALL)))
    assert "inspection_caps" not in record
    assert not any(e["reason"] == "inspection_cap_reached" for e in record["exclusions"])
    assert verify_record(record).ok
    assert "检查次数上限：本记录未适用" in run_script_text(record)


def run_script_text(record):
    return subprocess.run([sys.executable, str(SCRIPT), "/dev/stdin"], input=json.dumps(record, ensure_ascii=False),
                          capture_output=True, text=True, encoding="utf-8", timeout=60).stdout


def test_key_targets_are_exempt_from_the_caps_unless_the_caps_say_otherwise(gateway):
    directory = build_directory(gateway)
    oil = directory["targets"]["refined_oil"]
    with gateway.read() as session:
        key = next(t.uscc for t in session.scalars(select(Target).where(Target.uscc.in_(oil))) if t.risk_class == "D")
    department = gateway.registry.matters["refined_oil"].department_code
    with gateway.write() as session:
        ledger.publish_caps(session, COUNTY, year=YEAR, per_department=1, total=2)
    register(gateway, key, department)
    first = record_of(gateway, complete_draw(gateway, published_plan(gateway, ratios=ALL)))
    assert key in {u for s in first["strata"] if s["key"] == "refined_oil:key" for u in s["population"]}
    with gateway.write() as session:
        ledger.publish_caps(session, COUNTY, year=YEAR, per_department=5, total=5, key_targets_exempt=False)
        ledger.publish_caps(session, COUNTY, year=YEAR, per_department=1, total=5, key_targets_exempt=False)
    second = record_of(gateway, complete_draw(gateway, published_plan(gateway, ratios=ALL)))
    assert second["inspection_caps"]["version"] == 3
    assert (key, "refined_oil") in {(e["uscc"], e["matter"]) for e in second["exclusions"]
                                    if e["reason"] == "inspection_cap_reached"}
    assert verify_record(second).ok


def test_registering_over_a_cap_needs_a_reason(gateway, capped):
    oil, department = capped["oil"], capped["department"]
    with pytest.raises(Invalid) as caught:
        register(gateway, oil[0], department, day=9)
    assert caught.value.code == "over_cap_reason_required"
    assert "over_cap_reason" in caught.value.errors and "上限 1 次" in caught.value.message
    _, check = register(gateway, oil[2], department, "complaint", 9)  # exempt: never over
    assert check.over == () and check.counted is False
    registration, check = register(gateway, oil[0], department, day=9,
                                   over_cap_reason="《安全生产法》第六十五条：发现重大事故隐患须复查")
    assert check.over == ("per_department",)
    with gateway.read() as session:
        flagged = ledger.over_cap_registrations(session, YEAR)
        assert [r.id for r in flagged] == [registration]


def test_a_target_brought_to_a_cap_by_an_earlier_draw_is_excluded_from_the_next(gateway):
    """The first draw's tasks are counted as additions (not in the counts tables): the second
    freeze adds them in, and excludes the target they bring to the total cap, with its counts."""
    directory = build_directory(gateway)
    oil = plain_targets(gateway, directory["targets"]["refined_oil"])
    department = gateway.registry.matters["refined_oil"].department_code
    with gateway.write() as session:
        ledger.publish_caps(session, COUNTY, year=YEAR, per_department=2, total=2)
    register(gateway, oil[0], department)
    complete_draw(gateway, published_plan(gateway, ratios=ALL))
    with gateway.read() as session:
        tables = session.scalar(select(LedgerTargetCount.n).where(LedgerTargetCount.year == YEAR,
                                                                 LedgerTargetCount.uscc == oil[0]))
        added = session.scalar(select(func.sum(LedgerCountAddition.n)).where(LedgerCountAddition.year == YEAR,
                                                                            LedgerCountAddition.uscc == oil[0]))
    assert (tables, added) == (1, 1)                        # at the cap only with the draw's addition
    second = record_of(gateway, complete_draw(gateway, published_plan(gateway, ratios=ALL)))
    capped = {e["uscc"] for e in second["exclusions"] if e["reason"] == "inspection_cap_reached"}
    assert capped == {oil[0]}
    assert second["inspection_caps"]["counts"][oil[0]]["total"] == 2
    assert verify_record(second).ok


def test_a_draw_counts_each_task_once_under_its_lead_department(gateway):
    """Each stratum adds its drawn targets under its own matter's lead department while the draw
    goes on; a target drawn for matters of several departments is then counted once, under its
    task's lead department: the additions are exactly the tasks."""
    directory = build_directory(gateway)
    draw_id = complete_draw(gateway, published_plan(gateway, ratios=ALL))
    with gateway.read() as session:
        added = {(uscc, department): n for uscc, department, n in session.execute(
            select(LedgerCountAddition.uscc, LedgerCountAddition.department_code, LedgerCountAddition.n)
            .where(LedgerCountAddition.draw_id == draw_id))}
        tasks = session.execute(select(Target.uscc, Task.lead_department, Task.matter_codes)
                                .join(Target, Target.id == Task.target_id).where(Task.draw_id == draw_id)).all()
    departments = {m: gateway.registry.matters[m].department_code for m in gateway.registry.matters}
    joint = [t for t in tasks if len({departments[m] for m in t.matter_codes}) > 1]
    assert {t.uscc for t in joint} <= set(directory["targets"]["joint"]) and joint  # the correction is exercised
    assert added == {(t.uscc, t.lead_department): 1 for t in tasks}
