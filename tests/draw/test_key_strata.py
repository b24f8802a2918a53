"""Article 15/28, key targets (应当实施重点抽查，不受次数限制): inspected apart, in their own stratum
per matter, all of them unless the plan states a (higher) share; re-run by `shuangsui verify` and
docs/verify_draw.py. On both databases."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.directory.models import Target
from gateway.draw import service as draws
from gateway.draw.verify import verify_record
from gateway.errors import DomainError
from gateway.planning import service as plans
from gateway.tasks.models import Task
from tests.drawdb import COUNTY, build_directory, complete_draw, plan_body, published_plan

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_draw.py"
LOW = {"A": "0.01", "B": "0.1", "C": "0.2", "D": "0.3"}
CLASS_A_IS_KEY = {"risk_classes": ["A"], "abnormal_list": False, "serious_violation_list": False,
                  "min_complaints": None}


@pytest.fixture
def directory(gateway):
    return build_directory(gateway, per_matter=16)


def record_of(gateway, draw_id):
    with gateway.read() as session:
        return json.loads(draws.public_record(draws.get_draw(session, draw_id)))


def script_verdict(tmp_path, record) -> tuple[int, str]:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True,
                            encoding="utf-8", env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=60)
    return result.returncode, result.stdout


def test_key_targets_are_all_inspected_in_their_own_stratum(gateway, directory, tmp_path):
    draw_id = complete_draw(gateway, published_plan(gateway, ratios=LOW, key_rule=CLASS_A_IS_KEY))
    record = record_of(gateway, draw_id)
    with gateway.read() as session:
        class_a = set(session.scalars(select(Target.uscc).where(Target.risk_class == "A")))
        key_tasks = {t.target.uscc for t in session.scalars(select(Task).where(Task.draw_id == draw_id))
                     if t.key_inspection}
    by_key = {s["key"]: s for s in record["strata"]}
    drawn = set()
    for matter in record["plan"]["matters"]:
        key_stratum = by_key[f"{matter['code']}:key"]
        assert key_stratum["ratio"] == "1" and key_stratum["population"]
        assert set(key_stratum["population"]) <= class_a
        assert key_stratum["selected"] and sorted(key_stratum["selected"]) == key_stratum["population"]
        assert by_key[f"{matter['code']}:A"]["population"] == []  # no class-A target left at the ordinary 1%
        drawn |= set(key_stratum["selected"])
    assert drawn == key_tasks
    report = verify_record(record)
    assert report.ok, report.lines()
    assert "重点抽查分层：一致" in report.lines()
    code, output = script_verdict(tmp_path, record)
    assert code == 0 and "重点抽查分层：一致" in output, output


def test_a_plan_may_state_a_higher_share_per_matter_and_the_record_holds_it_to_that(gateway, directory, tmp_path):
    matter = sorted(gateway.registry.matters)[0]
    rule = {**CLASS_A_IS_KEY, "ratios": {matter: "0.5"}}
    record = record_of(gateway, complete_draw(gateway, published_plan(gateway, ratios=LOW, key_rule=rule)))
    key_stratum = next(s for s in record["strata"] if s["key"] == f"{matter}:key")
    assert key_stratum["ratio"] == "0.5"
    assert key_stratum["sample_size"] == math.ceil(len(key_stratum["population"]) / 2) < len(key_stratum["population"])
    assert verify_record(record).ok
    # A record whose key stratum is drawn below the plan's key ratio is named by both verifiers.
    record["key_rule"]["ratios"][matter] = "0.8"
    report = verify_record(record)
    assert not report.ok and report.mismatched_strata == []
    assert any(f.subject == "key_strata" and not f.ok and f"{matter}:key" in f.reason for f in report.checks)
    code, output = script_verdict(tmp_path, record)
    assert code == 1 and f"重点抽查分层：不一致（分层 {matter}:key 的比例应为 0.8" in output


def test_verifiers_refuse_key_targets_left_in_an_ordinary_stratum(gateway, directory, tmp_path):
    record = record_of(gateway, complete_draw(gateway, published_plan(gateway, ratios=LOW, key_rule=CLASS_A_IS_KEY)))
    ordinary = next(s for s in record["strata"] if s["key"].endswith(":B") and s["population"])
    ordinary["key_targets"] = ordinary["population"][:1]
    report = verify_record(record)
    assert any(f.subject == "key_strata" and not f.ok for f in report.checks)
    code, output = script_verdict(tmp_path, record)
    assert code == 1 and f"重点抽查对象应只在分层 {ordinary['matter']}:key 中" in output


@pytest.mark.parametrize("ratios, field", [
    ({"FIRST": "0.2"}, "key_rule.ratios.FIRST"),  # below the matter's 0.3 for class D
    ({"no_such_matter": "1"}, "key_rule.ratios.no_such_matter"),
])
def test_a_key_ratio_names_a_plan_matter_and_is_not_below_its_ordinary_ratios(gateway, ratios, field):
    matter = sorted(gateway.registry.matters)[0]
    ratios = {k.replace("FIRST", matter): v for k, v in ratios.items()}
    field = field.replace("FIRST", matter)
    body = plan_body(gateway, ratios=LOW, key_rule={**CLASS_A_IS_KEY, "ratios": ratios})
    with pytest.raises(DomainError) as raised, gateway.write() as session:
        plans.create_plan(session, COUNTY, body, gateway.settings)
    assert raised.value.code == "validation_error" and list(raised.value.errors) == [field]


def test_the_plan_api_names_a_bad_key_ratio_and_shows_the_key_strata(gateway, client_as):
    office = client_as("county_office")
    matter = sorted(gateway.registry.matters)[0]
    body = plan_body(gateway, ratios=LOW, key_rule={"ratios": {matter: "2"}})
    body.update(window_start=body["window_start"].isoformat(), window_end=body["window_end"].isoformat())
    refused = office.post("/api/v1/plans", json=body)
    assert refused.status_code == 422 and refused.json["code"] == "validation_error", refused.json
    assert "key_rule" in refused.json["errors"] and "0 到 1" in json.dumps(refused.json["errors"], ensure_ascii=False)
    body["key_rule"] = {"ratios": {matter: "0.5"}}
    created = office.post("/api/v1/plans", json=body)
    assert created.status_code == 201, created.json
    strata = {s["key"]: s for s in created.json["strata"]}
    assert strata[f"{matter}:key"]["ratio"] == "0.5" and strata[f"{matter}:key"]["risk_class"] == ""
    assert created.json["key_rule"]["ratios"] == {matter: "0.5"}
    assert all(strata[f"{code}:key"]["ratio"] == "1" for code in gateway.registry.matters if code != matter)
