"""Human plan numbers in the style of Chinese official document numbers, e.g. 武陟联抽〔2026〕3号.

The prefix is the county's short name, then 联 for a joint plan or the first character of the
department's short name for its annual plan (县商务局 -> 商), then 抽. Nothing here knows any
department: the characters come from the department and county names. Pure: no database.
"""
from __future__ import annotations

import re

# The level word a department's own name starts with (县商务局), by its jurisdiction level.
_LEVEL_WORDS = {"county": ("县", "区"), "city": ("市",), "province": ("省",), "national": ("国家",)}
JOINT_MARK = "联"


def county_short_name(county_name: str) -> str:
    """武陟县 -> 武陟 (a two-character name such as 某县 keeps its suffix)."""
    name = county_name.strip()
    for suffix in ("自治县", "县", "市", "区", "旗"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def department_mark(short_name: str, name: str = "", county_name: str = "", level: str = "county") -> str:
    """The department's one-character mark: 县商务局 -> 商, 县市场监管局 -> 市, 武陟县环保局 -> 环.

    Only the word of the department's own level is taken off the front (a county department's
    县), so 市场监管局 keeps its 市."""
    for candidate in (short_name, name):
        text = candidate.strip()
        if county_name and text.startswith(county_name):
            text = text[len(county_name):]
        short_county = county_short_name(county_name) if county_name else ""
        if short_county and text.startswith(short_county):
            text = text[len(short_county):]
        for word in _LEVEL_WORDS.get(level, ()):
            if text.startswith(word) and len(text) > len(word) + 1:
                text = text[len(word):]
                break
        if text:
            return text[0]
    raise ValueError("部门没有名称，无法生成计划编号")


def number_prefix(county_name: str, mark: str) -> str:
    return f"{county_short_name(county_name)}{mark}抽"


def format_number(prefix: str, year: int, serial: int) -> str:
    return f"{prefix}〔{year}〕{serial}号"


def serial_of(number: str, prefix: str, year: int) -> int | None:
    """The serial of ``number`` if it has this prefix and year, else None."""
    match = re.fullmatch(re.escape(f"{prefix}〔{year}〕") + r"(\d+)号", number)
    return int(match.group(1)) if match else None
