"""Hook implementations of the Commerce Bureau plugin (entry point ``commerce``)."""
from __future__ import annotations

from typing import Any, Mapping

from gateway.plugins import CheckItem, Department, Matter, hookimpl
from schemas.checklist import BaseChecklistSchema

from shuangsui_commerce.checklist import RefinedOilChecklistSchema
from shuangsui_commerce.content import DEPARTMENT, GUIDE_TEXT, MATTER, MATTER_CODE


@hookimpl
def gateway_department() -> Department:
    return DEPARTMENT


@hookimpl
def gateway_matters() -> list[Matter]:
    return [MATTER]


@hookimpl
def gateway_check_items() -> list[CheckItem]:
    # The Commerce Bureau brings no items to other departments' matters.
    return []


@hookimpl
def gateway_checklist_schema(matter_code: str) -> type[BaseChecklistSchema] | None:
    if matter_code == MATTER_CODE:
        return RefinedOilChecklistSchema
    return None


@hookimpl
def gateway_validate_result(matter_code: str, values: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """Cross-item rules of the refined-oil checklist.

    - Every target was selected because it holds an approval certificate, so the licence item
      can never be 不涉及.
    - Any 不符合 (also on a cooperating department's item) needs a problem description, the
      facts the follow-up rests on.
    """
    if matter_code != MATTER_CODE:
        return None
    errors: dict[str, list[str]] = {}
    if values.get("oil_licence") == "not_applicable":
        errors["oil_licence"] = ["检查对象均持有成品油经营批准证书，经营资质检查项不能为“不涉及”。"]
    # any item of the merged checklist, cooperating departments' included
    failed = [code for code, value in values.items() if value == "non_compliant"]
    if failed and not (values.get("oil_problem_description") or "").strip():
        errors["oil_problem_description"] = ["存在“不符合”的检查项，必须填写问题描述。"]
    return errors or None


@hookimpl
def gateway_guide_text(matter_code: str) -> str | None:
    if matter_code == MATTER_CODE:
        return GUIDE_TEXT
    return None
