"""The SAMR inspection result codes (抽查检查结果代码), read from ``data/result_codes.json``.

The labels are data, not code: both the gateway and the mock platform read them from the table.
A result carries one or more codes. The table says, per code, whether it must stand alone
(``exclusive``), which code it refines (``parent``: sub-codes B, C, 6 and D refine A) and whether
the result calls for a follow-up disposition. :func:`check_codes` applies those rules.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

TABLE_FORMAT = "shuangsui.result_codes/1"


@dataclass(frozen=True)
class ResultCode:
    """One row of the result-code table."""

    code: str
    label: str
    kind: str
    parent: str | None
    exclusive: bool
    requires_follow_up: bool


@dataclass(frozen=True)
class CodeProblem:
    """Why a list of result codes is not acceptable.

    ``index`` is the position of the offending code in the list, or ``None`` when the problem is
    the combination as a whole. ``code`` is a stable machine code; ``message`` is for people.
    """

    index: int | None
    code: str
    message: str


def parse_table(document: Mapping) -> dict[str, ResultCode]:
    """Build the code table from the parsed JSON document, refusing an inconsistent table."""
    if document.get("format") != TABLE_FORMAT:
        raise ValueError(f"result-code table must declare format {TABLE_FORMAT!r}")
    table: dict[str, ResultCode] = {}
    for row in document["codes"]:
        entry = ResultCode(
            code=str(row["code"]),
            label=str(row["label"]),
            kind=str(row["kind"]),
            parent=row.get("parent"),
            exclusive=bool(row["exclusive"]),
            requires_follow_up=bool(row["requires_follow_up"]),
        )
        if entry.code in table:
            raise ValueError(f"result code {entry.code!r} appears twice in the table")
        table[entry.code] = entry
    for entry in table.values():
        if entry.parent is not None and entry.parent not in table:
            raise ValueError(f"result code {entry.code!r} refers to unknown parent {entry.parent!r}")
    return table


def load_table() -> dict[str, ResultCode]:
    """Read the packaged table ``schemas/data/result_codes.json``."""
    text = resources.files("schemas").joinpath("data/result_codes.json").read_text(encoding="utf-8")
    return parse_table(json.loads(text))


RESULT_CODES: Mapping[str, ResultCode] = MappingProxyType(load_table())


def label(code: str) -> str:
    """The Chinese label of ``code``; ``KeyError`` for an unknown code."""
    return RESULT_CODES[code].label


def describe(codes: Iterable[str]) -> str:
    """The labels of a result as the public site shows them, e.g. ``发现问题待后续处理：违反其他规定``.

    Sub-codes are shown after their parent, separated by a colon; other codes by ``；``.
    """
    codes = list(codes)
    parts: list[str] = []
    for code in codes:
        entry = RESULT_CODES[code]
        if entry.parent is not None and entry.parent in codes:
            continue
        subs = [RESULT_CODES[c].label for c in codes if RESULT_CODES[c].parent == code]
        parts.append(entry.label + ("：" + "、".join(subs) if subs else ""))
    for code in codes:
        entry = RESULT_CODES[code]
        if entry.parent is not None and entry.parent not in codes:
            parts.append(entry.label)
    return "；".join(parts)


def requires_follow_up(codes: Iterable[str]) -> bool:
    """Whether a result with these (valid) codes calls for a follow-up disposition."""
    return any(RESULT_CODES[c].requires_follow_up for c in codes)


def check_codes(codes: Sequence[str]) -> list[CodeProblem]:
    """Every problem with a result's list of codes; an empty list means the codes are valid."""
    if not codes:
        return [CodeProblem(None, "too_short", "至少需要填写一个检查结果代码")]
    problems: list[CodeProblem] = []
    seen: set[str] = set()
    for index, code in enumerate(codes):
        if code not in RESULT_CODES:
            problems.append(CodeProblem(index, "unknown_result_code", f"未知的检查结果代码“{code}”"))
        elif code in seen:
            problems.append(CodeProblem(index, "duplicate_result_code", f"检查结果代码“{code}”重复"))
        seen.add(code)
    if problems:
        return problems
    for code in codes:
        entry = RESULT_CODES[code]
        if entry.exclusive and len(codes) > 1:
            problems.append(CodeProblem(
                None, "exclusive_result_code",
                f"检查结果代码“{code}”（{entry.label}）不能与其他代码同时填报",
            ))
        if entry.parent is not None and entry.parent not in seen:
            parent = RESULT_CODES[entry.parent]
            problems.append(CodeProblem(
                None, "result_code_parent_missing",
                f"检查结果代码“{code}”须与上级代码“{parent.code}”（{parent.label}）同时填报",
            ))
    return problems
