"""Hook implementations of the Market Supervision Administration plugin (entry point ``market``).

Its cooperating check items name the matters of the commerce, agriculture and emergency
plugins, so those must be installed too: without them start-up stops with a message naming
the unknown matter (the plugin manager's rule for check items).
"""
from __future__ import annotations

from typing import Any, Mapping

from gateway.plugins import CheckItem, Department, Matter, hookimpl
from schemas.checklist import BaseChecklistSchema

from shuangsui_market.checklist import InspectionAndTestingBodiesChecklistSchema
from shuangsui_market.content import COOPERATING_ITEMS, DEPARTMENT, GUIDE_TEXT, MATTER, MATTER_CODE


@hookimpl
def gateway_department() -> Department:
    return DEPARTMENT


@hookimpl
def gateway_matters() -> list[Matter]:
    return [MATTER]


@hookimpl
def gateway_check_items() -> list[CheckItem]:
    return list(COOPERATING_ITEMS)


@hookimpl
def gateway_checklist_schema(matter_code: str) -> type[BaseChecklistSchema] | None:
    if matter_code == MATTER_CODE:
        return InspectionAndTestingBodiesChecklistSchema
    return None


@hookimpl
def gateway_validate_result(matter_code: str, values: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """Cross-item rules of the testing-bodies checklist.

    - A report verdict of 不符合 rests on reports reviewed: the count must be above zero.
    - Any 不符合 (also on the environmental items) needs a problem description.
    """
    if matter_code != MATTER_CODE:
        return None
    errors: dict[str, list[str]] = {}
    if values.get("tb_reports") == "non_compliant" and not (values.get("tb_reports_reviewed") or 0) > 0:
        errors["tb_reports_reviewed"] = ["检验检测报告判定为“不符合”时，抽查报告份数必须大于0。"]
    failed = [code for code, value in values.items() if value == "non_compliant"]
    if failed and not (values.get("tb_problem_description") or "").strip():
        errors["tb_problem_description"] = ["存在“不符合”的检查项，必须填写问题描述。"]
    return errors or None


@hookimpl
def gateway_guide_text(matter_code: str) -> str | None:
    if matter_code == MATTER_CODE:
        return GUIDE_TEXT
    return None
