"""One error shape for the whole API: a stable machine code, a Chinese message, field errors."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

from gateway.errors import (
    BadRequest,
    Conflict,
    Corrupted,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    TooManyRequests,
    Unauthenticated,
    UnsupportedType,
)

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: ("bad_request", "请求格式不正确。"),
    401: ("unauthenticated", "需要登录或有效的访问令牌。"),
    403: ("forbidden", "无权执行此操作。"),
    404: ("not_found", "请求的资源不存在。"),
    405: ("method_not_allowed", "不支持该请求方法。"),
    409: ("conflict", "与现有数据冲突。"),
    413: ("payload_too_large", "上传内容过大。"),
    415: ("unsupported_media_type", "不支持的内容类型。"),
    422: ("validation_error", "提交的数据未通过校验。"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试。"),
    500: ("internal_error", "服务器内部错误，请联系系统管理员。"),
}


# The one place a domain error becomes an HTTP status.
STATUS_OF_ERROR: dict[type[DomainError], int] = {
    BadRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    UnsupportedType: 415,
    Invalid: 422,
    TooManyRequests: 429,
    Corrupted: 500,
}


def status_of(exc: DomainError) -> int:
    """The HTTP status that answers ``exc``: that of its nearest class in ``STATUS_OF_ERROR``."""
    for cls in type(exc).__mro__:
        if cls in STATUS_OF_ERROR:
            return STATUS_OF_ERROR[cls]
    return 422


def error_body(code: str, message: str, errors: Any = None, **details: Any) -> dict[str, Any]:
    """The body of an error the transport answers itself (HTTP errors, database refusals)."""
    return DomainError(code, message, errors, **details).to_dict()


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        response = jsonify(exc.to_dict())
        if exc.details.get("retry_after"):
            response.headers["Retry-After"] = str(int(exc.details["retry_after"]))
        return response, status_of(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code, message = _HTTP_CODES.get(status, ("http_error", exc.name))
        errors = None
        data = getattr(exc, "data", None) or {}
        if "messages" in data:
            # webargs/flask-smorest: {"json": {...}} or {"query": {...}}; field names matter, not location
            messages = data["messages"]
            errors = {}
            for location_errors in messages.values():
                if isinstance(location_errors, dict):
                    errors.update(location_errors)
        elif data.get("message"):
            message = data["message"]
        response = jsonify(error_body(code, message, errors))
        if status == 429 and getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, status

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):
        # A unique constraint lost a race that the service's own check could not see.
        log.info("integrity error answered with 409: %s", type(exc.orig).__name__)
        return jsonify(error_body("conflict", "与现有数据冲突（可能是并发提交），请刷新后重试。")), 409

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _data_error(exc: Exception):
        # A value the database cannot store (too long, out of range, NUL) that no validator caught:
        # the input's fault, answered as such; logged so the missing validator gets added.

        log.warning("database refused a value (%s) in %s %s: add a validator",
                    type(getattr(exc, "orig", exc)).__name__, request.method, request.url_rule)
        return jsonify(error_body("invalid_value", "提交的数值或文本超出允许的范围，未做任何更改。")), 422

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        code, message = _HTTP_CODES[500]
        return jsonify(error_body(code, message)), 500
