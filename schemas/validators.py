"""Field validators shared by the API schemas and the bulk importer (messages in Chinese)."""
from __future__ import annotations

import re

from marshmallow import ValidationError

from schemas import uscc as _uscc

_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
_CERT = re.compile(r"^[0-9A-Za-z\-]{6,40}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_uscc(value: str) -> str:
    """Return the compact, upper-case USCC, or raise ValidationError with the reason in Chinese."""
    if not isinstance(value, str):
        raise ValidationError("统一社会信用代码必须是字符串。")
    try:
        return _uscc.validate(value)
    except _uscc.UsccError as problem:
        message = "统一社会信用代码应为 18 位。" if problem.reason == "length" else "统一社会信用代码校验位错误或含非法字符。"
        raise ValidationError(message) from None


def validate_uscc(value: str) -> None:
    normalise_uscc(value)


def validate_phone(value: str) -> None:
    if value and not _PHONE.match(value):
        raise ValidationError("电话号码格式不正确（手机号 11 位，或区号-座机号）。")


def validate_certificate_no(value: str) -> None:
    if not _CERT.match(value or ""):
        raise ValidationError("执法证号应为 6 至 40 位字母、数字或连字符。")


def validate_text(value: str) -> None:
    """Refuse control characters, which have no place in a name or address."""
    if _CONTROL.search(value):
        raise ValidationError("含有不可见的控制字符。")
