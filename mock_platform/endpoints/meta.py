"""Answers that are not about records: the OpenAPI document, unknown paths and methods."""
from __future__ import annotations

from mock_platform.context import Context
from mock_platform.http import ApiError, Response, json_response


def openapi_document(ctx: Context) -> Response:
    from mock_platform.openapi import build_openapi  # the document describes the route table

    return json_response(200, build_openapi())


def not_found(ctx: Context) -> Response:
    raise ApiError(404, "not_found", f"接口不存在：{ctx.request.path}")


def method_not_allowed(ctx: Context) -> Response:
    raise ApiError(405, "method_not_allowed", f"接口 {ctx.request.path} 不支持 {ctx.request.method} 方法")
