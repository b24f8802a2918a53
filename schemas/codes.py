"""API bodies of inspection codes (检查码) and check-ins (扫码入企)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, UtcDateTime

TOKEN_MAX = 8000


class PublicKeySchema(Schema):
    kid = fields.String()
    alg = fields.String()
    kty = fields.String()
    crv = fields.String()
    x = fields.String(metadata={"description": "Ed25519 public key, base64url (raw 32 bytes)"})
    status = fields.String(metadata={"enum": ["active", "retired"]})
    valid_from = fields.String()
    retired_at = fields.String(allow_none=True)


class KeySetSchema(Schema):
    format = fields.String()
    county = fields.String()
    area_code = fields.String()
    keys = fields.List(fields.Nested(PublicKeySchema))


class CodeQuerySchema(BodySchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=TOKEN_MAX))


class CodeDepartmentSchema(Schema):
    code = fields.String()
    name = fields.String()


class CodeMemberSchema(Schema):
    id = fields.String(metadata={"description": "opaque id, as in the public draw record"})
    department = fields.String()
    department_name = fields.String()
    role = fields.String(metadata={"enum": ["lead", "member"]})
    certificate_valid = fields.Boolean()


class CodeStatusSchema(Schema):
    genuine = fields.Boolean()
    current = fields.Boolean()
    problems = fields.List(fields.String())
    not_current = fields.List(fields.String())
    kid = fields.String()
    key_status = fields.String()
    task_number = fields.String()
    uscc = fields.String()
    target_name = fields.String()
    plan_number = fields.String()
    plan_title = fields.String()
    draw_id = fields.String()
    record_url = fields.String(allow_none=True)
    window_start = fields.Date(allow_none=True)
    window_end = fields.Date(allow_none=True)
    departments = fields.List(fields.Nested(CodeDepartmentSchema))
    team = fields.List(fields.Nested(CodeMemberSchema))
    stratum_cuts = fields.Dict(keys=fields.String(), values=fields.String())
    ticket = fields.String()


class TaskCodeSchema(Schema):
    task_id = fields.Integer()
    task_number = fields.String()
    token = fields.String()
    kid = fields.String()
    url = fields.String()


class CheckInBodySchema(BodySchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=TOKEN_MAX))
    access_code = fields.String(required=True, validate=validate.Length(min=1, max=40))


class LocationBodySchema(BodySchema):
    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90), allow_nan=False)
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180), allow_nan=False)
    consent = fields.Boolean(required=True)


class CheckInSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    arrived_at = UtcDateTime()
    code_kid = fields.String()
    team = fields.List(fields.String())
    location_consent = fields.Boolean()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    located_at = UtcDateTime(allow_none=True)
    departed_at = UtcDateTime(allow_none=True)
