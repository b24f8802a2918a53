"""API bodies of results, follow-up dispositions, the article 19 clock, credit, public query and
supervision statistics.

Input schemas here check the shape of a body; the checklist values are checked by the merged
checklist of each matter (``gateway.results.checklist``), and every error of a result (shape,
checklist, result codes, methods, dates, signature, attachments) is reported in one response.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import IdArg, PageQuerySchema, QueryArgsSchema, UtcDateTime, YearArg, computed, page_schema
from schemas.directory import _text
from schemas.platform import DISPOSITIONS
from schemas.result_codes import describe

SIGNATURE_STATUSES = ("signed", "refused")
RESULT_STATUSES = ("recorded", "returned", "reviewed", "published")
EXPORT_FORMATS = ("json", "csv", "xlsx")

SIGNATURE_REQUIRED = "必须记录检查对象签字确认情况，或记录其拒绝签字及说明（第十八条）。"


# --- input ------------------------------------------------------------------------------------


class SignatureSchema(Schema):
    """Article 18: the target signs the feedback, or its refusal is recorded with a note."""

    status = fields.String(
        required=True, validate=validate.OneOf(SIGNATURE_STATUSES),
        metadata={"description": "signed = 检查对象签字确认; refused = 拒绝签字"},
    )
    signer_name = _text(50, metadata={"description": "Who signed for the target (required when signed)."})
    signer_title = _text(100, metadata={"description": "The signer's position, e.g. 法定代表人, 站长."})
    refusal_note = _text(1000, metadata={"description": "How the refusal happened (required when refused)."})

    @validates_schema
    def _who_or_why(self, data, **_kwargs):
        if data.get("status") == "signed" and not (data.get("signer_name") or "").strip():
            raise ValidationError({"signer_name": ["检查对象签字确认时，必须填写签字人姓名。"]})
        if data.get("status") == "refused" and not (data.get("refusal_note") or "").strip():
            raise ValidationError({"refusal_note": ["检查对象拒绝签字时，必须在检查表中注明拒签情况。"]})


class ResultInputSchema(Schema):
    """A task's inspection result as the team records it."""

    checklists = fields.Dict(
        keys=fields.String(), values=fields.Dict(), required=True,
        metadata={"description": "{matter code: {check item code: value}}: every matter of the task, "
                                 "every check item of its merged checklist (GET /tasks/{id}/checklist)."},
    )
    result_codes = fields.List(
        fields.String(), required=True, validate=validate.Length(min=1, max=10),
        metadata={"description": "SAMR result codes (GET /result-codes), e.g. [\"1\"] or [\"A\", \"D\"]."},
    )
    methods = fields.List(
        fields.String(), required=True, validate=validate.Length(min=1, max=10),
        metadata={"description": "Inspection methods used, from the task's matters (实地核查, 书面检查, 信息比对, …)."},
    )
    completed_on = fields.Date(required=True, metadata={"description": "The day the inspection was finished (not in the future, not before the task window opens)."})
    signature = fields.Nested(SignatureSchema, required=True, error_messages={"required": SIGNATURE_REQUIRED})
    remarks = _text(1000)
    attachment_ids = fields.List(
        fields.Integer(), load_default=list,
        metadata={"description": "Attachments uploaded to this task beforehand (POST /tasks/{id}/attachments)."},
    )


class CorrectionInputSchema(ResultInputSchema):
    """A correction of a published result: the full new version and why it corrects the old one."""

    reason = _text(1000, required=True, metadata={"description": "更正原因"})


class ReviewInputSchema(Schema):
    approve = fields.Boolean(required=True, metadata={"description": "true: 审核通过; false: 退回修改"})
    note = _text(1000, metadata={"description": "Review note; required when returning."})

    @validates_schema
    def _why_returned(self, data, **_kwargs):
        if data.get("approve") is False and not (data.get("note") or "").strip():
            raise ValidationError({"note": ["退回修改时必须填写退回原因。"]})


class DispositionInputSchema(Schema):
    """A follow-up disposition (后续处置, article 22) by the principal's department."""

    kind = fields.String(required=True, metadata={"description": "administrative_penalty, no_penalty, transfer_to_authority, transfer_to_judiciary or rectified (GET /disposition-kinds)."})
    decision_number = _text(100, metadata={"description": "行政处罚决定书文号 (required for administrative_penalty) or the letter's number."})
    receiving_authority = _text(200, metadata={"description": "The authority the case went to (required for transfers)."})
    decided_on = fields.Date(required=True)
    description = _text(2000, required=True)
    supersedes_id = fields.Integer(load_default=None, allow_none=True, metadata={"description": "The published disposition this one corrects."})
    correction_reason = _text(1000)


# --- query arguments --------------------------------------------------------------------------


class ResultQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(RESULT_STATUSES))
    department = fields.String(metadata={"description": "lead department code"})
    plan_id = IdArg()
    uscc = fields.String()


class DeadlineQuerySchema(QueryArgsSchema):
    department = fields.String(metadata={"description": "lead department code"})
    soon_days = fields.Integer(load_default=3, validate=validate.Range(min=0, max=20))
    as_of = fields.Date(metadata={"description": "Evaluate the clock on this day instead of today (China time)."})


class StatsQuerySchema(QueryArgsSchema):
    year = YearArg()
    plan_id = IdArg()
    department = fields.String()
    as_of = fields.Date()
    format = fields.String(load_default="json", validate=validate.OneOf(EXPORT_FORMATS))


class ExportQuerySchema(QueryArgsSchema):
    plan_id = IdArg()
    department = fields.String()
    year = YearArg()


class PublicSearchSchema(PageQuerySchema):
    q = fields.String(
        validate=validate.Length(min=2, max=100),
        metadata={"description": "A USCC (exact) or part of the target's name."},
    )


class PublicPlanQuerySchema(PageQuerySchema):
    year = YearArg()


# --- output -----------------------------------------------------------------------------------


class ResultTargetRefSchema(Schema):
    uscc = fields.String()
    name = fields.String()


class ResultMatterRefSchema(Schema):
    code = fields.String()
    name = fields.String()


class AttachmentSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    sha256 = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    uploaded_by = fields.String()
    uploaded_at = UtcDateTime()
    url = computed(fields.String, lambda a: f"/api/v1/attachments/{a.id}")


class SignatureOutSchema(Schema):
    status = fields.String()
    status_label = fields.String()
    signer_name = fields.String()
    signer_title = fields.String()
    refusal_note = fields.String()
    image_attachment_id = fields.Integer(allow_none=True, metadata={
        "description": "The handwritten signature drawn on the phone (a PNG attachment), if any."})
    image_sha256 = fields.String(metadata={"description": "Its SHA-256, part of the result ('' when none)."})


class ResultCoreSchema(Schema):
    """What a result version says, to the office (:class:`ResultSchema`) and to the public
    (:class:`PublicResultSchema`) alike."""

    id = fields.Integer()
    version = fields.Integer()
    task_number = fields.String()
    correction_reason = fields.String()
    matters = fields.List(fields.Nested(ResultMatterRefSchema))
    result_codes = fields.List(fields.String())
    result_description = computed(fields.String, lambda r: describe(r.result_codes))
    methods = fields.List(fields.String())
    completed_on = fields.Date()
    remarks = fields.String()


class ResultSchema(ResultCoreSchema):
    """A result version (dumped from ``gateway.results.views.ResultView``)."""

    task_id = fields.Integer()
    plan_id = fields.Integer()
    plan_number = fields.String()
    status = fields.String()
    status_label = fields.String()
    supersedes_id = fields.Integer(allow_none=True)
    target = fields.Nested(ResultTargetRefSchema)
    lead_department = fields.String()
    lead_department_name = fields.String()
    checklists = fields.Dict()
    has_problems = fields.Boolean()
    requires_follow_up = fields.Boolean()
    completed_late = fields.Boolean()
    deadline = fields.Date()
    deadline_provisional = fields.Boolean()
    clock_status = fields.String(allow_none=True)
    clock_status_label = fields.String()
    signature = fields.Nested(SignatureOutSchema)
    attachments = fields.List(fields.Nested(AttachmentSchema))
    recorded_by = fields.String()
    recorded_at = UtcDateTime()
    reviewed_by = fields.String()
    reviewed_at = UtcDateTime(allow_none=True)
    review_note = fields.String()
    published_by = fields.String()
    published_at = UtcDateTime(allow_none=True)
    published_on = fields.Date(allow_none=True)
    published_on_time = fields.Boolean(allow_none=True)


ResultPageSchema = page_schema(ResultSchema, "ResultPage")


class ChecklistFieldSchema(Schema):
    code = fields.String()
    label = fields.String()
    kind = fields.String()
    required = fields.Boolean()
    choices = fields.Dict()
    help = fields.String()
    department_code = fields.String()
    methods = fields.List(fields.String())


class MatterChecklistSchema(Schema):
    matter_code = fields.String()
    matter_name = fields.String()
    lead_department = fields.String()
    fields_ = fields.List(fields.Nested(ChecklistFieldSchema), data_key="fields", attribute="fields")


class ResultCodeSchema(Schema):
    code = fields.String()
    label = fields.String()
    kind = fields.String()
    parent = fields.String(allow_none=True)
    exclusive = fields.Boolean()
    requires_follow_up = fields.Boolean()
    counts_as_problem = fields.Boolean()


class UnavailableMatterSchema(Schema):
    matter_code = fields.String()
    matter_name = fields.String(metadata={"description": "The name in the version the plan pinned"})
    version = fields.String()
    lead_department = fields.String()
    reason = fields.String(metadata={"description": "Why no result can be recorded for it, in Chinese"})


class TaskChecklistSchema(Schema):
    task_id = fields.Integer()
    task_number = fields.String()
    target = fields.Nested(ResultTargetRefSchema)
    window_start = fields.Date()
    window_end = fields.Date()
    methods = fields.List(fields.String(), metadata={
        "description": "The methods the result may record: the matters' methods as the plan chose (a matter "
                       "checked off site offers its 书面检查/信息比对 methods only, one the plan visits its site methods)"})
    off_site_matters = fields.List(fields.String(), metadata={
        "description": "Codes of the task's matters the plan checks off site (书面检查、信息比对)"})
    site_visit = fields.Boolean(metadata={
        "description": "Whether any method offered is a site method (a site-visit result of a drawn task needs the check-in)"})
    matters = fields.List(fields.Nested(MatterChecklistSchema))
    unavailable = fields.List(fields.Nested(UnavailableMatterSchema), metadata={
        "description": "The task's matters whose department's plugin is not installed or not enabled"})
    result_codes = fields.List(fields.Nested(ResultCodeSchema))


class PublicDispositionSchema(Schema):
    """A published disposition as the public sees it (article 21); :class:`DispositionSchema` adds
    the office's fields."""

    id = fields.Integer()
    result_id = fields.Integer()
    kind = fields.String()
    kind_label = computed(fields.String, lambda d: DISPOSITIONS[d.kind])
    department_name = fields.String()
    decision_number = fields.String()
    receiving_authority = fields.String()
    decided_on = fields.Date()
    description = fields.String()
    published_on = fields.Date()
    supersedes_id = fields.Integer(allow_none=True)
    correction_reason = fields.String()


class DispositionSchema(PublicDispositionSchema):
    """A follow-up disposition (dumped from ``gateway.results.views.DispositionView``)."""

    task_id = fields.Integer()
    task_number = fields.String()
    target = fields.Nested(ResultTargetRefSchema)
    department_code = fields.String()
    status = fields.String()
    status_label = fields.String()
    deadline = fields.Date()
    deadline_provisional = fields.Boolean()
    recorded_by = fields.String()
    recorded_at = UtcDateTime()
    published_by = fields.String()
    published_at = UtcDateTime(allow_none=True)
    published_on = fields.Date(allow_none=True)


class DispositionKindSchema(Schema):
    code = fields.String()
    label = fields.String()
    needs = fields.List(fields.String())


class DeadlineItemSchema(Schema):
    """Dumps a :class:`gateway.results.clock.DeadlineItem`."""

    result_id = fields.Integer(allow_none=True, metadata={"description": "null: a task never recorded"})
    task_id = fields.Integer(attribute="task.id")
    task_number = fields.String(attribute="task.number")
    target = fields.Nested(ResultTargetRefSchema, attribute="task.target")
    lead_department = fields.String(attribute="task.lead_department")
    lead_department_name = fields.String()
    status = fields.String()
    status_label = fields.String()
    completed_on = fields.Date(allow_none=True)
    deadline = fields.Date()
    deadline_provisional = fields.Boolean()
    clock_status = fields.String()
    clock_status_label = fields.String()
    working_days_left = fields.Integer(metadata={"description": "negative: working days overdue"})
    team_lead = computed(fields.Dict, lambda item: _team_lead(item.team_lead), allow_none=True,
                         metadata={"description": "who records: inspector_id, name, department"})


def _team_lead(member) -> dict | None:
    return None if member is None else {"inspector_id": member.inspector_id, "name": member.inspector.name,
                                        "department": member.department_code}


class DeadlineDepartmentSchema(Schema):
    code = fields.String()
    name = fields.String()
    overdue = fields.Integer()
    due_soon = fields.Integer()
    not_recorded = fields.Integer(metadata={"description": "of overdue: tasks never recorded after their window"})


class DeadlineListSchema(Schema):
    as_of = fields.Date()
    soon_days = fields.Integer()
    departments = fields.List(fields.Nested(DeadlineDepartmentSchema))
    overdue = fields.List(fields.Nested(DeadlineItemSchema))
    due_soon = fields.List(fields.Nested(DeadlineItemSchema))


class RiskEventSchema(Schema):
    id = fields.Integer()
    source_type = fields.String()
    source_id = fields.Integer()
    rules = fields.List(fields.String())
    reason = fields.String()
    risk_class_before = fields.String()
    risk_class_after = fields.String()
    lists_set = fields.List(fields.String())
    at = UtcDateTime()


class InspectionHistorySchema(Schema):
    task_id = fields.Integer()
    task_number = fields.String()
    plan_number = fields.String()
    plan_title = fields.String()
    year = fields.Integer()
    matters = fields.List(fields.Nested(ResultMatterRefSchema))
    lead_department_name = fields.String()
    departments = fields.List(fields.String())
    key_inspection = fields.Boolean()
    window_start = fields.Date()
    window_end = fields.Date()
    status = fields.String()


class CreditTargetSchema(Schema):
    uscc = fields.String()
    name = fields.String()
    type = fields.String()
    township = fields.String()
    status = fields.String()
    risk_class = fields.String()
    abnormal_list = fields.Boolean()
    serious_violation_list = fields.Boolean()
    complaint_count = fields.Integer()


class CreditViewSchema(Schema):
    target = fields.Nested(CreditTargetSchema)
    lists = fields.List(fields.String())
    risk_class = fields.String()
    inspections = fields.List(fields.Nested(InspectionHistorySchema))
    results = fields.List(fields.Nested(ResultSchema))
    dispositions = fields.List(fields.Nested(DispositionSchema))
    risk_events = fields.List(fields.Nested(RiskEventSchema))


# What the supervision statistics count per row (gateway.results.stats), in their order.
STATS_COUNTERS = (
    "drawn", "inspected", "published", "published_on_time", "published_late", "overdue", "due_soon",
    "problems_found", "follow_up_required", "followed_up",
)
StatsRowSchema = Schema.from_dict(
    {"key": fields.String(), "name": fields.String(), **{name: fields.Integer() for name in STATS_COUNTERS}},
    name="StatsRowSchema",
)


class StatsSchema(Schema):
    as_of = fields.Date()
    year = fields.Integer(allow_none=True)
    departments = fields.List(fields.Nested(StatsRowSchema))
    plans = fields.List(fields.Nested(StatsRowSchema))
    totals = fields.Nested(StatsRowSchema)


# --- public (article 21): nothing of inspectors beyond their department -------------------------


class PublicCorrectionSchema(Schema):
    result_id = fields.Integer()
    version = fields.Integer()
    published_on = fields.Date()
    correction_reason = fields.String()


class ResultPlanRefSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    year = fields.Integer()


class PublicResultTargetSchema(ResultTargetRefSchema):
    address = fields.String()
    legal_representative = fields.String()


class PublicResultSchema(ResultCoreSchema):
    plan = fields.Nested(ResultPlanRefSchema)
    target = fields.Nested(PublicResultTargetSchema, metadata={
        "description": "The target as it stood when this version was published (a later edit of the "
                       "directory does not change it; a correction publishes a new version)."})
    authority = fields.String(metadata={"description": "检查实施机关 (the lead department)"})
    departments = fields.List(fields.String(), metadata={"description": "Departments of the inspection team."})
    inspection_type = fields.String()
    published_on = fields.Date()
    history = fields.List(fields.Nested(PublicCorrectionSchema))
    dispositions = fields.List(fields.Nested(PublicDispositionSchema))
    statement_filed = fields.Boolean(metadata={
        "description": "The enterprise filed a statement (陈述申辩) on the draft, answered by the lead department "
                       "before publication (the statement itself is not public)."})


PublicResultPageSchema = page_schema(PublicResultSchema, "PublicResultPage")
PublicDispositionPageSchema = page_schema(PublicDispositionSchema, "PublicDispositionPage")


class PublicTargetHitSchema(Schema):
    uscc = fields.String()
    name = fields.String()
    township = fields.String()
    published_results = fields.Integer()


PublicTargetHitPageSchema = page_schema(PublicTargetHitSchema, "PublicTargetHitPage")


class PublicTargetSchema(Schema):
    uscc = fields.String()
    name = fields.String()
    type = fields.String()
    type_label = fields.String()
    township = fields.String()
    lists = fields.List(fields.String())
    results = fields.List(fields.Nested(PublicResultSchema))
    dispositions = fields.List(fields.Nested(PublicDispositionSchema))


class PublicPlanMatterSchema(Schema):
    code = fields.String()
    name = fields.String()
    department_name = fields.String()
    non_site_methods = fields.List(fields.String(), metadata={
        "description": "书面检查/信息比对 methods that suffice for the matter (empty: a site visit is needed)"})
    site_visit = fields.Boolean(metadata={"description": "the plan visits the site for this matter"})
    site_visit_reason = fields.String(metadata={
        "description": "why the plan visits the site for a matter that could be checked off site"})


class PublicPlanFilingSchema(Schema):
    filing_number = fields.String(metadata={"description": "the county justice bureau's filing number"})
    filed_on = fields.Date()


class PublicPlanSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    version = fields.Integer()
    year = fields.Integer()
    kind = fields.String()
    kind_label = fields.String()
    title = fields.String()
    status = fields.String()
    lead_department_name = fields.String()
    matters = fields.List(fields.Nested(PublicPlanMatterSchema))
    ratios = fields.Dict()
    frequency = fields.String()
    window_start = fields.Date()
    window_end = fields.Date()
    description = fields.String()
    published_at = UtcDateTime(allow_none=True)
    published_late = fields.Boolean()
    amends_id = fields.Integer(allow_none=True)
    amend_reason = fields.String()
    filing = fields.Nested(PublicPlanFilingSchema, allow_none=True,
                           metadata={"description": "the plan's filing (备案) with the county justice bureau"})
    task_count = fields.Integer()
    draw_ids = fields.List(fields.Integer())
    links = fields.Dict(metadata={"description": "Where to read more: the plan's drawn tasks and draw records."})


PublicPlanPageSchema = page_schema(PublicPlanSchema, "PublicPlanPage")


class PublicPlanTaskSchema(Schema):
    task_number = fields.String()
    draw_id = fields.Integer(allow_none=True)
    target = fields.Nested(ResultTargetRefSchema)
    matters = fields.List(fields.Nested(ResultMatterRefSchema))
    departments = fields.List(fields.String())
    key_inspection = fields.Boolean()
    window_start = fields.Date()
    window_end = fields.Date()
    result_id = fields.Integer(allow_none=True)


PublicPlanTaskPageSchema = page_schema(PublicPlanTaskSchema, "PublicPlanTaskPage")


class PublicCheckItemSchema(Schema):
    code = fields.String()
    name = fields.String()
    content = fields.String()
    department_name = fields.String()
    legal_basis = fields.List(fields.String())
    methods = fields.List(fields.String())
    beyond_appendix = fields.Boolean(metadata={"description": "插件在联合抽查事项清单原文之外补充的检查项"})


class PublicMatterSchema(Schema):
    code = fields.String()
    field = fields.String()
    name = fields.String()
    version = fields.String()
    lead_department_name = fields.String()
    cooperating_department_names = fields.List(fields.String())
    legal_basis = fields.List(fields.String())
    min_ratio = fields.String()
    frequency = fields.String()
    methods = fields.List(fields.String())
    target_description = fields.String()
    county_defaults = fields.List(fields.String(), metadata={
        "description": "本县设定的默认值（如最低抽查比例、抽查频次），并非法律法规规定，可在抽查计划中调整"})
    check_items = fields.List(fields.Nested(PublicCheckItemSchema))


class AttachmentUploadSchema(Schema):
    file = fields.Raw(
        required=True, metadata={"type": "string", "format": "binary",
                                 "description": "JPEG or PNG photo (≤ 10 MB) or PDF scan (≤ 20 MB); the type is read from the content."},
    )


class ExportFormatSchema(ExportQuerySchema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))


# --- list membership (article 24) ----------------------------------------------------------------

LISTING_STATUSES = ("pending", "accepted", "rejected")


class ListingProposalSchema(Schema):
    id = fields.Integer()
    uscc = fields.String()
    target_name = fields.String()
    list_name = fields.String(metadata={"description": "abnormal_list 经营异常名录 / serious_violation_list"})
    list_label = fields.String()
    result_id = fields.Integer(metadata={"description": "The published result that proposed it."})
    proposed_by_department = fields.String()
    reason = fields.String()
    status = fields.String(metadata={"enum": list(LISTING_STATUSES)})
    status_label = fields.String()
    proposed_at = UtcDateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)


ListingProposalPageSchema = page_schema(ListingProposalSchema, "ListingProposalPage")


class ListingQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(LISTING_STATUSES))


class ListingDecisionSchema(Schema):
    accept = fields.Boolean(required=True, metadata={"description": "true: 列入; false: 不列入"})
    note = _text(1000, required=True, metadata={"description": "The reason for the decision."})


# --- a cooperating department's own items (article 5) --------------------------------------------


class ContributionInputSchema(Schema):
    checklists = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True, metadata={
        "description": "{matter code: {check item code: value}}: only the caller's department's items."})


class ContributionSchema(Schema):
    task_id = fields.Integer()
    department_code = fields.String()
    checklists = fields.Dict()
    recorded_by = fields.String()
    updated_at = UtcDateTime()
