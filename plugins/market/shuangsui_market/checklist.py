"""The testing-bodies checklist: one marshmallow field per check item the Market Supervision
Administration brings to the matter it leads. The engine merges in the environmental items."""
from __future__ import annotations

from schemas.checklist import BaseChecklistSchema, field_for_item

from shuangsui_market.content import CHECK_ITEMS


class InspectionAndTestingBodiesChecklistSchema(BaseChecklistSchema):
    """检验检测机构检查表. Field names are the check item codes."""

    tb_qualification = field_for_item(CHECK_ITEMS["tb_qualification"])
    tb_conditions = field_for_item(CHECK_ITEMS["tb_conditions"])
    tb_management_system = field_for_item(CHECK_ITEMS["tb_management_system"])
    tb_reports = field_for_item(CHECK_ITEMS["tb_reports"])
    tb_records = field_for_item(CHECK_ITEMS["tb_records"])
    tb_reports_reviewed = field_for_item(CHECK_ITEMS["tb_reports_reviewed"])
    tb_body_category = field_for_item(CHECK_ITEMS["tb_body_category"])
    tb_problem_description = field_for_item(CHECK_ITEMS["tb_problem_description"])
