"""Hooks of the Agriculture and Rural Affairs Bureau plugin (entry point ``agriculture``): its
department, the crop-seed matter and its guide text are in ``content.toml``; here only its
validation."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from gateway.plugins import hookimpl, problem_description_required
from gateway.plugins.content import load_content

CONTENT = load_content(__package__)
gateway_department, gateway_matters, gateway_check_items, gateway_guide_text = CONTENT.hooks()


@hookimpl
def gateway_validate_result(matter_code, values):
    """A 不符合 quality verdict rests on samples; the stock cannot be negative; any 不符合 needs
    a problem description."""
    if matter_code != "crop_seed":
        return None
    errors = {}
    if values.get("seed_quality_testing") == "non_compliant" and not (values.get("seed_sample_count") or 0) > 0:
        errors["seed_sample_count"] = ["种子质量检验判定为“不符合”时，抽取样品数必须大于0。"]
    try:
        if Decimal(str(values.get("seed_stock_kg") or 0)) < 0:
            errors["seed_stock_kg"] = ["库存种子数量不能为负数。"]
    except InvalidOperation:
        pass
    errors.update(problem_description_required(values, "seed_problem_description"))
    return errors or None
