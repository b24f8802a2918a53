"""``shuangsui task reassign``: the article 14 workflow from the command line, on the real services."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli.main import cli
from gateway.directory.models import Inspector
from gateway.security.audit import AuditEntry
from gateway.tasks.models import Reassignment, Task
from tests.drawdb import drawn_directory


@pytest.fixture
def drawn(gateway):
    draw_id = drawn_directory(gateway)
    with gateway.read() as session:
        task = session.scalars(select(Task).where(Task.draw_id == draw_id).order_by(Task.id)).first()
        member = next(m for m in task.members if m.active)
        return {"task_id": task.id, "leaving": member.inspector_id, "department": member.department_code}


@pytest.fixture
def shuangsui(settings):
    runner = CliRunner()
    base = ["--database-url", settings.database_url, "--instance", str(settings.instance_path)]

    def run(*args: str):
        return runner.invoke(cli, base + ["task", "reassign", *args])

    return run


def _request(shuangsui, drawn, kind="conflict", reason="其配偶在该企业任职"):
    result = shuangsui("request", str(drawn["task_id"]), "--inspector", str(drawn["leaving"]),
                       "--reason-kind", kind, "--reason", reason, "--as-department", drawn["department"],
                       "--by", "王办事员")
    assert result.exit_code == 0, result.output
    with_id = result.output.split("已提交调整申请 ")[1]
    return int(with_id.split("（")[0])


def test_request_approve_file_and_list(gateway, drawn, shuangsui):
    item_id = _request(shuangsui, drawn)
    approved = shuangsui("approve", str(item_id), "--as-head", drawn["department"], "--note", "同意回避",
                         "--by", "李局长")
    assert approved.exit_code == 0, approved.output
    assert "已批准调整申请" in approved.output and "待县双随机办备案" in approved.output
    filed = shuangsui("file", str(item_id), "--by", "王办事员")
    assert filed.exit_code == 0, filed.output
    assert "备案号 武陟调备〔" in filed.output

    with gateway.read() as session:
        item = session.get(Reassignment, item_id)
        assert (item.status, item.filing_status, item.reason_code) == ("approved", "filed", "conflict_of_interest")
        assert item.requested_by.endswith("王办事员") and item.decided_by.endswith("李局长")
        assert item.decision_note == "同意回避"
        task = session.get(Task, drawn["task_id"])
        active = {m.inspector_id for m in task.members if m.active}
        assert drawn["leaving"] not in active and item.replacement_inspector_id in active
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action.like("reassignments.%"))
                                .order_by(AuditEntry.id)).all()
        assert [(a.action, a.actor_role) for a in audit] == [
            ("reassignments.request", "department_operator"), ("reassignments.approve", "department_head"),
            ("reassignments.file", "county_office")]
        assert audit[1].actor_department == drawn["department"]

    listed = shuangsui("list", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert row["id"] == item_id and row["status"] == "approved" and row["filing_status"] == "filed"
    text = shuangsui("list")
    assert text.exit_code == 0 and "已批准" in text.output and row["filing_number"] in text.output


def test_replacement_is_reproducible_from_the_recorded_inputs(gateway, drawn, shuangsui, settings):
    """The replacement is the draw's own rule on the kept inputs: lowest (load, ticket of the draw
    record's opaque id under the seed the approval revealed); the public record re-runs it."""
    from gateway.config import _instance_secret
    from gateway.draw.reassignment import choose, reassignment_problems
    from gateway.draw.record import opaque_inspector_id

    item_id = _request(shuangsui, drawn, kind="other", reason="病假")
    approved = shuangsui("approve", str(item_id), "--as-head", drawn["department"])
    assert approved.exit_code == 0, approved.output
    with gateway.read() as session:
        item = session.get(Reassignment, item_id)
        record = item.replacement_inputs["record"]
        assert reassignment_problems(record) == []
        key = _instance_secret(settings.instance_path).encode("utf-8")  # the command's own key
        by_opaque = {opaque_inspector_id(record["draw_id"], str(i), key): i
                     for i in session.scalars(select(Inspector.id))}
        expected = by_opaque[choose(record["candidates"], record["barred"], record["seed"])]
        assert item.replacement_inspector_id == expected
        assert str(drawn["leaving"]) in item.replacement_inputs["barred"]
    assert f"（{expected}）替换" in approved.output


def test_refusals_exit_1_with_a_chinese_message(gateway, drawn, shuangsui):
    task_id = str(drawn["task_id"])
    dept = ["--as-department", drawn["department"]]
    unknown = shuangsui("request", task_id, *dept, "--inspector", "999999", "--reason-kind", "other", "--reason", "x")
    assert unknown.exit_code == 1 and "不在任务" in unknown.output and "inspector_id" in unknown.output
    blank = shuangsui("request", task_id, *dept, "--inspector", str(drawn["leaving"]), "--reason-kind", "other",
                      "--reason", "  ")
    assert blank.exit_code == 1 and "情况说明不能为空" in blank.output
    assert shuangsui("request", task_id, *dept, "--inspector", str(drawn["leaving"]), "--reason-kind", "bribe",
                     "--reason", "x").exit_code == 2  # click's usage error
    item_id = _request(shuangsui, drawn, kind="other", reason="出差")
    twice = shuangsui("request", task_id, *dept, "--inspector", str(drawn["leaving"]), "--reason-kind", "other",
                      "--reason", "再次")
    assert twice.exit_code == 1 and "待审批的调整申请" in twice.output

    assert shuangsui("approve", str(item_id)).exit_code == 2  # --as-head is required
    nowhere = shuangsui("approve", str(item_id), "--as-head", "nowhere")
    assert nowhere.exit_code == 1 and "未知部门 nowhere" in nowhere.output
    outsider = next(code for code in gateway.registry.departments if code != drawn["department"])
    foreign = shuangsui("request", task_id, "--as-department", outsider, "--inspector", str(drawn["leaving"]),
                        "--reason-kind", "other", "--reason", "x")
    assert foreign.exit_code == 1 and "无权执行此操作" in foreign.output
    wrong = shuangsui("approve", str(item_id), "--as-head", outsider)
    assert wrong.exit_code == 1 and "无权执行此操作" in wrong.output
    early = shuangsui("file", str(item_id))
    assert early.exit_code == 1 and "只有已批准且尚未备案的人员调整才能备案" in early.output
    no_note = shuangsui("reject", str(item_id), "--as-head", drawn["department"])
    assert no_note.exit_code == 1 and "--note" in no_note.output
    rejected = shuangsui("reject", str(item_id), "--as-head", drawn["department"], "--note", "理由不充分")
    assert rejected.exit_code == 0 and "检查组保持不变" in rejected.output
    decided = shuangsui("approve", str(item_id), "--as-head", drawn["department"])
    assert decided.exit_code == 1 and "该申请未批准，不能再次审批" in decided.output
    missing = shuangsui("file", "424242")
    assert missing.exit_code == 1 and "424242" in missing.output
    with gateway.read() as session:
        task = session.get(Task, drawn["task_id"])
        assert drawn["leaving"] in {m.inspector_id for m in task.members if m.active}
