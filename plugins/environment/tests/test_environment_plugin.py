"""Tests of the Environmental Protection Bureau plugin against the real plugin machinery.

Its items belong to market supervision's ``testing_bodies`` matter, so the market plugin and
the lead plugins market cooperates with are registered beside it.
"""
from __future__ import annotations

import pytest
import shuangsui_agriculture.plugin as agriculture_plugin
import shuangsui_commerce.plugin as commerce_plugin
import shuangsui_emergency.plugin as emergency_plugin
import shuangsui_environment.plugin as environment_plugin
import shuangsui_market.plugin as market_plugin
from marshmallow import ValidationError

from gateway.plugins.manager import PluginError, build_plugin_manager, load_registry
from gateway.testing.plugins import merged_schema, plugin_fixtures

OTHERS = {"commerce": commerce_plugin, "agriculture": agriculture_plugin, "emergency": emergency_plugin,
          "market": market_plugin}
ENV_ITEMS = ["env_monitoring_standards", "env_monitoring_equipment", "env_quality_control", "env_data_authenticity"]
MARKET_ITEMS = ["tb_qualification", "tb_conditions", "tb_management_system", "tb_reports", "tb_records"]
MARKET_GOOD = {**dict.fromkeys(MARKET_ITEMS, "compliant"), "tb_reports_reviewed": 5, "tb_body_category": "生态环境监测"}


pm, registry = plugin_fixtures(**OTHERS, environment=environment_plugin)


def test_department_without_matters(registry):
    dept = registry.departments["environment"]
    assert (dept.name, dept.level, dept.parent_code, dept.short_name) == ("武陟县环境保护局", "county", "jiaozuo_environment", "县环保局")
    assert not [m for m in registry.matters.values() if m.department_code == "environment"]


def test_items_on_testing_bodies_only(registry):
    assert [i.code for i in registry.items_by_department("testing_bodies")["environment"]] == ENV_ITEMS
    for code in ("refined_oil", "crop_seed", "work_safety"):
        assert "environment" not in registry.items_by_department(code)
    assert registry.cooperating_departments("testing_bodies") == ("environment",)
    items = {i.code: i for i in registry.check_items["testing_bodies"]}
    assert "环境保护法》第十七条、第六十五条" in items["env_data_authenticity"].legal_basis[0]
    assert all(items[c].kind == "outcome" and items[c].methods and items[c].help_text for c in ENV_ITEMS)


def test_needs_the_market_plugin():
    pm = build_plugin_manager(load_entry_points=False, extra_plugins=[("environment", environment_plugin)])
    with pytest.raises(PluginError) as err:
        load_registry(pm)
    assert "environment" in str(err.value) and "testing_bodies" in str(err.value)


def test_merged_checklist(pm, registry):
    schema = merged_schema(pm, registry, "testing_bodies")
    values = dict(MARKET_GOOD, **{code: "compliant" for code in ENV_ITEMS})
    assert schema.load(values) == values
    with pytest.raises(ValidationError) as err:
        schema.load(dict(values, env_quality_control="yes"))
    assert list(err.value.messages) == ["env_quality_control"]


def test_items_apply_to_environmental_monitoring_bodies(pm):
    values = dict(MARKET_GOOD, **{code: "compliant" for code in ENV_ITEMS})
    assert pm.hook.gateway_validate_result(matter_code="testing_bodies", values=values) == []
    skipped = dict(values, env_quality_control="not_applicable")
    assert pm.hook.gateway_validate_result(matter_code="testing_bodies", values=skipped) == [
        {"env_quality_control": ["生态环境监测机构必须检查此项，不能为“不涉及”。"]}
    ]


def test_items_not_applicable_to_other_bodies(pm):
    food_lab = dict(MARKET_GOOD, tb_body_category="食品检验", **{code: "not_applicable" for code in ENV_ITEMS})
    assert pm.hook.gateway_validate_result(matter_code="testing_bodies", values=food_lab) == []
    wrong = dict(food_lab, env_data_authenticity="compliant")
    (errors,) = pm.hook.gateway_validate_result(matter_code="testing_bodies", values=wrong)
    assert list(errors) == ["env_data_authenticity"]


def test_hooks_ignore_other_matters():
    values = {"tb_body_category": "其他", "env_quality_control": "compliant"}
    assert environment_plugin.gateway_validate_result(matter_code="work_safety", values=values) is None
    assert environment_plugin.gateway_validate_result(matter_code="testing_bodies", values=values) is not None
    only = build_plugin_manager(load_entry_points=False, extra_plugins=[("environment", environment_plugin)])
    # a cooperating plugin neither owns a checklist schema nor the guide of the matter
    assert only.hook.gateway_checklist_schema(matter_code="testing_bodies") is None
    assert only.hook.gateway_guide_text(matter_code="testing_bodies", version="1") is None


def test_found_through_entry_points():
    registry = load_registry(
        build_plugin_manager(allow=["commerce", "agriculture", "emergency", "market", "environment"])
    )
    assert registry.department_plugin["environment"] == "environment"
    assert registry.cooperating_departments("testing_bodies") == ("environment",)
