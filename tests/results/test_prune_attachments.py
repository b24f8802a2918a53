"""``shuangsui results prune-attachments``: uploads no result version ever took, older than N days, go
(rows and files); a file any result version links, or any other row names, stays; every deletion is audited."""
from __future__ import annotations

import hashlib
import os
from datetime import timedelta, timezone

import pytest
from sqlalchemy import select, update

from gateway.api.errors import status_of
from gateway.db import utcnow
from gateway.errors import DomainError
from gateway.results import attachments as files
from gateway.results import service
from gateway.results import uploads as chunked
from gateway.results.models import Attachment
from gateway.results.pruning import prune_attachments, prune_partial_uploads
from gateway.security.audit import AuditEntry
from gateway.testing.cli import run_cli

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x90" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PDF2 = PDF + b"% second scan\n"


def _upload(world, name, content, task="oil", days_ago=30):
    with world.gateway.write() as session:
        item = service.upload_attachment(world.gateway, session, world.inspector("c1"), world.tasks[task], name, content)
        session.execute(update(Attachment).where(Attachment.id == item.id)
                        .values(uploaded_at=utcnow() - timedelta(days=days_ago)))
        return item.id


def _blob(world, content):
    return files.blob_path(world.gateway.settings.instance_path, hashlib.sha256(content).hexdigest())


def _ids(world):
    with world.gateway.read() as session:
        return set(session.scalars(select(Attachment.id)))


@pytest.fixture
def uploads(world):
    """old_v1: linked by the published version 1 only (the correction dropped it); old_linked: linked by
    version 2; orphan: never linked; twin: never linked, same bytes as old_linked; recent: never linked, new."""
    ids = {
        "old_v1": _upload(world, "现场照片.jpg", JPEG),
        "old_linked": _upload(world, "检查表.pdf", PDF),
        "orphan": _upload(world, "多余.png", PNG),
        "twin": _upload(world, "检查表副本.pdf", PDF),
        "recent": _upload(world, "刚上传.pdf", PDF2, days_ago=1),
    }
    first = world.published("oil", world.body("oil", attachment_ids=[ids["old_v1"], ids["old_linked"]]))
    correction = {**world.body("oil", attachment_ids=[ids["old_linked"]]), "reason": "照片拍错了对象"}
    with world.gateway.write() as session:
        service.correct_result(world.gateway, session, world.inspector("c1"), first, correction, today=world.today)
    return ids


@pytest.fixture
def run(settings):
    return lambda *args: run_cli(settings, "results", "prune-attachments", *args)


def test_dry_run_lists_and_changes_nothing(world, uploads, run):
    before = _ids(world)
    result = run("--dry-run")
    assert result.exit_code == 0, result.output
    assert f"附件 {uploads['orphan']}\t" in result.output and f"附件 {uploads['twin']}\t" in result.output
    assert f"附件 {uploads['old_v1']}\t" not in result.output and f"附件 {uploads['recent']}\t" not in result.output
    assert "试运行：将删除 2 个附件记录、1 个文件" in result.output and "未做任何更改" in result.output
    assert _ids(world) == before
    assert all(_blob(world, c).exists() for c in (JPEG, PNG, PDF, PDF2))
    with world.gateway.read() as session:
        assert not session.scalars(select(AuditEntry).where(AuditEntry.action.like("attachments.prune%"))).all()


def test_prune_deletes_unreferenced_rows_and_only_unnamed_files(world, uploads, run):
    result = run("--by", "管理员")
    assert result.exit_code == 0, result.output
    assert "已删除 2 个附件记录、1 个文件" in result.output
    assert _ids(world) == {uploads["old_v1"], uploads["old_linked"], uploads["recent"]}
    assert not _blob(world, PNG).exists()
    # linked by an old version only, linked by the latest, or named by a kept row: the files stay
    assert _blob(world, JPEG).exists() and _blob(world, PDF).exists() and _blob(world, PDF2).exists()
    with world.gateway.read() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("attachments.prune%"))
                                  .order_by(AuditEntry.id)).all()
        assert [(e.action, e.entity_id) for e in entries] == [
            ("attachments.prune", str(uploads["orphan"])), ("attachments.prune", str(uploads["twin"])),
            ("attachments.prune_file", hashlib.sha256(PNG).hexdigest())]
        assert all(e.actor_role == "county_office" and e.actor.endswith("管理员") for e in entries)
        assert entries[0].details["sha256"] == hashlib.sha256(PNG).hexdigest()
        assert "filename" not in entries[0].details and entries[0].details["older_than_days"] == 7
    # the kept attachments still serve their bytes
    with world.gateway.write() as session:
        assert service.read_attachment(world.gateway, session, world.office, uploads["old_v1"])[1] == JPEG

    again = run()
    assert again.exit_code == 0 and "没有需要清理的附件" in again.output
    # --older-than-days 0 takes the recent orphan too (its file goes: no row names it any more)
    now = run("--older-than-days", "0")
    assert now.exit_code == 0 and "已删除 1 个附件记录、1 个文件" in now.output
    assert not _blob(world, PDF2).exists() and _ids(world) == {uploads["old_v1"], uploads["old_linked"]}


def test_a_missing_file_is_reported_and_a_negative_age_refused(world, uploads, run):
    _blob(world, PNG).unlink()
    result = run()
    assert result.exit_code == 0, result.output
    assert "已删除 2 个附件记录、0 个文件" in result.output and "1 个文件原已不存在" in result.output
    refused = run("--older-than-days", "-1")
    assert refused.exit_code == 2


def test_only_the_county_office_prunes(world, uploads):
    with pytest.raises(DomainError) as caught:
        prune_attachments(world.gateway, world.head("commerce"), 7)
    assert status_of(caught.value) == 403
    assert uploads["orphan"] in _ids(world)


def test_stale_partial_uploads_are_pruned_after_their_age(world, settings, run):
    """A chunked upload the phone gave up leaves ``uploads/<key>.part``: pruned once no chunk touched it
    for ``--parts-older-than-days``; a recent one stays; the upload's row stays (it restarts from 0)."""
    keys = {"stale": "a" * 32, "recent": "b" * 32}
    with world.gateway.write() as session:
        for key in keys.values():
            chunked.start(world.gateway, session, world.inspector("c1"), world.tasks["oil"], key, "现场照片.jpg",
                          len(JPEG), hashlib.sha256(JPEG).hexdigest())
            chunked.put_chunk(world.gateway, session, world.inspector("c1"), key, 0, JPEG[:100])
    stale = chunked.part_path(settings.instance_path, keys["stale"])
    recent = chunked.part_path(settings.instance_path, keys["recent"])
    old = (utcnow() - timedelta(days=5)).replace(tzinfo=timezone.utc).timestamp()
    os.utime(stale, (old, old))

    dry = run("--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"分片上传 {keys['stale']}\t任务 {world.tasks['oil']}\t100 字节" in dry.output
    assert keys["recent"] not in dry.output and "试运行：将删除 1 个分片上传临时文件" in dry.output
    assert stale.exists()

    assert run("--parts-older-than-days", "7").output.count("没有需要清理的分片上传临时文件") == 1
    done = run()                                                   # the default: 3 days
    assert done.exit_code == 0 and "已删除 1 个分片上传临时文件（约 100 字节）" in done.output, done.output
    assert not stale.exists() and recent.exists()
    with world.gateway.read() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "attachments.prune_part")).all()
        assert [e.entity_id for e in entries] == [keys["stale"]]
        again = chunked.state(world.gateway, session, world.inspector("c1"), keys["stale"])
    assert again.received == 0 and not again.complete               # the phone starts that file again


def test_only_the_county_office_prunes_partial_uploads(world):
    with pytest.raises(DomainError) as caught:
        prune_partial_uploads(world.gateway, world.head("commerce"), 3)
    assert status_of(caught.value) == 403
