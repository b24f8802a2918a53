"""Chinese wording for marshmallow's built-in validation messages.

Our own validators already speak Chinese; this maps the library's English templates at the
boundary (API responses, import reports) so a county user never reads English.
"""
from __future__ import annotations

import re
from typing import Any

_EXACT = {
    "Missing data for required field.": "缺少必填字段。",
    "Unknown field.": "未知字段。",
    "Field may not be null.": "该字段不能为空值。",
    "Invalid input type.": "输入类型无效。",
    "Invalid value.": "值无效。",
    "Not a valid string.": "不是有效的字符串。",
    "Not a valid integer.": "不是有效的整数。",
    "Not a valid number.": "不是有效的数字。",
    "Not a valid boolean.": "不是有效的布尔值。",
    "Not a valid date.": "不是有效的日期（格式 YYYY-MM-DD）。",
    "Not a valid datetime.": "不是有效的日期时间。",
    "Not a valid list.": "不是有效的列表。",
    "Not a valid mapping type.": "不是有效的对象。",
    "Not a valid email address.": "不是有效的电子邮件地址。",
    "Not a valid URL.": "不是有效的网址。",
    "Not a valid UUID.": "不是有效的 UUID。",
    "Not a valid tuple.": "不是有效的元组。",
    "Not a valid decimal.": "不是有效的数字。",
    "Special numeric values (nan or infinity) are not permitted.": "不允许 NaN 或无穷大。",
    "Shorter than minimum length 1.": "不能为空。",
    "Field cannot be blank": "不能为空。",
    "Invalid input.": "输入无效。",
}

_PATTERNS = [
    (re.compile(r"^Must be one of: (.*)\.$"), lambda m: f"必须是以下之一：{m.group(1)}。"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), lambda m: f"长度必须在 {m.group(1)} 到 {m.group(2)} 之间。"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), lambda m: f"长度不能少于 {m.group(1)}。"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), lambda m: f"长度不能超过 {m.group(1)}。"),
    (re.compile(r"^Length must be (\d+)\.$"), lambda m: f"长度必须为 {m.group(1)}。"),
    (re.compile(r"^Must be greater than or equal to (.+) and less than or equal to (.+)\.$"), lambda m: f"必须在 {m.group(1)} 到 {m.group(2)} 之间。"),
    (re.compile(r"^Must be greater than or equal to (.+)\.$"), lambda m: f"必须大于或等于 {m.group(1)}。"),
    (re.compile(r"^Must be less than or equal to (.+)\.$"), lambda m: f"必须小于或等于 {m.group(1)}。"),
    (re.compile(r"^Must be greater than (.+)\.$"), lambda m: f"必须大于 {m.group(1)}。"),
    (re.compile(r"^Must be less than (.+)\.$"), lambda m: f"必须小于 {m.group(1)}。"),
    (re.compile(r"^String does not match expected pattern\.$"), lambda m: "格式不正确。"),
]


def translate(message: str) -> str:
    if message in _EXACT:
        return _EXACT[message]
    for pattern, render in _PATTERNS:
        m = pattern.match(message)
        if m:
            return render(m)
    return message


def translate_errors(errors: Any) -> Any:
    """Translate every message in a marshmallow error structure, keeping its shape."""
    if isinstance(errors, str):
        return translate(errors)
    if isinstance(errors, list):
        return [translate_errors(e) for e in errors]
    if isinstance(errors, dict):
        return {k: translate_errors(v) for k, v in errors.items()}
    return errors
