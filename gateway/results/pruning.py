"""Pruning attachments that no result ever took (``shuangsui results prune-attachments``), and the
chunked uploads' stale ``.part`` files (:func:`prune_partial_uploads`, the same command).

An upload comes before the result that lists it (``attachment_ids``); an upload whose result is
never recorded, or that every version of the result left out, stays an ``attachments`` row and a
blob under ``<instance>/attachments/``. Pruning deletes the rows older than a cut-off that no
version of any result links (``inspection_result_attachments``: recorded, returned, reviewed,
published or superseded alike), then the blobs that no remaining row names (the bytes are stored
once by SHA-256, and another upload of the same bytes, linked or recent, keeps the file).

Two transactions: the rows go (each deletion audited) and are committed first; the files are
removed afterwards, in a second write transaction that checks again that no row names the digest
(an upload of the same bytes in between keeps the file). A failure between the two leaves an
unreferenced file, never a row without its file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.db import utcnow
from gateway.results import attachments as files
from gateway.results.field_models import FieldUpload
from gateway.results.models import Attachment, result_attachment_links
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal


@dataclass
class PruneReport:
    cutoff: datetime
    dry_run: bool
    attachments: list[dict] = field(default_factory=list)  # the rows deleted (or, dry run, to delete)
    files: list[str] = field(default_factory=list)  # the digests whose file was deleted (or would be)
    missing_files: list[str] = field(default_factory=list)  # digests already absent from the disk

    @property
    def bytes_freed(self) -> int:
        sizes = {a["sha256"]: a["size"] for a in self.attachments}
        return sum(sizes.get(d, 0) for d in self.files)


def unreferenced(session: Session, cutoff: datetime) -> list[Attachment]:
    """Attachments uploaded before ``cutoff`` that no result version links."""
    linked = select(result_attachment_links.c.attachment_id)
    return list(session.scalars(
        select(Attachment).where(Attachment.uploaded_at < cutoff, Attachment.id.not_in(linked)).order_by(Attachment.id)
    ))


def _still_named(session: Session, digests: set[str]) -> set[str]:
    if not digests:
        return set()
    return set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(sorted(digests)))))


def _describe(item: Attachment) -> dict:
    # No file name: it is the uploader's text and may name people.
    return {"id": item.id, "task_id": item.task_id, "sha256": item.sha256, "content_type": item.content_type,
            "size": item.size, "uploaded_at": item.uploaded_at.isoformat(timespec="seconds")}


def prune_attachments(gateway: Gateway, principal: Principal, older_than_days: int, *, dry_run: bool = False,
                      now: datetime | None = None) -> PruneReport:
    """Delete the attachments older than ``older_than_days`` that no result version links, and their
    files when no other row names the same bytes. ``dry_run`` reports what would go and changes nothing."""
    authorize(principal, "attachments.prune")
    if older_than_days < 0:
        raise ValueError("older_than_days must be >= 0")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    report = PruneReport(cutoff=cutoff, dry_run=dry_run)
    instance = gateway.settings.instance_path

    with gateway.write() as session:
        items = unreferenced(session, cutoff)
        report.attachments = [_describe(i) for i in items]
        ids = [i.id for i in items]
        digests = {i.sha256 for i in items}
        if dry_run:
            kept = set(session.scalars(select(Attachment.sha256).where(
                Attachment.sha256.in_(sorted(digests)), Attachment.id.not_in(ids)))) if digests else set()
            report.files = sorted(digests - kept)
            return report
        for item in items:
            audit.record(session, principal, "attachments.prune", "attachment", item.id,
                         {**_describe(item), "older_than_days": older_than_days})
        if ids:
            session.execute(delete(Attachment).where(Attachment.id.in_(ids)))
            session.expunge_all()

    with gateway.write() as session:
        for digest in sorted(digests - _still_named(session, digests)):
            path = files.blob_path(instance, digest)
            if path.exists():
                path.unlink()
                report.files.append(digest)
            else:
                report.missing_files.append(digest)
            audit.record(session, principal, "attachments.prune_file", "attachment_file", digest,
                         {"deleted": digest in report.files})
        for folder in {files.blob_path(instance, d).parent for d in report.files}:
            try:
                folder.rmdir()  # only when empty
            except OSError:
                pass
    return report


@dataclass
class PartReport:
    cutoff: datetime
    dry_run: bool
    parts: list[dict] = field(default_factory=list)  # the stale .part files deleted (or, dry run, to delete)

    @property
    def bytes_freed(self) -> int:
        return sum(p["size"] for p in self.parts)


def prune_partial_uploads(gateway: Gateway, principal: Principal, older_than_days: int, *, dry_run: bool = False,
                          now: datetime | None = None) -> PartReport:
    """Delete the chunked uploads' ``<instance>/uploads/<key>.part`` files that no chunk has touched
    for ``older_than_days`` (an upload the phone gave up: its file's last write is older than the
    cut-off). The upload's row stays: a phone that comes back finds 0 bytes received and sends the
    file again from the start. Each deletion is audited (``attachments.prune_part``)."""
    authorize(principal, "attachments.prune")
    if older_than_days < 0:
        raise ValueError("older_than_days must be >= 0")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    report = PartReport(cutoff=cutoff, dry_run=dry_run)
    folder = Path(gateway.settings.instance_path) / "uploads"
    if not folder.is_dir():
        return report
    stale = []
    for path in sorted(folder.glob("*.part")):
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, timezone.utc).replace(tzinfo=None)
        if modified < cutoff:
            stale.append((path, {"key": path.stem, "size": stat.st_size,
                                 "modified_at": modified.isoformat(timespec="seconds")}))
    if not stale:
        return report
    with gateway.write() as session:
        tasks = dict(session.execute(select(FieldUpload.key, FieldUpload.task_id).where(
            FieldUpload.key.in_([facts["key"] for _, facts in stale]))).all())
        for path, facts in stale:
            facts["task_id"] = tasks.get(facts["key"])
            report.parts.append(facts)
            if dry_run:
                continue
            path.unlink(missing_ok=True)
            audit.record(session, principal, "attachments.prune_part", "field_upload", facts["key"],
                         {**facts, "older_than_days": older_than_days})
    return report
