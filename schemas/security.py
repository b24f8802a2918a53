"""API bodies of sign-in, the signed-in principal and CSRF tokens."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

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
    expires_at = fields.DateTime(required=True)


class CsrfSchema(Schema):
    csrf_token = fields.String(required=True)
