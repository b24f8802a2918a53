"""The draw through the API and the CLI: each stage a call, the public record, export and verification."""
from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from gateway.draw.commitment import commitment
from gateway.testing.cli import run_cli
from tests.drawdb import REVEALS, WITNESSES, build_directory, commitments_for, person, publish_filed, published_plan

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_draw.py"


def test_every_stage_is_a_call_and_the_public_sees_everything_but_names(gateway, client_as, client):
    build_directory(gateway, per_matter=6)
    plan_id = published_plan(gateway)
    office = client_as("county_office")

    frozen = office.post("/api/v1/draws", json={"plan_id": plan_id})
    assert frozen.status_code == 201, frozen.json
    draw_id = frozen.json["id"]
    public = client.get(f"/api/v1/draws/{draw_id}").json
    assert public["population_sha256"] == frozen.json["population_sha256"] and public["seed"] is None
    population = client.get(f"/api/v1/draws/{draw_id}/population").json
    assert [s["key"] for s in population["strata"]] == [s["key"] for s in public["strata"]]
    assert client.get(f"/api/v1/draws/{draw_id}/record").status_code == 404

    assert client.post(f"/api/v1/draws/{draw_id}/commitments", json={"commitments": commitments_for()}).status_code == 401
    bad = office.post(f"/api/v1/draws/{draw_id}/commitments", json={"commitments": [{"role": "boss", "name": "x", "commitment": "1"}]})
    assert bad.status_code == 422 and "commitments" in bad.json["errors"]
    committed = office.post(f"/api/v1/draws/{draw_id}/commitments", json={"commitments": commitments_for()})
    assert committed.status_code == 200 and committed.json["status"] == "committed"
    assert client.get(f"/api/v1/draws/{draw_id}").json["contributions"] is None  # nothing revealed yet
    seeded = office.post(f"/api/v1/draws/{draw_id}/seed", json={"contributions": REVEALS, "witnesses": WITNESSES})
    assert seeded.status_code == 200, seeded.json
    assert seeded.json["seed"] == "31415926535-89793238-46264338-3279"
    ran = office.post(f"/api/v1/draws/{draw_id}/run")
    assert ran.status_code == 200 and ran.json["status"] == "drawn" and ran.json["task_count"] > 0
    again = office.post(f"/api/v1/draws/{draw_id}/run")
    assert again.status_code == 409 and again.json["code"] == "draw_finished"

    record = client.get(f"/api/v1/draws/{draw_id}/record")
    assert record.status_code == 200 and record.mimetype == "application/json"
    assert record.headers["ETag"] == f'"{ran.json["record_sha256"]}"'
    body = record.json
    assert body["format"] == "shuangsui.draw/2" and body["population_sha256"] == frozen.json["population_sha256"]
    assert hashlib.sha256(record.data).hexdigest() == ran.json["record_sha256"]
    # a client that accepts gzip gets the stored bytes, which unpack to the very same text
    packed = client.get(f"/api/v1/draws/{draw_id}/record", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding" and packed.headers["ETag"] != record.headers["ETag"]
    assert gzip.decompress(packed.data) == record.data
    assert client.get("/api/v1/draws").json["items"][0]["record_url"] == f"/api/v1/draws/{draw_id}/record"

    assert client.get(f"/api/v1/draws/{draw_id}/internal").status_code == 401
    assert client_as("department_operator").get(f"/api/v1/draws/{draw_id}/internal").status_code == 403
    internal = client_as("supervisor").get(f"/api/v1/draws/{draw_id}/internal")
    assert internal.status_code == 200 and internal.json["teams_ok"] is True
    assert all(i["name"] for t in internal.json["tasks"] for i in t["inspectors"])


def test_run_refused_to_other_roles(gateway, client_as):
    build_directory(gateway, per_matter=3)
    plan_id = published_plan(gateway)
    for role in ("department_head", "supervisor"):
        assert client_as(role).post("/api/v1/draws", json={"plan_id": plan_id}).status_code == 403


def _spec(reveal, hex_value):
    who = person(reveal["role"], reveal["name"])
    extra = [who["category"]] if reveal["role"] == "witness" else [who["unit"], who["identity"]]
    return ":".join([reveal["role"], reveal["name"], hex_value, *extra])


def _cli(settings, *args):
    return run_cli(settings, *args, catch_exceptions=False)


def test_cli_stages_export_and_verification(gateway, settings, tmp_path):
    build_directory(gateway, per_matter=5)
    plan_id = published_plan(gateway)
    frozen = _cli(settings, "draw", "freeze", str(plan_id), "--by", "张三")
    assert frozen.exit_code == 0, frozen.output
    assert "总体摘要" in frozen.output
    draw_id = "1"
    hashes = []
    for reveal in REVEALS:
        made = _cli(settings, "draw", "commitment", "--digits", reveal["digits"], "--salt", reveal["salt"])
        hashes.append(made.output.strip())
        assert hashes[-1] == commitment(reveal["digits"], reveal["salt"])
    committed = _cli(settings, "draw", "commit", draw_id,
                     *[a for r, h in zip(REVEALS, hashes) for a in ("--commitment", _spec(r, h))])
    assert committed.exit_code == 0, committed.output
    seeded = _cli(settings, "draw", "seed", draw_id, "--witness", "钱七:新闻媒体代表",
                  *[a for r in REVEALS for a in ("--contribution", f"{r['role']}:{r['name']}:{r['digits']}:{r['salt']}")])
    assert seeded.exit_code == 0, seeded.output
    ran = _cli(settings, "draw", "run", draw_id)
    assert ran.exit_code == 0 and "抽取已完成" in ran.output, ran.output
    again = _cli(settings, "draw", "run", draw_id)
    assert again.exit_code == 1 and "已完成" in again.output

    listed = json.loads(_cli(settings, "draw", "list", "--json").output)
    assert listed[0]["status"] == "drawn" and listed[0]["id"] == 1
    out = tmp_path / "draw.json"
    assert _cli(settings, "draw", "export", draw_id, "-o", str(out)).exit_code == 0
    verified = _cli(settings, "verify", str(out))
    assert verified.exit_code == 0 and "结论：一致" in verified.output and "随机数承诺：一致" in verified.output
    script = subprocess.run([sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True)
    assert script.returncode == 0 and "结论：一致" in script.stdout

    record = json.loads(out.read_text(encoding="utf-8"))
    stratum = next(s for s in record["strata"] if s["population"])
    changed = dict(record, strata=[dict(s) for s in record["strata"]])
    victim = next(s for s in changed["strata"] if s["key"] == stratum["key"])
    victim["population"] = [victim["population"][0][:-1] + ("X" if victim["population"][0][-1] != "X" else "Y"),
                            *victim["population"][1:]]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    failed = _cli(settings, "verify", str(bad))
    assert failed.exit_code == 1 and f"不一致的分层：{stratum['key']}" in failed.output
    script = subprocess.run([sys.executable, str(SCRIPT), str(bad)], capture_output=True, text=True)
    assert script.returncode == 1 and stratum["key"] in script.stdout

    digit = dict(record)
    contributions = [dict(c) for c in record["contributions"]]
    contributions[0]["digits"] = ("2" if contributions[0]["digits"][0] != "2" else "3") + contributions[0]["digits"][1:]
    digit["contributions"] = contributions
    digit["seed"] = "-".join(c["digits"] for c in contributions)
    bad.write_text(json.dumps(digit, ensure_ascii=False), encoding="utf-8")
    failed = _cli(settings, "verify", str(bad))
    assert failed.exit_code == 1 and "随机数承诺：第 1 份" in failed.output and "分层" in failed.output


def test_cli_errors_are_chinese_and_exit_1(gateway, settings):
    result = _cli(settings, "draw", "freeze", "999")
    assert result.exit_code == 1 and "抽查计划 999 不存在" in result.output
    result = _cli(settings, "draw", "commit", "1", "--commitment", "boss:x:y")
    assert result.exit_code == 2 and "角色" in result.output


def test_demo_draw_is_complete_and_idempotent(gateway):
    from gateway.demo.draw import ensure_demo_draw

    build_directory(gateway, per_matter=6)
    first = ensure_demo_draw(gateway)
    second = ensure_demo_draw(gateway)
    assert first == second and first["status"] == "drawn" and first["tasks"] > 0


def test_demo_draw_finishes_an_interrupted_ceremony(gateway):
    from gateway.demo.draw import demo_plan_body, demo_principal, ensure_demo_draw
    from gateway.draw import service as draws
    from gateway.planning import service as plans

    build_directory(gateway, per_matter=4)
    with gateway.write() as session:
        plan = plans.create_plan(session, demo_principal(), demo_plan_body(gateway, date.today().year), gateway.settings)
        publish_filed(session, demo_principal(), plan.id, gateway.settings)
        draws.freeze(session, demo_principal(), plan.id)
    done = ensure_demo_draw(gateway)
    assert done["plan_id"] == plan.id and done["status"] == "drawn"


def test_the_demo_draw_verifies_and_tampering_names_the_stratum(gateway, settings, tmp_path):
    from gateway.demo.draw import ensure_demo_draw
    from gateway.demo.generate import DemoShape
    from gateway.demo.load import load_directories

    load_directories(gateway, DemoShape(targets=3000, inspectors_per_department=8, conflicts=20))
    done = ensure_demo_draw(gateway)
    out = tmp_path / "demo.json"
    assert _cli(settings, "draw", "export", str(done["draw_id"]), "-o", str(out)).exit_code == 0
    assert _cli(settings, "verify", str(out)).exit_code == 0
    assert subprocess.run([sys.executable, str(SCRIPT), str(out)], capture_output=True).returncode == 0

    record = json.loads(out.read_text(encoding="utf-8"))
    target = next(s for s in record["strata"] if s["selected"])
    changed = json.loads(json.dumps(record))
    victim = next(s for s in changed["strata"] if s["key"] == target["key"])
    uscc = victim["selected"][0]
    victim["population"] = sorted(u if u != uscc else u[:-1] + ("0" if u[-1] != "0" else "1") for u in victim["population"])
    bad = tmp_path / "changed-uscc.json"
    bad.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    result = _cli(settings, "verify", str(bad))
    assert result.exit_code == 1 and f"不一致的分层：{target['key']}" in result.output
    script = subprocess.run([sys.executable, str(SCRIPT), str(bad)], capture_output=True, text=True)
    assert script.returncode == 1 and f"不一致的分层：{target['key']}" in script.stdout

    changed = json.loads(json.dumps(record))
    digits = changed["contributions"][2]["digits"]
    changed["contributions"][2]["digits"] = digits[:-1] + ("0" if digits[-1] != "0" else "1")
    changed["seed"] = "-".join(c["digits"] for c in changed["contributions"])
    bad.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    result = _cli(settings, "verify", str(bad))
    assert result.exit_code == 1 and target["key"] in result.output.splitlines()[-1]
    script = subprocess.run([sys.executable, str(SCRIPT), str(bad)], capture_output=True, text=True)
    assert script.returncode == 1 and target["key"] in script.stdout.splitlines()[-1]
