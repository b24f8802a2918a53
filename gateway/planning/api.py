"""The plans' API: annual and joint plans, publication and amendment (public once published)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.api.pagination import query_page
from gateway.api.session import db, get_gateway, written
from gateway.planning import service
from gateway.planning.filing import file_plan
from gateway.security.policy import permission
from gateway.security.principal import current_principal
from schemas.planning import (
    PlanAmendSchema,
    PlanCreateSchema,
    PlanFilingSchema,
    PlanPageSchema,
    PlanQuerySchema,
    PlanSchema,
    PlanUpdateSchema,
)

plans_blp = Blueprint("plans", __name__, url_prefix="/plans", description="抽查计划（年度计划与跨部门联合抽查计划）")


@plans_blp.route("")
class Plans(MethodView):
    @permission("plans.read")
    @plans_blp.arguments(PlanQuerySchema, location="query")
    @plans_blp.response(200, PlanPageSchema)
    def get(self, args):
        """List plans. The public sees published (and superseded) plans only."""
        session = db()
        stmt = service.plans_query(current_principal(), args)
        return query_page(session, stmt, args).map_batch(lambda plans: service.plan_views(session, plans))

    @permission("plans.write")
    @plans_blp.arguments(PlanCreateSchema)
    @plans_blp.response(201, PlanSchema)
    def post(self, data):
        """Create a draft plan; it gets its number (e.g. 武陟联抽〔2026〕3号) and pins each matter's version."""
        return written(lambda gateway, session: service.plan_dict(
            session, service.create_plan(session, current_principal(), data, gateway.settings)))


@plans_blp.route("/<int:plan_id>")
class PlanById(MethodView):
    @permission("plans.read")
    @plans_blp.response(200, PlanSchema)
    def get(self, plan_id):
        """One plan with its matters (and versions), strata and ratios, and its draw if any."""
        session = db()
        return service.plan_views(session, [service.read_plan(session, current_principal(), plan_id)])[0]

    @permission("plans.write")
    @plans_blp.arguments(PlanUpdateSchema)
    @plans_blp.response(200, PlanSchema)
    def patch(self, data, plan_id):
        """Change a draft (a published plan is immutable: amend it instead)."""
        return written(lambda gateway, session: service.plan_dict(
            session, service.update_plan(session, current_principal(), plan_id, data, gateway.settings)))


@plans_blp.route("/<int:plan_id>/publish")
class PlanPublish(MethodView):
    @permission("plans.write")
    @plans_blp.response(200, PlanSchema)
    def post(self, plan_id):
        """Publish a draft. After 31 March of the plan's year it is recorded as late (article 11);
        an amendment supersedes the version it amends."""
        return written(lambda gateway, session: service.plan_dict(
            session, *service.publish_plan(session, current_principal(), plan_id, gateway.settings)))


@plans_blp.route("/<int:plan_id>/amendments")
class PlanAmendments(MethodView):
    @permission("plans.write")
    @plans_blp.arguments(PlanAmendSchema)
    @plans_blp.response(201, PlanSchema)
    def post(self, data, plan_id):
        """Start a new version of a published plan, with the reason; publish it to supersede the old one."""
        with get_gateway().write() as session:
            plan = service.amend_plan(session, current_principal(), plan_id, data)
            return service.plan_dict(session, plan)


@plans_blp.route("/<int:plan_id>/filing")
class PlanFiling(MethodView):
    @permission("plans.file")
    @plans_blp.arguments(PlanFilingSchema)
    @plans_blp.response(200, PlanSchema)
    def post(self, data, plan_id):
        """Record the plan's filing (备案) with the county justice bureau: its filing number and date.
        A draw needs it first while the setting ``draw_requires_filing`` is on (the default); the
        filing is public with the plan. An amendment is filed again."""
        with get_gateway().write() as session:
            plan = file_plan(session, current_principal(), plan_id, data)
            return service.plan_dict(session, plan)
