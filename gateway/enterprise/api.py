"""The enterprise's side in the API: notices and statements for staff, ratings (aggregates for
departments, single ratings for the office), and the enterprise portal under ``/portal``."""
from __future__ import annotations

from flask import jsonify, make_response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from gateway.api.pagination import query_page
from gateway.api.session import db, get_gateway, written, written_as
from gateway.enterprise import notices, portal, ratings, sessions, statements
from gateway.enterprise.models import RectificationEvidence
from gateway.errors import Invalid
from gateway.results.access import task_resource
from gateway.results.clock import china_today
from gateway.security import web
from gateway.security.policy import authorize, permission
from gateway.security.principal import current_principal
from gateway.tasks import service as tasks
from gateway.tasks.api import printable_html
from schemas.common import python_values
from schemas.enterprise import (
    EvidenceInputSchema,
    EvidenceSchema,
    NoticeDeliverySchema,
    NoticeGenerateSchema,
    NoticeIssuedSchema,
    NoticeSchema,
    PortalInspectionSchema,
    PortalSignInResultSchema,
    PortalSignInSchema,
    RatingInputSchema,
    RatingPageSchema,
    RatingQuerySchema,
    RatingSchema,
    RatingSummarySchema,
    RecusalInputSchema,
    RecusalSchema,
    StatementAnswerSchema,
    StatementInputSchema,
    StatementSchema,
)
from schemas.results import AttachmentSchema, AttachmentUploadSchema

notices_blp = Blueprint("notices", __name__, url_prefix="/tasks",
                        description="检查通知书（生成、送达记录）、陈述申辩的答复与企业整改材料")
statements_blp = Blueprint("statements", __name__, url_prefix="/statements", description="陈述申辩的答复")
ratings_blp = Blueprint("ratings", __name__, url_prefix="/ratings",
                        description="企业对检查的评价：部门只见不少于 5 条的汇总，县双随机办可见每条")
portal_blp = Blueprint("portal", __name__, url_prefix="/portal",
                       description="企业服务：凭统一社会信用代码和访问码登录，查看检查、陈述申辩、申请回避、评价、上传整改材料")


# --- notices (staff) ---------------------------------------------------------------------------------

@notices_blp.route("/<int:task_id>/notice")
class TaskNotice(MethodView):
    @permission("tasks.read")
    @notices_blp.response(200, content_type="text/html", description="检查通知书（可打印的 HTML 页面，不公开）")
    def get(self, task_id):
        """The printable notice, without the access code (staff who may see the task; audited)."""
        principal, gateway = current_principal(), get_gateway()
        with gateway.write() as session:
            task = tasks.read_task(session, principal, task_id)
            return printable_html(notices.read_notice(gateway, session, principal, task))

    @permission("notices.send")
    @notices_blp.arguments(NoticeGenerateSchema)
    @notices_blp.response(201, NoticeIssuedSchema)
    def post(self, data, task_id):
        """Generate (or generate again) the notice with a new access code, returned this once;
        the office or the lead department. Every earlier code of the task stops working."""
        principal, gateway = current_principal(), get_gateway()
        with gateway.write() as session:
            notice, code = notices.generate_notice(gateway, session, principal, task_id, data["contact"])
            body = python_values(NoticeSchema(), notice)
        return {**body, "access_code": code}


@notices_blp.route("/<int:task_id>/notice/delivery")
class TaskNoticeDelivery(MethodView):
    @permission("notices.send")
    @notices_blp.arguments(NoticeDeliverySchema)
    @notices_blp.response(200, NoticeSchema)
    def post(self, data, task_id):
        """Record the notice's delivery: method, time and by whom."""
        return written_as(NoticeSchema(), lambda session: notices.record_delivery(
            session, current_principal(), task_id, data["method"], data["note"]))


@notices_blp.route("/<int:task_id>/statements")
class TaskStatements(MethodView):
    @permission("statements.read")
    @notices_blp.response(200, StatementSchema(many=True))
    def get(self, task_id):
        """The enterprise's statements (陈述申辩) on the task's draft results, with the answers."""
        session = db()
        return statements.statements_of(session, current_principal(), tasks.get_task(session, task_id))


@notices_blp.route("/<int:task_id>/rectification-evidence")
class TaskEvidence(MethodView):
    @permission("attachments.read")
    @notices_blp.response(200, EvidenceSchema(many=True))
    def get(self, task_id):
        """Rectification evidence (整改材料) the enterprise uploaded for the task's follow-up."""
        session = db()
        authorize(current_principal(), "attachments.read", **task_resource(tasks.get_task(session, task_id)))
        return list(session.scalars(select(RectificationEvidence).where(RectificationEvidence.task_id == task_id)
                                    .order_by(RectificationEvidence.id)))


@statements_blp.route("/<int:statement_id>/answer")
class StatementAnswer(MethodView):
    @permission("statements.answer")
    @statements_blp.arguments(StatementAnswerSchema)
    @statements_blp.response(200, StatementSchema)
    def post(self, data, statement_id):
        """The lead department answers a statement in the record (required before publication)."""
        return written_as(StatementSchema(), lambda session: statements.answer_statement(
            session, current_principal(), statement_id, data["answer"]))


# --- ratings -----------------------------------------------------------------------------------------

@ratings_blp.route("/summary")
class RatingSummary(MethodView):
    @permission("ratings.read")
    @ratings_blp.response(200, RatingSummarySchema(many=True))
    def get(self):
        """Ratings per department: the count; the average and the scores only from 5 ratings on."""
        return ratings.rating_summaries(db(), current_principal())


@ratings_blp.route("")
class Ratings(MethodView):
    @permission("ratings.read_each")
    @ratings_blp.arguments(RatingQuerySchema, location="query")
    @ratings_blp.response(200, RatingPageSchema)
    def get(self, args):
        """Every single rating (the county office and supervisors; never a department)."""
        session = db()
        return query_page(session, ratings.each_rating_query(current_principal()), args)


# --- the portal --------------------------------------------------------------------------------------

def _uscc() -> str:
    return current_principal().name


@portal_blp.route("/sign-in")
class PortalSignIn(MethodView):
    @permission("auth.sign_in")
    @portal_blp.arguments(PortalSignInSchema)
    @portal_blp.response(200, PortalSignInResultSchema)
    def post(self, data):
        """Sign in with the USCC and an access code (one-time; the answer carries the next code, shown
        once). Five wrong tries lock that code; every attempt is audited; sets the portal cookie."""
        web.limit_sign_in()
        result = portal.sign_in(get_gateway(), data["uscc"], data["code"], web.client_address())
        response = make_response(jsonify(PortalSignInResultSchema().dump(result)), 200)
        set_portal_cookie(response, result.cookie, result.expires_at)
        return response


def set_portal_cookie(response, value: str, expires) -> None:
    response.set_cookie(sessions.PORTAL_COOKIE, value, expires=expires, path="/", httponly=True, samesite="Lax",
                        secure=bool(web.security_state().settings.session_cookie_secure))


@portal_blp.route("/sign-out")
class PortalSignOut(MethodView):
    @permission("portal.use")
    @portal_blp.response(204)
    def post(self):
        """End the portal session."""
        with get_gateway().write() as session:
            portal.sign_out(session, _uscc(), request.cookies.get(sessions.PORTAL_COOKIE, ""))
        response = make_response("", 204)
        response.delete_cookie(sessions.PORTAL_COOKIE, path="/", httponly=True, samesite="Lax")
        return response


@portal_blp.route("/inspections")
class PortalInspections(MethodView):
    @permission("portal.use")
    @portal_blp.response(200, PortalInspectionSchema(many=True))
    def get(self):
        """Every inspection of the signed-in enterprise, with its notice, draft or published result,
        statements, recusal requests, rating and what it may do now."""
        return portal.overview(get_gateway(), db(), _uscc(), china_today())


@portal_blp.route("/inspections/<int:task_id>/notice")
class PortalNotice(MethodView):
    @permission("portal.use")
    @portal_blp.response(200, content_type="text/html", description="检查通知书（可打印的 HTML 页面）")
    def get(self, task_id):
        """The notice of one of the enterprise's inspections (team with certificate numbers)."""
        gateway = get_gateway()
        with gateway.write() as session:
            task = portal.own_task(session, _uscc(), task_id)
            return printable_html(notices.read_notice(gateway, session, current_principal(), task))


@portal_blp.route("/inspections/<int:task_id>/files")
class PortalFiles(MethodView):
    @permission("portal.use")
    @portal_blp.arguments(AttachmentUploadSchema, location="files")
    @portal_blp.response(201, AttachmentSchema)
    def post(self, _files, task_id):
        """Upload a photo (JPEG/PNG) or PDF, to attach to a statement or as rectification evidence."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise Invalid("validation_error", "提交的数据未通过校验。", {"file": ["请上传照片（JPEG/PNG）或 PDF 扫描件。"]})
        return written(lambda gateway, session: python_values(AttachmentSchema(), portal.upload_file(
            gateway, session, _uscc(), task_id, upload.filename, upload.read())))


@portal_blp.route("/inspections/<int:task_id>/statements")
class PortalStatements(MethodView):
    @permission("portal.use")
    @portal_blp.arguments(StatementInputSchema)
    @portal_blp.response(201, StatementSchema)
    def post(self, data, task_id):
        """File a statement (陈述申辩) on the draft result, within the window, with uploaded files as evidence."""
        return written(lambda gateway, session: python_values(StatementSchema(), portal.file_statement(
            gateway, session, _uscc(), task_id, data["text"], data["attachment_ids"], china_today())))


@portal_blp.route("/inspections/<int:task_id>/recusals")
class PortalRecusals(MethodView):
    @permission("portal.use")
    @portal_blp.arguments(RecusalInputSchema)
    @portal_blp.response(201, RecusalSchema)
    def post(self, data, task_id):
        """Ask that a team member step aside (申请回避); the member's department head decides."""
        return written_as(RecusalSchema(), lambda session: portal.request_recusal(
            session, _uscc(), task_id, data["member_id"], data["reason"]))


@portal_blp.route("/inspections/<int:task_id>/rating")
class PortalRating(MethodView):
    @permission("portal.use")
    @portal_blp.arguments(RatingInputSchema)
    @portal_blp.response(201, RatingSchema)
    def post(self, data, task_id):
        """Rate the inspection once it took place (1–5); anonymous to the inspecting department."""
        return written_as(RatingSchema(), lambda session: portal.rate(
            session, _uscc(), task_id, data["score"], data["comment"]))


@portal_blp.route("/inspections/<int:task_id>/rectification-evidence")
class PortalEvidence(MethodView):
    @permission("portal.use")
    @portal_blp.arguments(EvidenceInputSchema)
    @portal_blp.response(201, EvidenceSchema)
    def post(self, data, task_id):
        """Hand in an uploaded file as rectification evidence for a result that found problems."""
        return written_as(EvidenceSchema(), lambda session: portal.add_evidence(
            session, _uscc(), task_id, data["attachment_id"], data["note"]))
