"""Hooks of the Commerce Bureau plugin (entry point ``commerce``): its department, the refined-oil
matter and its guide text are in ``content.toml``; here only its validation."""
from __future__ import annotations

from gateway.plugins import hookimpl, problem_description_required
from gateway.plugins.content import load_content

CONTENT = load_content(__package__)
gateway_department, gateway_matters, gateway_check_items, gateway_guide_text = CONTENT.hooks()


@hookimpl
def gateway_validate_result(matter_code, values):
    """Every target holds an approval certificate, so the licence item is never 不涉及; any
    不符合 needs a problem description, the facts the follow-up rests on."""
    if matter_code != "refined_oil":
        return None
    errors = {}
    if values.get("oil_licence") == "not_applicable":
        errors["oil_licence"] = ["检查对象均持有成品油经营批准证书，经营资质检查项不能为“不涉及”。"]
    errors.update(problem_description_required(values, "oil_problem_description"))
    return errors or None
