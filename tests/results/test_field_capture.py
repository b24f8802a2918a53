"""The inspector's phone over the API (issue 19): an interrupted upload resumes where it stopped,
a replayed submission stores one result, a result changed meanwhile is a conflict (never
overwritten), and the drawn signature's SHA-256 becomes part of the result."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from gateway.results.field_models import FieldUpload, ResultSubmission
from gateway.results.models import Attachment, InspectionResult
from tests.results.test_attachments import JPEG, PNG

PHOTO = JPEG * 40  # ~41 KB: several chunks
CHUNK = 8 * 1024


def _start(client, task_id: int, key: str, content: bytes, name: str = "现场照片.jpg"):
    return client.post(f"/api/v1/tasks/{task_id}/uploads", json={
        "key": key, "filename": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()})


def _put(client, key: str, offset: int, chunk: bytes):
    return client.put(f"/api/v1/uploads/{key}", query_string={"offset": offset}, data=chunk,
                      content_type="application/octet-stream")


def _upload(client, task_id: int, key: str, content: bytes, name: str) -> int:
    assert _start(client, task_id, key, content, name).status_code == 201
    state = _put(client, key, 0, content).json
    assert state["complete"], state
    return state["attachment_id"]


def _count(gateway, model, **where) -> int:
    with gateway.read() as session:
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return session.scalar(stmt)


def test_an_interrupted_upload_resumes_where_it_stopped(world, client_as):
    team = client_as("inspector", inspector_id=world.inspectors["c1"])
    task, key = world.tasks["oil"], "photo-0001-resume-test"
    started = _start(team, task, key, PHOTO)
    assert started.status_code == 201, started.json
    assert (started.json["received"], started.json["complete"]) == (0, False)

    assert _put(team, key, 0, PHOTO[:CHUNK]).json["received"] == CHUNK
    # The connection drops during the second chunk: half of it arrived, the phone never heard back.
    assert _put(team, key, CHUNK, PHOTO[CHUNK:CHUNK + CHUNK // 2]).json["received"] == CHUNK + CHUNK // 2
    # Back online, the phone asks how far it got (announcing again answers the same) and resumes there.
    received = _start(team, task, key, PHOTO).json["received"]
    assert received == team.get(f"/api/v1/uploads/{key}").json["received"] == CHUNK + CHUNK // 2
    # A gap is refused with the offset to resume from; a chunk sent again is harmless.
    gap = _put(team, key, received + CHUNK, PHOTO[received + CHUNK:received + 2 * CHUNK])
    assert (gap.status_code, gap.json["code"], gap.json["errors"]["received"]) == (409, "upload_offset_mismatch", received)
    assert _put(team, key, CHUNK, PHOTO[CHUNK:2 * CHUNK]).json["received"] == 2 * CHUNK
    offset = 2 * CHUNK
    while offset < len(PHOTO):
        state = _put(team, key, offset, PHOTO[offset:offset + CHUNK]).json
        offset = state["received"]
    assert state["complete"] and state["received"] == len(PHOTO)

    with world.gateway.read() as session:
        attachment = session.get(Attachment, state["attachment_id"])
        assert (attachment.task_id, attachment.sha256, attachment.size) == (
            task, hashlib.sha256(PHOTO).hexdigest(), len(PHOTO))
    assert not list((world.gateway.settings.instance_path / "uploads").glob("*.part"))
    # Asked again after it finished (the answer was lost): the same attachment, no second one.
    assert _start(team, task, key, PHOTO).json["attachment_id"] == state["attachment_id"]
    assert _put(team, key, 0, PHOTO[:CHUNK]).json["attachment_id"] == state["attachment_id"]
    assert _count(world.gateway, Attachment, task_id=task) == 1
    # Someone outside the team cannot see or add to it.
    outsider = client_as("inspector", inspector_id=world.inspectors["a1"])
    assert outsider.get(f"/api/v1/uploads/{key}").status_code == 403


def test_an_upload_whose_bytes_do_not_match_their_hash_is_discarded(world, client_as):
    team = client_as("inspector", inspector_id=world.inspectors["c1"])
    task, key = world.tasks["oil"], "photo-0002-bad-hash"
    assert _start(team, task, key, PHOTO).status_code == 201
    damaged = PHOTO[:-1] + b"\x00"
    refused = _put(team, key, 0, damaged)
    assert (refused.status_code, refused.json["code"]) == (409, "upload_hash_mismatch")
    assert team.get(f"/api/v1/uploads/{key}").json["received"] == 0
    assert _count(world.gateway, Attachment, task_id=task) == 0
    reused = _start(team, task, key, JPEG)
    assert (reused.status_code, reused.json["code"]) == (409, "upload_key_reused")
    bad = team.post(f"/api/v1/tasks/{task}/uploads", json={"key": "short", "filename": "a.jpg", "size": 100,
                                                            "sha256": "0" * 64})
    assert bad.status_code == 422


def test_a_replayed_submission_stores_one_result(world, client_as):
    team = client_as("inspector", inspector_id=world.inspectors["c1"])
    task = world.tasks["oil"]
    photo = _upload(team, task, "photo-0003-for-result", PHOTO, "加油机.jpg")
    signature = _upload(team, task, "sign-0003-for-result", PNG, "签名.png")
    base = team.get(f"/api/v1/tasks/{task}/result-submissions").json["stamp"]
    assert base == ""
    body = {"key": "submit-0003-first-try", "base": base, "signature_attachment_id": signature,
            "result": {**world.body("oil"), "attachment_ids": [photo]}}

    first = team.post(f"/api/v1/tasks/{task}/result-submissions", json=body)
    assert first.status_code == 201, first.json
    again = team.post(f"/api/v1/tasks/{task}/result-submissions", json=body)
    assert again.status_code == 200 and again.json["replayed"] is True
    assert again.json["result_id"] == first.json["result_id"]
    assert _count(world.gateway, InspectionResult, task_id=task) == 1
    assert _count(world.gateway, ResultSubmission, task_id=task) == 1

    result = first.json["result"]
    assert result["signature"]["image_sha256"] == hashlib.sha256(PNG).hexdigest()
    assert result["signature"]["image_attachment_id"] == signature
    assert [(a["id"], a["sha256"]) for a in result["attachments"]] == [(photo, hashlib.sha256(PHOTO).hexdigest())]
    # The result page shows the signature; the public never sees it.
    assert team.get(f"/api/v1/results/{first.json['result_id']}").json["signature"]["image_sha256"]


def test_a_result_changed_meanwhile_is_a_conflict_not_an_overwrite(world, client_as):
    team = client_as("inspector", inspector_id=world.inspectors["c1"])
    head = client_as("department_head", department="commerce")
    task = world.tasks["oil"]
    url = f"/api/v1/tasks/{task}/result-submissions"
    first = team.post(url, json={"key": "submit-0004-phone-one", "base": "",
                                 "result": world.body("oil", remarks="第一台手机")}).json
    stamp = first["stamp"]
    # Another device changes it (its own base is current).
    other = team.post(url, json={"key": "submit-0004-phone-two", "base": stamp,
                                 "result": world.body("oil", remarks="第二台手机")})
    assert other.status_code == 201, other.json
    # The first phone's later change is based on the old state: refused, with the stored version named.
    stale = team.post(url, json={"key": "submit-0004-phone-one-b", "base": stamp,
                                 "result": world.body("oil", remarks="第一台手机改")})
    assert (stale.status_code, stale.json["code"]) == (409, "result_conflict")
    assert stale.json["errors"]["result_id"] == first["result_id"]
    assert stale.json["errors"]["stamp"] == other.json["stamp"]
    with world.gateway.read() as session:
        assert session.get(InspectionResult, first["result_id"]).remarks == "第二台手机"
    # Returned by the lead department meanwhile: a conflict too.
    returned = head.post(f"/api/v1/results/{first['result_id']}/review", json={"approve": False, "note": "请补充照片"})
    assert returned.status_code == 200, returned.json
    late = team.post(url, json={"key": "submit-0004-phone-two-b", "base": other.json["stamp"],
                                "result": world.body("oil")})
    assert (late.status_code, late.json["code"]) == (409, "result_conflict")
    # A key names one submission of one task.
    elsewhere = client_as("inspector", inspector_id=world.inspectors["m2"]).post(
        f"/api/v1/tasks/{world.tasks['lab']}/result-submissions",
        json={"key": "submit-0004-phone-one", "base": "", "result": world.body("lab")})
    assert (elsewhere.status_code, elsewhere.json["code"]) == (409, "idempotency_key_reused")
    assert _count(world.gateway, FieldUpload) == 0


def test_a_drawn_signature_must_be_a_png_of_the_task(world, client_as):
    team = client_as("inspector", inspector_id=world.inspectors["c1"])
    task = world.tasks["oil"]
    photo = _upload(team, task, "photo-0005-not-a-signature", PHOTO, "照片.jpg")
    refused = team.post(f"/api/v1/tasks/{task}/result-submissions", json={
        "key": "submit-0005-bad-signature", "base": "", "signature_attachment_id": photo, "result": world.body("oil")})
    assert refused.status_code == 422
    assert "signature.image" in refused.json["errors"]
    assert _count(world.gateway, InspectionResult, task_id=task) == 0


def _form_pairs(body: dict) -> list[list[str]]:
    """A result body as the form's fields, the way the phone's page sends them."""
    pairs = [[f"checklists.{m}.{k}", "true" if v is True else "false" if v is False else str(v)]
             for m, values in body["checklists"].items() for k, v in values.items()]
    pairs += [["result_codes", c] for c in body["result_codes"]] + [["methods", m] for m in body["methods"]]
    pairs += [["completed_on", body["completed_on"]], ["remarks", body["remarks"]]]
    return pairs + [[f"signature.{k}", v] for k, v in body["signature"].items()]


def test_the_phone_page_sends_the_form_once_and_sees_a_conflict_beside_its_version(world, client_as):
    team = client_as("inspector", inspector_id=world.inspectors["c1"])
    task = world.tasks["oil"]
    url = f"/console/tasks/{task}/result/sync"
    sent = {"key": "page-0006-first-submit", "base": "", "fields": _form_pairs(world.body("oil", remarks="手机一"))}
    first = team.post(url, json=sent)
    assert first.status_code == 201, first.get_data(as_text=True)[:500]
    assert team.post(url, json=sent).json["replayed"] is True
    assert _count(world.gateway, InspectionResult, task_id=task) == 1

    changed = team.post(url, json={"key": "page-0006-second-phone", "base": first.json["stamp"],
                                   "fields": _form_pairs(world.body("oil", remarks="手机二"))})
    assert changed.status_code == 201
    stale = team.post(url, json={"key": "page-0006-first-phone-b", "base": first.json["stamp"],
                                 "fields": _form_pairs(world.body("oil", remarks="手机一改"))})
    assert (stale.status_code, stale.json["code"]) == (409, "result_conflict")
    assert ["remarks", "手机二"] in stale.json["server"]["fields"]
    assert stale.json["server"]["stamp"] == changed.json["stamp"] and stale.json["server"]["editable"] is True

    invalid = team.post(url, json={"key": "page-0006-invalid-form", "base": changed.json["stamp"],
                                   "fields": [["remarks", "缺少检查表"]]})
    assert invalid.status_code == 422
    assert "result_codes" in invalid.json["fields"] and "signature.status" in invalid.json["fields"]
