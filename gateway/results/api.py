"""The results API: entry, review, publication, corrections, attachments, follow-ups, the clock and
the credit view. Statistics and exports are in ``stats_api``, the public query in ``public_api``."""
from __future__ import annotations

import io
from typing import Any

from flask import request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.api.pagination import query_page
from gateway.api.session import db, get_gateway, written
from gateway.errors import Invalid, Unauthenticated
from gateway.results import contributions, credit, followups, listing, service
from gateway.results.access import task_resource
from gateway.results.clock import china_today, deadline_lists
from gateway.results.views import DispositionView
from gateway.security import audit
from gateway.security.policy import authorize, permission
from gateway.security.principal import current_principal
from schemas.common import python_values
from schemas.results import (
    AttachmentSchema,
    AttachmentUploadSchema,
    ContributionInputSchema,
    ContributionSchema,
    CorrectionInputSchema,
    CreditViewSchema,
    DeadlineListSchema,
    DeadlineQuerySchema,
    DispositionInputSchema,
    DispositionKindSchema,
    DispositionSchema,
    ListingDecisionSchema,
    ListingProposalPageSchema,
    ListingProposalSchema,
    ListingQuerySchema,
    ResultCodeSchema,
    ResultInputSchema,
    ResultPageSchema,
    ResultQuerySchema,
    ResultSchema,
    ReviewInputSchema,
    TaskChecklistSchema,
)

results_blp = Blueprint("results", __name__, url_prefix="", description="检查结果、附件、后续处置与公示期限（第十八至二十二条）")


def _json_body(schema) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise Invalid("validation_error", "请求体应为 JSON 对象。", {"_schema": ["请求体应为 JSON 对象。"]})
    return data


def internal_principal():
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
        gateway, session, principal = get_gateway(), db(), internal_principal()
        task = service.get_task(session, task_id)
        readable = service.readable_versions(session, principal, task)
        full = service.in_full_scope(principal, task)
        shown = service.result_views(gateway, session, readable, china_today(), full=full)
        if full and shown:
            _audit_personal_read(principal, "task", task.id, {"result_ids": [r.id for r in shown]})
        return shown

    @permission("results.record")
    @results_blp.doc(requestBody=_json_body(ResultInputSchema))
    @results_blp.response(201, ResultSchema)
    def post(self, task_id: int):
        """Record the task's result (the task's team). Every invalid field is named; nothing is stored."""
        return _store(lambda g, s, p, today: service.record_result(g, s, p, task_id, _body(), today=today))


@results_blp.route("/tasks/<int:task_id>/contribution", methods=["PUT"])
@permission("results.record")
@results_blp.arguments(ContributionInputSchema)
@results_blp.response(200, ContributionSchema)
def save_contribution(data, task_id: int):
    """A cooperating department's member on the team saves its department's own check items (a
    partial result); the lead department's member submits the whole result, which takes them in."""
    return written(lambda gateway, session: python_values(ContributionSchema(), contributions.save_contribution(
        gateway, session, current_principal(), task_id, data["checklists"])))


@results_blp.route("/tasks/<int:task_id>/contributions")
@permission("tasks.read")
@results_blp.response(200, ContributionSchema(many=True))
def task_contributions(task_id: int):
    """The cooperating departments' saved items of a task (for the lead's member before submitting)."""
    session, principal = db(), internal_principal()
    task = service.get_task(session, task_id)
    authorize(principal, "tasks.read", **task_resource(task))
    return contributions.contributions_of(session, task)


def _store(action):
    """Run a storing action in one transaction, then notify the plugins."""
    return service.store_and_notify(get_gateway(), current_principal(), china_today(), action)


@results_blp.route("/tasks/<int:task_id>/attachments")
class TaskAttachments(MethodView):
    @permission("attachments.read")
    @results_blp.response(200, AttachmentSchema(many=True))
    def get(self, task_id: int):
        """Attachments uploaded to a task."""
        return service.attachments_of(db(), current_principal(), task_id)

    @permission("results.record")
    @results_blp.arguments(AttachmentUploadSchema, location="files")
    @results_blp.response(201, AttachmentSchema)
    def post(self, _files, task_id: int):
        """Upload a photo (JPEG/PNG) or a scanned PDF for the task (the team); stored by SHA-256."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise Invalid("validation_error", "提交的数据未通过校验。", {"file": ["请上传照片（JPEG/PNG）或 PDF 扫描件。"]})
        content = upload.read()
        return written(lambda gateway, session: python_values(AttachmentSchema(), service.upload_attachment(
            gateway, session, current_principal(), task_id, upload.filename, content)))


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
    gateway, session, principal = get_gateway(), db(), internal_principal()
    page = query_page(session, service.results_query(principal, args), args)
    page = page.map_batch(lambda results: service.result_views(gateway, session, results, china_today()))
    if page.items:
        _audit_personal_read(principal, "inspection_result", "list", {"result_ids": [r.id for r in page.items]})
    return page


@results_blp.route("/results/overdue")
@permission("results.read")
@results_blp.arguments(DeadlineQuerySchema, location="query")
@results_blp.response(200, DeadlineListSchema)
def overdue(args):
    """Article 19 clock: results overdue and due soon (unpublished), with counts per lead department."""
    gateway, principal = get_gateway(), internal_principal()
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
        gateway, session, principal = get_gateway(), db(), internal_principal()
        result = service.get_result(session, result_id)
        service.authorize_read(session, principal, result)
        full = service.in_full_scope(principal, result.task)
        shown = service.result_views(gateway, session, [result], china_today(), full=full)[0]
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


@results_blp.route("/listing-proposals")
@permission("listing.read")
@results_blp.arguments(ListingQuerySchema, location="query")
@results_blp.response(200, ListingProposalPageSchema)
def listing_proposals(args):
    """Proposals to put a target on a list (经营异常名录), newest first: published results propose,
    market supervision's head decides (article 24)."""
    session = db()
    return query_page(session, listing.proposals_query(current_principal(), args), args).map(listing.ListingView)


@results_blp.route("/listing-proposals/<int:proposal_id>/decision", methods=["POST"])
@permission("listing.decide")
@results_blp.arguments(ListingDecisionSchema)
@results_blp.response(200, ListingProposalSchema)
def decide_listing(data, proposal_id: int):
    """Accept (the target is listed) or reject a waiting proposal, with a note: market supervision's head."""
    with get_gateway().write() as session:
        proposal = listing.decide(session, current_principal(), proposal_id, accept=data["accept"], note=data["note"])
        return python_values(ListingProposalSchema(), listing.ListingView(proposal))


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
        gateway, session, principal = get_gateway(), db(), internal_principal()
        result = service.get_result(session, result_id)
        service.authorize_read(session, principal, result)
        return [DispositionView(gateway, d) for d in followups.dispositions_of_task(session, result.task_id)]

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
        gateway, session, principal = get_gateway(), db(), internal_principal()
        disposition = followups.get_disposition(session, disposition_id)
        authorize(principal, "results.read", **{**service.task_resource(disposition.result.task),
                                                 "published": disposition.is_published})
        return DispositionView(gateway, disposition)

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
    view = credit.credit_view(gateway, db(), principal, uscc, china_today())
    with gateway.write() as session:  # reading the signer's name and the team is audited
        audit.record(session, principal, "credit.read", "target", view.target.uscc, {})
    return view
