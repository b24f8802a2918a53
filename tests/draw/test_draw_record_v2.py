"""The record shuangsui.draw/2 (issue 20): a small index and one part per stratum, each fetched and
verified alone; the whole record streamed and verified part by part, a changed part named; records
of version 1 still verify. On both databases, through the API, the public pages, the CLI and
docs/verify_draw.py."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from gateway.directory.models import Target
from gateway.draw import service as draws
from gateway.draw.models import Draw, DrawRecordPart, pack_record
from gateway.draw.record import FORMAT, FORMAT_V2
from gateway.draw.record_v2 import HEAD, INDEX_OPEN, split_record, whole_record_text
from gateway.draw.verify import verify_record
from gateway.draw.verify_v2 import verify_file, verify_stratum
from gateway.testing.cli import run_cli
from tests.drawdb import build_directory, complete_draw, published_plan

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_draw.py"


def _cli(settings, *args):
    return run_cli(settings, *args, catch_exceptions=False)


def _script(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def _drawn(gateway) -> int:
    build_directory(gateway, per_matter=6)
    return complete_draw(gateway, published_plan(gateway))


def _changed_line(path: Path, part: int, change) -> None:
    """Rewrite line ``part`` (1 = the first stratum part) of a whole record file in place."""
    lines = path.read_bytes().split(b"\n")
    lines[part] = change(lines[part])
    path.write_bytes(b"\n".join(lines))


def test_the_index_lists_every_part_and_each_part_is_served_alone(gateway, client):
    draw_id = _drawn(gateway)
    with gateway.read() as session:
        draw = draws.get_draw(session, draw_id)
        assert draw.record_format == FORMAT_V2
        announced_strata = draw.stats["strata_sha256"]
        sha = draw.record_sha256

    index_response = client.get(f"/api/v1/draws/{draw_id}/record/index")
    assert index_response.status_code == 200
    assert client.get(f"/draws/{draw_id}/record.json").data == index_response.data
    index = index_response.json
    assert index["format"] == FORMAT_V2 and "strata" not in index and "tasks" not in index
    assert index["strata_sha256"] == announced_strata
    descriptors = index["parts"]["strata"]
    assert [d["part"] for d in descriptors] == list(range(1, len(descriptors) + 1))
    # An enterprise finds its strata by matter and credit risk class (or the key stratum).
    assert {d["risk_class"] for d in descriptors} >= {"A", "B", "C", "D"}
    assert all(d["matter"] in d["key"] for d in descriptors)

    whole = client.get(f"/api/v1/draws/{draw_id}/record")
    assert hashlib.sha256(whole.data).hexdigest() == sha and whole.headers["ETag"] == f'"{sha}"'
    record = whole.json
    assert record["format"] == FORMAT_V2 and len(record["strata"]) == len(descriptors)
    for descriptor, entry in zip(descriptors, record["strata"]):
        part = client.get(f"/api/v1/draws/{draw_id}/record/strata/{descriptor['part']}")
        assert part.status_code == 200 and hashlib.sha256(part.data).hexdigest() == descriptor["sha256"]
        assert part.json == entry and len(part.data) == descriptor["bytes"]
        assert client.get(f"/draws/{draw_id}/record/strata/{descriptor['part']}.json").data == part.data
        assert verify_stratum(index, descriptor["key"], part.data).ok
    tasks = []
    for descriptor in index["parts"]["tasks"]:
        part = client.get(f"/api/v1/draws/{draw_id}/record/tasks/{descriptor['part']}")
        assert hashlib.sha256(part.data).hexdigest() == descriptor["sha256"]
        tasks += part.json
    assert tasks == record["tasks"] and len(tasks) > 0
    missing = client.get(f"/api/v1/draws/{draw_id}/record/strata/{len(descriptors) + 1}")
    assert missing.status_code == 404 and missing.json["code"] == "record_part_not_found"
    # The whole text is the layout a verifier streams: the parts on their own lines, the index last.
    lines = whole.data.split(b"\n")
    assert lines[0] == HEAD and lines[-1].startswith(INDEX_OPEN)
    assert b"{" + lines[-1][len(INDEX_OPEN):] == index_response.data


def test_one_stratum_verifies_alone_and_a_changed_part_is_named(gateway, settings, tmp_path):
    draw_id = str(_drawn(gateway))
    index_path, whole_path = tmp_path / "index.json", tmp_path / "draw.json"
    assert _cli(settings, "draw", "export", draw_id, "--index", "-o", str(index_path)).exit_code == 0
    assert _cli(settings, "draw", "export", draw_id, "-o", str(whole_path)).exit_code == 0
    index = json.loads(index_path.read_bytes())
    drawn = next(d for d in index["parts"]["strata"] if d["sample_size"] > 0)
    part_path = tmp_path / "part.json"
    assert _cli(settings, "draw", "export", draw_id, "--stratum", str(drawn["part"]), "-o", str(part_path)).exit_code == 0

    alone = _cli(settings, "verify", "--stratum", drawn["key"], str(index_path), str(part_path))
    assert alone.exit_code == 0 and f"分层 {drawn['key']}：一致" in alone.output and "分层摘要链：一致" in alone.output
    script = _script(index_path, part_path, "--stratum", drawn["key"])
    assert script.returncode == 0 and "结论：一致" in script.stdout

    # One selected target swapped for a target of the population that was not drawn.
    entry = json.loads(part_path.read_bytes())
    outsider = next(u for u in entry["population"] if u not in entry["selected"])
    entry["selected"][0] = outsider
    part_path.write_text(json.dumps(entry, sort_keys=True, separators=(",", ":")), encoding="utf-8")
    alone = _cli(settings, "verify", "--stratum", drawn["key"], str(index_path), str(part_path))
    assert alone.exit_code == 1 and "该分块被改动" in alone.output and drawn["key"] in alone.output
    script = _script(index_path, part_path, "--stratum", drawn["key"])
    assert script.returncode == 1 and f"不一致的分层：{drawn['key']}" in script.stdout

    # The whole record, streamed: everything matches; then the same change inside it is named.
    whole = _cli(settings, "verify", str(whole_path))
    assert whole.exit_code == 0 and "结论：一致" in whole.output and "随机数承诺：一致" in whole.output
    assert verify_file(whole_path).ok and _script(whole_path).returncode == 0
    _changed_line(whole_path, drawn["part"],
                  lambda line: line.replace(b'"selected":["', b'"selected":["' + outsider.encode() + b'","', 1))
    report = verify_file(whole_path)
    assert not report.ok and report.mismatched_strata == [drawn["key"]]
    failed = _cli(settings, "verify", str(whole_path))
    assert failed.exit_code == 1 and f"不一致的分层：{drawn['key']}" in failed.output and "该分块被改动" in failed.output
    script = _script(whole_path)
    assert script.returncode == 1 and f"不一致的分层：{drawn['key']}" in script.stdout


def test_a_changed_tasks_part_is_named(gateway, settings, tmp_path):
    draw_id = str(_drawn(gateway))
    whole_path = tmp_path / "draw.json"
    assert _cli(settings, "draw", "export", draw_id, "-o", str(whole_path)).exit_code == 0
    lines = whole_path.read_bytes().split(b"\n")
    first_task = lines.index(b'],"tasks":[') + 1
    lines[first_task] = lines[first_task].replace(b'"key_inspection":false', b'"key_inspection":true', 1)
    whole_path.write_bytes(b"\n".join(lines))
    report = verify_file(whole_path)
    assert not report.ok and report.mismatched_strata == []
    assert any(f.subject == "parts" and not f.ok and "任务分块 1" in f.reason for f in report.checks)
    script = _script(whole_path)
    assert script.returncode == 1 and "任务分块 1" in script.stdout


def test_records_of_version_1_still_verify_and_are_still_served(gateway, client, tmp_path):
    draw_id = _drawn(gateway)
    with gateway.read() as session:
        whole = json.loads(draws.public_record(draws.get_draw(session, draw_id)))
    v1 = {k: v for k, v in whole.items() if k not in ("parts", "strata_sha256")}
    v1["format"] = FORMAT
    assert verify_record(v1).ok
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(v1, ensure_ascii=False), encoding="utf-8")
    assert _script(path).returncode == 0

    # A draw stored before version 2: the whole text in record_gzip, no parts.
    text = json.dumps(v1, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with gateway.write() as session:
        session.execute(sa.delete(DrawRecordPart).where(DrawRecordPart.draw_id == draw_id))
        session.execute(sa.update(Draw).where(Draw.id == draw_id).values(
            record_gzip=pack_record(text), record_format=None, record_sha256=hashlib.sha256(text).hexdigest()))
    served = client.get(f"/api/v1/draws/{draw_id}/record")
    assert served.data == text and verify_record(served.json).ok
    refused = client.get(f"/api/v1/draws/{draw_id}/record/index")
    assert refused.status_code == 404 and refused.json["code"] == "record_not_split"
    assert client.get(f"/draws/{draw_id}").status_code == 200

    # Split again, a version 1 record makes the same parts and the same whole text.
    index, strata, tasks = split_record({**v1, "format": FORMAT_V2})
    rebuilt = whole_record_text(index, strata, tasks)
    assert json.loads(rebuilt)["strata"] == whole["strata"]
    assert verify_record(json.loads(rebuilt)).ok


def test_the_public_draw_page_names_the_drawn_targets_only(gateway, client):
    draw_id = _drawn(gateway)
    with gateway.read() as session:
        record = json.loads(draws.public_record(draws.get_draw(session, draw_id)))
        drawn = {t["uscc"] for t in record["tasks"]}
        left = sorted({u for s in record["strata"] for u in s["population"]} - drawn)
        names = dict(session.execute(sa.select(Target.uscc, Target.name).where(Target.uscc.in_(left[:20] + sorted(drawn)[:5]))).all())
    page = client.get(f"/draws/{draw_id}").get_data(as_text=True)
    embedded = json.loads(page.split('<script type="application/json" id="draw-names">')[1].split("</script>")[0])
    assert set(embedded) == drawn
    assert not [u for u in left[:20] if names[u] in embedded.values()]
