"""Hooks of the Environmental Protection Bureau plugin (entry point ``environment``): its department
and its check items on market supervision's ``testing_bodies`` matter (which the ``market`` plugin
must provide) are in ``content.toml``; here only its validation."""
from __future__ import annotations

from gateway.plugins import hookimpl
from gateway.plugins.content import load_content

CONTENT = load_content(__package__)
gateway_department, gateway_matters, gateway_check_items, gateway_guide_text = CONTENT.hooks()

# The value of market supervision's item ``tb_body_category`` that makes these items apply.
CATEGORY_ITEM, ENVIRONMENTAL_CATEGORY = "tb_body_category", "生态环境监测"


@hookimpl
def gateway_validate_result(matter_code, values):
    """The environmental items apply exactly to bodies doing environmental monitoring.

    When market supervision's category item says 生态环境监测, none of them may be 不涉及;
    for any other category, all of them must be 不涉及.
    """
    if matter_code != "testing_bodies" or CATEGORY_ITEM not in values:
        return None
    environmental = values[CATEGORY_ITEM] == ENVIRONMENTAL_CATEGORY
    errors = {}
    for item in CONTENT.check_items:
        value = values.get(item.code)
        if environmental and value == "not_applicable":
            errors[item.code] = ["生态环境监测机构必须检查此项，不能为“不涉及”。"]
        elif not environmental and value not in (None, "not_applicable"):
            errors[item.code] = ["机构不从事生态环境监测，此项应为“不涉及”。"]
    return errors or None
