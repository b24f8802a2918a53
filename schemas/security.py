"""API bodies of sign-in, the signed-in principal and CSRF tokens."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import UtcDateTime
from schemas.validators import validate_text


class SignInSchema(Schema):
    username = fields.String(required=True, validate=[validate.Length(min=1, max=64), validate_text])
    password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)


class PrincipalSchema(Schema):
    role = fields.String(required=True)
    role_label = fields.String(required=True)
    username = fields.String(required=True)
    department_code = fields.String(allow_none=True)
    inspector_id = fields.Integer(allow_none=True)
    auth_method = fields.String(allow_none=True, metadata={"description": "token, session, or null (public)"})
    csrf_token = fields.String(allow_none=True, metadata={"description": "send as X-CSRF-Token with session calls"})


class SignInResultSchema(PrincipalSchema):
    expires_at = UtcDateTime(required=True)


class CsrfSchema(Schema):
    csrf_token = fields.String(required=True)


class AuditQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    action = fields.String(validate=validate.Length(max=100))
    entity_type = fields.String(validate=validate.Length(max=64))
    entity_id = fields.String(validate=validate.Length(max=100))


class AuditEntrySchema(Schema):
    id = fields.Integer(required=True)
    at = UtcDateTime(required=True)
    actor = fields.String(required=True)
    actor_role = fields.String(required=True)
    actor_department = fields.String()
    action = fields.String(required=True)
    entity_type = fields.String(required=True)
    entity_id = fields.String(required=True)
    details = fields.Dict()
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)


class AuditProblemSchema(Schema):
    entry_id = fields.Integer(required=True)
    reason = fields.String(required=True)


class AuditVerifySchema(Schema):
    intact = fields.Boolean(required=True)
    entries = fields.Integer(required=True)
    head = fields.String(allow_none=True, metadata={"description": "checkpoint <id>:<hash> of the last entry"})
    problems = fields.List(fields.Nested(AuditProblemSchema), required=True)
