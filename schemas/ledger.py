"""Wire shapes of the ledger (issue 16): registering an inspection outside the draw, a target's
ledger with its counts against the caps, and the yearly caps the county office publishes."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, IdArg, PageQuerySchema, QueryArgsSchema, UtcDateTime, YearArg, computed, page_schema
from schemas.directory import UsccField, _text
from schemas.visits import RepeatVisitSchema

CHANNEL_LABELS = {
    "drawn": "双随机抽查",
    "higher_level": "上级部门检查",
    "special": "专项检查",
    "complaint": "投诉举报核查",
    "referral": "转办交办",
    "routine": "日常巡查",
    "case": "案件办理",
}
"""The ledger's channels, code -> Chinese label (``gateway.ledger.channels`` documents each)."""
CHANNEL_CODES = tuple(CHANNEL_LABELS)
REGISTERED_CHANNEL_CODES = ("special", "complaint", "referral", "routine", "case")


class RegistrationSchema(BodySchema):
    """An inspection outside the draw, as a department registers it."""

    uscc = UsccField(required=True)
    department_code = _text(64, required=True)
    channel = fields.String(required=True, validate=validate.OneOf(REGISTERED_CHANNEL_CODES),
                            metadata={"description": "special 专项检查, complaint 投诉举报核查, referral 转办交办, "
                                                     "routine 日常巡查, case 案件办理"})
    legal_reason_code = _text(64, required=True, metadata={"description": "the legal reason's code"})
    legal_basis = _text(1000, metadata={"description": "the provision relied on"})
    inspected_on = fields.Date(required=True)
    reference = _text(100, metadata={"description": "the department's own number; unique per department"})
    over_cap_reason = _text(1000, metadata={"description": "required when the inspection exceeds a cap"})


class _ChannelSchema(Schema):
    """Which target, by which department, and by which channel (with its label) an inspection came about."""

    channel = fields.String(metadata={"enum": list(CHANNEL_CODES)})
    channel_label = computed(fields.String, lambda row: CHANNEL_LABELS.get(row.channel, row.channel))
    uscc = fields.String()
    department_code = fields.String()


class RegisteredInspectionSchema(_ChannelSchema):
    id = fields.Integer()
    legal_reason_code = fields.String()
    legal_basis = fields.String()
    inspected_on = fields.Date()
    year = fields.Integer()
    reference = fields.String()
    source = fields.String(metadata={"enum": ["api", "page", "import"]})
    over_cap_reason = fields.String()
    joint_task_id = fields.Integer(allow_none=True)
    created_by = fields.String()
    created_at = UtcDateTime()


class RegistrationResultSchema(RegisteredInspectionSchema):
    """A new registration, with where it leaves the target against the caps."""

    counted = fields.Boolean(metadata={"description": "it counts toward the caps (its channel is not exempt)"})
    total_this_year = fields.Integer()
    department_this_year = fields.Integer()
    over_caps = fields.List(fields.String(), metadata={"description": "per_department and/or total"})
    repeat_visits = fields.List(fields.Nested(RepeatVisitSchema), metadata={
        "description": "other departments' inspections of the target within repeat_visit_days (a warning); "
                       "an open drawn task among them may be joined (POST /visits/joins)"})


class RegistrationQuerySchema(PageQuerySchema):
    year = YearArg()
    uscc = fields.String(validate=validate.Length(max=18))
    department = fields.String(validate=validate.Length(max=64))
    over_cap = fields.Boolean(metadata={"description": "only registrations over a cap"})
    id = IdArg()


RegisteredInspectionPageSchema = page_schema(RegisteredInspectionSchema, "RegisteredInspectionPage")


class LedgerEntrySchema(_ChannelSchema):
    on = fields.Date()
    year = fields.Integer()
    reference = fields.String()
    legal_reason_code = fields.String()
    source = fields.String()
    counts = fields.Boolean(metadata={"description": "counts toward the caps"})
    task_id = fields.Integer(allow_none=True)
    registered_id = fields.Integer(allow_none=True)
    over_cap_reason = fields.String()
    in_total = fields.Boolean(metadata={
        "description": "false for another department's part of a joint visit: one visit in the target's total "
                       "(综合查一次), one for each department that took part"})


class CapsSchema(Schema):
    year = fields.Integer()
    version = fields.Integer()
    per_department = fields.Integer()
    total = fields.Integer()
    exempt_channels = fields.List(fields.String())
    key_targets_exempt = fields.Boolean()
    basis = fields.String()
    published_at = UtcDateTime()
    published_by = fields.String()


class CapsPublishSchema(BodySchema):
    year = YearArg(required=True, strict=True)
    per_department = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    total = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    exempt_channels = fields.List(fields.String(validate=validate.OneOf(CHANNEL_CODES)), load_default=None,
                                  validate=validate.Length(max=len(CHANNEL_CODES)),
                                  metadata={"description": "default: complaint, referral, case"})
    key_targets_exempt = fields.Boolean(load_default=True)
    basis = _text(500, metadata={"description": "the document that sets the caps"})


class CapsQuerySchema(QueryArgsSchema):
    year = YearArg()


class CapsListSchema(Schema):
    items = fields.List(fields.Nested(CapsSchema), required=True)


class LedgerExportSchema(QueryArgsSchema):
    year = YearArg(required=True)
    department = fields.String(validate=validate.Length(max=64))
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))


class TargetLedgerQuerySchema(QueryArgsSchema):
    year = YearArg()


class TargetLedgerSchema(Schema):
    """A target's ledger for a year: every inspection and its counts against the current caps."""

    uscc = fields.String()
    year = fields.Integer()
    entries = fields.List(fields.Nested(LedgerEntrySchema))
    total = fields.Integer(metadata={"description": "inspections that count toward the caps"})
    by_department = fields.Dict(keys=fields.String(), values=fields.Integer())
    caps = fields.Nested(CapsSchema, allow_none=True)
    at_cap = fields.Boolean()



class AnnualCapsSchema(Schema):
    version = fields.Integer()
    per_department = fields.Integer()
    total = fields.Integer()


class AnnualResultSchema(Schema):
    code = fields.String()
    label = fields.String()
    count = fields.Integer()


class AnnualReleaseRowSchema(Schema):
    """One department and channel of the annual release (one row of its CSV/XLSX)."""

    department_code = fields.String(metadata={"description": "'' for higher-level records naming no department"})
    department_name = fields.String()
    channel = fields.String(metadata={"enum": list(CHANNEL_CODES)})
    channel_label = fields.String()
    inspections = fields.Integer()
    counted = fields.Integer(metadata={"description": "of them, counting toward the caps"})
    joint = fields.Integer(metadata={"description": "of them, joint visits"})
    joint_share = fields.String(metadata={"description": "joint / inspections, as the page and files show it (12.5%)"})
    results = fields.List(fields.Nested(AnnualResultSchema), metadata={
        "description": "drawn inspections only: each task's latest published result, by result code"})


class AnnualTotalsSchema(Schema):
    inspections = fields.Integer()
    counted = fields.Integer()
    joint = fields.Integer()


class AnnualReleaseSchema(Schema):
    """The annual release of a year that has ended: the figures of the public page /annual/<year> and
    of its CSV and XLSX files."""

    year = fields.Integer()
    caps = fields.Nested(AnnualCapsSchema, allow_none=True, metadata={"description": "null: none published"})
    totals = fields.Nested(AnnualTotalsSchema)
    rows = fields.List(fields.Nested(AnnualReleaseRowSchema))
    files = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "format (csv, xlsx) -> the path of the file with the same figures"})
