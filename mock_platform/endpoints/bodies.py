"""Reading JSON bodies and query parameters, with the platform's coded Chinese errors."""
from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError

from mock_platform.http import ApiError, Request
from schemas.platform import flatten_errors


def read_json(request: Request, max_bytes: int | None = None) -> Any:
    """The parsed JSON body; 413, 415 or 400 when it is too large, not JSON, or malformed."""
    if max_bytes is not None and len(request.body) > max_bytes:
        raise ApiError(413, "payload_too_large", f"请求体超过 {max_bytes} 字节上限", max_bytes=max_bytes)
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "请求体须为 JSON，Content-Type 应为 application/json")
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_json", "请求体不是有效的 UTF-8 JSON") from None


def load(schema: Schema, data: Any) -> Any:
    """``schema.load(data)``, or 400 ``invalid_request`` with flat field errors."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise ApiError(400, "invalid_request", "请求内容校验未通过", errors=flatten_errors(error.messages)) from None


def int_arg(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer query parameter within [low, high]; 400 ``invalid_query`` otherwise."""
    raw = request.arg(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, "invalid_query", f"查询参数 {name} 应为 {low} 至 {high} 之间的整数", parameter=name)
    return int(raw)
