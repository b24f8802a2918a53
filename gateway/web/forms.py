"""HTML form fields generated from a marshmallow schema, and form data read back for it.

Generic: nothing here knows a department, a matter or a check item. A field's label, help text,
kind and choices come from its ``metadata`` (``label``, ``help``, ``kind``, ``choices``, as
``schemas.checklist.field_for_item`` writes them) and from its type and validators, so any field
a plugin contributes to a checklist appears in the result form with no change to the core.

- choices (metadata or a ``OneOf`` validator): radio buttons up to :data:`MAX_RADIOS`, else a select;
- ``Boolean``: 是 / 否 radio buttons (a required yes/no must be answered, a checkbox cannot say "unanswered");
- ``Integer``: a number input; ``Decimal`` / ``Float``: a decimal text input;
- ``Date``: a date input; ``String``: a text input, or a text area when it may exceed 200 characters.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

from marshmallow import Schema, fields, validate

from schemas.i18n import translate

MAX_RADIOS = 5
LONG_TEXT = 200
REQUIRED_MESSAGE = "此项为必填项，请填写或选择。"
BOOLEAN_CHOICES = (("true", "是"), ("false", "否"))


@dataclass
class FormField:
    """One input of a generated form."""

    key: str                  # the schema's field name
    name: str                 # the input's name (prefix + key), e.g. ``checklists.refined_oil.oil_licence``
    id: str                   # the element id (``f-`` + name with dots as dashes)
    label: str
    help: str = ""
    kind: str = ""            # metadata kind (``outcome``, ``choice``, …) or the type's
    widget: str = "text"      # radio | select | yesno | number | decimal | date | text | textarea
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""
    errors: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    min: Any = None
    max: Any = None
    max_length: int | None = None

    @property
    def error_id(self) -> str:
        return self.name.replace(".", "-") + "-error"


def field_id(name: str) -> str:
    return "f-" + name.replace(".", "-")


def _schema_fields(schema: Schema | type[Schema]) -> Mapping[str, fields.Field]:
    instance = schema() if isinstance(schema, type) else schema
    return instance.fields


def _validators(f: fields.Field) -> list:
    found = list(getattr(f, "validators", []) or [])
    inner = getattr(f, "validate", None)
    if inner is not None and not found:
        found = list(inner) if isinstance(inner, (list, tuple)) else [inner]
    return found


def _choices(f: fields.Field) -> list[tuple[str, str]]:
    meta = f.metadata.get("choices")
    if isinstance(meta, Mapping) and meta:
        return [(str(k), str(v)) for k, v in meta.items()]
    if isinstance(meta, (list, tuple)) and meta:
        return [(str(c[0]), str(c[1])) if isinstance(c, (list, tuple)) else (str(c), str(c)) for c in meta]
    for v in _validators(f):
        if isinstance(v, validate.OneOf):
            labels = list(v.labels) if v.labels else [str(c) for c in v.choices]
            return [(str(c), str(label)) for c, label in zip(v.choices, labels)]
    return []


def _widget(f: fields.Field, choices: list) -> str:
    if isinstance(f, fields.Boolean):
        return "yesno"
    if choices:
        return "radio" if len(choices) <= MAX_RADIOS else "select"
    if isinstance(f, fields.Integer):
        return "number"
    if isinstance(f, (fields.Decimal, fields.Float, fields.Number)):
        return "decimal"
    if isinstance(f, (fields.Date, fields.DateTime)):
        return "date"
    if isinstance(f, fields.String):
        length = next((v for v in _validators(f) if isinstance(v, validate.Length)), None)
        if length is None or length.max is None or length.max > LONG_TEXT:
            return "textarea"
    return "text"


def _kind_of(f: fields.Field) -> str:
    return type(f).__name__.lower()


def as_text(value: Any) -> str:
    """A stored value as the text an input shows."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def form_fields(
    schema: Schema | type[Schema],
    prefix: str = "",
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> list[FormField]:
    """The form fields of ``schema`` in declaration order, with ``values`` filled in and the
    ``errors`` keyed by input name (``prefix.key``) attached to their field."""
    values = values or {}
    errors = errors or {}
    out = []
    for key, f in _schema_fields(schema).items():
        if f.dump_only:
            continue
        name = f"{prefix}.{key}" if prefix else key
        choices = _choices(f)
        widget = _widget(f, choices)
        meta = dict(f.metadata)
        length = next((v for v in _validators(f) if isinstance(v, validate.Length)), None)
        bounds = next((v for v in _validators(f) if isinstance(v, validate.Range)), None)
        out.append(FormField(
            key=key,
            name=name,
            id=field_id(name),
            label=str(meta.get("label") or meta.get("description") or key),
            help=str(meta.get("help") or ""),
            kind=str(meta.get("kind") or _kind_of(f)),
            widget=widget,
            required=bool(f.required),
            choices=list(BOOLEAN_CHOICES) if widget == "yesno" else choices,
            value=as_text(values.get(key)),
            errors=[_friendly(m) for m in errors.get(name, [])],
            meta=meta,
            min=bounds.min if bounds is not None else None,
            max=bounds.max if bounds is not None else None,
            max_length=length.max if length is not None else None,
        ))
    return out


def _friendly(message: str) -> str:

    text = translate(message)
    return REQUIRED_MESSAGE if text in ("缺少必填字段。", "该字段不能为空值。") else text


def read_form(schema: Schema | type[Schema], form: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The submitted values of ``schema``'s fields, converted enough for ``schema.load``.

    Empty inputs are left out (the schema then reports a required field as missing); booleans
    become True/False; integers and decimals that parse are converted (a strict Integer field
    refuses strings), anything else is passed through for the schema to reject with its message.
    """
    out: dict[str, Any] = {}
    for key, f in _schema_fields(schema).items():
        if f.dump_only:
            continue
        name = f"{prefix}.{key}" if prefix else key
        raw = form.get(name)
        if raw is None:
            continue
        text = str(raw).strip()
        if text == "":
            continue
        if isinstance(f, fields.Boolean):
            out[key] = True if text == "true" else False if text == "false" else text
        elif isinstance(f, fields.Integer):
            try:
                out[key] = int(text)
            except ValueError:
                out[key] = text
        elif isinstance(f, (fields.Decimal, fields.Float)):
            try:
                Decimal(text)
                out[key] = text if isinstance(f, fields.Decimal) else float(text)
            except Exception:
                out[key] = text
        else:
            out[key] = text
    return out


def errors_by_name(errors: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Field errors keyed by input name, messages in Chinese."""
    return {name: [_friendly(m) for m in messages] for name, messages in errors.items()}
