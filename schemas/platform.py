"""The provincial platform contract: pushed records, batch envelopes, outcomes, errors, public views.

Both the gateway's sync adapter and ``mock_platform`` obey these schemas; the OpenAPI document in
``schemas/openapi/platform.json`` is generated from them. Field titles are the Chinese names the
platform shows; descriptions are for developers.

Every validation error is a ``{"code": ..., "message": ...}`` object with a stable machine code and
a Simplified Chinese message; :func:`flatten_errors` turns marshmallow's nested messages into a flat
list of ``{"field", "code", "message"}``.
"""
from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any, Mapping

from marshmallow import INCLUDE, Schema, ValidationError, fields, missing, pre_load, validate, validates_schema

from schemas import uscc as uscc_rule
from schemas.common import CHINA_TZ, BodySchema
from schemas.result_codes import RESULT_CODES, check_codes

MAX_BATCH_RECORDS = 100  # the platform's default limit of records per batch

RECORD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
USCC_PATTERN = uscc_rule.PATTERN
USCC_MESSAGES = {
    "length": "统一社会信用代码应为 18 位",
    "characters": "统一社会信用代码含有不允许的字符",
    "check": "统一社会信用代码校验位不正确",
}

PLAN_TYPES = {"joint": "跨部门联合抽查", "department": "部门抽查"}
INSPECTION_TYPES = {
    "joint_random": "跨部门联合双随机抽查",
    "department_random": "部门双随机抽查",
    "targeted": "定向抽查",
}
AUTHORITY_LEVELS = {"county": "县级", "city": "市级", "province": "省级", "national": "国家级"}
DISPOSITIONS = {
    "administrative_penalty": "行政处罚",
    "no_penalty": "不予行政处罚",
    "rectified": "已责令整改并完成整改",
    "transfer_to_authority": "移送其他行政机关",
    "transfer_to_judiciary": "移送司法机关",
}
ENTITY_TYPES = {
    "enterprise": "企业",
    "individual_business": "个体工商户",
    "farmer_cooperative": "农民专业合作社",
    "other": "其他单位",
}
OUTCOMES = {
    "accepted": (201, "已接收"),
    "duplicate": (200, "重复提交，内容与已接收记录一致，未重复入库"),
    "conflict": (409, "记录标识已存在，但内容与已接收记录不同"),
    "rejected": (422, "记录字段校验未通过"),
}


def today_in_china() -> date:
    """Today's date in China Standard Time (UTC+8), the platform's calendar."""
    return datetime.now(CHINA_TZ).date()


def _meta(title: str, description: str = "", **extra: Any) -> dict[str, Any]:
    """Field metadata for the OpenAPI document: a Chinese title and, if any, a description."""
    return {"title": title, **({"description": description} if description else {}), **extra}


def field_error(code: str, message: str) -> dict[str, str]:
    """One validation error: a stable machine code and a Chinese message."""
    return {"code": code, "message": message}


def coded_messages(**extra: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    """marshmallow ``error_messages`` whose entries are coded errors (a list, so they merge)."""
    base = {
        "required": field_error("missing_field", "缺少必填字段"),
        "null": field_error("missing_field", "字段不能为空"),
        "validator_failed": field_error("invalid_value", "字段值无效"),
    }
    base.update(extra)
    return {key: [value] for key, value in base.items()}


_TEXT_MESSAGES = coded_messages(
    invalid=field_error("invalid_type", "字段应为字符串"),
    invalid_utf8=field_error("invalid_type", "字段应为有效的 UTF-8 字符串"),
)
_DATE_MESSAGES = coded_messages(
    invalid=field_error("invalid_date", "日期格式应为 YYYY-MM-DD"),
    format=field_error("invalid_date", "日期格式应为 YYYY-MM-DD"),
)
_INT_MESSAGES = coded_messages(
    invalid=field_error("invalid_type", "字段应为整数"),
    too_large=field_error("invalid_value", "数值过大"),
)
_LIST_MESSAGES = coded_messages(invalid=field_error("invalid_type", "字段应为数组"))
_NESTED_MESSAGES = coded_messages(type=field_error("invalid_type", "字段应为 JSON 对象"))


class Length(validate.Length):
    """``validate.Length`` with coded Chinese errors (``too_short`` / ``too_long``)."""

    def __init__(self, min: int | None = None, max: int | None = None, *, unit: str = "个字符"):
        super().__init__(min=min, max=max)
        self.unit = unit

    def __call__(self, value: Any) -> Any:
        if self.min is not None and len(value) < self.min:
            raise ValidationError([field_error("too_short", f"长度不能少于 {self.min} {self.unit}")])
        if self.max is not None and len(value) > self.max:
            raise ValidationError([field_error("too_long", f"长度不能超过 {self.max} {self.unit}")])
        return value


class OneOf(validate.OneOf):
    """``validate.OneOf`` with a coded Chinese error (``invalid_choice`` unless told otherwise)."""

    def __init__(self, choices: Any, *, code: str = "invalid_choice", message: str | None = None):
        super().__init__(list(choices))
        self.code = code
        self.message = message

    def __call__(self, value: Any) -> Any:
        if value not in self.choices:
            message = self.message or "取值应为以下之一：" + "、".join(map(str, self.choices))
            raise ValidationError([field_error(self.code, message.format(input=value))])
        return value


class Regexp(validate.Regexp):
    """``validate.Regexp`` with a coded Chinese error (``invalid_format``)."""

    def __init__(self, pattern: str, message: str):
        super().__init__(pattern)
        self.message = message

    def __call__(self, value: Any) -> Any:
        if self.regex.match(value) is None:
            raise ValidationError([field_error("invalid_format", self.message)])
        return value


class Range(validate.Range):
    """``validate.Range`` with a coded Chinese error (``out_of_range``)."""

    def __call__(self, value: Any) -> Any:
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ValidationError([field_error("out_of_range", f"取值应在 {self.min} 至 {self.max} 之间")])
        return value


class Uscc(fields.String):
    """A Unified Social Credit Code (统一社会信用代码), check digit verified; loads compacted."""

    def __init__(self, **kwargs: Any):
        metadata = {"title": "统一社会信用代码", "pattern": USCC_PATTERN, **kwargs.pop("metadata", {})}
        metadata.setdefault("description", "18-character Unified Social Credit Code; the check digit is verified.")
        super().__init__(error_messages=_TEXT_MESSAGES, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return uscc_rule.validate(text)
        except uscc_rule.UsccError as problem:
            raise ValidationError([field_error("invalid_uscc", USCC_MESSAGES[problem.reason])]) from None


def parse_uscc(value: str) -> str:
    """The USCC in compact form; ``ValueError`` with the Chinese reason when it is not valid."""
    try:
        return Uscc().deserialize(value)
    except ValidationError as error:
        raise ValueError(error.messages[0]["message"]) from None


def text(title: str, max_length: int, *, required: bool = True, description: str = "", **kw: Any) -> fields.String:
    """A non-empty string field (optional fields may be omitted or null)."""
    if not required:
        kw.setdefault("load_default", None)
    return fields.String(
        required=required,
        allow_none=not required,
        validate=Length(1, max_length),
        error_messages=_TEXT_MESSAGES,
        metadata=_meta(title, description),
        **kw,
    )


def choice(title: str, labels: Mapping[str, str], description: str = "") -> fields.String:
    """A required string field whose value is one of the codes of ``labels``."""
    legend = "; ".join(f"{code} = {label}" for code, label in labels.items())
    return fields.String(
        required=True,
        validate=OneOf(labels),
        error_messages=_TEXT_MESSAGES,
        metadata=_meta(title, (description + " " if description else "") + legend),
    )


def day(title: str, *, not_future: bool = False, description: str = "") -> fields.Date:
    """A required ISO date; ``not_future`` refuses dates after today (China time)."""
    metadata = _meta(title, description, **({"x_not_future": True} if not_future else {}))
    return fields.Date(required=True, error_messages=_DATE_MESSAGES, metadata=metadata)


def record_id(title: str = "记录标识", description: str = "") -> fields.String:
    """The sender's stable record id, also the idempotency key of the record."""
    return fields.String(
        required=True,
        validate=Regexp(RECORD_ID_PATTERN, "记录标识只能包含字母、数字和 ._:-，以字母或数字开头，最长 128 位"),
        error_messages=_TEXT_MESSAGES,
        metadata={"title": title, "description": description or "The sender's stable id of this record; the idempotency key of the record."},
    )


def nested_list(schema: type[Schema], title: str, min_items: int = 1, max_items: int = 10000) -> fields.List:
    """A required list of nested objects."""
    return fields.List(
        fields.Nested(schema, error_messages=_NESTED_MESSAGES),
        required=True,
        validate=Length(min_items, max_items, unit="项"),
        error_messages=_LIST_MESSAGES,
        metadata={"title": title},
    )


class ContractSchema(BodySchema):
    """Base of the contract's schemas: unknown fields refused, errors coded and in Chinese."""

    error_messages = {
        "unknown": field_error("unknown_field", "未知字段"),
        "type": field_error("not_an_object", "应为 JSON 对象"),
    }

    @pre_load
    def _null_is_omitted(self, data: Any, **kwargs: Any) -> Any:
        """``null`` for an optional field with a default means the same as leaving it out."""
        if not isinstance(data, dict):
            return data
        return {
            key: value for key, value in data.items()
            if not (value is None and key in self.fields and self.fields[key].load_default is not missing
                    and not self.fields[key].allow_none)
        }


class RecordSchema(ContractSchema):
    """Base of the four pushed records. ``today`` (default: today in China) bounds past-only dates."""

    id = record_id()

    def __init__(self, *, today: date | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.today = today

    @validates_schema(skip_on_field_errors=False)
    def _dates_not_in_future(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        today = self.today or today_in_china()
        errors = {
            name: [field_error("future_date", f"日期不能晚于今天（{today.isoformat()}）")]
            for name, field in self.fields.items()
            if field.metadata.get("x_not_future") and isinstance(data.get(name), date) and data[name] > today
        }
        if errors:
            raise ValidationError(errors)


class MatterRefSchema(ContractSchema):
    """A random-inspection matter (抽查事项) named by a plan."""

    code = text("事项编码", 64)
    name = text("事项名称", 200)


class PlanRecordSchema(RecordSchema):
    """抽查计划: an annual, joint or department plan as published."""

    plan_number = text("计划编号", 64)
    plan_name = text("计划名称", 200)
    plan_type = choice("计划类型", PLAN_TYPES)
    organiser = text("计划制定机关", 100)
    departments = fields.List(
        fields.String(validate=Length(1, 100), error_messages=_TEXT_MESSAGES),
        required=True,
        validate=Length(1, 50, unit="项"),
        error_messages=_LIST_MESSAGES,
        metadata={"title": "参与部门", "description": "Departments taking part (the lead first)."},
    )
    year = fields.Integer(
        required=True, strict=True, validate=Range(2000, 2100), error_messages=_INT_MESSAGES,
        metadata={"title": "计划年度"},
    )
    start_date = day("计划开始日期")
    end_date = day("计划结束日期", description="On or after start_date.")
    published_on = day("公示日期", not_future=True)
    matters = nested_list(MatterRefSchema, "抽查事项")
    remarks = text("备注", 500, required=False)

    @validates_schema(skip_on_field_errors=False)
    def _window_in_order(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            raise ValidationError({"end_date": [field_error("date_order", "计划结束日期不能早于开始日期")]})


class DrawnTargetSchema(ContractSchema):
    """One target drawn by a draw (被抽取对象)."""

    uscc = Uscc(required=True)
    name = text("检查对象名称", 200)
    matters = fields.List(
        fields.String(validate=Length(1, 64), error_messages=_TEXT_MESSAGES),
        load_default=list,
        error_messages=_LIST_MESSAGES,
        metadata={"title": "抽查事项编码", "description": "Codes of the matters this target was drawn for."},
    )


class DrawResultRecordSchema(RecordSchema):
    """抽取结果: the targets a draw selected for one task."""

    plan_number = text("计划编号", 64)
    plan_name = text("计划名称", 200)
    task_number = text("任务编号", 64)
    task_name = text("任务名称", 200)
    organiser = text("抽取机关", 100)
    drawn_on = day("抽取日期", not_future=True)
    targets = nested_list(DrawnTargetSchema, "被抽取对象")
    record_sha256 = fields.String(
        load_default=None, allow_none=True,
        validate=Regexp(r"^[0-9a-f]{64}$", "摘要应为 64 位小写十六进制 SHA-256"),
        error_messages=_TEXT_MESSAGES,
        metadata={"title": "抽取记录摘要", "description": "SHA-256 of the public draw record (shuangsui.draw/1)."},
    )
    record_url = fields.String(
        load_default=None, allow_none=True,
        validate=[Length(1, 500), Regexp(r"^https?://\S+$", "地址应以 http:// 或 https:// 开头")],
        error_messages=_TEXT_MESSAGES,
        metadata={"title": "抽取记录地址", "description": "Where anyone can download the public draw record."},
    )


class InspectionResultRecordSchema(RecordSchema):
    """抽查检查结果: the outcome of one inspection of one target."""

    plan_number = text("计划编号", 64)
    plan_name = text("计划名称", 200)
    task_number = text("任务编号", 64)
    task_name = text("任务名称", 200)
    inspection_type = choice("检查类型", INSPECTION_TYPES)
    authority = text("检查实施机关", 100)
    authority_level = choice("检查实施机关层级", AUTHORITY_LEVELS, "Used by lower levels to exclude targets a higher level inspected.")
    completed_on = day("检查完成日期", not_future=True)
    result_codes = fields.List(
        fields.String(
            validate=OneOf(RESULT_CODES, code="unknown_result_code", message="未知的检查结果代码“{input}”"),
            error_messages=_TEXT_MESSAGES,
        ),
        required=True,
        validate=Length(1, len(RESULT_CODES), unit="项"),
        error_messages=_LIST_MESSAGES,
        metadata={
            "title": "检查结果",
            "description": "SAMR result codes (schemas/data/result_codes.json). Exclusive codes stand alone; sub-codes B, C, 6 and D need their parent A.",
        },
    )
    remarks = text("备注", 1000, required=False)
    uscc = Uscc(required=True)
    target_name = text("检查对象名称", 200)

    @validates_schema(skip_on_field_errors=False)
    def _codes_combine(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        codes = data.get("result_codes")
        if codes is None:
            return
        problems = [p for p in check_codes(codes) if p.code != "unknown_result_code"]
        if problems:
            raise ValidationError({"result_codes": [field_error(p.code, p.message) for p in problems]})


class FollowUpRecordSchema(RecordSchema):
    """后续处置: what the competent department decided after a problem was found."""

    inspection_result_id = record_id("对应检查结果记录标识", "The id of the inspection-result record this disposition follows.")
    uscc = Uscc(required=True)
    disposition = choice("处置方式", DISPOSITIONS)
    authority = text("处置机关", 100)
    decided_on = day("处置日期", not_future=True)
    document_number = text("文书编号", 100, required=False)
    description = text("处置内容", 1000)


RECORD_SCHEMAS: dict[str, type[RecordSchema]] = {
    "plans": PlanRecordSchema,
    "draw-results": DrawResultRecordSchema,
    "inspection-results": InspectionResultRecordSchema,
    "follow-ups": FollowUpRecordSchema,
}
KIND_LABELS = {
    "plans": "抽查计划",
    "draw-results": "抽取结果",
    "inspection-results": "抽查检查结果",
    "follow-ups": "后续处置",
}


def flatten_errors(messages: Any, path: str = "") -> list[dict[str, Any]]:
    """marshmallow's nested error messages as ``[{"field", "code", "message"}]``.

    ``field`` is a path such as ``uscc``, ``result_codes[1]`` or ``targets[0].uscc``; ``None`` for
    an error about the record as a whole.
    """
    if isinstance(messages, dict) and isinstance(messages.get("code"), str) and isinstance(messages.get("message"), str):
        return [{"field": path or None, "code": messages["code"], "message": messages["message"]}]
    if isinstance(messages, dict):
        flat: list[dict[str, Any]] = []
        for key, value in messages.items():
            if key == "_schema":
                sub = path
            elif isinstance(key, int):
                sub = f"{path}[{key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            flat.extend(flatten_errors(value, sub))
        return flat
    if isinstance(messages, list):
        return [error for item in messages for error in flatten_errors(item, path)]
    return [{"field": path or None, "code": "invalid_value", "message": str(messages)}]


@functools.lru_cache(maxsize=64)
def record_schema(kind: str, today: date | None = None) -> RecordSchema:
    """The schema of ``kind`` (past-only dates bounded by ``today``), built once and reused: building
    a marshmallow schema costs more than loading a record with it (half the mock platform's time per
    batch when every record built its own)."""
    return RECORD_SCHEMAS[kind](today=today)


def validate_record(kind: str, data: Any, today: date | None = None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Load one record of ``kind``: ``(loaded, [])`` or ``(None, flat_errors)``."""
    try:
        return record_schema(kind, today).load(data), []
    except ValidationError as error:
        return None, flatten_errors(error.messages)


# --- batch envelope and outcomes ---------------------------------------------------------------

class FieldErrorSchema(ContractSchema):
    """One field error of a rejected record."""

    field = fields.String(allow_none=True, required=True, metadata={"description": "Path of the field, e.g. targets[0].uscc; null for the record as a whole."})
    code = fields.String(required=True, metadata={"description": "Stable machine code, e.g. invalid_uscc."})
    message = fields.String(required=True, metadata={"description": "Chinese message for people."})


class RecordOutcomeSchema(ContractSchema):
    """The outcome of one record of a batch."""

    index = fields.Integer(required=True, metadata={"description": "Position of the record in the batch."})
    id = fields.String(allow_none=True, required=True, metadata={"description": "The record's id (null when it had no valid id)."})
    outcome = fields.String(required=True, validate=OneOf(OUTCOMES), metadata={"description": "accepted | duplicate | conflict | rejected"})
    status = fields.Integer(required=True, metadata={"description": "201 accepted, 200 duplicate, 409 conflict, 422 rejected."})
    message = fields.String(required=True)
    receipt = fields.String(metadata={"description": "The platform's receipt number (accepted, duplicate and conflict: the stored record's)."})
    code = fields.String(metadata={"description": "record_conflict or validation_failed."})
    errors = fields.List(fields.Nested(FieldErrorSchema), metadata={"description": "Field errors of a rejected record."})


class BatchSummarySchema(ContractSchema):
    """How many records of a batch ended in each outcome."""

    accepted = fields.Integer(required=True)
    duplicate = fields.Integer(required=True)
    conflict = fields.Integer(required=True)
    rejected = fields.Integer(required=True)


class BatchResponseSchema(ContractSchema):
    """The platform's answer to a batch push (HTTP 200 whatever the records' outcomes)."""

    batch_id = fields.String(required=True)
    kind = fields.String(required=True, validate=OneOf(RECORD_SCHEMAS))
    received_at = fields.DateTime(required=True, metadata={"description": "ISO 8601 time, China Standard Time."})
    summary = fields.Nested(BatchSummarySchema, required=True)
    results = fields.List(fields.Nested(RecordOutcomeSchema), required=True)


def batch_request_schema(kind: str) -> type[Schema]:
    """The request body of ``POST /api/v1/<kind>/batch``: ``{"records": [...]}``."""
    name = "".join(part.capitalize() for part in kind.split("-")) + "BatchRequest"
    return ContractSchema.from_dict(
        {"records": nested_list(RECORD_SCHEMAS[kind], "记录", max_items=MAX_BATCH_RECORDS)},
        name=name,
    )


class ErrorSchema(ContractSchema):
    """Every error response: a stable code, a Chinese message, and sometimes details."""

    class Meta:
        unknown = INCLUDE

    code = fields.String(required=True, metadata={"description": "Stable machine code, e.g. signature_mismatch."})
    message = fields.String(required=True, metadata={"description": "Simplified Chinese message for people."})


# --- stored records and public views -------------------------------------------------------------

class StoredRecordSchema(ContractSchema):
    """A record as the platform holds it for its sender."""

    kind = fields.String(required=True, validate=OneOf(RECORD_SCHEMAS))
    id = fields.String(required=True)
    receipt = fields.String(required=True)
    content_sha256 = fields.String(required=True, metadata={"description": "SHA-256 of the record's canonical JSON."})
    received_at = fields.DateTime(required=True)
    record = fields.Dict(required=True)


class RecordPageSchema(ContractSchema):
    """One page of a sender's records, oldest first."""

    items = fields.List(fields.Nested(StoredRecordSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True, metadata={"description": "Pass as ?after= for the next page; null on the last page."})


class EntitySchema(ContractSchema):
    """A market entity (市场主体) known to the platform."""

    uscc = Uscc(required=True)
    name = text("名称", 200)
    entity_type = fields.String(
        load_default="enterprise", validate=OneOf(ENTITY_TYPES), error_messages=_TEXT_MESSAGES,
        metadata={"title": "主体类型", "description": "; ".join(f"{k} = {v}" for k, v in ENTITY_TYPES.items())},
    )
    registration_authority = text("登记机关", 100, required=False)
    status = text("登记状态", 50, required=False, description="e.g. 存续, 注销, 吊销")
    address = text("住所", 200, required=False)


class PublicFollowUpSchema(FollowUpRecordSchema):
    """A follow-up disposition as the public sees it."""

    disposition_label = fields.String(required=True)


class PublicInspectionSchema(InspectionResultRecordSchema):
    """An inspection result as the public sees it, with its labels and follow-ups."""

    inspection_type_label = fields.String(required=True)
    authority_level_label = fields.String(required=True)
    result_description = fields.String(required=True, metadata={"description": "The result codes' labels, as shown on the public site."})
    follow_ups = fields.List(fields.Nested(PublicFollowUpSchema), required=True)


class TargetInspectionsSchema(ContractSchema):
    """A target's inspection records from every authority (抽查检查结果信息)."""

    uscc = Uscc(required=True)
    entity = fields.Nested(EntitySchema, allow_none=True, required=True)
    count = fields.Integer(required=True)
    inspections = fields.List(fields.Nested(PublicInspectionSchema), required=True)


class DrawSummarySchema(ContractSchema):
    """A draw result named by a plan."""

    task_number = fields.String(required=True)
    task_name = fields.String(required=True)
    drawn_on = fields.Date(required=True)
    target_count = fields.Integer(required=True)


class PublicPlanSchema(PlanRecordSchema):
    """A plan as the public sees it, with the draws made under it."""

    plan_type_label = fields.String(required=True)
    draw_results = fields.List(fields.Nested(DrawSummarySchema), required=True)


class PublicDrawResultSchema(DrawResultRecordSchema):
    """A draw result as the public sees it."""
