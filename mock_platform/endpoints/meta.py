"""Answers that are not about records: the OpenAPI document, unknown paths and methods."""
from __future__ import annotations

from mock_platform.context import Context
from mock_platform.http import JSON_TYPE, ApiError, Response
from mock_platform.settings import OPENAPI_DOCUMENT


def openapi_document(ctx: Context) -> Response:
    """The published document (``schemas/openapi/platform.json``, kept in step with the code by a test)."""
    return Response(200, OPENAPI_DOCUMENT.read_bytes(), {"Content-Type": JSON_TYPE})


def not_found(ctx: Context) -> Response:
    raise ApiError(404, "not_found", f"接口不存在：{ctx.request.path}")


def method_not_allowed(ctx: Context, allowed: str = "") -> Response:
    raise ApiError(405, "method_not_allowed", f"接口 {ctx.request.path} 不支持 {ctx.request.method} 方法，仅支持 {allowed}",
                   headers={"Allow": allowed}, allowed=allowed.split(", "))
