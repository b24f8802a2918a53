"""Attachments: photos and PDFs sniffed from their content, size limits, stored once by SHA-256
under the instance folder, linked to results, served only to authorised users."""
from __future__ import annotations

import hashlib
import io

import pytest

from gateway.api.errors import status_of
from gateway.errors import DomainError
from gateway.results import attachments as files
from gateway.results import service
from gateway.results.models import InspectionResult

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x90" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _upload(world, name, content, who="c1", task="oil"):
    with world.gateway.write() as session:
        return service.upload_attachment(world.gateway, session, world.inspector(who), world.tasks[task], name, content).id


def _refused(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def test_types_are_sniffed_from_content_not_the_name():
    assert files.sniff(JPEG).content_type == "image/jpeg"
    assert files.sniff(PNG).content_type == "image/png"
    assert files.sniff(PDF).content_type == "application/pdf"
    assert files.sniff(b"GIF89a" + bytes(32)) is None
    assert files.check_upload("现场照片.JPG", JPEG)[1] == "现场照片.JPG"
    assert files.check_upload("../../etc/检查表.pdf", PDF)[1] == "检查表.pdf"
    error = _refused(lambda: files.check_upload("photo.jpg", b"just some text, not a photo at all"))
    assert (status_of(error), error.code, list(error.errors)) == (415, "unsupported_attachment_type", ["file"])
    error = _refused(lambda: files.check_upload("scan.pdf", PNG))
    assert (status_of(error), error.code) == (415, "attachment_extension_mismatch")
    error = _refused(lambda: files.check_upload("big.jpg", JPEG[:3] + bytes(10 * files.MIB)))
    assert (status_of(error), error.code) == (413, "attachment_too_large")
    assert status_of(_refused(lambda: files.check_upload("empty.pdf", b"%PDF-"))) == 422
    assert status_of(_refused(lambda: files.check_upload("", PDF))) == 422


def test_stored_once_by_content_hash_under_the_instance_folder(world):
    first = _upload(world, "现场照片1.jpg", JPEG)
    again = _upload(world, "同一张照片.jpeg", JPEG, who="m1")
    digest = hashlib.sha256(JPEG).hexdigest()
    path = world.gateway.settings.instance_path / "attachments" / digest[:2] / digest
    assert path.read_bytes() == JPEG
    assert len(list((world.gateway.settings.instance_path / "attachments").rglob("*"))) == 2  # one folder, one file
    with world.gateway.read() as session:
        from gateway.results.models import Attachment

        rows = [session.get(Attachment, i) for i in (first, again)]
        assert {r.sha256 for r in rows} == {digest}
        assert [r.filename for r in rows] == ["现场照片1.jpg", "同一张照片.jpeg"]
        assert rows[0].content_type == "image/jpeg" and rows[0].size == len(JPEG)


def test_only_the_team_uploads(world):
    assert status_of(_refused(lambda: _upload(world, "x.pdf", PDF, who="a1"))) == 403
    assert not (world.gateway.settings.instance_path / "attachments").exists()


def test_a_result_links_its_tasks_attachments_only(world):
    photo = _upload(world, "现场.png", PNG)
    scan = _upload(world, "检查表.pdf", PDF)
    other = _upload(world, "别的任务.pdf", PDF, who="m2", task="lab")
    with pytest.raises(DomainError) as caught:
        world.record("oil", world.body("oil", attachment_ids=[photo, other, 999]))
    assert set(caught.value.errors) == {"attachment_ids.1", "attachment_ids.2"}
    result_id = world.record("oil", world.body("oil", attachment_ids=[scan, photo]))
    with world.gateway.read() as session:
        assert [a.id for a in session.get(InspectionResult, result_id).attachments] == [photo, scan]


def test_attachments_are_served_only_to_authorised_users(world, client_as):
    team = client_as("inspector", inspector_id=world.inspectors["c1"])
    response = team.post(f"/api/v1/tasks/{world.tasks['oil']}/attachments",
                         data={"file": (io.BytesIO(PDF), "检查表.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    attachment = response.json
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest()
    wrong = team.post(f"/api/v1/tasks/{world.tasks['oil']}/attachments",
                      data={"file": (io.BytesIO(b"MZ\x90\x00 this is a program" * 4), "photo.jpg")},
                      content_type="multipart/form-data")
    assert (wrong.status_code, list(wrong.json["errors"])) == (415, ["file"])

    url = attachment["url"]
    got = team.get(url)
    assert (got.status_code, got.mimetype, got.data) == (200, "application/pdf", PDF)
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert client_as("department_operator", department="commerce").get(url).status_code == 200
    assert client_as("department_head", department="market").get(url).status_code == 200  # on the team
    assert client_as("county_office").get(url).status_code == 200
    assert client_as("department_head", department="agriculture").get(url).status_code == 403
    assert client_as("inspector", inspector_id=world.inspectors["a1"]).get(url).status_code == 403
    assert client_as("public").get(url).status_code == 401
    # publishing the result does not make its attachments public
    world.published("oil", world.body("oil", attachment_ids=[attachment["id"]]))
    assert client_as("public").get(url).status_code == 401
    listed = client_as("department_head", department="commerce").get(f"/api/v1/tasks/{world.tasks['oil']}/attachments")
    assert [a["id"] for a in listed.json] == [attachment["id"]]
