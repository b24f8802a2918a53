"""The draw record lists every eligibility change between the plan's publication and the freeze
that moved a target into or out of a stratum (issue 15, item 1); ``shuangsui verify`` and
docs/verify_draw.py re-check the section against the frozen strata."""
from __future__ import annotations

import copy
import json

from sqlalchemy import select

from gateway.directory import service as directory
from gateway.directory.models import Target
from gateway.draw import service as draws
from gateway.draw.record import canonical_sha256
from gateway.draw.verify import verify_record
from gateway.security.principal import Principal
from tests.draw.test_draw_script import run_script
from tests.drawdb import COUNTY, build_directory, complete_draw, published_plan

MARKET_HEAD = Principal(role="department_head", name="市场监管局负责人", department_code="market")


def _plain_b_target(gateway, usccs: list[str]) -> str:
    with gateway.read() as session:
        return session.scalar(select(Target.uscc).where(
            Target.uscc.in_(usccs), Target.risk_class == "B", Target.abnormal_list.is_(False),
            Target.serious_violation_list.is_(False), Target.complaint_count < 3, Target.status == "operating")
            .order_by(Target.uscc).limit(1))


def _draw_with_changes(gateway):
    made = build_directory(gateway)
    matter = next(iter(gateway.registry.matters))
    raised, closed, before = _plain_b_target(gateway, made["targets"][matter][:6]), None, None
    others = [u for u in made["targets"][matter] if u != raised]
    with gateway.write() as session:
        before = _plain_b_target(gateway, others)
        # Before the plan is published: not the draw's business.
        directory.update_target(session, before, {"risk_class": "A", "reason_code": "credit_reclassified"}, COUNTY)
    plan_id = published_plan(gateway, matters=[matter])
    closed = _plain_b_target(gateway, [u for u in others if u != before])
    with gateway.write() as session:
        directory.update_target(session, raised, {"risk_class": "D", "reason_code": "credit_reclassified"}, MARKET_HEAD)
        directory.update_target(session, closed, {"active": False, "reason_code": "out_of_jurisdiction"}, COUNTY)
    draw_id = complete_draw(gateway, plan_id)
    with gateway.read() as session:
        record = json.loads(draws.public_record(draws.get_draw(session, draw_id)))
    record["_draw_id"] = draw_id
    return record, matter, raised, closed, before


def test_the_record_lists_the_changes_that_moved_targets_before_the_freeze(gateway, tmp_path):
    record, matter, raised, closed, before = _draw_with_changes(gateway)
    del record["_draw_id"]
    section = record["eligibility_changes"]
    moves = {m["uscc"]: m for m in section["moves"]}
    assert set(moves) == {raised, closed}  # the change before publication is not listed
    assert (moves[raised]["moved_out"], moves[raised]["moved_in"]) == ([f"{matter}:B"], [f"{matter}:key"])
    assert (moves[closed]["moved_out"], moves[closed]["moved_in"]) == ([f"{matter}:B"], [])
    change = moves[closed]["changes"][0]
    assert (change["field"], change["old"], change["new"], change["reason"]) == ("active", "true", "false", "out_of_jurisdiction")
    assert section["reasons"]["out_of_jurisdiction"] == "不属于本县监管范围"
    # The actor is opaque: neither the name nor the role is in the record.
    assert len(change["actor"]) == 16 and "测试办公室" not in json.dumps(section, ensure_ascii=False)
    assert section["window"]["from"] <= change["at"] <= section["window"]["to"] == record["frozen_at"]

    report = verify_record(record)
    assert report.ok, report.lines()
    assert "冻结前抽取资格变更：一致" in report.lines()
    result = run_script(tmp_path, record)
    assert result.returncode == 0, result.stdout
    assert "冻结前抽取资格变更：一致" in result.stdout


def _tampered(record, change) -> dict:
    bad = copy.deepcopy(record)
    change(bad["eligibility_changes"])
    bad["eligibility_changes"]["moves_sha256"] = canonical_sha256(bad["eligibility_changes"]["moves"])
    return bad


def test_verify_and_the_script_refuse_a_section_that_does_not_fit_the_frozen_strata(gateway, tmp_path):
    record, matter, raised, closed, _ = _draw_with_changes(gateway)
    del record["_draw_id"]
    unhashed = copy.deepcopy(record)
    unhashed["eligibility_changes"]["moves"].pop()
    wrong_in = _tampered(record, lambda s: s["moves"][0]["moved_in"].append(f"{matter}:A"))
    still_in = _tampered(record, lambda s: [m["moved_out"].append(f"{matter}:key") for m in s["moves"] if m["uscc"] == raised])
    unknown = _tampered(record, lambda s: s["moves"][0]["changes"][0].update(reason="because"))
    late = _tampered(record, lambda s: s["moves"][0]["changes"][0].update(at="2999-01-01T00:00:00+08:00"))
    for bad, why in ((unhashed, "moves_sha256"), (wrong_in, "列为移入"), (still_in, "列为移出"),
                     (unknown, "原因代码未知"), (late, "不在公布至冻结的期间内")):
        report = verify_record(bad)
        assert not report.ok and why in "\n".join(report.lines())
        result = run_script(tmp_path, bad)
        assert result.returncode == 1 and why in result.stdout, result.stdout


def test_a_record_without_the_section_still_verifies(gateway, tmp_path):
    record, *_ = _draw_with_changes(gateway)
    del record["eligibility_changes"], record["_draw_id"]
    assert verify_record(record).ok
    assert run_script(tmp_path, record).returncode == 0


def test_the_public_draw_page_shows_the_changes_in_chinese(gateway, client):
    record, matter, raised, closed, _ = _draw_with_changes(gateway)
    page = client.get(f"/draws/{record['_draw_id']}").get_data(as_text=True)
    assert "冻结前抽取资格变更" in page
    assert raised in page and closed in page
    assert "在册（参与抽取）：是 → 否" in page and "不属于本县监管范围" in page
    assert "信用风险分类：B 类 → D 类" in page and "重点抽查对象" in page
    assert "测试办公室" not in page and "市场监管局负责人" not in page
