"""Wire shapes every API shares: errors, pages, timestamps, and the time zone of every date."""
from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any, Callable, Mapping

from marshmallow import EXCLUDE, RAISE, Schema, fields, missing, validate

# China Standard Time: the calendar of the county, of its deadlines and of the provincial platform.
CHINA_TZ = timezone(timedelta(hours=8), "CST")


class ErrorSchema(Schema):
    """Every error the gateway API returns."""

    code = fields.String(required=True, metadata={"description": "stable machine code, e.g. validation_error"})
    message = fields.String(required=True, metadata={"description": "explanation in Simplified Chinese"})
    errors = fields.Dict(metadata={"description": "field -> messages, or row -> field -> messages; and the facts "
                                                  "a refusal names (action, result_id, retry_after…)"})


class QueryArgsSchema(Schema):
    """A query string's arguments: a key the gateway does not read is ignored (links and forms may
    carry others)."""

    class Meta:
        unknown = EXCLUDE


class BodySchema(Schema):
    """A request body: a field the gateway does not read is refused, so that a typo is not lost
    silently (the OpenAPI document says so with ``additionalProperties: false``)."""

    class Meta:
        unknown = RAISE


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PageQuerySchema(PageArgsSchema, QueryArgsSchema):
    """A list's query string: its page and filters, other keys ignored."""


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


def YearArg(**kwargs) -> fields.Integer:
    """A calendar year in a query string or body: one the gateway can hold (2000–2100)."""
    return fields.Integer(validate=validate.Range(min=2000, max=2100), **kwargs)


class RowView:
    """A stored row as a response schema dumps it: the view sets the values only the gateway can
    compute (names, labels, deadlines, what a reader may not see); every other attribute is the
    row's own, so the schema alone says which fields the shape has."""

    row: Any

    def __getattr__(self, name: str) -> Any:
        if name == "row":  # not set yet
            raise AttributeError(name)
        return getattr(self.row, name)


class _Computed:
    """A field whose value is computed from the whole object being dumped; a mapping (values
    already computed, see :func:`python_values`) gives its own."""

    def __init__(self, value: Callable[[Any], Any], **kwargs):
        super().__init__(**kwargs)
        self._value = value

    def get_value(self, obj, attr, accessor=None, default=missing):
        if isinstance(obj, Mapping):
            return obj.get(attr, missing)
        return self._value(obj)


def computed(field: type[fields.Field], value: Callable[[Any], Any], **kwargs) -> fields.Field:
    """A ``field`` (its type, so the OpenAPI document keeps it; unlike ``fields.Function``, which
    has none) whose dumped value is ``value(obj)``, e.g. ``computed(fields.String, lambda r: ...)``."""
    return type(f"Computed{field.__name__}", (_Computed, field), {})(value, **kwargs)


def python_values(schema: Schema, obj: Any) -> dict[str, Any]:
    """What ``schema.dump(obj)`` holds, with Python values left as they are (dates stay dates):
    for pages and plugins that compute with them, from the same declaration as the API's JSON."""
    out: dict[str, Any] = {}
    for name, field in schema.dump_fields.items():
        value = field.get_value(obj, field.attribute or name)
        if value is missing:
            continue
        inner = field.inner if isinstance(field, fields.List) else None
        if isinstance(field, fields.Nested) and value is not None:
            value = [_nested(field.schema, v) for v in value] if field.many else _nested(field.schema, value)
        elif isinstance(inner, fields.Nested) and value is not None:
            value = [_nested(inner.schema, v) for v in value]
        elif inner is not None and value is not None:
            value = list(value)
        out[field.data_key or name] = value
    return out


def _nested(schema: Schema, value: Any) -> Any:
    """An object's values for a nested schema; a mapping is data already and stays as it is."""
    return value if isinstance(value, Mapping) else python_values(schema, value)
