"""Hook implementations of the Environmental Protection Bureau plugin (entry point ``environment``).

A purely cooperating plugin: a department and check items on market supervision's
``testing_bodies`` matter, which the ``market`` plugin must provide.
"""
from __future__ import annotations

from typing import Any, Mapping

from gateway.plugins import CheckItem, Department, hookimpl

from shuangsui_environment.content import (
    CATEGORY_ITEM,
    COOPERATING_ITEMS,
    DEPARTMENT,
    ENVIRONMENTAL_CATEGORY,
    ITEM_CODES,
    MATTER_CODE,
)


@hookimpl
def gateway_department() -> Department:
    return DEPARTMENT


@hookimpl
def gateway_check_items() -> list[CheckItem]:
    return list(COOPERATING_ITEMS)


@hookimpl
def gateway_validate_result(matter_code: str, values: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """The environmental items apply exactly to bodies doing environmental monitoring.

    When market supervision's category item says 生态环境监测, none of them may be 不涉及;
    for any other category, all of them must be 不涉及.
    """
    if matter_code != MATTER_CODE or CATEGORY_ITEM not in values:
        return None
    environmental = values[CATEGORY_ITEM] == ENVIRONMENTAL_CATEGORY
    errors: dict[str, list[str]] = {}
    for code in ITEM_CODES:
        value = values.get(code)
        if environmental and value == "not_applicable":
            errors[code] = ["生态环境监测机构必须检查此项，不能为“不涉及”。"]
        elif not environmental and value not in (None, "not_applicable"):
            errors[code] = ["机构不从事生态环境监测，此项应为“不涉及”。"]
    return errors or None
