"""Bodies of the control API (``/_control/...``): fault injection, settings, credentials, seeding, reports.

Validation errors use the contract's coded Chinese errors (:mod:`schemas.platform`).
"""
from __future__ import annotations

from typing import Any, Mapping

from marshmallow import ValidationError, fields, validates_schema

from mock_platform.faults import BROKEN_KINDS, PHASES, TARGETED_KINDS
from schemas.platform import (
    RECORD_SCHEMAS,
    ContractSchema,
    EntitySchema,
    Length,
    OneOf,
    Range,
    Regexp,
    coded_messages,
    field_error,
    nested_list,
)

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_NUMBER = coded_messages(invalid=field_error("invalid_type", "字段应为数值"), special=field_error("invalid_type", "字段应为有限数值"))
_INT = coded_messages(invalid=field_error("invalid_type", "字段应为整数"), too_large=field_error("invalid_value", "数值过大"))
_TEXT = coded_messages(invalid=field_error("invalid_type", "字段应为字符串"), invalid_utf8=field_error("invalid_type", "字段应为字符串"))
_BOOL = coded_messages(invalid=field_error("invalid_type", "字段应为布尔值"))
_NESTED = coded_messages(type=field_error("invalid_type", "字段应为 JSON 对象"))
_DICT = coded_messages(invalid=field_error("invalid_type", "字段应为 JSON 对象"))


class StrictBoolean(fields.Boolean):
    """A JSON ``true`` or ``false``, nothing else (no ``"yes"``, no ``0``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _bool(default: bool | None = None, description: str = "") -> StrictBoolean:
    options: dict[str, Any] = {"load_default": default} if default is not None else {}
    return StrictBoolean(error_messages=_BOOL, metadata={"description": description} if description else {}, **options)


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


class BrokenFaultsSchema(ContractSchema):
    rates = fields.Dict(
        keys=fields.String(validate=OneOf(BROKEN_KINDS)),
        values=fields.Float(validate=Range(0, 1), error_messages=_NUMBER),
        load_default=dict, error_messages=_DICT,
        metadata={"description": "Broken answer -> probability: html_502 (a proxy's HTML page), truncated "
                                 "(the body cut short), slow_body (half the body, the rest after slow_body_seconds), "
                                 "not_json (HTTP 200 with an HTML page). They strike after processing."},
    )
    slow_body_seconds = fields.Float(load_default=2.0, validate=Range(0.01, 120), error_messages=_NUMBER,
                                     metadata={"description": "Pause in the middle of a slow body."})


class TargetedFaultSchema(ContractSchema):
    fault = fields.String(required=True, validate=OneOf(TARGETED_KINDS), error_messages=_TEXT)
    times = _int(0, 1_000_000, 1, "How many matching requests fail (GET /_control/faults: how many strikes are left).")
    status = _int(400, 599, 503, "HTTP status of an error fault.")
    phase = fields.String(load_default=None, allow_none=True, validate=OneOf(PHASES), error_messages=_TEXT,
                          metadata={"description": "Default as for the rate faults: errors and hangs before, drops after; broken answers always after."})
    method = fields.String(load_default=None, allow_none=True, validate=OneOf(METHODS), error_messages=_TEXT,
                           metadata={"description": "Only requests with this method."})
    kind = fields.String(load_default=None, allow_none=True, validate=OneOf(RECORD_SCHEMAS), error_messages=_TEXT,
                         metadata={"description": "Only requests about this kind of record."})
    record_id = fields.String(load_default=None, allow_none=True, validate=Length(1, 128), error_messages=_TEXT,
                              metadata={"description": "Only pushes carrying a record with this id, or reads of it."})
    seconds = fields.Float(load_default=30.0, validate=Range(0.01, 120), error_messages=_NUMBER,
                           metadata={"description": "How long a hang holds the request."})
    retry_after = _int(0, 3600, 1, "Retry-After seconds of a burst 429.")


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
    broken = _nested(BrokenFaultsSchema)
    latency_ms = _int(0, 10_000, 0, "Added to every request in scope.")
    bursts = _nested(BurstFaultsSchema)
    targeted = fields.List(fields.Nested(TargetedFaultSchema, error_messages=_NESTED), load_default=list,
                           validate=Length(0, 100, unit="项"),
                           error_messages=coded_messages(invalid=field_error("invalid_type", "字段应为数组")),
                           metadata={"description": "Fail the next N requests matching method, kind and record id; checked before the random schedule, without taking a step."})
    scope = fields.String(load_default="/api/", validate=Regexp(r"^/", "作用范围应为以 / 开头的路径前缀"),
                          error_messages=_TEXT, metadata={"description": "Path prefix the faults apply to (control endpoints never fail)."})

    @validates_schema
    def _rates_fit(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        total = (data["drops"]["rate"] + data["hangs"]["rate"] + sum(data["errors"]["rates"].values())
                 + sum(data["broken"]["rates"].values()))
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
    require_known_entities = _bool(description="Reject records naming a USCC with no seeded entity.")


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


class ClockSchema(ContractSchema):
    """Pin the platform's clock (``PUT /_control/clock``)."""

    now = fields.DateTime(required=True, error_messages=coded_messages(invalid=field_error("invalid_type", "时间格式应为 ISO 8601，如 2024-05-27T09:00:00+08:00")),
                          metadata={"description": "The platform's time from now on; without an offset it is China Standard Time (UTC+8)."})
    frozen = _bool(False, "true: the clock stays at `now`; false: it moves on from `now`.")


class ClockStateSchema(ContractSchema):
    now = fields.String(required=True, metadata={"description": "The platform's time, ISO 8601 with +08:00."})
    epoch_ms = fields.Integer(required=True, metadata={"description": "The same in Unix milliseconds: sign with timestamps near this."})
    pinned = fields.Boolean(required=True)
    frozen = fields.Boolean(required=True)


class ExpectationSchema(ContractSchema):
    method = fields.String(required=True, validate=OneOf(METHODS), error_messages=_TEXT)
    path = fields.String(required=True, validate=Regexp(r"^/", "路径应以 / 开头"), error_messages=_TEXT,
                         metadata={"description": "Exact path, or a prefix ending in *."})
    times = fields.Integer(load_default=1, allow_none=True, strict=True, validate=Range(1, 1_000_000), error_messages=_INT,
                           metadata={"description": "Exactly this many requests; null: at least one."})


class ExpectationsSchema(ContractSchema):
    """Expectations on the requests to come (``PUT /_control/expectations`` replaces them)."""

    strict = _bool(False, "Answer 501 unexpected_request to any request no expectation allows.")
    ordered = _bool(False, "Requests must meet the expectations in order.")
    expectations = fields.List(fields.Nested(ExpectationSchema, error_messages=_NESTED), load_default=list,
                               validate=Length(0, 1000, unit="项"),
                               error_messages=coded_messages(invalid=field_error("invalid_type", "字段应为数组")))


class ExpectationStateSchema(ExpectationSchema):
    calls = fields.Integer(required=True)
    met = fields.Boolean(required=True)


class UnexpectedRequestSchema(ContractSchema):
    seq = fields.Integer(required=True)
    method = fields.String(required=True)
    path = fields.String(required=True)
    reason = fields.String(required=True, validate=OneOf(("unexpected", "out_of_order")))


class ExpectationsReportSchema(ContractSchema):
    strict = fields.Boolean(required=True)
    ordered = fields.Boolean(required=True)
    expectations = fields.List(fields.Nested(ExpectationStateSchema), required=True)
    unmet = fields.List(fields.Nested(ExpectationStateSchema), required=True)
    unexpected = fields.List(fields.Nested(UnexpectedRequestSchema), required=True)
    satisfied = fields.Boolean(required=True, metadata={"description": "Every expectation met, and nothing the mode forbids happened."})


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
    query = fields.List(fields.List(fields.String()), metadata={"description": "Query parameters as [name, value] pairs, in order."})
    headers = fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"description": "Request headers, names lower-cased; X-Ca-Signature, Authorization and Cookie masked as ***."})
    body = fields.String(metadata={"description": "The request body (UTF-8, undecodable bytes replaced)."})
    response_headers = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True,
                                   metadata={"description": "null when no answer was sent."})
    response_body = fields.String(allow_none=True, metadata={"description": "The body sent (cut short for a truncated body); null when none."})


class RequestLogSchema(ContractSchema):
    requests = fields.List(fields.Nested(RequestLogEntrySchema), required=True)
