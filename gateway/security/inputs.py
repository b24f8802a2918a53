"""The input boundary: characters and numbers no endpoint should ever have to handle.

Run before every view (after the permission check), whatever its schema says, so that a forgotten
validator in any part of the gateway cannot turn hostile input into a database error:

- NUL and the other C0/C1 control characters (tab, line feed and carriage return are allowed),
  lone surrogates (not encodable as UTF-8), and the bidirectional overrides used to make text read
  differently from what it is (U+202A-U+202E, U+2066-U+2069), anywhere in the path, the query,
  form fields or JSON strings and keys;
- JSON integers beyond what a database integer column holds, JSON nested absurdly deep, and JSON
  that is not valid UTF-8.
Everything refused gets 400 ``invalid_input`` naming the field, and changes nothing.
"""
from __future__ import annotations

import json
from typing import Any

from flask import request

from gateway.errors import BadRequest
from schemas.validators import CHARS_MESSAGE, has_bad_chars

MAX_JSON_DEPTH = 32
MAX_JSON_INT = 2**31 - 1  # PostgreSQL INTEGER; ids and counts fit, anything larger is not ours


def check_request_input() -> None:
    problems: dict[str, list[str]] = {}
    if has_bad_chars(request.path):
        problems["path"] = [CHARS_MESSAGE]
    for name, value in request.args.items(multi=True):
        if has_bad_chars(name) or has_bad_chars(value):
            problems[_label(name)] = [CHARS_MESSAGE]
    mimetype = request.mimetype or ""
    if mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            if has_bad_chars(name) or has_bad_chars(value):
                problems[_label(name)] = [CHARS_MESSAGE]
        for name, upload in request.files.items(multi=True):
            if upload.filename and has_bad_chars(upload.filename):
                problems[_label(name)] = ["文件名" + CHARS_MESSAGE]
    elif request.is_json and request.content_length != 0:
        raw = request.get_data(cache=True)
        if raw:
            _check_json(raw, problems)
    if problems:
        raise BadRequest("invalid_input", "请求含有不允许的字符或超出范围的数值，未做任何更改。", problems)


def _label(name: str) -> str:
    return name if not has_bad_chars(name) and len(name) <= 64 else "?"


def _check_json(raw: bytes, problems: dict[str, list[str]]) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        problems["body"] = ["请求体不是有效的 UTF-8 编码。"]
        return
    try:
        data = json.loads(text)
    except RecursionError:
        problems["body"] = ["JSON 嵌套层数过多。"]
        return
    except ValueError:
        return  # not JSON at all: the view's schema answers with its own clear error
    _walk(data, problems)


def _walk(data: Any, problems: dict[str, list[str]]) -> None:
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            problems[path or "body"] = ["JSON 嵌套层数过多。"]
            return
        if isinstance(value, str):
            if has_bad_chars(value):
                problems[path or "body"] = [CHARS_MESSAGE]
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_JSON_INT:
                problems[path or "body"] = [f"数值超出允许范围（绝对值不超过 {MAX_JSON_INT}）。"]
        elif isinstance(value, dict):
            for key, item in value.items():
                name = key if not has_bad_chars(key) and len(key) <= 64 else "?"
                if name == "?":
                    problems[_join(path, name)] = ["字段名" + CHARS_MESSAGE]
                    continue
                stack.append((item, _join(path, name), depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((item, _join(path, str(index)), depth + 1))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
