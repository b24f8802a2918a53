"""API bodies of the directories: inspectors, targets, declared conflicts."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import PageQuerySchema, UtcDateTime, page_schema
from schemas.validators import (
    normalise_uscc,
    validate_certificate_no,
    validate_phone,
    validate_text,
)

TARGET_TYPES = ("enterprise", "individual_business", "farmer_cooperative", "other_unit")
TARGET_STATUSES = ("operating", "closed", "liquidating", "deregistered", "revoked", "cancelled", "moved_out")
JURISDICTION_LEVELS = ("county", "city", "province", "national")
RISK_CLASSES = ("A", "B", "C", "D")
# The target fields that decide whether, and in which stratum, a target is drawn (article 15).
ELIGIBILITY_FIELDS = ("status", "active", "risk_class", "abnormal_list", "serious_violation_list")
GENDERS = ("male", "female")

# Why an eligibility field changed: a closed list, every change names one.
ELIGIBILITY_REASONS = {
    "registration_change": "登记状态变更（注销、吊销、迁出、清算等）",
    "business_closed": "经核实已停业或歇业",
    "business_resumed": "经核实已恢复经营",
    "credit_reclassified": "信用风险分类调整",
    "listing_decision": "登记机关列入或移出名录的决定",
    "duplicate_or_error": "重复登记或数据差错更正",
    "out_of_jurisdiction": "不属于本县监管范围",
    "risk_rule": "检查结果或后续处置依风险规则调整",
}

# Where a change came from.
ELIGIBILITY_SOURCES = {
    "api": "接口",
    "page": "管理页面",
    "import": "批量导入",
    "proposal": "其他部门提议、登记机关采纳",
    "listing": "列入名录决定",
    "risk_rule": "风险规则",
}


def _text(max_len: int, required: bool = False, **kw) -> fields.String:
    validators = [validate.Length(min=1 if required else 0, max=max_len), validate_text]
    if not required:
        kw.setdefault("load_default", "")
    return fields.String(required=required, validate=validators, **kw)


class UsccField(fields.String):
    """A USCC, normalised (compact, upper-case) and checked with its check digit."""

    def _deserialize(self, value, attr, data, **kwargs):
        return normalise_uscc(super()._deserialize(value, attr, data, **kwargs))


class InspectorSchema(Schema):
    id = fields.Integer(dump_only=True)
    department_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = _text(50, required=True)
    gender = fields.String(required=True, validate=validate.OneOf(GENDERS))
    unit = _text(200)
    position = _text(100)
    expertise = _text(200)
    certificate_no = fields.String(required=True, validate=validate_certificate_no)
    certificate_valid_until = fields.Date(allow_none=True, load_default=None)
    phone = fields.String(load_default="", validate=validate_phone)
    active = fields.Boolean(load_default=True)


class _PartialLoad:
    """Update bodies: every field optional, and no defaults filled in for absent ones."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class InspectorUpdateSchema(_PartialLoad, InspectorSchema):
    pass


class InspectorQuerySchema(PageQuerySchema):
    department = fields.String()
    active = fields.Boolean()
    q = fields.String(validate=validate.Length(max=50), metadata={"description": "name contains"})


class TargetSchema(Schema):
    id = fields.Integer(dump_only=True)
    uscc = UsccField(required=True)
    name = _text(200, required=True)
    type = fields.String(required=True, validate=validate.OneOf(TARGET_TYPES))
    township = _text(50)
    level = fields.String(load_default="county", validate=validate.OneOf(JURISDICTION_LEVELS))
    address = _text(300)
    legal_representative = _text(50)
    business_scope = _text(4000)
    licences = fields.List(fields.String(validate=[validate.Length(min=1, max=100), validate_text]), load_default=list)
    status = fields.String(load_default="operating", validate=validate.OneOf(TARGET_STATUSES))
    risk_class = fields.String(load_default="B", validate=validate.OneOf(RISK_CLASSES))
    abnormal_list = fields.Boolean(load_default=False)
    serious_violation_list = fields.Boolean(load_default=False)
    complaint_count = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))
    active = fields.Boolean(load_default=True)
    # Why an eligibility field (ELIGIBILITY_FIELDS) changes: required when one does.
    reason_code = fields.String(load_only=True, validate=validate.OneOf(tuple(ELIGIBILITY_REASONS)))


class TargetUpdateSchema(_PartialLoad, TargetSchema):
    class Meta:
        exclude = ("uscc",)


class TargetQuerySchema(PageQuerySchema):
    township = fields.String(validate=validate.Length(max=50))
    level = fields.String(validate=validate.OneOf(JURISDICTION_LEVELS))
    type = fields.String(validate=validate.OneOf(TARGET_TYPES))
    scope = fields.String(validate=validate.Length(max=100), metadata={"description": "business scope contains"})
    licence = fields.String(validate=validate.Length(max=100))
    risk_class = fields.String(validate=validate.OneOf(RISK_CLASSES))
    list = fields.String(validate=validate.OneOf(("abnormal", "serious_violation")))
    status = fields.String(validate=validate.OneOf(TARGET_STATUSES))
    active = fields.Boolean()
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "name or USCC contains"})


class ConflictSchema(Schema):
    id = fields.Integer(dump_only=True)
    inspector_id = fields.Integer(required=True, strict=True)
    uscc = UsccField(required=True)
    reason = _text(300, required=True)
    declared_at = UtcDateTime(dump_only=True)


class ImportReportSchema(Schema):
    kind = fields.String()
    total_rows = fields.Integer()
    imported = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    rejected = fields.Integer()
    committed = fields.Boolean()
    errors = fields.List(fields.Dict(), metadata={"description": "row, field, value, message"})


InspectorPageSchema = page_schema(InspectorSchema, "InspectorPage")
TargetPageSchema = page_schema(TargetSchema, "TargetPage")
ConflictPageSchema = page_schema(ConflictSchema, "ConflictPage")


class EligibilityProposalSchema(Schema):
    """Another department's proposal to change one eligibility field of a target."""

    id = fields.Integer(dump_only=True)
    uscc = fields.String(dump_only=True)
    target_name = fields.String(dump_only=True)
    field = fields.String(required=True, validate=validate.OneOf(ELIGIBILITY_FIELDS))
    field_label = fields.String(dump_only=True)
    value = fields.Raw(required=True, load_only=True,
                       metadata={"description": "new value: a status, a risk class, or true/false"})
    new_value = fields.String(dump_only=True)
    reason_code = fields.String(required=True, validate=validate.OneOf(tuple(ELIGIBILITY_REASONS)))
    reason_label = fields.String(dump_only=True)
    note = _text(1000)
    proposed_by = fields.String(dump_only=True)
    proposed_by_department = fields.String(dump_only=True)
    proposed_at = UtcDateTime(dump_only=True)
    status = fields.String(dump_only=True)
    status_label = fields.String(dump_only=True)
    decided_by = fields.String(dump_only=True, allow_none=True)
    decided_at = UtcDateTime(dump_only=True, allow_none=True)
    decision_note = fields.String(dump_only=True, allow_none=True)


EligibilityProposalPageSchema = page_schema(EligibilityProposalSchema, "EligibilityProposalPage")


class EligibilityDecisionSchema(Schema):
    accept = fields.Boolean(required=True)
    note = _text(1000, required=True)


class EligibilityChangeSchema(Schema):
    """One logged change of an eligibility field (append-only)."""

    id = fields.Integer()
    uscc = fields.String()
    field = fields.String()
    field_label = fields.String()
    old_value = fields.String()
    new_value = fields.String()
    reason_code = fields.String()
    reason_label = fields.String()
    source = fields.String()
    source_label = fields.String()
    actor = fields.String()
    changed_at = UtcDateTime()


EligibilityChangePageSchema = page_schema(EligibilityChangeSchema, "EligibilityChangePage")


class ReasonArgsSchema(Schema):
    reason_code = fields.String(validate=validate.OneOf(tuple(ELIGIBILITY_REASONS)))
