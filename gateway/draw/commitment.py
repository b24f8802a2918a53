"""Commit, then reveal (article 16): each participant fixes their digits before anyone shows them.

Before the seed exists, every contributor hands in ``commitment = SHA-256(salt + "|" + digits)``
(lower-case hex of the UTF-8 bytes), where ``salt`` is a random string of their own (at least
:data:`MIN_SALT_LENGTH` characters, so that short dice digits cannot be guessed from the
commitment). Only when every commitment is recorded are the digits and salts revealed; each must
match its commitment, and the seed is the digits joined in the order the commitments were recorded.
Nobody can then choose their digits after seeing someone else's. Pure: no Flask, no database.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any, Mapping, Sequence

MIN_SALT_LENGTH = 8
MAX_SALT_LENGTH = 128
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_SALT = re.compile(r"[\x21-\x7e]+\Z")  # printable ASCII, no spaces


def commitment(digits: str, salt: str) -> str:
    """The commitment to ``digits`` with ``salt``."""
    return hashlib.sha256(f"{salt}|{digits}".encode("utf-8")).hexdigest()


def salt_problem(salt: Any) -> str | None:
    """Why ``salt`` is not acceptable (Chinese), or None."""
    if not isinstance(salt, str) or not _SALT.match(salt):
        return "盐值只能由可打印的 ASCII 字符组成，不能含空格"
    if not MIN_SALT_LENGTH <= len(salt) <= MAX_SALT_LENGTH:
        return f"盐值长度应为 {MIN_SALT_LENGTH} 到 {MAX_SALT_LENGTH} 个字符"
    return None


def is_commitment(value: Any) -> bool:
    return isinstance(value, str) and bool(_HEX64.match(value))


def commitment_problems(commitments: Any, contributions: Any) -> list[str]:
    """Check revealed ``contributions`` ({order, role, name, digits} and a ``salt`` per commitment)
    against ``commitments`` ({order, role, name, commitment, salt}) as a public record holds them.

    Returns the problems (Chinese), empty when every contribution matches its commitment, in order.
    """
    if not isinstance(commitments, list) or not all(isinstance(c, Mapping) for c in commitments):
        return ["commitments 应为对象列表"]
    if not isinstance(contributions, list) or not all(isinstance(c, Mapping) for c in contributions):
        return ["contributions 应为对象列表"]
    if len(commitments) != len(contributions):
        return [f"承诺 {len(commitments)} 份，而揭示的随机数贡献 {len(contributions)} 份"]
    problems = []
    by_order = {c.get("order"): c for c in contributions}
    for position, promised in enumerate(commitments, start=1):
        if promised.get("order") != position:
            problems.append("commitments 的 order 应依次为 1, 2, 3, …")
            break
        revealed = by_order.get(position)
        who = f"第 {position} 份（{promised.get('role')} {promised.get('name')}）"
        if revealed is None:
            problems.append(f"{who}承诺没有对应的揭示")
            continue
        if (revealed.get("role"), revealed.get("name")) != (promised.get("role"), promised.get("name")):
            problems.append(f"{who}承诺与揭示的贡献人不一致")
        salt = promised.get("salt")
        digits = revealed.get("digits")
        if not isinstance(digits, str) or not isinstance(salt, str):
            problems.append(f"{who}缺少数字串或盐值")
        elif commitment(digits, salt) != promised.get("commitment"):
            problems.append(f"{who}揭示的数字与承诺不符")
    return problems


def check_reveal(
    commitments: Sequence[Mapping[str, Any]], reveals: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Match revealed {role, name, digits, salt} to the recorded commitments.

    Returns the contributions in commitment order ({order, role, name, digits, salt}) and field
    errors keyed like ``contributions.2.digits`` (Chinese); the contributions are only usable
    when there are no errors.
    """
    errors: dict[str, list[str]] = {}
    by_person: dict[tuple[str, str], tuple[int, Mapping[str, Any]]] = {}
    for index, reveal in enumerate(reveals):
        person = (reveal.get("role"), reveal.get("name"))
        if person in by_person:
            errors.setdefault(f"contributions.{index}.name", []).append("同一贡献人重复揭示")
            continue
        by_person[person] = (index, reveal)
    ordered = []
    for promised in commitments:
        person = (promised["role"], promised["name"])
        found = by_person.pop(person, None)
        if found is None:
            errors.setdefault("contributions", []).append(
                f"{promised['role']} {promised['name']} 已作出承诺，但未揭示其随机数"
            )
            continue
        index, reveal = found
        problem = salt_problem(reveal.get("salt"))
        if problem:
            errors.setdefault(f"contributions.{index}.salt", []).append(problem)
            continue
        if commitment(reveal["digits"], reveal["salt"]) != promised["commitment"]:
            errors.setdefault(f"contributions.{index}.digits", []).append(
                "揭示的数字与盐值不符合此前记录的承诺值"
            )
            continue
        ordered.append(
            {"order": promised["order"], "role": promised["role"], "name": promised["name"],
             "digits": reveal["digits"], "salt": reveal["salt"]}
        )
    for (role, name), (index, _) in by_person.items():
        errors.setdefault(f"contributions.{index}.name", []).append(
            f"{role} {name} 没有事先作出承诺，不能贡献随机数"
        )
    return ordered, errors
