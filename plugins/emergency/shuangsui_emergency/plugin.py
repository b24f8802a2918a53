"""Hook implementations of the Emergency Management Bureau plugin (entry point ``emergency``)."""
from __future__ import annotations

from gateway.plugins import CheckItem, Department, Matter, hookimpl
from schemas.checklist import BaseChecklistSchema

from shuangsui_emergency.checklist import WorkSafetyChecklistSchema
from shuangsui_emergency.content import DEPARTMENT, GUIDE_TEXT, MATTER, MATTER_CODE


@hookimpl
def gateway_department() -> Department:
    return DEPARTMENT


@hookimpl
def gateway_matters() -> list[Matter]:
    return [MATTER]


@hookimpl
def gateway_check_items() -> list[CheckItem]:
    # The Emergency Management Bureau brings no items to other departments' matters.
    return []


@hookimpl
def gateway_checklist_schema(matter_code: str) -> type[BaseChecklistSchema] | None:
    if matter_code == MATTER_CODE:
        return WorkSafetyChecklistSchema
    return None


@hookimpl
def gateway_guide_text(matter_code: str) -> str | None:
    if matter_code == MATTER_CODE:
        return GUIDE_TEXT
    return None
