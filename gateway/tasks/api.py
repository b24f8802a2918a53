"""The tasks' API: tasks, printable task sheets and guides, history, and article 14 reassignments."""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.api.pagination import query_page
from gateway.api.session import db, get_gateway, written
from gateway.codes import service as inspection_codes
from gateway.errors import NotFound
from gateway.security import audit
from gateway.security.policy import authorize, permission
from gateway.security.principal import current_principal
from gateway.security.web import PRINTABLE_DOCUMENT_POLICY
from gateway.tasks import reassign, service
from gateway.tasks.sheets import render_guide, render_task_sheet
from schemas.tasks import (
    DecisionSchema,
    ReassignmentPageSchema,
    ReassignmentQuerySchema,
    ReassignmentRecordSchema,
    ReassignmentRequestSchema,
    ReassignmentSchema,
    RejectionSchema,
    TaskEventSchema,
    TaskPageSchema,
    TaskQuerySchema,
    TaskSchema,
)

tasks_blp = Blueprint("tasks", __name__, url_prefix="/tasks", description="检查任务、检查任务书与检查指引书")
reassignments_blp = Blueprint("reassignments", __name__, url_prefix="/reassignments",
                              description="检查人员调整（第十四条：申请、单位负责人审批、县双随机办备案）")


@tasks_blp.route("")
class Tasks(MethodView):
    @permission("tasks.read")
    @tasks_blp.arguments(TaskQuerySchema, location="query")
    @tasks_blp.response(200, TaskPageSchema)
    def get(self, args):
        """Tasks the caller may see: all (county office, supervisors), its department's, or its own team's."""
        session = db()
        page = query_page(session, service.tasks_query(current_principal(), args), args)
        return page.map_batch(lambda tasks: service.task_views(session, tasks))


@tasks_blp.route("/<int:task_id>")
class TaskById(MethodView):
    @permission("tasks.read")
    @tasks_blp.response(200, TaskSchema)
    def get(self, task_id):
        """One task with its team by name (never phone or certificate numbers; the read is audited)."""
        principal = current_principal()
        with get_gateway().write() as session:
            task = service.read_task(session, principal, task_id)
            audit.record(session, principal, "tasks.read_team", "task", task.id, {"fields": ["inspector names"]})
            return service.task_dict(session, task, with_team=True)


def _html(text: str) -> Response:
    response = Response(text, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PRINTABLE_DOCUMENT_POLICY
    return response


# The enterprise's notice (gateway.enterprise) is served as the same kind of printable document.
printable_html = _html


@tasks_blp.route("/<int:task_id>/sheet")
class TaskSheet(MethodView):
    @permission("tasks.read")
    @tasks_blp.response(200, content_type="text/html", description="检查任务书（可打印的 HTML 页面）")
    def get(self, task_id):
        """The printable task sheet (检查任务书): target, matters, check items, team, window."""
        principal = current_principal()
        gateway = get_gateway()
        with gateway.write() as session:
            task = service.read_task(session, principal, task_id)
            audit.record(session, principal, "tasks.read_sheet", "task", task.id, {"fields": ["inspector names"]})
            code = inspection_codes.code_block(session, gateway.settings, task, request.host_url)
            return _html(render_task_sheet(session, task, gateway.hook, code))


@tasks_blp.route("/<int:task_id>/guide")
class TaskGuide(MethodView):
    @permission("tasks.read")
    @tasks_blp.response(200, content_type="text/html", description="检查指引书（可打印的 HTML 页面）")
    def get(self, task_id):
        """The printable inspection guide (检查指引书): per matter, items, legal basis, methods, guidance."""
        session = db()
        task = service.read_task(session, current_principal(), task_id)
        return _html(render_guide(session, task, get_gateway().hook))


@tasks_blp.route("/<int:task_id>/history")
class TaskHistory(MethodView):
    @permission("tasks.read")
    @tasks_blp.response(200, TaskEventSchema(many=True))
    def get(self, task_id):
        """The task's history: creation by the draw, every reassignment step."""
        session = db()
        return service.history(session, service.read_task(session, current_principal(), task_id))


@tasks_blp.route("/<int:task_id>/reassignments")
class TaskReassignments(MethodView):
    @permission("tasks.read")
    @tasks_blp.response(200, ReassignmentSchema(many=True))
    def get(self, task_id):
        """The task's reassignment requests."""
        return [reassign.ReassignmentView(r) for r in reassign.reassignments_of(db(), current_principal(), task_id)]

    @permission("reassignments.request")
    @tasks_blp.arguments(ReassignmentRequestSchema)
    @tasks_blp.response(201, ReassignmentSchema)
    def post(self, data, task_id):
        """Ask to replace one team member (conflict of interest or another special reason)."""
        with get_gateway().write() as session:
            item = reassign.request(session, current_principal(), task_id, data)
            return reassign.reassignment_dict(item)


@reassignments_blp.route("")
class Reassignments(MethodView):
    @permission("tasks.read")
    @reassignments_blp.arguments(ReassignmentQuerySchema, location="query")
    @reassignments_blp.response(200, ReassignmentPageSchema)
    def get(self, args):
        """Reassignments the caller may see (department heads: theirs to decide; county office: all, to file)."""
        return query_page(db(), reassign.reassignments_query(current_principal(), args), args).map(reassign.ReassignmentView)


@reassignments_blp.route("/<int:reassignment_id>")
class ReassignmentById(MethodView):
    @permission("tasks.read")
    @reassignments_blp.response(200, ReassignmentSchema)
    def get(self, reassignment_id):
        """One reassignment request with its decision, replacement and filing."""
        session = db()
        item = reassign.get_reassignment(session, reassignment_id)
        service.read_task(session, current_principal(), item.task_id)
        return reassign.ReassignmentView(item)


@reassignments_blp.route("/<int:reassignment_id>/approve")
class ReassignmentApprove(MethodView):
    @permission("reassignments.approve")
    @reassignments_blp.arguments(DecisionSchema)
    @reassignments_blp.response(200, ReassignmentSchema)
    def post(self, data, reassignment_id):
        """The department head approves: the replacement is drawn by the draw's rule and joins the team."""
        return written(lambda gateway, session: reassign.reassignment_dict(reassign.approve(
            session, current_principal(), reassignment_id, data.get("note", ""), settings=gateway.settings)))


@reassignments_blp.route("/<int:reassignment_id>/record")
class ReassignmentRecord(MethodView):
    @permission("draws.read")
    @reassignments_blp.response(200, ReassignmentRecordSchema)
    def get(self, reassignment_id):
        """The public record of an approved replacement (format shuangsui.reassignment/1): the nonce
        committed at the request and revealed at the approval, the seed, the candidates by the draw
        record's opaque ids with their loads, and the choice; re-run it with `shuangsui verify`."""
        authorize(current_principal(), "draws.read", published=True)
        record = reassign.public_record(reassign.get_reassignment(db(), reassignment_id))
        if record is None:
            raise NotFound("record_not_ready", f"人员调整 {reassignment_id} 尚未批准，还没有公开的替换记录。")
        return record


@reassignments_blp.route("/<int:reassignment_id>/reject")
class ReassignmentReject(MethodView):
    @permission("reassignments.approve")
    @reassignments_blp.arguments(RejectionSchema)
    @reassignments_blp.response(200, ReassignmentSchema)
    def post(self, data, reassignment_id):
        """The department head refuses the request (the team stays as drawn)."""
        with get_gateway().write() as session:
            item = reassign.reject(session, current_principal(), reassignment_id, data["note"])
            return reassign.reassignment_dict(item)


@reassignments_blp.route("/<int:reassignment_id>/file")
class ReassignmentFile(MethodView):
    @permission("reassignments.file")
    @reassignments_blp.arguments(DecisionSchema)
    @reassignments_blp.response(200, ReassignmentSchema)
    def post(self, data, reassignment_id):
        """The county office files an approved change (备案) and numbers it."""
        return written(lambda gateway, session: reassign.reassignment_dict(reassign.file(
            session, current_principal(), reassignment_id, gateway.settings, data.get("note", ""))))
