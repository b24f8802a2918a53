"""The refined-oil checklist: one marshmallow field per check item the Commerce Bureau brings."""
from __future__ import annotations

from schemas.checklist import BaseChecklistSchema, field_for_item

from shuangsui_commerce.content import CHECK_ITEMS


class RefinedOilChecklistSchema(BaseChecklistSchema):
    """成品油市场监管检查表. Field names are the check item codes."""

    oil_licence = field_for_item(CHECK_ITEMS["oil_licence"])
    oil_operating_conditions = field_for_item(CHECK_ITEMS["oil_operating_conditions"])
    oil_certificate_transfer = field_for_item(CHECK_ITEMS["oil_certificate_transfer"])
    oil_unlicensed_construction = field_for_item(CHECK_ITEMS["oil_unlicensed_construction"])
    oil_invoices_records = field_for_item(CHECK_ITEMS["oil_invoices_records"])
    oil_internal_rules = field_for_item(CHECK_ITEMS["oil_internal_rules"])
    oil_fuel_upgrade = field_for_item(CHECK_ITEMS["oil_fuel_upgrade"])
    oil_business_type = field_for_item(CHECK_ITEMS["oil_business_type"])
    oil_problem_description = field_for_item(CHECK_ITEMS["oil_problem_description"])
