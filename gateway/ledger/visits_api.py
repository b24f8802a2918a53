"""Repeat-visit warnings and joining another department's task (issue 16 item 3)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.api.session import db, get_gateway
from gateway.ledger.joining import join_task
from gateway.ledger.warnings import repeat_visits
from gateway.results.clock import china_today
from gateway.security.policy import permission
from gateway.security.principal import current_principal
from gateway.tasks.service import task_dict
from schemas.tasks import TaskSchema
from schemas.visits import RepeatVisitQuerySchema, RepeatVisitsSchema, TaskJoinSchema

visits_blp = Blueprint("visits", __name__, url_prefix="/visits",
                       description="重复检查预警与联合检查（综合查一次）")


@visits_blp.route("/repeats")
class RepeatVisits(MethodView):
    @permission("visits.read")
    @visits_blp.arguments(RepeatVisitQuerySchema, location="query")
    @visits_blp.response(200, RepeatVisitsSchema)
    def get(self, args):
        """Before registering or planning a visit: other departments' inspections of the target within
        ``repeat_visit_days`` (setting, default 30) of the day; an open drawn task among them may be joined."""
        days = get_gateway().settings.repeat_visit_days
        return {"days": days, "warnings": repeat_visits(db(), args["uscc"], args["department"], args["on"], days,
                                                        today=china_today())}


@visits_blp.route("/joins")
class Joins(MethodView):
    @permission("visits.join")
    @visits_blp.arguments(TaskJoinSchema)
    @visits_blp.response(200, TaskSchema)
    def post(self, data):
        """Join the department's matter and inspectors into another department's open task: one visit,
        both checklists; the department's registered inspection, if named, points to the task."""
        with get_gateway().write() as session:
            task = join_task(session, current_principal(), data["task_id"], data, china_today())
            return task_dict(session, task, with_team=True)
