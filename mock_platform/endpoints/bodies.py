"""Reading JSON bodies and query parameters, with the platform's coded Chinese errors."""
from __future__ import annotations

import json
from dataclasses import dataclass
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


@dataclass(frozen=True)
class IntArg:
    """An integer query parameter within [low, high]: read by the handler, described by the OpenAPI document."""

    name: str
    low: int
    high: int
    default: int | None
    description: str

    def read(self, request: Request) -> int | None:
        """Its value; 400 ``invalid_query`` when it is not an integer in range."""
        raw = request.arg(self.name)
        if raw is None:
            return self.default
        if not (raw.isascii() and raw.isdigit()) or not self.low <= int(raw) <= self.high:
            raise ApiError(400, "invalid_query", f"查询参数 {self.name} 应为 {self.low} 至 {self.high} 之间的整数", parameter=self.name)
        return int(raw)

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high,
                **({"default": self.default} if self.default is not None else {})}


@dataclass(frozen=True)
class ChoiceArg:
    """A query parameter naming one of ``choices``."""

    name: str
    choices: tuple[str, ...]
    description: str

    def read(self, request: Request) -> str | None:
        raw = request.arg(self.name)
        if raw is not None and raw not in self.choices:
            raise ApiError(400, "invalid_query", f"查询参数 {self.name} 应为 " + "、".join(self.choices), parameter=self.name)
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.choices)}


QueryArg = IntArg | ChoiceArg
