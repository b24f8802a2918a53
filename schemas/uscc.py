"""The one rule for a Unified Social Credit Code (统一社会信用代码, GB 32100-2015), shared by the
gateway and the mock platform.

python-stdnum's ``stdnum.cn.uscc`` computes the check character, but its format check wants eight
digits first, which refuses real codes whose registration-authority or type code is a letter
(``N2…`` 农业, ``Y1…`` 其他, ``A1…`` 中央军委改革和编制办公室, ``9Y…``). The format here is the
standard's: two characters of the 31-character alphabet, the six-digit area code, nine characters
of the alphabet and the check character.
"""
from __future__ import annotations

import operator
import re

from stdnum.cn import uscc as _stdnum

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
_FORMAT = re.compile(PATTERN)
REGISTRATION_AUTHORITIES = {
    "1": "机构编制", "2": "外交", "3": "司法行政", "4": "文化", "5": "民政", "6": "旅游", "7": "宗教",
    "8": "工会", "9": "市场监督管理（工商）", "A": "中央军委改革和编制办公室", "N": "农业", "Y": "其他",
}


class UsccError(ValueError):
    """Why a code is not a USCC: ``reason`` is ``length``, ``characters`` or ``check``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def compact(value: str) -> str:
    """Upper case, without spaces or hyphens."""
    return _stdnum.compact(value)


_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(code: str) -> str:
    """The check character for the first 17 characters of ``code``.

    The same sum as ``stdnum.cn.uscc.calc_check_digit``, without its clean-up of a code already in
    the standard's alphabet (an import of ten million rows computes it ten million times)."""
    try:
        total = sum(map(operator.mul, map(_VALUE.__getitem__, code[:17]), _WEIGHTS))
    except KeyError:
        return _stdnum.calc_check_digit(code[:17])
    return ALPHABET[(31 - total) % 31]


def validate(value: str) -> str:
    """The compact code, or :class:`UsccError` saying what is wrong."""
    code = value if _FORMAT.match(value) else compact(value)
    if len(code) != 18:
        raise UsccError("length")
    if not _FORMAT.match(code):
        raise UsccError("characters")
    if check_character(code) != code[17]:
        raise UsccError("check")
    return code


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except UsccError:
        return False
    return True
