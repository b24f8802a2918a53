"""Attachments of a result: photos (JPEG, PNG) and scanned PDFs.

The type is sniffed from the first bytes, never taken from the client: a file whose content is
not one of the accepted types, or whose name's extension does not match its content, is refused.
The bytes are stored once, under their SHA-256, in the instance folder:
``<instance>/attachments/<first two hex digits>/<sha256>``; writing goes through a temporary file
and an atomic rename, so a reader never sees half a file.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gateway.errors import Corrupted, Invalid, TooLarge, UnsupportedType

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    magic: bytes
    extensions: tuple[str, ...]
    max_bytes: int


FILE_TYPES = (
    FileType("image/jpeg", "JPEG 照片", b"\xff\xd8\xff", (".jpg", ".jpeg"), 10 * MIB),
    FileType("image/png", "PNG 图片", b"\x89PNG\r\n\x1a\n", (".png",), 10 * MIB),
    FileType("application/pdf", "PDF 扫描件", b"%PDF-", (".pdf",), 20 * MIB),
)
MIN_BYTES = 16
MAX_FILENAME = 200
ACCEPTED = "、".join(t.label for t in FILE_TYPES)


def sniff(content: bytes) -> FileType | None:
    """The accepted type whose signature ``content`` starts with, if any."""
    for file_type in FILE_TYPES:
        if content.startswith(file_type.magic):
            return file_type
    return None


def clean_filename(name: str) -> str:
    """The last path component, without control characters, at most ``MAX_FILENAME`` characters."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    if len(base) > MAX_FILENAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: MAX_FILENAME - len(ext) - 1] + dot + ext) if dot else base[:MAX_FILENAME]
    return base


def check_upload(filename: str, content: bytes) -> tuple[FileType, str]:
    """Validate an upload; return its type and cleaned name, or raise a 4xx naming ``file``."""
    name = clean_filename(filename)
    if not name:
        raise Invalid("validation_error", "提交的数据未通过校验。", {"file": ["文件名不能为空。"]})
    if len(content) < MIN_BYTES:
        raise Invalid("validation_error", "提交的数据未通过校验。", {"file": ["文件为空或内容不完整。"]})
    file_type = sniff(content)
    if file_type is None:
        raise UnsupportedType(
            "unsupported_attachment_type", f"附件只接受{ACCEPTED}。",
            {"file": [f"文件内容不是{ACCEPTED}（按文件内容判断，与文件名无关）。"]},
        )
    extension = os.path.splitext(name)[1].lower()
    if extension not in file_type.extensions:
        raise UnsupportedType(
            "attachment_extension_mismatch", "文件扩展名与文件内容不符。",
            {"file": [f"文件内容是{file_type.label}，扩展名应为 {' 或 '.join(file_type.extensions)}，而不是“{extension or '无扩展名'}”。"]},
        )
    if len(content) > file_type.max_bytes:
        raise TooLarge(
            "attachment_too_large", "附件过大。",
            {"file": [f"{file_type.label}不能超过 {file_type.max_bytes // MIB} MB（本文件 {len(content) / MIB:.1f} MB）。"]},
        )
    return file_type, name


def attachments_dir(instance_path: Path) -> Path:
    return Path(instance_path) / "attachments"


def blob_path(instance_path: Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return attachments_dir(instance_path) / sha256[:2] / sha256


def store_blob(instance_path: Path, content: bytes) -> str:
    """Store ``content`` by its SHA-256 (once; storing the same bytes again is a no-op)."""
    digest = hashlib.sha256(content).hexdigest()
    path = blob_path(instance_path, digest)
    if path.exists() and path.stat().st_size == len(content):
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return digest


def read_blob(instance_path: Path, sha256: str) -> bytes:
    """The stored bytes, checked against their hash (a changed file on disk is an error, not data)."""
    content = blob_path(instance_path, sha256).read_bytes()
    if hashlib.sha256(content).hexdigest() != sha256:
        raise Corrupted("attachment_corrupted", "附件文件已损坏或被修改，请联系系统管理员。")
    return content
