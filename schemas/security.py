"""API bodies of sign-in, the signed-in principal, CSRF tokens, the audit log, accounts and API tokens."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import IdArg, PageArgsSchema, PageQuerySchema, UtcDateTime, page_schema
from schemas.validators import validate_text

# The roles an account or a token may have (every role but the public); the same tuple as
# gateway.security.accounts.ACCOUNT_ROLES, and the token lifetimes of that module (a test checks).
ACCOUNT_ROLES = ("county_office", "department_operator", "department_head", "inspector", "supervisor", "system")
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 730
TOKEN_STATUSES = ("active", "revoked", "expired")


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


class AuditQuerySchema(PageArgsSchema):
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


# ------------------------------------------------------------------------------------- accounts

def _department(**kwargs) -> fields.String:
    return fields.String(allow_none=True, validate=[validate.Length(min=1, max=64), validate_text], **kwargs)


class AccountQuerySchema(PageQuerySchema):
    role = fields.String(validate=validate.OneOf(ACCOUNT_ROLES))
    department = fields.String(validate=[validate.Length(min=1, max=64), validate_text],
                               metadata={"description": "department code"})


class AccountSchema(Schema):
    """An account as the county office sees it: never its password hash."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ACCOUNT_ROLES))
    department_code = fields.String(allow_none=True)
    inspector_id = fields.Integer(allow_none=True)
    active = fields.Boolean(required=True)
    has_password = fields.Boolean(required=True, metadata={"description": "false: token-only (machine) account"})
    last_login_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime(required=True)


class AccountWithPasswordSchema(AccountSchema):
    password = fields.String(metadata={"description": "the generated password, present only when the gateway "
                                                      "generated it, and shown only this once"})


AccountPageSchema = page_schema(AccountSchema, "AccountPage")


class AccountCreateSchema(Schema):
    username = fields.String(required=True, validate=[validate.Length(min=1, max=64), validate_text],
                             metadata={"description": "letters, digits or . _ - @"})
    role = fields.String(required=True, validate=validate.OneOf(ACCOUNT_ROLES))
    department_code = _department(metadata={"description": "required for department roles; an inspector's "
                                                           "is the inspector's own"})
    inspector_id = IdArg(allow_none=True, metadata={"description": "required for the inspector role"})
    display_name = fields.String(load_default="", validate=[validate.Length(max=100), validate_text])
    password = fields.String(load_only=True, validate=validate.Length(min=1, max=256),
                             metadata={"description": "omit to have one generated and returned once"})
    no_password = fields.Boolean(load_default=False,
                                 metadata={"description": "true: no password at all, the account uses tokens only"})

    @validates_schema
    def _password_or_none(self, data, **_kwargs):
        if data.get("no_password") and data.get("password") is not None:
            raise ValidationError({"no_password": ["不能同时提供密码并指定 no_password。"]})


class PasswordResetSchema(Schema):
    password = fields.String(load_only=True, validate=validate.Length(min=1, max=256),
                             metadata={"description": "omit to have one generated and returned once"})


# ----------------------------------------------------------------------------------- API tokens

class TokenQuerySchema(PageQuerySchema):
    all = fields.Boolean(load_default=False, metadata={"description": "include revoked and expired tokens"})


class TokenSchema(Schema):
    """A token as listed: its prefix only, never the token or its hash."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True, metadata={"description": "the token's first characters, to recognise it"})
    role = fields.String(required=True)
    department_code = fields.String(allow_none=True)
    inspector_id = fields.Integer(allow_none=True)
    username = fields.String(allow_none=True, metadata={"description": "the account it acts for, if any"})
    created_by = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    expires_at = UtcDateTime(required=True)
    last_used_at = UtcDateTime(allow_none=True)
    revoked_at = UtcDateTime(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(TOKEN_STATUSES))


class TokenCreatedSchema(TokenSchema):
    token = fields.String(required=True, metadata={"description": "Authorization: Bearer <token>; shown only "
                                                                  "this once, only its SHA-256 is kept"})


TokenPageSchema = page_schema(TokenSchema, "TokenPage")


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), validate_text],
                         metadata={"description": "what the token is for, e.g. 同步进程"})
    username = fields.String(validate=[validate.Length(min=1, max=64), validate_text],
                             metadata={"description": "act for this account (its role and department); "
                                                      "or give role instead"})
    role = fields.String(validate=validate.OneOf(ACCOUNT_ROLES))
    department_code = _department()
    inspector_id = IdArg(allow_none=True)
    days = fields.Integer(load_default=DEFAULT_TOKEN_DAYS, validate=validate.Range(min=1, max=MAX_TOKEN_DAYS))

    @validates_schema
    def _account_or_scope(self, data, **_kwargs):
        if data.get("username"):
            extra = [f for f in ("role", "department_code", "inspector_id") if data.get(f) is not None]
            if extra:
                raise ValidationError({f: ["代表用户的令牌的角色与部门随该用户，不能另行指定。"] for f in extra})
        elif not data.get("role"):
            raise ValidationError({"role": ["请用 username 指定用户，或用 role 指定角色。"]})
