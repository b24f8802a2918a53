"""Named domain errors, raised by services; each transport (API, pages, CLI) translates them once.

A domain error knows its stable machine ``code``, a Chinese ``message`` and, where input was at
fault, ``errors`` (field or row -> Chinese message). It knows nothing of HTTP: the API maps each
class to a status in ``gateway.api.errors``; pages show the message; the CLI exits with it.
"""
from __future__ import annotations

from typing import Any

from schemas.i18n import translate_errors


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    code = "domain_error"
    message = "操作未能完成。"

    def __init__(self, code: str | None = None, message: str | None = None, errors: Any = None, **details: Any):
        self.code = code or type(self).code
        self.message = message or type(self).message
        self.errors = errors
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The one error body: ``code``, ``message`` and, when there is anything to name, ``errors``:
        field (or row) -> messages, with the facts the refusal names (``action``, ``result_id``,
        ``retry_after``…) beside them; or a file's list of row errors, which stands alone."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        errors: Any = None
        if self.errors:

            errors = translate_errors(self.errors)
        if not isinstance(errors, list):
            fields = errors if isinstance(errors, dict) else {"_schema": [errors]} if errors else {}
            errors = {**self.details, **fields}
        if errors:
            body["errors"] = errors
        return body


class Invalid(DomainError):
    """The input breaks a rule (a field, a row, a state transition's precondition on input)."""

    code = "validation_error"
    message = "提交的数据未通过校验。"


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""

    code = "not_found"
    message = "请求的资源不存在。"

    @classmethod
    def of(cls, what: str, key: object) -> "NotFound":
        shown = str(key)
        if len(shown) > 40:  # never echo a hostile megabyte back
            shown = shown[:40] + "…"
        return cls("not_found", f"{what} {shown} 不存在。")


class Conflict(DomainError):
    """The request clashes with the current state (already published, duplicate, wrong stage)."""

    code = "conflict"
    message = "与现有数据冲突。"


class Forbidden(DomainError):
    """The signed-in caller may not do this."""

    code = "forbidden"
    message = "无权执行此操作。"


class Unauthenticated(DomainError):
    """No valid sign-in or token."""

    code = "unauthenticated"
    message = "需要登录或有效的访问令牌。"


class TooManyRequests(DomainError):
    """Throttled; ``details['retry_after']`` says after how many seconds to try again."""

    code = "too_many_requests"
    message = "请求过于频繁，请稍后再试。"


class BadRequest(DomainError):
    """The request cannot be read at all."""

    code = "bad_request"
    message = "请求格式不正确。"


class TooLarge(Invalid):
    """An upload or value is larger than the rule allows."""

    code = "payload_too_large"
    message = "上传内容过大。"


class UnsupportedType(Invalid):
    """An upload's content is not of a kind this gateway accepts."""

    code = "unsupported_media_type"
    message = "不支持的内容类型。"


class Corrupted(DomainError):
    """Stored data failed its own integrity check: nobody's input is at fault, an administrator must look."""

    code = "data_corrupted"
    message = "数据已损坏，请联系系统管理员。"
