"""Hooks of the Market Supervision Administration plugin (entry point ``market``): its department,
the testing-bodies matter, its guide text and its cooperating check items are in ``content.toml``;
here only its validation.

Its cooperating check items name the matters of the commerce, agriculture and emergency
plugins, so those must be installed too: without them start-up stops with a message naming
the unknown matter (the plugin manager's rule for check items).
"""
from __future__ import annotations

from gateway.plugins import hookimpl, problem_description_required
from gateway.plugins.content import load_content

CONTENT = load_content(__package__)
gateway_department, gateway_matters, gateway_check_items, gateway_guide_text = CONTENT.hooks()


@hookimpl
def gateway_validate_result(matter_code, values):
    """A 不符合 report verdict rests on reports reviewed; any 不符合 (also on the environmental
    items) needs a problem description."""
    if matter_code != "testing_bodies":
        return None
    errors = {}
    if values.get("tb_reports") == "non_compliant" and not (values.get("tb_reports_reviewed") or 0) > 0:
        errors["tb_reports_reviewed"] = ["检验检测报告判定为“不符合”时，抽查报告份数必须大于0。"]
    errors.update(problem_description_required(values, "tb_problem_description"))
    return errors or None
