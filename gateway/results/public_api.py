"""The public query (article 21), without logging in: published matters, plans, drawn tasks,
results and dispositions."""
from __future__ import annotations

from flask_smorest import Blueprint

from gateway.api.caching import cache_publicly
from gateway.api.session import db, get_gateway
from gateway.results import public
from gateway.security.policy import permission
from gateway.security.principal import current_principal
from schemas.common import PageArgsSchema
from schemas.results import (
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
)

# An anonymous caller's answers are cacheable with an ETag, as the public pages are.
public_blp = cache_publicly(Blueprint("public", __name__, url_prefix="/public", description="公开查询，无需登录（第二十一条）"))


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
    return public.public_plans(get_gateway(), db(), current_principal(), args.get("year"), args["page"], args["page_size"])


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
    return public.public_plan_tasks(get_gateway(), db(), current_principal(), plan_id, args["page"], args["page_size"])


@public_blp.route("/targets")
@permission("results.read")
@public_blp.arguments(PublicSearchSchema, location="query")
@public_blp.response(200, PublicTargetHitPageSchema)
def public_targets(args):
    """Find a target by USCC or name."""
    return public.search_targets(db(), current_principal(), args.get("q"), args["page"], args["page_size"])


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
    return public.public_results(get_gateway(), db(), current_principal(), args.get("q"), args["page"], args["page_size"])


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
    return public.public_dispositions(get_gateway(), db(), current_principal(), args.get("q"), args["page"], args["page_size"])
