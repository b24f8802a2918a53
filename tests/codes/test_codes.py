"""Inspection codes (检查码): signed tokens that verify offline, name what was tampered with,
survive key rotation, go stale when the team changes, and a public page with no personal data."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.codes import keys, service, token
from gateway.draw.models import Draw
from gateway.security.principal import Principal
from gateway.tasks import reassign
from gateway.tasks.models import Task

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "verify_code.py"
SHUANGSUI = Path(sys.executable).with_name("shuangsui")


def code_of(gateway, task_id: int) -> str:
    with gateway.read() as session:
        return service.issue(session, gateway.settings, session.get(Task, task_id))


def tampered(code: str, **changes) -> str:
    """The code with payload fields changed (header and signature kept)."""
    header, payload, signature = code.split(".")
    claims = json.loads(token.unb64url(payload))
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims, ensure_ascii=False).encode()).rstrip(b"=").decode()
    return ".".join((header, body, signature))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture
def files(gateway, drawn, tmp_path):
    """The published keys and the public draw record, as files anyone can download."""
    (tmp_path / "keys.json").write_text(json.dumps(keys.published_keys(gateway.settings)), "utf-8")
    with gateway.read() as session:
        (tmp_path / "record.json").write_text(session.get(Draw, drawn.draw_id).record, "utf-8")
    return tmp_path


def test_a_genuine_code_verifies_offline_with_the_cli_and_the_script(gateway, drawn, files):
    code = code_of(gateway, drawn.task_id)
    claims = token.verify(code, keys.published_keys(gateway.settings)).claims
    with gateway.read() as session:
        task = session.get(Task, drawn.task_id)
        assert claims["task"] == task.number and claims["uscc"] == task.target.uscc
        assert claims["window"] == [task.window_start.isoformat(), task.window_end.isoformat()]
        record = json.loads(session.get(Draw, drawn.draw_id).record)
    # the draw proof is the record's: the task's ticket, and the record publishes the signing key
    entry = next(t for t in record["tasks"] if t["number"] == claims["task"])
    assert claims["ticket"] == entry["ticket"] and claims["seed"] == record["seed"]
    assert claims["cuts"] and {k["kid"] for k in record["signing_keys"]["keys"]} == {code.split(".")[0] and
                                                                                     token.parse(code)[0]["kid"]}
    for command in ([str(SHUANGSUI), "verify-code", code, "--keys", "keys.json", "--record", "record.json"],
                    [sys.executable, str(SCRIPT), "https://gateway.example/code/" + code, "--keys", "keys.json",
                     "--record", "record.json"]):
        result = run(*command, cwd=files)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "结论：检查码真实" in result.stdout and claims["uscc"] in result.stdout


@pytest.mark.parametrize("field, value, label", [
    ("uscc", "91410823MA0000000X", "统一社会信用代码（uscc）被改动"),
    ("window", ["2020-01-01", "2020-12-31"], "检查时间窗口（window）被改动"),
    ("departments", ["market"], "检查部门（departments）被改动"),
])
def test_each_tampered_field_is_refused_by_name(gateway, drawn, files, field, value, label):
    bad = tampered(code_of(gateway, drawn.task_id), **{field: value})
    check = token.verify(bad, keys.published_keys(gateway.settings))
    assert not check.ok and any(label in problem for problem in check.problems)
    for command in ([str(SHUANGSUI), "verify-code", bad, "--keys", "keys.json"],
                    [sys.executable, str(SCRIPT), bad, "--keys", "keys.json"]):
        result = run(*command, cwd=files)
        assert result.returncode == 1 and label in result.stdout and "结论：检查码不可信" in result.stdout
    # a changed USCC also breaks the draw proof: its ticket is not the one signed
    if field == "uscc":
        assert any("票号与统一社会信用代码" in problem for problem in check.problems)


def test_a_moved_cut_or_a_foreign_record_is_refused(gateway, drawn, files):
    code = code_of(gateway, drawn.task_id)
    claims = token.verify(code, keys.published_keys(gateway.settings)).claims
    low = {key: "0." + "0" * 64 for key in claims["cuts"]}
    check = token.verify(tampered(code, cuts=low), keys.published_keys(gateway.settings))
    assert any("分层截止值（cuts）被改动" in p for p in check.problems)
    assert any("票号不小于截止值" in p for p in check.problems)
    (files / "other.json").write_text((files / "record.json").read_text("utf-8") + " ", "utf-8")
    result = run(sys.executable, str(SCRIPT), code, "--keys", "keys.json", "--record", "other.json", cwd=files)
    assert result.returncode == 1 and "指纹" in result.stdout


def test_key_rotation_keeps_old_codes_verifiable(gateway, drawn, tmp_path):
    old = code_of(gateway, drawn.task_id)
    old_kid = token.parse(old)[0]["kid"]
    new_kid = keys.rotate(gateway.settings)
    new = code_of(gateway, drawn.task_id)
    assert token.parse(new)[0]["kid"] == new_kid != old_kid
    published = keys.published_keys(gateway.settings)
    assert {k["kid"]: k["status"] for k in published["keys"]} == {old_kid: "retired", new_kid: "active"}
    old_check = token.verify(old, published)
    assert old_check.ok and old_check.key_status == "retired"
    assert token.verify(new, published).ok
    # the private keys stay in the key folder, readable by the owner only; never in the key set
    folder = keys.key_folder(gateway.settings)
    assert all((folder / f"{kid}.pem").stat().st_mode & 0o077 == 0 for kid in (old_kid, new_kid))
    assert "PRIVATE" not in json.dumps(published)
    (tmp_path / "keys.json").write_text(json.dumps(published), "utf-8")
    result = run(sys.executable, str(SCRIPT), old, "--keys", "keys.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    # without the retired key the old code is refused, naming the key
    only_new = {**published, "keys": [k for k in published["keys"] if k["kid"] == new_kid]}
    assert any(old_kid in p for p in token.verify(old, only_new).problems)


def _replace_a_member(gateway, task_id: int) -> None:
    with gateway.read() as session:
        task = session.get(Task, task_id)
        leaving = next(m for m in task.members if m.active and m.role != "lead")
        department, inspector_id = leaving.department_code, leaving.inspector_id
    operator = Principal(role="department_operator", department_code=department, name="操作员")
    head = Principal(role="department_head", department_code=department, name="负责人")
    with gateway.write() as session:
        item = reassign.request(session, operator, task_id,
                                {"inspector_id": inspector_id, "reason_code": "other", "reason": "病假"})
        item_id = item.id
    with gateway.write() as session:
        reassign.approve(session, head, item_id, settings=gateway.settings)


def test_a_reassigned_team_makes_the_old_code_no_longer_current(gateway, drawn, client):
    old = code_of(gateway, drawn.task_id)
    assert client.get("/api/v1/inspection-codes/status", query_string={"token": old}).json["current"] is True
    _replace_a_member(gateway, drawn.task_id)
    stale = client.get("/api/v1/inspection-codes/status", query_string={"token": old}).json
    assert stale["genuine"] is True and stale["current"] is False
    assert any("检查组成员已调整" in reason for reason in stale["not_current"])
    page = client.get(f"/code/{old}")
    assert page.status_code == 200 and "已不是当前有效的检查" in page.get_data(as_text=True)
    fresh = client.get("/api/v1/inspection-codes/status", query_string={"token": code_of(gateway, drawn.task_id)}).json
    # the page shows the team as it stands, not the one the old code named
    named = json.loads(token.unb64url(old.split(".")[1]))["team"]
    assert fresh["current"] is True and [m["id"] for m in stale["team"]] == [m["id"] for m in fresh["team"]] != named


def test_a_code_outside_its_window_is_not_current(gateway, drawn):
    code = code_of(gateway, drawn.task_id)
    with gateway.read() as session:
        task = session.get(Task, drawn.task_id)
        after = service.read_code(session, gateway.settings, code, today=task.window_end.replace(year=task.window_end.year + 1))
    assert after.genuine and not after.current and any("已结束" in r for r in after.not_current)


def test_public_page_and_api_show_no_certificate_or_phone(gateway, drawn, client):
    code = code_of(gateway, drawn.task_id)
    page = client.get(f"/code/{code}")
    html = page.get_data(as_text=True)
    api = client.get("/api/v1/inspection-codes/status", query_string={"token": code}).get_data(as_text=True)
    assert page.status_code == 200 and "真实有效的检查" in html and "确认到场" in html
    with gateway.read() as session:
        task = session.get(Task, drawn.task_id)
        for member in task.members:
            for secret in (member.inspector.certificate_no, member.inspector.phone, member.inspector.name):
                assert secret and secret not in html and secret not in api and secret not in code
        assert task.target.uscc in html and "有效" in html


def test_keys_are_published_and_a_malformed_code_gets_a_chinese_4xx(gateway, drawn, client):
    code_of(gateway, drawn.task_id)
    well_known = client.get("/.well-known/shuangsui-keys.json")
    api = client.get("/api/v1/inspection-codes/keys")
    assert well_known.status_code == api.status_code == 200 and well_known.json == api.json
    assert well_known.json["format"] == token.KEYS_FORMAT and well_known.json["keys"][0]["status"] == "active"
    bad = client.get("/api/v1/inspection-codes/status", query_string={"token": "not-a-code"})
    assert bad.status_code == 422 and bad.json["code"] == "code_malformed" and "检查码格式错误" in bad.json["message"]
    page = client.get("/code/not.a.code")
    assert page.status_code == 422 and "无法识别的检查码" in page.get_data(as_text=True)


def test_the_team_sees_its_code_on_the_phone_and_the_sheet(gateway, drawn, client_as):
    inspector = client_as("inspector", inspector_id=drawn.inspector_id)
    shown = inspector.get(f"/api/v1/inspection-codes/tasks/{drawn.task_id}")
    assert shown.status_code == 200 and shown.json["url"].endswith("/code/" + shown.json["token"])
    assert token.verify(shown.json["token"], keys.published_keys(gateway.settings)).ok
    assert client_as("department_operator", department="agriculture").get(
        f"/api/v1/inspection-codes/tasks/{drawn.task_id}").status_code == 403
    sheet = client_as("county_office").get(f"/api/v1/tasks/{drawn.task_id}/sheet").get_data(as_text=True)
    assert "检查码" in sheet and "<svg" in sheet
    for page in (f"/console/tasks/{drawn.task_id}", f"/console/tasks/{drawn.task_id}/sheet"):
        html = inspector.get(page).get_data(as_text=True)
        assert 'class="card inspection-code"' in html and "<svg" in html and "/code/" in html


def test_a_forged_code_of_the_right_shape_is_shown_as_not_genuine_never_a_500(gateway, drawn, client):
    code = code_of(gateway, drawn.task_id)
    for changes in ({"window": "always"}, {"window": ["x", 3]}, {"cuts": {"a": 5}}, {"cuts": []},
                    {"departments": {"a": 1}}, {"ticket": None, "seed": 7}, {"task": ["x"]}):
        forged = tampered(code, **changes)
        answer = client.get("/api/v1/inspection-codes/status", query_string={"token": forged})
        assert answer.status_code == 200 and answer.json["genuine"] is False, (changes, answer.json)
        assert client.get(f"/code/{forged}").status_code == 200


def test_keys_commands_generate_list_and_rotate(tmp_path):
    instance = tmp_path / "instance"
    first = run(str(SHUANGSUI), "--instance", str(instance), "keys", "generate", cwd=tmp_path)
    assert first.returncode == 0 and "在用签名密钥" in first.stdout
    rotated = run(str(SHUANGSUI), "--instance", str(instance), "keys", "rotate", cwd=tmp_path)
    listed = run(str(SHUANGSUI), "--instance", str(instance), "keys", "list", cwd=tmp_path)
    assert rotated.returncode == listed.returncode == 0
    assert listed.stdout.count("在用") == 1 and listed.stdout.count("已停用") == 1
    assert (instance / "signing-keys").stat().st_mode & 0o077 == 0
    assert all(p.stat().st_mode & 0o077 == 0 for p in (instance / "signing-keys").glob("*.pem"))


def test_a_tasks_sheet_and_guide_pages_link_to_each_other(drawn, client_as):
    office = client_as("county_office")
    sheet = office.get(f"/console/tasks/{drawn.task_id}/sheet").get_data(as_text=True)
    guide = office.get(f"/console/tasks/{drawn.task_id}/guide").get_data(as_text=True)
    assert "<title>检查任务书 " in sheet and f'href="/console/tasks/{drawn.task_id}/guide">检查指引书</a>' in sheet
    assert "<title>检查指引书 " in guide and f'href="/console/tasks/{drawn.task_id}/sheet">检查任务书</a>' in guide
    assert 'class="card inspection-code"' in sheet and 'class="card inspection-code"' not in guide
