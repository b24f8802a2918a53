"""Cross-item rules several department plugins share in their ``gateway_validate_result``."""
from __future__ import annotations

from typing import Any, Mapping


def problem_description_required(values: Mapping[str, Any], description_code: str) -> dict[str, list[str]]:
    """The error on ``description_code`` when an item of the merged checklist (cooperating
    departments' included) is 不符合 and no problem is described; else no error."""
    failed = any(value == "non_compliant" for value in values.values())
    if failed and not (values.get(description_code) or "").strip():
        return {description_code: ["存在“不符合”的检查项，必须填写问题描述。"]}
    return {}
