"""Resumable uploads of photos and signatures from the inspector's phone (issue 19).

A phone on a weak signal loses uploads halfway. Each file is announced first (``start``: a key
the phone draws, the file name, its size and SHA-256), then sent in chunks at byte offsets
(``put_chunk``); ``state`` says how many bytes arrived, so an interrupted upload resumes where it
stopped instead of starting again. The bytes so far wait in ``<instance>/uploads/<key>.part``;
the last chunk completes the file, which is checked against its declared SHA-256 and then stored
as an ordinary attachment of the task (``service.upload_attachment``: type sniffed, size limits,
stored once by hash). Every call is idempotent: a chunk sent twice, or a finished upload asked
again, changes nothing.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.errors import Conflict, Invalid, NotFound, TooLarge
from gateway.results import attachments as files
from gateway.results import service
from gateway.results.access import task_resource
from gateway.results.field_models import FieldUpload
from gateway.results.idempotency import check_key
from gateway.security.policy import authorize
from gateway.security.principal import Principal

MAX_UPLOAD = max(t.max_bytes for t in files.FILE_TYPES)
HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class UploadState:
    key: str
    task_id: int
    filename: str
    size: int
    sha256: str
    received: int
    attachment_id: int | None

    @property
    def complete(self) -> bool:
        return self.attachment_id is not None


def part_path(instance_path: Path, key: str) -> Path:
    return Path(instance_path) / "uploads" / f"{check_key(key)}.part"


def _invalid(field: str, message: str) -> Invalid:
    return Invalid("validation_error", "提交的数据未通过校验。", {field: [message]})


def _state(gateway: Gateway, row: FieldUpload) -> UploadState:
    path = part_path(gateway.settings.instance_path, row.key)
    received = row.size if row.attachment_id else (path.stat().st_size if path.exists() else 0)
    return UploadState(row.key, row.task_id, row.filename, row.size, row.sha256, received, row.attachment_id)


def _row(session: Session, principal: Principal, key: str) -> FieldUpload:
    row = session.scalar(select(FieldUpload).where(FieldUpload.key == check_key(key)))
    if row is None:
        raise NotFound.of("上传", key)
    authorize(principal, "results.record", **task_resource(service.get_task(session, row.task_id)))
    return row


def start(gateway: Gateway, session: Session, principal: Principal, task_id: int, key: str, filename: str,
          size: int, sha256: str) -> UploadState:
    """Announce an upload (or find the one announced with this key before)."""
    task = service.get_task(session, task_id)
    authorize(principal, "results.record", **task_resource(task))
    check_key(key)
    sha256 = (sha256 or "").lower()
    if len(sha256) != 64 or not set(sha256) <= HEX:
        raise _invalid("sha256", "应为文件内容的 SHA-256（64 位十六进制）。")
    if not isinstance(size, int) or size < files.MIN_BYTES:
        raise _invalid("size", "文件为空或内容不完整。")
    if size > MAX_UPLOAD:
        raise TooLarge("attachment_too_large", "附件过大。", {"size": [f"附件不能超过 {MAX_UPLOAD // files.MIB} MB。"]})
    name = files.clean_filename(filename)
    if not name:
        raise _invalid("filename", "文件名不能为空。")
    row = session.scalar(select(FieldUpload).where(FieldUpload.key == key))
    if row is not None:
        if (row.task_id, row.size, row.sha256) != (task.id, size, sha256):
            raise Conflict("upload_key_reused", "该上传键已用于另一个文件。", key=["上传键不能重复使用。"])
        return _state(gateway, row)
    row = FieldUpload(key=key, task_id=task.id, filename=name, size=size, sha256=sha256, created_by=principal.label)
    session.add(row)
    session.flush()
    return _state(gateway, row)


def state(gateway: Gateway, session: Session, principal: Principal, key: str) -> UploadState:
    return _state(gateway, _row(session, principal, key))


def put_chunk(gateway: Gateway, session: Session, principal: Principal, key: str, offset: int,
              chunk: bytes) -> UploadState:
    """Write ``chunk`` at ``offset``. Bytes already received may be sent again (a retried chunk);
    a gap is refused with the offset to resume from. The last byte completes the upload."""
    row = _row(session, principal, key)
    if row.attachment_id is not None:
        return _state(gateway, row)
    path = part_path(gateway.settings.instance_path, key)
    received = path.stat().st_size if path.exists() else 0
    if offset < 0 or offset > received:
        raise Conflict("upload_offset_mismatch", f"上传应从第 {received} 字节继续。", received=received)
    if offset + len(chunk) > row.size:
        raise _invalid("offset", "分片超出了声明的文件大小。")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "r+b" if path.exists() else "wb") as fh:
        fh.seek(offset)
        fh.write(chunk)
        fh.truncate(max(received, offset + len(chunk)))
        fh.flush()
        os.fsync(fh.fileno())
    if path.stat().st_size == row.size:
        _complete(gateway, session, principal, row, path)
    return _state(gateway, row)


def _complete(gateway: Gateway, session: Session, principal: Principal, row: FieldUpload, path: Path) -> None:
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != row.sha256:
        path.unlink()
        raise Conflict("upload_hash_mismatch", "上传的文件与声明的 SHA-256 不符，已丢弃，请重新上传。", received=0)
    attachment = service.upload_attachment(gateway, session, principal, row.task_id, row.filename, content)
    row.attachment_id = attachment.id
    session.flush()
    path.unlink()
