"""Hook implementations of the Agriculture and Rural Affairs Bureau plugin (entry point ``agriculture``)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from gateway.plugins import CheckItem, Department, Matter, hookimpl
from schemas.checklist import BaseChecklistSchema

from shuangsui_agriculture.checklist import CropSeedChecklistSchema
from shuangsui_agriculture.content import DEPARTMENT, GUIDE_TEXT, MATTER, MATTER_CODE


@hookimpl
def gateway_department() -> Department:
    return DEPARTMENT


@hookimpl
def gateway_matters() -> list[Matter]:
    return [MATTER]


@hookimpl
def gateway_check_items() -> list[CheckItem]:
    # The Agriculture Bureau brings no items to other departments' matters.
    return []


@hookimpl
def gateway_checklist_schema(matter_code: str) -> type[BaseChecklistSchema] | None:
    if matter_code == MATTER_CODE:
        return CropSeedChecklistSchema
    return None


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@hookimpl
def gateway_validate_result(matter_code: str, values: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """Cross-item rules of the crop-seed checklist.

    - A quality verdict of 不符合 rests on samples: the sample count must be above zero.
    - The stock in kilograms cannot be negative.
    - Any 不符合 (also on a cooperating department's item) needs a problem description.
    """
    if matter_code != MATTER_CODE:
        return None
    errors: dict[str, list[str]] = {}
    if values.get("seed_quality_testing") == "non_compliant" and not (values.get("seed_sample_count") or 0) > 0:
        errors["seed_sample_count"] = ["种子质量检验判定为“不符合”时，抽取样品数必须大于0。"]
    stock = _as_decimal(values.get("seed_stock_kg"))
    if stock is not None and stock < 0:
        errors["seed_stock_kg"] = ["库存种子数量不能为负数。"]
    # any item of the merged checklist, cooperating departments' included
    failed = [code for code, value in values.items() if value == "non_compliant"]
    if failed and not (values.get("seed_problem_description") or "").strip():
        errors["seed_problem_description"] = ["存在“不符合”的检查项，必须填写问题描述。"]
    return errors or None


@hookimpl
def gateway_guide_text(matter_code: str) -> str | None:
    if matter_code == MATTER_CODE:
        return GUIDE_TEXT
    return None
