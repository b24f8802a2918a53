"""API bodies of tasks and article 14 reassignments."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, IdArg, PageQuerySchema, UtcDateTime, page_schema
from schemas.directory import _text

REASSIGNMENT_REASONS = ("conflict_of_interest", "other")


class TaskQuerySchema(PageQuerySchema):
    plan_id = IdArg()
    draw_id = IdArg()
    status = fields.String(validate=validate.OneOf(("assigned", "recorded", "reviewed", "published")))
    department = fields.String(validate=validate.Length(max=64))
    uscc = fields.String(validate=validate.Length(max=18))
    key_inspection = fields.Boolean()


class TaskMatterSchema(Schema):
    code = fields.String()
    name = fields.String()
    department = fields.String()


class TeamMemberSchema(Schema):
    member_id = fields.Integer()
    inspector_id = fields.Integer()
    name = fields.String()
    department = fields.String()
    department_name = fields.String()
    role = fields.String(metadata={"enum": ["lead", "member"]})
    source = fields.String(metadata={"enum": ["draw", "reassignment", "join"]})


class TaskSchema(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"description": "e.g. 武陟联抽〔2026〕3号-0007"})
    plan_id = fields.Integer()
    plan_number = fields.String()
    plan_title = fields.String()
    draw_id = fields.Integer(allow_none=True)
    uscc = fields.String()
    target_name = fields.String()
    township = fields.String()
    matters = fields.List(fields.Nested(TaskMatterSchema))
    lead_department = fields.String()
    key_inspection = fields.Boolean()
    window_start = fields.Date()
    window_end = fields.Date()
    status = fields.String()
    created_at = UtcDateTime()
    departments = fields.List(fields.String())
    team = fields.List(fields.Nested(TeamMemberSchema), metadata={"description": "only in a single task's view"})


class TaskEventSchema(Schema):
    at = UtcDateTime()
    action = fields.String()
    label = fields.String()
    actor = fields.String()
    details = fields.Dict()


class ReassignmentRequestSchema(BodySchema):
    inspector_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1),
                                  metadata={"description": "the team member to be replaced"})
    reason_code = fields.String(required=True, validate=validate.OneOf(REASSIGNMENT_REASONS))
    reason = _text(1000, required=True)


class DecisionSchema(BodySchema):
    note = _text(1000)


class RejectionSchema(BodySchema):
    note = _text(1000, required=True)


class ReassignmentRecordSchema(Schema):
    """``shuangsui.reassignment/1``: see gateway/draw/reassignment.py."""

    format = fields.String()
    id = fields.String()
    draw_id = fields.String()
    task_number = fields.String()
    uscc = fields.String()
    department = fields.String()
    reason_code = fields.String()
    nonce_commitment = fields.String()
    nonce = fields.String()
    draw_seed = fields.String()
    seed = fields.String()
    leaving = fields.String()
    barred = fields.List(fields.String())
    candidates = fields.List(fields.Dict())
    replacement = fields.String()


class ReassignmentSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    task_number = fields.String()
    inspector_id = fields.Integer()
    inspector_name = fields.String()
    department = fields.String()
    reason_code = fields.String()
    reason_label = fields.String()
    reason = fields.String()
    status = fields.String(metadata={"enum": ["requested", "approved", "rejected"]})
    requested_by = fields.String()
    requested_at = UtcDateTime()
    decided_by = fields.String()
    decided_at = UtcDateTime(allow_none=True)
    decision_note = fields.String()
    nonce_commitment = fields.String(allow_none=True, metadata={
        "description": "sha256_hex of the nonce drawn at the request, revealed by the approval"})
    record_url = fields.String(allow_none=True)
    replacement_inspector_id = fields.Integer(allow_none=True)
    replacement_name = fields.String()
    filing_status = fields.String(allow_none=True, metadata={"enum": ["pending", "filed", None]})
    filing_number = fields.String(allow_none=True)
    filed_by = fields.String()
    filed_at = UtcDateTime(allow_none=True)
    filing_note = fields.String()


class ReassignmentQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(("requested", "approved", "rejected")))
    filing_status = fields.String(validate=validate.OneOf(("pending", "filed")))
    task_id = IdArg()


TaskPageSchema = page_schema(TaskSchema, "TaskPage")
ReassignmentPageSchema = page_schema(ReassignmentSchema, "ReassignmentPage")
