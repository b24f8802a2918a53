"""The inspection code's token (检查码), format ``shuangsui.code/1``: a JWS compact token (EdDSA).

``BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(Ed25519 signature of the first two parts)``

- header: ``{"alg": "EdDSA", "kid": <key id>, "typ": "shuangsui.code/1"}``
- payload (canonical JSON, see :func:`gateway.draw.record.canonical_json`), non-personal facts only:
  ``task`` (task number), ``uscc``, ``plan`` (plan number), ``draw`` (the record's draw id),
  ``fingerprint`` (SHA-256 of the public record's text), ``window`` ([start, end] ISO dates),
  ``departments`` (the team's department codes), ``team`` (members' opaque ids, as in the record),
  ``seed``, ``ticket`` (the target's ticket), ``cuts`` ({stratum key: cut}), ``issued_at``, and
  ``digests``: {field: first 16 hex digits of SHA-256 of the field's canonical JSON}.

The **draw proof**: the ticket is ``ticket(uscc, seed)`` exactly as the record computes it, and in
each stratum the target was drawn from it lies below the stratum's *cut*, the smallest ticket that
was not drawn ("1" when the whole stratum was drawn). With the public record, anyone can check the
cut: exactly ``sample_size`` of the stratum's tickets lie below it.

The digests let a verifier name the field that was changed when a signature fails: a change to a
field leaves its digest (signed with it) disagreeing. Pure: no Flask, no database.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gateway.draw.record import canonical_json
from gateway.draw.sampler import TICKET_DIGITS, smallest_entries, ticket, ticket_from_key, ticket_key

FORMAT = "shuangsui.code/1"
KEYS_FORMAT = "shuangsui.keys/1"
SIGNED_FIELDS = ("task", "uscc", "plan", "draw", "fingerprint", "window", "departments", "team",
                 "seed", "ticket", "cuts", "issued_at")
FIELD_LABELS = {
    "task": "任务编号", "uscc": "统一社会信用代码", "plan": "计划编号", "draw": "抽取编号",
    "fingerprint": "抽取记录指纹", "window": "检查时间窗口", "departments": "检查部门", "team": "检查组成员",
    "seed": "随机种子", "ticket": "票号", "cuts": "分层截止值", "issued_at": "签发时间",
}
WHOLE_STRATUM = "1"


class CodeError(ValueError):
    """The token cannot be read at all (Chinese message)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def field_digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()[:16]


def key_id(public_key: Ed25519PublicKey) -> str:
    """A key's id: the first 16 hex digits of SHA-256 of its raw 32 bytes."""
    return hashlib.sha256(public_raw(public_key)).hexdigest()[:16]


def public_raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(claims: Mapping[str, Any], private_key: Ed25519PrivateKey, kid: str) -> str:
    """The compact token of ``claims`` (the :data:`SIGNED_FIELDS`), signed by ``private_key``."""
    payload = {name: claims[name] for name in SIGNED_FIELDS}
    payload["digests"] = {name: field_digest(payload[name]) for name in SIGNED_FIELDS}
    header = {"alg": "EdDSA", "kid": kid, "typ": FORMAT}
    signing_input = b64url(canonical_json(header)) + "." + b64url(canonical_json(payload))
    return signing_input + "." + b64url(private_key.sign(signing_input.encode("ascii")))


@dataclass
class CodeCheck:
    """What a verification found: the claims, the key used, and every problem (Chinese)."""

    claims: dict[str, Any]
    kid: str
    key_status: str = ""
    problems: list[str] = field(default_factory=list)
    tampered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def parse(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, payload, signing input and signature of ``token`` (raises :class:`CodeError`)."""
    parts = (token or "").strip().split(".")
    if len(parts) != 3:
        raise CodeError("检查码格式错误：应由以“.”分隔的三段组成。")
    try:
        header = json.loads(unb64url(parts[0]))
        payload = json.loads(unb64url(parts[1]))
        signature = unb64url(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise CodeError("检查码格式错误：无法解码。") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise CodeError("检查码格式错误：头部和内容应为 JSON 对象。")
    if header.get("typ") != FORMAT or header.get("alg") != "EdDSA":
        raise CodeError(f"检查码格式错误：应为 {FORMAT}（EdDSA 签名）。")
    return header, payload, (parts[0] + "." + parts[1]).encode("ascii"), signature


def public_keys(keyset: Mapping[str, Any]) -> dict[str, tuple[Ed25519PublicKey, str]]:
    """kid -> (public key, status) from a published key set (``shuangsui.keys/1``)."""
    if not isinstance(keyset, Mapping) or keyset.get("format") != KEYS_FORMAT:
        raise CodeError(f"公钥文件格式错误：应为 {KEYS_FORMAT}。")
    found = {}
    for entry in keyset.get("keys", []):
        try:
            found[entry["kid"]] = (Ed25519PublicKey.from_public_bytes(unb64url(entry["x"])), entry.get("status", ""))
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise CodeError("公钥文件格式错误：每把公钥应有 kid 与 x（Ed25519 公钥）。") from None
    return found


def verify(token: str, keyset: Mapping[str, Any]) -> CodeCheck:
    """Check the signature and the draw proof of ``token`` against the published ``keyset``."""
    header, payload, signing_input, signature = parse(token)
    check = CodeCheck(claims=payload, kid=str(header.get("kid", "")))
    missing = [name for name in SIGNED_FIELDS if name not in payload]
    if missing:
        check.problems.append("检查码缺少：" + "、".join(FIELD_LABELS[n] for n in missing))
        return check
    digests = payload.get("digests") if isinstance(payload.get("digests"), dict) else {}
    check.tampered = [name for name in SIGNED_FIELDS if digests.get(name) != field_digest(payload[name])]
    keys = public_keys(keyset)
    if check.kid not in keys:
        check.problems.append(f"签名密钥 {check.kid} 不在已公布的公钥中。")
    else:
        public_key, check.key_status = keys[check.kid]
        try:
            public_key.verify(signature, signing_input)
        except InvalidSignature:
            if check.tampered:
                check.problems += [f"{FIELD_LABELS[n]}（{n}）被改动，与签名不符。" for n in check.tampered]
            else:
                check.problems.append("签名无效：检查码不是由已公布的密钥签发的，或已被改动。")
    check.problems += proof_problems(payload)
    return check


def proof_problems(claims: Mapping[str, Any]) -> list[str]:
    """The draw proof: the ticket is the target's under the seed, and lies below every cut."""
    try:
        expected = ticket(str(claims["uscc"]), str(claims["seed"]))
        if claims["ticket"] != expected:
            return ["票号与统一社会信用代码、随机种子不符（uscc 或 ticket 被改动）。"]
        cuts = claims["cuts"]
        if not isinstance(cuts, dict) or not cuts:
            return ["检查码缺少分层截止值，不能证明被抽中。"]
        return [f"分层 {key}：票号不小于截止值 {cut}，不能证明被抽中。" for key, cut in cuts.items()
                if not below_cut(expected, cut)]
    except (TypeError, ValueError, KeyError, AttributeError):
        return ["抽取证明格式错误：票号、随机种子或分层截止值不是应有的形式。"]


def below_cut(ticket_text: str, cut: str) -> bool:
    """Whether ``ticket_text`` is numerically smaller than ``cut`` (``"1"``: the whole stratum)."""
    return cut == WHOLE_STRATUM or ticket_key(ticket_text) < ticket_key(cut)


def stratum_cut(ordered_entries: Sequence[str], sample_size: int) -> str:
    """The cut of a stratum from its smallest ``sample_size + 1`` ticket entries (ticket key + id,
    :meth:`gateway.draw.sampler.Ticketer.entry`): the first ticket not drawn, or "1"."""
    if len(ordered_entries) <= sample_size:
        return WHOLE_STRATUM
    return ticket_from_key(ordered_entries[sample_size][:TICKET_DIGITS])


def in_window(window: Sequence[str], today: date) -> bool:
    return date.fromisoformat(window[0]) <= today <= date.fromisoformat(window[1])


def against_record(claims: Mapping[str, Any], record_bytes: bytes) -> list[str]:
    """Check the code against the public draw record it names: the record's fingerprint, its seed,
    and each stratum's cut (recomputed from the stratum's population) and selection."""
    if hashlib.sha256(record_bytes).hexdigest() != claims.get("fingerprint"):
        return ["抽取记录指纹不符：这份记录不是检查码所述的抽取记录（或记录已被改动）。"]
    record = json.loads(record_bytes)
    problems = []
    if record.get("seed") != claims.get("seed"):
        problems.append("随机种子与抽取记录不符。")
    strata = {entry["key"]: entry for entry in record.get("strata", [])}
    for key, cut in (claims.get("cuts") or {}).items():
        entry = strata.get(key)
        if entry is None:
            problems.append(f"抽取记录中没有分层 {key}。")
            continue
        size = entry["sample_size"]
        expected = stratum_cut(smallest_entries(entry["population"], record["seed"], size + 1), size)
        if expected != cut:
            problems.append(f"分层 {key} 的截止值与抽取记录不符。")
        if claims.get("uscc") not in entry["selected"]:
            problems.append(f"分层 {key} 的抽中名单中没有 {claims.get('uscc')}。")
    return problems
