"""The county's Ed25519 signing keys (DESIGN "One county signing key").

The keys live in a folder, ``settings.signing_keys_path`` or ``<instance>/signing-keys`` (mode 700):
each private key in ``<kid>.pem`` (PKCS #8, mode 600), and the public key set, ``keys.json``
(format ``shuangsui.keys/1``: every key ever used, the current one ``active``, earlier ones
``retired`` with the time they were retired). Nothing of it is stored in the database, so a database
dump holds no private key, and no log line carries one. The first signature generates the first key;
``shuangsui keys rotate`` retires the active key and starts a new one. Retired keys stay published,
so every code they signed keeps verifying.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from gateway.codes.token import KEYS_FORMAT, b64url, key_id, public_raw
from gateway.config import Settings
from gateway.errors import Corrupted

KEYSET_FILE = "keys.json"


def key_folder(settings: Settings) -> Path:
    return Path(settings.signing_keys_path) if settings.signing_keys_path else Path(settings.instance_path) / "signing-keys"


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One process at a time changes the folder (two first signatures make one key, not two)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _read_keyset(folder: Path) -> dict[str, Any]:
    path = folder / KEYSET_FILE
    if not path.exists():
        return {"format": KEYS_FORMAT, "keys": []}
    try:
        keyset = json.loads(path.read_text("utf-8"))
    except ValueError:
        raise Corrupted("keyset_corrupted", f"签名公钥文件 {path} 无法读取。") from None
    return keyset


def _write(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def _new_key(folder: Path, keyset: dict[str, Any]) -> str:
    private_key = Ed25519PrivateKey.generate()
    kid = key_id(private_key.public_key())
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    _write(folder / f"{kid}.pem", pem, 0o600)
    now = _now()
    for entry in keyset["keys"]:
        if entry["status"] == "active":
            entry.update(status="retired", retired_at=now)
    keyset["keys"].append({"kid": kid, "alg": "EdDSA", "kty": "OKP", "crv": "Ed25519",
                           "x": b64url(public_raw(private_key.public_key())),
                           "status": "active", "valid_from": now, "retired_at": None})
    _write(folder / KEYSET_FILE, json.dumps(keyset, ensure_ascii=False, indent=2).encode("utf-8"), 0o644)
    return kid


def _active(keyset: dict[str, Any]) -> str | None:
    return next((entry["kid"] for entry in keyset["keys"] if entry["status"] == "active"), None)


def signing_key(settings: Settings) -> tuple[str, Ed25519PrivateKey]:
    """The active key's id and private key, generating the first key if there is none."""
    folder = key_folder(settings)
    keyset = _read_keyset(folder)
    kid = _active(keyset)
    if kid is None:
        with _locked(folder):
            keyset = _read_keyset(folder)
            kid = _active(keyset) or _new_key(folder, keyset)
    try:
        private_key = load_pem_private_key((folder / f"{kid}.pem").read_bytes(), password=None)
    except (OSError, ValueError):
        raise Corrupted("signing_key_unreadable", f"签名私钥 {kid} 无法读取（{folder}）。") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise Corrupted("signing_key_unreadable", f"签名私钥 {kid} 不是 Ed25519 密钥。")
    return kid, private_key


def rotate(settings: Settings) -> str:
    """Retire the active key (it stays published) and start a new one; returns the new key's id."""
    folder = key_folder(settings)
    with _locked(folder):
        return _new_key(folder, _read_keyset(folder))


def published_keys(settings: Settings, *, generate: bool = True) -> dict[str, Any]:
    """The public key set as published at ``/.well-known/shuangsui-keys.json`` (with ``generate``,
    the first key is made if there is none)."""
    if generate:
        signing_key(settings)
    keyset = _read_keyset(key_folder(settings))
    return {"format": KEYS_FORMAT, "county": settings.county_name, "area_code": settings.area_code,
            "keys": keyset["keys"]}


def record_section(settings: Settings) -> dict[str, Any]:
    """The draw record's ``signing_keys`` section: the county's public keys when the draw ran, so
    that a code signed by any of them verifies against the record alone (rotated keys included)."""
    keyset = published_keys(settings)
    return {"signing_keys": {"format": keyset["format"], "keys": keyset["keys"]}}
