"""The base checklist schema that department plugins extend.

A checklist has one field per check item, named by the check item's code. This module
does not import ``gateway``: anything with the attributes of
``gateway.plugins.CheckItem`` (code, name, kind, choices, required, help_text; minimum and maximum optional) works.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from marshmallow import Schema, fields, validate

from schemas.common import BodySchema

# The outcome of one check item, stored by code; labels are what inspectors read.
OUTCOMES: dict[str, str] = {
    "compliant": "符合",
    "non_compliant": "不符合",
    "not_applicable": "不涉及",
}


class BaseChecklistSchema(BodySchema):
    """Base of every matter's checklist: unknown fields are refused."""


def field_for_item(item: Any) -> fields.Field:
    """The marshmallow field for one check item, with the item's label and help as metadata."""
    meta = {
        "label": item.name,
        "help": getattr(item, "help_text", "") or getattr(item, "content", ""),
        "kind": item.kind,
        "department": getattr(item, "department_code", ""),
    }
    required = bool(getattr(item, "required", True))
    common = {"required": required, "allow_none": not required, "metadata": meta}
    if item.kind == "outcome":
        meta["choices"] = OUTCOMES
        return fields.String(validate=validate.OneOf(list(OUTCOMES)), **common)
    if item.kind == "boolean":
        return fields.Boolean(**common)
    low, high = getattr(item, "minimum", None), getattr(item, "maximum", None)
    if item.kind == "integer":
        return fields.Integer(strict=True, validate=validate.Range(min=max(low or 0, 0), max=high), **common)
    if item.kind == "decimal":
        bounds = [validate.Range(min=low, max=high)] if low is not None or high is not None else []
        return fields.Decimal(as_string=True, validate=bounds, **common)
    if item.kind == "choice":
        meta["choices"] = {c: c for c in item.choices}
        return fields.String(validate=validate.OneOf(list(item.choices)), **common)
    return fields.String(validate=validate.Length(max=2000), **common)


def schema_from_items(items: Iterable[Any], name: str = "Checklist") -> type[Schema]:
    """A checklist schema class with one derived field per item."""
    return build_checklist_schema(name, {item.code: field_for_item(item) for item in items})


def build_checklist_schema(
    name: str,
    extra_fields: Mapping[str, fields.Field],
    base: type[Schema] = BaseChecklistSchema,
) -> type[Schema]:
    """Merge ``extra_fields`` into ``base`` (a plugin's schema or the base schema)."""
    return base.from_dict(dict(extra_fields), name=name)
