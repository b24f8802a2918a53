"""The sync API for operators: status, dead letters, one record, resend after correction."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.api.pagination import Page
from gateway.api.session import db, get_gateway, written
from gateway.security.policy import permission, visible_departments
from gateway.security.principal import current_principal
from gateway.sync import service
from gateway.sync.status import dead_letters, sync_status
from schemas.sync import (
    DeadLetterPageSchema,
    DeadLetterQuerySchema,
    OutboxRecordSchema,
    ResendSchema,
    SyncStatusSchema,
)

sync_blp = Blueprint("sync", __name__, url_prefix="/sync", description="省级平台同步：状态、死信与重发（第十九条）")

RECORD_ID = "<string(maxlength=100):record_id>"


@sync_blp.route("/status")
class Status(MethodView):
    @permission("sync.read")
    @sync_blp.response(200, SyncStatusSchema)
    def get(self):
        """Counts by state and kind, the oldest waiting record, the deadline alert, live workers and
        the first dead letters. Department roles see their own department's records."""
        departments = visible_departments(current_principal(), "sync.read")
        return sync_status(db(), get_gateway().settings, departments=departments)


@sync_blp.route("/dead-letters")
class DeadLetters(MethodView):
    @permission("sync.read")
    @sync_blp.arguments(DeadLetterQuerySchema, location="query")
    @sync_blp.response(200, DeadLetterPageSchema)
    def get(self, args):
        """Records the platform rejected (or could not be built), with the platform's field errors."""
        departments = visible_departments(current_principal(), "sync.read")
        page, size = args["page"], args["page_size"]
        items, total = dead_letters(db(), departments=departments, kind=args.get("kind"),
                                    offset=(page - 1) * size, limit=size)
        return Page(items, total, page, size)


@sync_blp.route(f"/records/{RECORD_ID}")
class Record(MethodView):
    @permission("sync.read")
    @sync_blp.response(200, OutboxRecordSchema)
    def get(self, record_id):
        """One outbox record: state, attempts, last error, the platform's receipt, the payload sent."""
        return service.read_record(db(), current_principal(), record_id)


@sync_blp.route(f"/records/{RECORD_ID}/resend")
class Resend(MethodView):
    @permission("sync.operate")
    @sync_blp.arguments(ResendSchema)
    @sync_blp.response(200, OutboxRecordSchema)
    def post(self, data, record_id):
        """Queue a dead letter (or a waiting record) again, due now. With ``rebuild: true`` the
        payload of a dead letter is rebuilt from its entity as corrected. Audited."""
        return written(lambda gateway, session: service.resend(
            session, current_principal(), record_id, gateway.settings, rebuild=data["rebuild"]))
