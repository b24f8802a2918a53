"""Bodies of the control API (``/_control/...``): fault injection, settings, credentials, seeding, reports.

Validation errors use the contract's coded Chinese errors (:mod:`schemas.platform`).
"""
from __future__ import annotations

from typing import Any, Mapping

from marshmallow import ValidationError, fields, validates_schema

from mock_platform.faults import PHASES
from schemas.platform import (
    ContractSchema, EntitySchema, Length, OneOf, Range, Regexp, coded_messages, field_error, nested_list,
)

_NUMBER = coded_messages(invalid=field_error("invalid_type", "字段应为数值"), special=field_error("invalid_type", "字段应为有限数值"))
_INT = coded_messages(invalid=field_error("invalid_type", "字段应为整数"), too_large=field_error("invalid_value", "数值过大"))
_TEXT = coded_messages(invalid=field_error("invalid_type", "字段应为字符串"), invalid_utf8=field_error("invalid_type", "字段应为字符串"))
_BOOL = coded_messages(invalid=field_error("invalid_type", "字段应为布尔值"))
_NESTED = coded_messages(type=field_error("invalid_type", "字段应为 JSON 对象"))
_DICT = coded_messages(invalid=field_error("invalid_type", "字段应为 JSON 对象"))


def _rate(default: float = 0.0) -> fields.Float:
    return fields.Float(load_default=default, validate=Range(0, 1), error_messages=_NUMBER,
                        metadata={"description": "Probability per request, 0 to 1."})


def _phase(default: str) -> fields.String:
    return fields.String(load_default=default, validate=OneOf(PHASES), error_messages=_TEXT,
                         metadata={"description": "before: the request is not processed; after: it is processed, then the fault hides the answer."})


def _int(low: int, high: int, default: int | None = None, description: str = "") -> fields.Integer:
    options: dict[str, Any] = {"load_default": default} if default is not None else {}
    return fields.Integer(strict=True, validate=Range(low, high), error_messages=_INT,
                          metadata={"description": description} if description else {}, **options)


def _nested(schema: type[ContractSchema]) -> fields.Nested:
    return fields.Nested(schema, load_default=lambda: schema().load({}), error_messages=_NESTED)


class ErrorFaultsSchema(ContractSchema):
    rates = fields.Dict(
        keys=fields.String(validate=Regexp(r"^[45][0-9]{2}$", "状态码应为 400 至 599 之间的三位数字")),
        values=fields.Float(validate=Range(0, 1), error_messages=_NUMBER),
        load_default=dict, error_messages=_DICT,
        metadata={"description": "HTTP status -> probability, e.g. {\"500\": 0.2, \"503\": 0.1}."},
    )
    phase = _phase("before")


class DropFaultsSchema(ContractSchema):
    rate = _rate()
    phase = _phase("after")


class HangFaultsSchema(ContractSchema):
    rate = _rate()
    seconds = fields.Float(load_default=30.0, validate=Range(0.01, 120), error_messages=_NUMBER,
                           metadata={"description": "How long a hung request is held before the connection is closed."})
    phase = _phase("before")


class BurstFaultsSchema(ContractSchema):
    every = _int(0, 1_000_000, 0, "Period of the burst schedule in requests (0: no bursts).")
    length = _int(0, 1_000_000, 0, "The last `length` requests of each period get 429.")
    retry_after = _int(0, 3600, 1, "Retry-After seconds sent with a burst 429.")

    @validates_schema
    def _fits(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        if data["length"] > data["every"]:
            raise ValidationError({"length": [field_error("out_of_range", "突发长度不能大于周期")]})


class FaultConfigSchema(ContractSchema):
    """The whole fault configuration (``PUT /_control/faults`` replaces it)."""

    seed = _int(-(2**63), 2**63 - 1, 0, "Seed of the schedule: the same seed and requests give the same faults.")
    errors = _nested(ErrorFaultsSchema)
    drops = _nested(DropFaultsSchema)
    hangs = _nested(HangFaultsSchema)
    latency_ms = _int(0, 10_000, 0, "Added to every request in scope.")
    bursts = _nested(BurstFaultsSchema)
    scope = fields.String(load_default="/api/", validate=Regexp(r"^/", "作用范围应为以 / 开头的路径前缀"),
                          error_messages=_TEXT, metadata={"description": "Path prefix the faults apply to (control endpoints never fail)."})

    @validates_schema
    def _rates_fit(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        total = data["drops"]["rate"] + data["hangs"]["rate"] + sum(data["errors"]["rates"].values())
        if total > 1.0 + 1e-9:
            raise ValidationError([field_error("out_of_range", f"各类故障概率之和为 {total:g}，不能超过 1")])


class SettingsPatchSchema(ContractSchema):
    """Any subset of the platform's settings (``PATCH /_control/settings``)."""

    max_batch_records = _int(1, 100_000)
    max_body_bytes = _int(1024, 1_000_000_000)
    max_clock_skew_seconds = _int(1, 86_400)
    rate_limit_per_second = fields.Float(allow_none=True, validate=Range(0.0001, 1_000_000), error_messages=_NUMBER,
                                         metadata={"description": "null disables the rate limit."})
    rate_limit_burst = _int(1, 1_000_000)
    require_known_entities = fields.Boolean(error_messages=_BOOL, metadata={"description": "Reject records naming a USCC with no seeded entity."})


class SettingsSchema(SettingsPatchSchema):
    """The platform's settings."""


class CredentialsSchema(ContractSchema):
    """An access key and its secret (``POST /_control/credentials``)."""

    access_key = fields.String(required=True, validate=Regexp(r"^[A-Za-z0-9_.-]{4,64}$", "访问密钥应为 4 至 64 位字母、数字或 ._-"),
                               error_messages=_TEXT)
    secret = fields.String(required=True, validate=Length(8, 256), error_messages=_TEXT)


class EntitiesSeedSchema(ContractSchema):
    """Market entities to add or replace (``POST /_control/entities``)."""

    entities = nested_list(EntitySchema, "市场主体")


class InspectionsSeedSchema(ContractSchema):
    """Other authorities' inspection results (``POST /_control/inspections``), in the push format."""

    records = fields.List(fields.Dict(error_messages=_DICT), required=True, validate=Length(1, 10_000, unit="项"),
                          error_messages=coded_messages(invalid=field_error("invalid_type", "字段应为数组")),
                          metadata={"description": "InspectionResultRecord objects, stored as another authority's records."})


class HealthSchema(ContractSchema):
    status = fields.String(required=True)
    service = fields.String(required=True)
    records = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class ReceivedEventSchema(ContractSchema):
    seq = fields.Integer(required=True)
    request_seq = fields.Integer(required=True)
    sender = fields.String(required=True)
    kind = fields.String(required=True)
    id = fields.String(allow_none=True, required=True)
    outcome = fields.String(required=True)
    batch_id = fields.String(required=True)
    at = fields.String(required=True)


class ReceivedRecordSchema(ContractSchema):
    sender = fields.String(required=True)
    kind = fields.String(required=True)
    id = fields.String(required=True)
    received = fields.Integer(required=True, metadata={"description": "Times the record arrived in a processed batch."})
    accepted = fields.Integer(required=True)
    duplicate = fields.Integer(required=True)
    conflict = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    stored = fields.Boolean(required=True)


class ReceivedTotalsSchema(ContractSchema):
    requests = fields.Integer(required=True)
    replayed = fields.Integer(required=True, metadata={"description": "Requests answered from an Idempotency-Key."})
    faults = fields.Integer(required=True, metadata={"description": "Requests hit by an injected error, drop, hang or burst."})
    received = fields.Integer(required=True)
    accepted = fields.Integer(required=True)
    duplicate = fields.Integer(required=True)
    conflict = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    stored = fields.Integer(required=True)
    seeded = fields.Integer(required=True)


class ReceivedSchema(ContractSchema):
    """What was received, in order (``events``), per record (``records``) and in total."""

    events = fields.List(fields.Nested(ReceivedEventSchema), required=True)
    records = fields.List(fields.Nested(ReceivedRecordSchema), required=True)
    totals = fields.Nested(ReceivedTotalsSchema, required=True)


class RequestLogEntrySchema(ContractSchema):
    seq = fields.Integer(required=True)
    at = fields.String(required=True)
    method = fields.String(required=True)
    path = fields.String(required=True)
    access_key = fields.String(allow_none=True, required=True)
    idempotency_key = fields.String(allow_none=True, required=True)
    status = fields.Integer(allow_none=True, required=True, metadata={"description": "null when the connection was dropped or held."})
    fault = fields.String(allow_none=True, required=True)
    replayed = fields.Boolean(required=True)


class RequestLogSchema(ContractSchema):
    requests = fields.List(fields.Nested(RequestLogEntrySchema), required=True)
