"""Wire shapes of the enterprise's side: notices, the portal, statements, ratings (issue 17)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, PageArgsSchema, UtcDateTime, computed, page_schema
from schemas.directory import _text

DELIVERY_METHODS = ("in_person", "post", "sms", "email", "platform")


class NoticeGenerateSchema(BodySchema):
    contact = _text(200, required=True, metadata={"description": "联系人及联系电话 (printed on the notice)"})


class NoticeDeliverySchema(BodySchema):
    method = fields.String(required=True, validate=validate.OneOf(DELIVERY_METHODS),
                           metadata={"description": "直接送达 in_person, 邮寄 post, 短信 sms, 电子邮件 email, 平台 platform"})
    note = _text(500)


class NoticeSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    generated_at = UtcDateTime()
    generated_by = fields.String()
    contact = fields.String()
    delivery_method = fields.String(allow_none=True)
    delivered_at = UtcDateTime(allow_none=True)
    delivered_by = fields.String(allow_none=True)
    delivery_note = fields.String()
    printable_url = computed(fields.String, lambda n: f"/api/v1/tasks/{n.task_id}/notice")


class NoticeIssuedSchema(NoticeSchema):
    access_code = fields.String(metadata={"description": "The enterprise's new access code, shown this once "
                                                         "(print it on the notice); every earlier code of the task stops working."})


class PortalSignInSchema(BodySchema):
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=40),
                         metadata={"description": "统一社会信用代码"})
    code = fields.String(required=True, validate=validate.Length(min=1, max=40),
                         metadata={"description": "访问码 from the notice (or the one shown after the last sign-in)"})


class PortalSignInResultSchema(Schema):
    uscc = fields.String()
    csrf_token = fields.String(metadata={"description": "Send as X-CSRF-Token with every change"})
    expires_at = UtcDateTime()
    next_code = fields.String(metadata={"description": "The access code for the next sign-in, shown this once"})


class StatementInputSchema(BodySchema):
    text = _text(5000, required=True)
    attachment_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)), load_default=list,
                                 validate=validate.Length(max=5),
                                 metadata={"description": "Files uploaded by the enterprise to this task "
                                                          "(POST …/files), as evidence"})


class StatementAnswerSchema(BodySchema):
    answer = _text(5000, required=True)


class StatementSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    result_id = fields.Integer()
    text = fields.String()
    attachment_ids = fields.List(fields.Integer())
    filed_at = UtcDateTime()
    answer = fields.String(allow_none=True)
    answered_by = fields.String(allow_none=True)
    answered_at = UtcDateTime(allow_none=True)


class RecusalInputSchema(BodySchema):
    member_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1),
                               metadata={"description": "The team member (``team[].member_id``) asked to step aside"})
    reason = _text(1000, required=True)


class RecusalSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    member_id = fields.Integer()
    reason = fields.String()
    requested_at = UtcDateTime()
    reassignment_id = fields.Integer(allow_none=True)


class RatingInputSchema(BodySchema):
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = _text(1000)


class RatingSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    department_code = fields.String()
    score = fields.Integer()
    comment = fields.String()
    rated_at = UtcDateTime()


RatingPageSchema = page_schema(RatingSchema, "RatingPage")


class RatingSummarySchema(Schema):
    department_code = fields.String()
    count = fields.Integer()
    covered = fields.Integer(metadata={"description": "How many ratings the average and scores cover: for a "
                                                      "department the first 5·⌊count/5⌋ by time (whole batches, "
                                                      "so no single rating can be deduced); all for the office"})
    shown = fields.Boolean(metadata={"description": "False below 5 ratings: nothing but the count is shown"})
    average = fields.Float(allow_none=True)
    scores = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)


class EvidenceInputSchema(BodySchema):
    attachment_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    note = _text(1000)


class EvidenceSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    attachment_id = fields.Integer()
    note = fields.String()
    uploaded_at = UtcDateTime()


class PortalNoticeSchema(Schema):
    """The notice as the enterprise's portal lists it."""

    generated_at = UtcDateTime()
    contact = fields.String()
    delivery_method = fields.String(allow_none=True)
    delivered_at = UtcDateTime(allow_none=True)
    printable_url = computed(fields.String, lambda n: f"/api/v1/portal/inspections/{n.task_id}/notice")


class PortalResultSchema(Schema):
    id = fields.Integer()
    version = fields.Integer()
    status = fields.String()
    completed_on = fields.Date()
    result_codes = fields.List(fields.String())
    has_problems = fields.Boolean()
    remarks = fields.String()


class PortalMemberSchema(Schema):
    member_id = fields.Integer()
    name = fields.String()
    department = fields.String()


class PortalInspectionSchema(Schema):
    """One inspection of the enterprise from the ledger: a task of it (``read_only`` false: its
    notice, results and actions), or another channel's inspection, a read-only line (``task_id`` null)."""

    task_id = fields.Integer(allow_none=True)
    task_number = fields.String()
    channel = fields.String(metadata={"description": "How the inspection came about (drawn, higher_level, "
                                                     "special, complaint, referral, routine, case)"})
    channel_label = fields.String()
    read_only = fields.Boolean(metadata={"description": "True for an inspection outside the enterprise's tasks"})
    inspected_on = fields.Date(metadata={"description": "The inspection's date (a task: its window's start)"})
    reference = fields.String(metadata={"description": "The task number, or the inspection's document reference"})
    plan_number = fields.String()
    plan_title = fields.String()
    lead_department = fields.String()
    departments = fields.List(fields.String())
    window_start = fields.Date()
    window_end = fields.Date()
    status = fields.String()
    team = fields.List(fields.Nested(PortalMemberSchema))
    notice = fields.Nested(PortalNoticeSchema, allow_none=True)
    draft_result = fields.Nested(PortalResultSchema, allow_none=True)
    published_result = fields.Nested(PortalResultSchema, allow_none=True)
    statement_due = fields.Date(allow_none=True)
    can_file_statement = fields.Boolean()
    statements = fields.List(fields.Nested(StatementSchema))
    recusal_requests = fields.List(fields.Nested(RecusalSchema))
    can_request_recusal = fields.Boolean()
    rating = fields.Nested(RatingSchema, allow_none=True)
    can_rate = fields.Boolean()
    rectification_evidence = fields.List(fields.Nested(EvidenceSchema))
    can_upload_evidence = fields.Boolean()


class RatingQuerySchema(PageArgsSchema):
    pass
