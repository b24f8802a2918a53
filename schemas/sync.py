"""API bodies of the platform sync: status, dead letters, one outbox record, resend."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import PageArgsSchema, page_schema

RECORD_KINDS = ("plan", "draw", "result", "disposition")
STATES = ("pending", "in_flight", "delivered", "dead")


class StateCountsSchema(Schema):
    pending = fields.Integer(required=True, metadata={"description": "待推送（含等待重试）"})
    in_flight = fields.Integer(required=True, metadata={"description": "推送中（已被同步进程领取）"})
    delivered = fields.Integer(required=True, metadata={"description": "已送达"})
    dead = fields.Integer(required=True, metadata={"description": "死信：平台拒收，需人工更正后重发"})


class FieldErrorSchema(Schema):
    field = fields.String(allow_none=True, metadata={"description": "platform field path, e.g. targets[0].uscc"})
    code = fields.String(metadata={"description": "the platform's error code, e.g. invalid_uscc"})
    message = fields.String(metadata={"description": "the platform's Chinese message"})


class DeadLetterSchema(Schema):
    record_id = fields.String(required=True, metadata={"description": "platform record id and idempotency key"})
    kind = fields.String(required=True, validate=validate.OneOf(RECORD_KINDS))
    kind_label = fields.String(required=True)
    entity_id = fields.Integer(required=True)
    department_code = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    attempts = fields.Integer(required=True)
    generation = fields.Integer(required=True, metadata={"description": "bumped by each resend"})
    last_outcome = fields.String(required=True)
    last_error = fields.String(required=True, metadata={"description": "the reason, in Chinese"})
    errors = fields.List(fields.Nested(FieldErrorSchema), required=True,
                         metadata={"description": "the platform's field errors"})
    created_at = fields.String(allow_none=True)
    last_attempt_at = fields.String(allow_none=True)
    due_date = fields.String(allow_none=True, metadata={"description": "article 19 publication deadline"})


class OutboxRecordSchema(DeadLetterSchema):
    next_attempt_at = fields.String(allow_none=True)
    lease_owner = fields.String(allow_none=True)
    lease_expires_at = fields.String(allow_none=True)
    delivered_at = fields.String(allow_none=True)
    receipt = fields.Dict(allow_none=True, metadata={"description": "the platform's receipt"})
    payload = fields.Dict(allow_none=True, metadata={"description": "the record as sent (schemas/platform.py)"})
    payload_changed = fields.Boolean(metadata={"description": "resend: whether the rebuilt payload differs"})


class OldestPendingSchema(Schema):
    record_id = fields.String()
    kind = fields.String()
    state = fields.String()
    created_at = fields.String()
    age_seconds = fields.Integer()
    attempts = fields.Integer()
    next_attempt_at = fields.String(allow_none=True)
    last_error = fields.String()


class DeadlineAlertSchema(Schema):
    record_id = fields.String()
    kind = fields.String()
    state = fields.String()
    due_date = fields.String()
    working_days_left = fields.Integer(metadata={"description": "negative when overdue"})
    status = fields.String(validate=validate.OneOf(("due_soon", "overdue")))
    status_label = fields.String()
    message = fields.String()


class WorkerSchema(Schema):
    name = fields.String()
    host = fields.String()
    pid = fields.Integer()
    started_at = fields.String()
    heartbeat_at = fields.String()
    batches = fields.Integer()
    delivered = fields.Integer()
    dead = fields.Integer()
    retries = fields.Integer()


class SyncStatusSchema(Schema):
    generated_at = fields.String(required=True)
    platform_url = fields.String(required=True)
    counts = fields.Nested(StateCountsSchema, required=True)
    by_kind = fields.Dict(keys=fields.String(), values=fields.Nested(StateCountsSchema), required=True)
    retrying = fields.Integer(required=True, metadata={"description": "pending records that failed at least once"})
    oldest_pending = fields.Nested(OldestPendingSchema, allow_none=True, required=True)
    last_delivered_at = fields.String(allow_none=True, required=True)
    deadline = fields.Nested(DeadlineAlertSchema, allow_none=True, required=True)
    alert = fields.String(allow_none=True, required=True,
                          metadata={"description": "set when the oldest undelivered record nears its deadline"})
    dead_letter_total = fields.Integer(required=True)
    dead_letters = fields.List(fields.Nested(DeadLetterSchema), required=True)
    workers = fields.List(fields.Nested(WorkerSchema), required=True)


class DeadLetterQuerySchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(RECORD_KINDS))


DeadLetterPageSchema = page_schema(DeadLetterSchema, "DeadLetterPage")


class ResendSchema(Schema):
    rebuild = fields.Boolean(load_default=False, metadata={
        "description": "rebuild the payload from the (corrected) entity; only for dead letters"})
