"""The work-safety checklist: one marshmallow field per check item of the Emergency Management
Bureau (appendix items 1–5). The engine merges in market supervision's item 6."""
from __future__ import annotations

from schemas.checklist import BaseChecklistSchema, field_for_item

from shuangsui_emergency.content import CHECK_ITEMS


class WorkSafetyChecklistSchema(BaseChecklistSchema):
    """安全生产检查表. Field names are the check item codes."""

    ws_safety_rules = field_for_item(CHECK_ITEMS["ws_safety_rules"])
    ws_safety_training = field_for_item(CHECK_ITEMS["ws_safety_training"])
    ws_risk_control = field_for_item(CHECK_ITEMS["ws_risk_control"])
    ws_hazard_investigation = field_for_item(CHECK_ITEMS["ws_hazard_investigation"])
    ws_emergency_plan = field_for_item(CHECK_ITEMS["ws_emergency_plan"])
