"""The results API: entry, review, publication, corrections, attachments, follow-ups, the clock,
the credit view, supervision statistics, exports, and the public query (no login)."""
from __future__ import annotations

import io
from typing import Any

from flask import Response, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from gateway.api.session import db, get_gateway
from gateway.directory.queries import paginate
from gateway.errors import Forbidden, Invalid, Unauthenticated
from gateway.results import credit, exports, followups, public, service, stats
from gateway.results.access import visible_tasks
from gateway.results.clock import china_today, deadline_lists
from gateway.results.models import InspectionResult
from gateway.security import audit
from gateway.security.policy import authorize, permission
from gateway.security.principal import current_principal
from gateway.tasks.models import Task
from schemas.results import (
    AttachmentSchema,
    AttachmentUploadSchema,
    CorrectionInputSchema,
    CreditViewSchema,
    DeadlineListSchema,
    DeadlineQuerySchema,
    DispositionInputSchema,
    DispositionKindSchema,
    DispositionSchema,
    ExportFormatSchema,
    PublicDispositionPageSchema,
    PublicMatterSchema,
    PublicPlanPageSchema,
    PublicPlanQuerySchema,
    PublicPlanSchema,
    PublicPlanTaskPageSchema,
    PublicResultPageSchema,
    PublicResultSchema,
    PublicSearchSchema,
    PublicTargetHitPageSchema,
    PublicTargetSchema,
    ResultCodeSchema,
    ResultInputSchema,
    ResultPageSchema,
    ResultQuerySchema,
    ResultSchema,
    ReviewInputSchema,
    StatsQuerySchema,
    StatsSchema,
    TaskChecklistSchema,
)
from schemas.common import PageArgsSchema

results_blp = Blueprint("results", __name__, url_prefix="", description="检查结果、附件、后续处置与公示期限（第十八至二十二条）")
stats_blp = Blueprint("stats", __name__, url_prefix="", description="监督统计与导出（第三十条）")
public_blp = Blueprint("public", __name__, url_prefix="/public", description="公开查询，无需登录（第二十一条）")


def _json_body(schema) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise Invalid("validation_error", "请求体应为 JSON 对象。", {"_schema": ["请求体应为 JSON 对象。"]})
    return data


def _internal():
    """The principal of an internal view; the public is sent to the public query instead (the
    internal shapes carry who recorded a result and who signed for the target)."""
    principal = current_principal()
    if principal.is_public:
        raise Unauthenticated("unauthenticated", "请先登录。公众查询请使用 /api/v1/public/ 下的公开查询接口。")
    return principal


def _audit_personal_read(principal, entity_type: str, entity_id, details: dict) -> None:
    """Internal result views name the recorder and the target's signer: the read is audited."""
    with get_gateway().write() as session:
        audit.record(session, principal, "results.read_personal", entity_type, entity_id, details)


def _page(items, total, args):
    return {"items": items, "total": total, "page": args["page"], "page_size": args["page_size"]}


def _file_response(content: bytes, mimetype: str, filename: str) -> Response:
    return send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=filename)


_FILE_DOC = {
    "responses": {
        "200": {
            "description": "The file (Excel or CSV, Chinese headers).",
            "content": {
                exports.XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


# --- reference data ------------------------------------------------------------------------------


@results_blp.route("/result-codes")
@permission("catalogue.read")
@results_blp.response(200, ResultCodeSchema(many=True))
def result_codes():
    """The SAMR result-code table (labels, combination rules, which codes count as problems)."""
    authorize(current_principal(), "catalogue.read")
    return service.result_code_table()


@results_blp.route("/disposition-kinds")
@permission("catalogue.read")
@results_blp.response(200, DispositionKindSchema(many=True))
def disposition_kinds():
    """Kinds of follow-up disposition and the fields each needs."""
    authorize(current_principal(), "catalogue.read")
    return followups.disposition_kinds()


# --- recording -----------------------------------------------------------------------------------


@results_blp.route("/tasks/<int:task_id>/checklist")
@permission("tasks.read")
@results_blp.response(200, TaskChecklistSchema)
def task_checklist(task_id: int):
    """What the team fills in: each matter's merged checklist (lead + cooperating items), methods, codes."""
    return service.task_checklist(get_gateway(), db(), current_principal(), task_id)


@results_blp.route("/tasks/<int:task_id>/results")
class TaskResults(MethodView):
    @permission("results.read")
    @results_blp.response(200, ResultSchema(many=True))
    def get(self, task_id: int):
        """Every version of a task's result that the caller may read."""
        gateway, session, principal = get_gateway(), db(), _internal()
        task = service.get_task(session, task_id)
        versions = service.versions_of(session, task.id)
        readable = []
        for version in versions:
            try:
                service.authorize_read(session, principal, version)
            except (Forbidden, Unauthenticated):
                continue
            readable.append(version)
        if not readable:
            authorize(principal, "results.read", **{**service.task_resource(task), "published": False})
        today, full = china_today(), service.in_full_scope(principal, task)
        shown = [service.result_dict(gateway, session, v, today, full=full) for v in readable]
        if full and shown:
            _audit_personal_read(principal, "task", task.id, {"result_ids": [r["id"] for r in shown]})
        return shown

    @permission("results.record")
    @results_blp.doc(requestBody=_json_body(ResultInputSchema))
    @results_blp.response(201, ResultSchema)
    def post(self, task_id: int):
        """Record the task's result (the task's team). Every invalid field is named; nothing is stored."""
        return _store(lambda g, s, p, today: service.record_result(g, s, p, task_id, _body(), today=today))


def _store(action):
    """Run a storing action in one transaction, then notify the plugins."""
    return service.store_and_notify(get_gateway(), current_principal(), china_today(), action)


@results_blp.route("/tasks/<int:task_id>/attachments")
class TaskAttachments(MethodView):
    @permission("attachments.read")
    @results_blp.response(200, AttachmentSchema(many=True))
    def get(self, task_id: int):
        """Attachments uploaded to a task."""
        from gateway.results.models import Attachment

        session, principal = db(), current_principal()
        task = service.get_task(session, task_id)
        authorize(principal, "attachments.read", **service.task_resource(task))
        rows = session.scalars(select(Attachment).where(Attachment.task_id == task.id).order_by(Attachment.id))
        return [service.attachment_dict(a) for a in rows]

    @permission("results.record")
    @results_blp.arguments(AttachmentUploadSchema, location="files")
    @results_blp.response(201, AttachmentSchema)
    def post(self, _files, task_id: int):
        """Upload a photo (JPEG/PNG) or a scanned PDF for the task (the team); stored by SHA-256."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise Invalid("validation_error", "提交的数据未通过校验。", {"file": ["请上传照片（JPEG/PNG）或 PDF 扫描件。"]})
        content = upload.read()
        gateway = get_gateway()
        with gateway.write() as session:
            attachment = service.upload_attachment(gateway, session, current_principal(), task_id, upload.filename, content)
            return service.attachment_dict(attachment)


@results_blp.route("/attachments/<int:attachment_id>")
@permission("attachments.read")
@results_blp.doc(responses={"200": {"description": "The file", "content": {
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
}}})
def download_attachment(attachment_id: int):
    """An attachment's content, for the task's departments, team, the office and supervisors only."""
    gateway = get_gateway()
    with gateway.write() as session:  # the read is audited
        attachment, content = service.read_attachment(gateway, session, current_principal(), attachment_id)
    response = send_file(io.BytesIO(content), mimetype=attachment.content_type, as_attachment=False,
                         download_name=attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@results_blp.route("/results")
@permission("results.read")
@results_blp.arguments(ResultQuerySchema, location="query")
@results_blp.response(200, ResultPageSchema)
def list_results(args):
    """Result versions the caller may read, newest first."""
    gateway, session, principal = get_gateway(), db(), _internal()
    stmt = select(InspectionResult).join(Task, Task.id == InspectionResult.task_id).where(
        visible_tasks(principal, "results.read")
    )
    if args.get("status"):
        stmt = stmt.where(InspectionResult.status == args["status"])
    if args.get("department"):
        stmt = stmt.where(Task.lead_department == args["department"])
    if args.get("plan_id"):
        stmt = stmt.where(Task.plan_id == args["plan_id"])
    if args.get("uscc"):
        from gateway.directory.models import Target

        stmt = stmt.join(Target, Target.id == Task.target_id).where(Target.uscc == args["uscc"].strip().upper())
    items, total = paginate(session, stmt.order_by(InspectionResult.id.desc()), args["page"], args["page_size"])
    today = china_today()
    shown = [service.result_dict(gateway, session, r, today) for r in items]
    if shown:
        _audit_personal_read(principal, "inspection_result", "list", {"result_ids": [r["id"] for r in shown]})
    return _page(shown, total, args)


@results_blp.route("/results/overdue")
@permission("results.read")
@results_blp.arguments(DeadlineQuerySchema, location="query")
@results_blp.response(200, DeadlineListSchema)
def overdue(args):
    """Article 19 clock: results overdue and due soon (unpublished), with counts per lead department."""
    gateway, principal = get_gateway(), _internal()
    return deadline_lists(
        gateway.settings, gateway.registry, db(), principal, today=args.get("as_of") or china_today(),
        department=args.get("department"), soon_days=args["soon_days"],
    )


@results_blp.route("/results/<int:result_id>")
class ResultById(MethodView):
    @permission("results.read")
    @results_blp.response(200, ResultSchema)
    def get(self, result_id: int):
        """One result version."""
        gateway, session, principal = get_gateway(), db(), _internal()
        result = service.get_result(session, result_id)
        service.authorize_read(session, principal, result)
        full = service.in_full_scope(principal, result.task)
        shown = service.result_dict(gateway, session, result, china_today(), full=full)
        if full:
            _audit_personal_read(principal, "inspection_result", result.id, {"task_id": result.task_id})
        return shown

    @permission("results.record")
    @results_blp.doc(requestBody=_json_body(ResultInputSchema))
    @results_blp.response(200, ResultSchema)
    def put(self, result_id: int):
        """Change a recorded or returned result (the team). A reviewed or published one cannot change."""
        return _store(lambda g, s, p, today: service.update_result(g, s, p, result_id, _body(), today=today))


@results_blp.route("/results/<int:result_id>/review", methods=["POST"])
@permission("results.review")
@results_blp.arguments(ReviewInputSchema)
@results_blp.response(200, ResultSchema)
def review(data, result_id: int):
    """Approve a recorded result, or return it with a reason (the lead department)."""
    gateway, principal = get_gateway(), current_principal()
    with gateway.write() as session:
        result = service.review_result(gateway, session, principal, result_id, data["approve"], data.get("note", ""))
        return service.result_dict(gateway, session, result, china_today())


@results_blp.route("/results/<int:result_id>/publish", methods=["POST"])
@permission("results.publish")
@results_blp.response(200, ResultSchema)
def publish(result_id: int):
    """Publish a reviewed result (the lead department's head): immutable from now on; queued for the platform."""
    gateway, principal, today = get_gateway(), current_principal(), china_today()
    with gateway.write() as session:
        result = service.publish_result(gateway, session, principal, result_id, today=today)
        return service.result_dict(gateway, session, result, today)


@results_blp.route("/results/<int:result_id>/corrections", methods=["POST"])
@permission("results.record")
@results_blp.doc(requestBody=_json_body(CorrectionInputSchema))
@results_blp.response(201, ResultSchema)
def correct(result_id: int):
    """Correct a published result: a new version with a reason, reviewed and published in turn (the team)."""
    return _store(lambda g, s, p, today: service.correct_result(g, s, p, result_id, _body(), today=today))


# --- follow-up dispositions ----------------------------------------------------------------------


@results_blp.route("/results/<int:result_id>/dispositions")
class ResultDispositions(MethodView):
    @permission("results.read")
    @results_blp.response(200, DispositionSchema(many=True))
    def get(self, result_id: int):
        """Dispositions of the task whose result this is."""
        gateway, session, principal = get_gateway(), db(), _internal()
        result = service.get_result(session, result_id)
        service.authorize_read(session, principal, result)
        rows = followups.dispositions_of_task(session, result.task_id)
        return [followups.disposition_dict(gateway, d) for d in rows]

    @permission("followups.write")
    @results_blp.doc(requestBody=_json_body(DispositionInputSchema))
    @results_blp.response(201, DispositionSchema)
    def post(self, result_id: int):
        """Record a follow-up disposition (article 22) by the caller's department."""
        gateway, principal = get_gateway(), current_principal()
        with gateway.write() as session:
            disposition = followups.record_disposition(gateway, session, principal, result_id, _body(), today=china_today())
            return followups.disposition_dict(gateway, disposition)


@results_blp.route("/dispositions/<int:disposition_id>")
class DispositionById(MethodView):
    @permission("results.read")
    @results_blp.response(200, DispositionSchema)
    def get(self, disposition_id: int):
        """One disposition."""
        gateway, session, principal = get_gateway(), db(), _internal()
        disposition = followups.get_disposition(session, disposition_id)
        authorize(principal, "results.read", **{**service.task_resource(disposition.result.task),
                                                 "published": disposition.is_published})
        return followups.disposition_dict(gateway, disposition)

    @permission("followups.write")
    @results_blp.response(204)
    def delete(self, disposition_id: int):
        """Withdraw a disposition that is not yet published."""
        gateway = get_gateway()
        with gateway.write() as session:
            followups.delete_disposition(session, current_principal(), disposition_id)
        return None


@results_blp.route("/dispositions/<int:disposition_id>/publish", methods=["POST"])
@permission("followups.publish")
@results_blp.response(200, DispositionSchema)
def publish_disposition(disposition_id: int):
    """Publish a disposition (its department's head): immutable, queued for the platform."""
    gateway, principal = get_gateway(), current_principal()
    with gateway.write() as session:
        disposition = followups.publish_disposition(gateway, session, principal, disposition_id, today=china_today())
        return followups.disposition_dict(gateway, disposition)


@results_blp.route("/targets/<string:uscc>/credit")
@permission("targets.read")
@results_blp.response(200, CreditViewSchema)
def credit_view(uscc: str):
    """A target's credit view: history, results, dispositions, lists, risk class and risk events."""
    gateway, principal = get_gateway(), current_principal()
    with gateway.write() as session:  # reading the signer's name and the team is audited
        view = credit.credit_view(gateway, session, principal, uscc, china_today())
        audit.record(session, principal, "credit.read", "target", view["target"]["uscc"], {})
    return view


# --- statistics and exports ----------------------------------------------------------------------


@stats_blp.route("/stats")
@permission("stats.read")
@stats_blp.arguments(StatsQuerySchema, location="query")
@stats_blp.response(200, StatsSchema)
@stats_blp.doc(**_FILE_DOC)
def supervision_stats(args):
    """Supervision statistics per lead department and per plan (JSON, or format=csv / xlsx)."""
    gateway, principal = get_gateway(), current_principal()
    data = stats.supervision_stats(
        gateway, db(), principal, as_of=args.get("as_of") or china_today(),
        year=args.get("year"), plan_id=args.get("plan_id"), department=args.get("department"),
    )
    if args["format"] == "json":
        return data
    headers, dept_rows = stats.table(data["departments"], data["totals"])
    _, plan_rows = stats.table(data["plans"])
    stamp = data["as_of"].isoformat()
    if args["format"] == "csv":
        content = exports.to_csv(headers, dept_rows + [[""] * len(headers)] + plan_rows)
        return _file_response(content, exports.CSV_MIMETYPE, f"监督统计-{stamp}.csv")
    content = exports.to_xlsx_sheets([
        ("按部门", f"双随机抽查监督统计（按部门，截至{stamp}）", headers, dept_rows),
        ("按计划", f"双随机抽查监督统计（按计划，截至{stamp}）", headers, plan_rows),
    ])
    return _file_response(content, exports.XLSX_MIMETYPE, f"监督统计-{stamp}.xlsx")


@stats_blp.route("/exports/tasks")
@permission("tasks.read")
@stats_blp.arguments(ExportFormatSchema, location="query")
@stats_blp.doc(**_FILE_DOC)
def export_tasks(args):
    """The task list (抽查任务清单) as Excel or CSV, Chinese headers."""
    gateway, principal = get_gateway(), current_principal()
    with gateway.write() as session:  # lists inspectors' names: audited
        headers, rows = exports.task_rows(gateway, session, principal, plan_id=args.get("plan_id"),
                                          department=args.get("department"), year=args.get("year"))
        audit.record(session, principal, "exports.tasks", "export", "tasks",
                     {"rows": len(rows), "plan_id": args.get("plan_id"), "department": args.get("department")})
    stamp = china_today().isoformat()
    if args["format"] == "csv":
        return _file_response(exports.to_csv(headers, rows), exports.CSV_MIMETYPE, f"抽查任务清单-{stamp}.csv")
    content = exports.to_xlsx("双随机抽查任务清单", headers, rows, "抽查任务清单")
    return _file_response(content, exports.XLSX_MIMETYPE, f"抽查任务清单-{stamp}.xlsx")


@stats_blp.route("/exports/results")
@permission("results.read")
@stats_blp.arguments(ExportFormatSchema, location="query")
@stats_blp.doc(**_FILE_DOC)
def export_results(args):
    """The results register (抽查检查结果登记表) as Excel or CSV, Chinese headers."""
    gateway, principal = get_gateway(), _internal()
    with gateway.write() as session:
        headers, rows = exports.result_rows(gateway, session, principal, plan_id=args.get("plan_id"),
                                            department=args.get("department"), year=args.get("year"))
        audit.record(session, principal, "exports.results", "export", "results",
                     {"rows": len(rows), "plan_id": args.get("plan_id"), "department": args.get("department")})
    stamp = china_today().isoformat()
    if args["format"] == "csv":
        return _file_response(exports.to_csv(headers, rows), exports.CSV_MIMETYPE, f"抽查检查结果-{stamp}.csv")
    content = exports.to_xlsx("双随机抽查检查结果登记表", headers, rows, "检查结果")
    return _file_response(content, exports.XLSX_MIMETYPE, f"抽查检查结果-{stamp}.xlsx")


# --- the public query ----------------------------------------------------------------------------


@public_blp.route("/matters")
@permission("catalogue.read")
@public_blp.response(200, PublicMatterSchema(many=True))
def public_matters():
    """The published joint matter list (article 8)."""
    return public.public_matters(get_gateway(), current_principal())


@public_blp.route("/plans")
@permission("plans.read")
@public_blp.arguments(PublicPlanQuerySchema, location="query")
@public_blp.response(200, PublicPlanPageSchema)
def public_plans(args):
    """Published plans (article 11), newest first."""
    items, total = public.public_plans(get_gateway(), db(), current_principal(), args.get("year"), args["page"], args["page_size"])
    return _page(items, total, args)


@public_blp.route("/plans/<int:plan_id>")
@permission("plans.read")
@public_blp.response(200, PublicPlanSchema)
def public_plan(plan_id: int):
    """One published plan."""
    return public.public_plan(get_gateway(), db(), current_principal(), plan_id)


@public_blp.route("/plans/<int:plan_id>/tasks")
@permission("draws.read")
@public_blp.arguments(PageArgsSchema, location="query")
@public_blp.response(200, PublicPlanTaskPageSchema)
def public_plan_tasks(args, plan_id: int):
    """The drawn tasks of a published plan: targets, matters and the team's departments."""
    items, total = public.public_plan_tasks(get_gateway(), db(), current_principal(), plan_id, args["page"], args["page_size"])
    return _page(items, total, args)


@public_blp.route("/targets")
@permission("results.read")
@public_blp.arguments(PublicSearchSchema, location="query")
@public_blp.response(200, PublicTargetHitPageSchema)
def public_targets(args):
    """Find a target by USCC or name."""
    items, total = public.search_targets(db(), current_principal(), args.get("q"), args["page"], args["page_size"])
    return _page(items, total, args)


@public_blp.route("/targets/<string:uscc>")
@permission("results.read")
@public_blp.response(200, PublicTargetSchema)
def public_target(uscc: str):
    """A target's published inspection results and dispositions, and the lists it is on."""
    return public.public_target(get_gateway(), db(), current_principal(), uscc)


@public_blp.route("/results")
@permission("results.read")
@public_blp.arguments(PublicSearchSchema, location="query")
@public_blp.response(200, PublicResultPageSchema)
def public_results(args):
    """Published results (current versions), by USCC or name."""
    items, total = public.public_results(get_gateway(), db(), current_principal(), args.get("q"), args["page"], args["page_size"])
    return _page(items, total, args)


@public_blp.route("/results/<int:result_id>")
@permission("results.read")
@public_blp.response(200, PublicResultSchema)
def public_result(result_id: int):
    """One published result version, with its correction history and dispositions."""
    return public.public_result(get_gateway(), db(), current_principal(), result_id)


@public_blp.route("/dispositions")
@permission("results.read")
@public_blp.arguments(PublicSearchSchema, location="query")
@public_blp.response(200, PublicDispositionPageSchema)
def public_dispositions(args):
    """Published follow-up dispositions, by USCC or name."""
    items, total = public.public_dispositions(get_gateway(), db(), current_principal(), args.get("q"), args["page"], args["page_size"])
    return _page(items, total, args)
