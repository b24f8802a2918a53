"""Hooks of the Commerce Bureau plugin (entry point ``commerce``)."""
from __future__ import annotations

from gateway.plugins import hookimpl, problem_description_required
from shuangsui_commerce.content import DEPARTMENT, GUIDE_TEXT, MATTER


@hookimpl
def gateway_department():
    return DEPARTMENT


@hookimpl
def gateway_matters():
    return [MATTER]


@hookimpl
def gateway_validate_result(matter_code, values):
    """Every target holds an approval certificate, so the licence item is never 不涉及; any
    不符合 needs a problem description, the facts the follow-up rests on."""
    if matter_code != MATTER.code:
        return None
    errors = {}
    if values.get("oil_licence") == "not_applicable":
        errors["oil_licence"] = ["检查对象均持有成品油经营批准证书，经营资质检查项不能为“不涉及”。"]
    errors.update(problem_description_required(values, "oil_problem_description"))
    return errors or None


@hookimpl
def gateway_guide_text(matter_code):
    return GUIDE_TEXT if matter_code == MATTER.code else None
