"""Wire shapes every API shares: errors and pages."""
from __future__ import annotations

from datetime import timezone

from marshmallow import Schema, fields, validate


class ErrorSchema(Schema):
    """Every error the gateway API returns."""

    code = fields.String(required=True, metadata={"description": "stable machine code, e.g. validation_error"})
    message = fields.String(required=True, metadata={"description": "explanation in Simplified Chinese"})
    errors = fields.Dict(metadata={"description": "field -> messages, or row -> field -> messages; and the facts "
                                                  "a refusal names (action, result_id, retry_after…)"})


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "total": fields.Integer(required=True),
            "page": fields.Integer(required=True),
            "page_size": fields.Integer(required=True),
        },
        name=name,
    )


class UtcDateTime(fields.DateTime):
    """A timestamp stored naive in UTC (``gateway.db.utcnow``), dumped with its offset so that it is an
    RFC 3339 ``date-time`` as the OpenAPI document promises (``2026-11-27T04:40:31+00:00``)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and getattr(value, "tzinfo", None) is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


MAX_ID = 2**31 - 1  # database INTEGER


def IdArg(**kwargs) -> fields.Integer:
    """An id in a query string: a positive database INTEGER (larger ones cannot name anything)."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)
