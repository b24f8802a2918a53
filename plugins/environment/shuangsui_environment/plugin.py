"""Hooks of the Environmental Protection Bureau plugin (entry point ``environment``).

A purely cooperating plugin: a department and check items on market supervision's
``testing_bodies`` matter, which the ``market`` plugin must provide.
"""
from __future__ import annotations

from gateway.plugins import hookimpl
from shuangsui_environment.content import (
    CATEGORY_ITEM,
    COOPERATING_ITEMS,
    DEPARTMENT,
    ENVIRONMENTAL_CATEGORY,
    MATTER_CODE,
)


@hookimpl
def gateway_department():
    return DEPARTMENT


@hookimpl
def gateway_check_items():
    return list(COOPERATING_ITEMS)


@hookimpl
def gateway_validate_result(matter_code, values):
    """The environmental items apply exactly to bodies doing environmental monitoring.

    When market supervision's category item says 生态环境监测, none of them may be 不涉及;
    for any other category, all of them must be 不涉及.
    """
    if matter_code != MATTER_CODE or CATEGORY_ITEM not in values:
        return None
    environmental = values[CATEGORY_ITEM] == ENVIRONMENTAL_CATEGORY
    errors = {}
    for item in COOPERATING_ITEMS:
        value = values.get(item.code)
        if environmental and value == "not_applicable":
            errors[item.code] = ["生态环境监测机构必须检查此项，不能为“不涉及”。"]
        elif not environmental and value not in (None, "not_applicable"):
            errors[item.code] = ["机构不从事生态环境监测，此项应为“不涉及”。"]
    return errors or None
