"""Who takes part in a draw (article 16): distinct persons, a supervisor from outside the
organising office, witnesses of the listed kinds. Pure: no Flask, no database.

A name is free text and two roles can carry two spellings of one person, so each organiser,
technical operator and supervisor also gives an identity: the number of an identity document or
of a staff card. It decides who is the same person and is never published: the draw keeps only a
keyed digest of it (HMAC-SHA256 under the gateway's secret key), enough to tell two participants
apart, or to check later whether a given person took part, without an ID number in any record.
The unit (单位) is public: anyone can see that the supervisor came from outside the office.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any, Mapping, Sequence

from schemas.draws import WITNESS_CATEGORIES  # article 16's witnesses, a closed list

PERSON_ROLES = ("organiser", "operator", "supervisor")


def normalise_identity(identity: Any) -> str:
    return "".join(str(identity or "").split()).upper()


def normalise_unit(unit: Any) -> str:
    return "".join(str(unit or "").split())


def identity_digest(identity: str, key: str) -> str:
    return hmac.new(key.encode("utf-8"), normalise_identity(identity).encode("utf-8"), hashlib.sha256).hexdigest()


def participant_errors(commitments: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Field errors (Chinese), keyed like ``commitments.2.identity``, for the participants of a
    commitment list; empty when article 16 is met."""
    errors: dict[str, list[str]] = {}

    def add(index: int, field: str, message: str) -> None:
        errors.setdefault(f"commitments.{index}.{field}", []).append(message)

    first_of: dict[str, int] = {}
    for index, item in enumerate(commitments):
        role = item.get("role")
        identity = normalise_identity(item.get("identity"))
        if role in PERSON_ROLES:
            if not identity:
                add(index, "identity", "组织人员、技术操作人员和监督人员须填写身份证件号码或工作证号（不公开），用于确认是不同的人。")
            if not normalise_unit(item.get("unit")):
                add(index, "unit", "请填写所在单位。")
        if role == "witness" and item.get("category") not in WITNESS_CATEGORIES:
            add(index, "category", "见证人类别应为" + "、".join(WITNESS_CATEGORIES) + "之一。")
        if identity and identity in first_of:
            add(index, "identity", f"与第 {first_of[identity] + 1} 位参与人是同一人：组织、技术操作、监督和见证须由不同的人担任。")
        if identity:
            first_of.setdefault(identity, index)
    office = {normalise_unit(c.get("unit")) for c in commitments if c.get("role") == "organiser"} - {""}
    for index, item in enumerate(commitments):
        if item.get("role") == "supervisor" and normalise_unit(item.get("unit")) in office:
            add(index, "unit", "监督人员应来自承办机构以外的单位，不能与组织人员同属一个单位。")
    return errors


def witness_errors(witnesses: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Field errors for the witnesses present who do not contribute: each of a listed category."""
    return {f"witnesses.{index}.category": ["见证人类别应为" + "、".join(WITNESS_CATEGORIES) + "之一。"]
            for index, w in enumerate(witnesses) if w.get("category") not in WITNESS_CATEGORIES}
