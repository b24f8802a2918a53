"""Public endpoints (no signature): a target's inspections, a plan, a draw result, the HTML page."""
from __future__ import annotations

from mock_platform import html, views
from mock_platform.context import Context
from mock_platform.endpoints.bodies import IntArg
from mock_platform.http import ApiError, Response, html_response, json_response
from schemas.platform import parse_uscc

YEAR = IntArg("year", 2000, 2100, None, "Only inspections completed in this year.")


def _checked_uscc(uscc: str) -> str:
    try:
        return parse_uscc(uscc)
    except ValueError as problem:
        raise ApiError(400, "invalid_uscc", str(problem)) from None


def target_inspections(ctx: Context, uscc: str) -> Response:
    """``GET /api/v1/public/entities/<uscc>/inspections?year=``: every authority's results."""
    uscc = _checked_uscc(uscc)
    year = YEAR.read(ctx.request)
    return json_response(200, views.target_inspections(ctx.backend.store, uscc, year))


def plan(ctx: Context, plan_number: str) -> Response:
    """``GET /api/v1/public/plans/<plan_number>``."""
    found = views.public_plan(ctx.backend.store, plan_number)
    if found is None:
        raise ApiError(404, "plan_not_found", f"未找到计划编号为“{plan_number}”的抽查计划")
    return json_response(200, found)


def draw_result(ctx: Context, task_number: str) -> Response:
    """``GET /api/v1/public/draw-results/<task_number>``."""
    found = views.public_draw_result(ctx.backend.store, task_number)
    if found is None:
        raise ApiError(404, "draw_result_not_found", f"未找到任务编号为“{task_number}”的抽取结果")
    return json_response(200, found)


def inspections_page(ctx: Context, uscc: str) -> Response:
    """``GET /public/entities/<uscc>``: the 抽查检查结果信息 page, in Chinese."""
    try:
        uscc = parse_uscc(uscc)
    except ValueError as problem:
        return html_response(400, html.error_page(str(problem)))
    return html_response(200, html.inspections_page(views.target_inspections(ctx.backend.store, uscc)))
