"""The crop-seed checklist: one marshmallow field per check item the Agriculture Bureau brings."""
from __future__ import annotations

from schemas.checklist import BaseChecklistSchema, field_for_item

from shuangsui_agriculture.content import CHECK_ITEMS


class CropSeedChecklistSchema(BaseChecklistSchema):
    """农作物种子质量检查表. Field names are the check item codes."""

    seed_licence = field_for_item(CHECK_ITEMS["seed_licence"])
    seed_variety = field_for_item(CHECK_ITEMS["seed_variety"])
    seed_labelling = field_for_item(CHECK_ITEMS["seed_labelling"])
    seed_archives = field_for_item(CHECK_ITEMS["seed_archives"])
    seed_quality_testing = field_for_item(CHECK_ITEMS["seed_quality_testing"])
    seed_sample_count = field_for_item(CHECK_ITEMS["seed_sample_count"])
    seed_stock_kg = field_for_item(CHECK_ITEMS["seed_stock_kg"])
    seed_fake_inferior = field_for_item(CHECK_ITEMS["seed_fake_inferior"])
    seed_problem_description = field_for_item(CHECK_ITEMS["seed_problem_description"])
