"""API bodies of repeat-visit warnings and of joining another department's task (issue 16 item 3)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, QueryArgsSchema
from schemas.directory import UsccField, _text


class RepeatVisitQuerySchema(QueryArgsSchema):
    uscc = UsccField(required=True, metadata={"description": "the target to visit"})
    department = fields.String(required=True, validate=validate.Length(min=1, max=64),
                               metadata={"description": "the department that registers or plans the visit"})
    on = fields.Date(required=True, metadata={"description": "the day of the visit"})


class RepeatVisitSchema(Schema):
    channel = fields.String()
    channel_label = fields.String()
    department_code = fields.String()
    on = fields.Date()
    days_apart = fields.Integer()
    reference = fields.String()
    task_id = fields.Integer(allow_none=True, metadata={"description": "the drawn task, which may be joined"})
    joinable = fields.Boolean(metadata={"description": "an open drawn task the department may join"})
    message = fields.String()


class RepeatVisitsSchema(Schema):
    days = fields.Integer(metadata={"description": "the setting repeat_visit_days"})
    warnings = fields.List(fields.Nested(RepeatVisitSchema))


class TaskJoinSchema(BodySchema):
    """Join a department's matter and inspectors into another department's open task."""

    task_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    matter_code = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                metadata={"description": "a matter the joining department leads"})
    inspector_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)), required=True,
                                validate=validate.Length(min=1, max=10))
    registered_id = fields.Integer(strict=True, allow_none=True, load_default=None,
                                   validate=validate.Range(min=1),
                                   metadata={"description": "the department's registered inspection this visit replaces"})
    reason = _text(500)
