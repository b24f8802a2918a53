"""Tests of the Market Supervision Administration plugin against the real plugin machinery.

Its cooperating items name the matters of the commerce, agriculture and emergency plugins,
so those lead plugins are registered beside it.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
import shuangsui_agriculture.plugin as agriculture_plugin
import shuangsui_commerce.plugin as commerce_plugin
import shuangsui_emergency.plugin as emergency_plugin
import shuangsui_market.plugin as market_plugin
from marshmallow import ValidationError

from gateway.plugins.manager import PluginError, build_plugin_manager, load_registry
from gateway.testing.plugins import merged_schema, plugin_fixtures

LEADS = {"commerce": commerce_plugin, "agriculture": agriculture_plugin, "emergency": emergency_plugin}

GOOD = {
    "tb_qualification": "compliant",
    "tb_conditions": "compliant",
    "tb_management_system": "compliant",
    "tb_reports": "compliant",
    "tb_records": "compliant",
    "tb_reports_reviewed": 5,
    "tb_body_category": "生态环境监测",
}


pm, registry = plugin_fixtures(**LEADS, market=market_plugin)


def test_market_alone_names_the_unknown_matter():
    pm = build_plugin_manager(load_entry_points=False, extra_plugins=[("market", market_plugin)])
    with pytest.raises(PluginError) as err:
        load_registry(pm)
    assert "market" in str(err.value) and "未知抽查事项 refined_oil" in str(err.value)


def test_department(registry):
    dept = registry.departments["market"]
    assert (dept.name, dept.level, dept.parent_code, dept.short_name) == ("武陟县市场监督管理局", "county", "jiaozuo_market", "县市场监管局")


def test_testing_bodies_matter(registry):
    matter = registry.matters["testing_bodies"]
    assert matter.department_code == "market"
    assert (matter.field, matter.name) == ("环境监测机构双随机监督抽查", "检验检测机构检查")
    assert matter.version == "2"
    assert matter.criteria.required_licences == ("检验检测机构资质认定证书",)
    assert set(matter.criteria.target_types) == {"enterprise", "other_unit"}
    assert matter.min_ratio == Decimal("0.05")
    assert any("检验检测机构资质认定管理办法" in b and "第九条" in b for b in matter.legal_basis)
    assert any("计量法》第二十二条" in b for b in matter.legal_basis)
    codes = [i.code for i in registry.check_items["testing_bodies"]]
    assert codes[:8] == [
        "tb_qualification",
        "tb_conditions",
        "tb_management_system",
        "tb_reports",
        "tb_records",
        "tb_reports_reviewed",
        "tb_body_category",
        "tb_problem_description",
    ]


def test_cooperating_items(registry):
    by_matter = {
        code: [i.code for i in registry.items_by_department(code).get("market", ())]
        for code in ("refined_oil", "crop_seed", "work_safety")
    }
    assert by_matter == {
        "refined_oil": ["mkt_oil_registration", "mkt_oil_publicity", "mkt_oil_quality", "mkt_oil_metering"],
        "crop_seed": ["mkt_seed_registration", "mkt_seed_publicity"],
        "work_safety": ["mkt_ws_registration"],
    }
    for code in ("refined_oil", "crop_seed", "work_safety"):
        assert registry.cooperating_departments(code) == ("market",)
    sixth = registry.check_items["work_safety"][5]
    assert (sixth.code, sixth.name, sixth.department_code) == ("mkt_ws_registration", "企业登记事项检查", "market")
    assert "市场主体登记管理条例" in sixth.legal_basis[0]
    oil = {i.code: i for i in registry.check_items["refined_oil"]}
    assert "经营范围应当包含成品油" in oil["mkt_oil_registration"].content
    assert "计量法》第九条" in oil["mkt_oil_metering"].legal_basis[0]


def test_checklist_schema_good_and_bad(pm, registry):
    schema_cls = pm.hook.gateway_checklist_schema(matter_code="testing_bodies")
    assert set(schema_cls._declared_fields) == {i.code for i in registry.matters["testing_bodies"].check_items}
    schema = schema_cls()
    assert schema.load(GOOD) == GOOD
    for change, field in (
        ({"tb_reports_reviewed": -3}, "tb_reports_reviewed"),
        ({"tb_body_category": "环境"}, "tb_body_category"),
        ({"tb_reports": None}, "tb_reports"),
    ):
        with pytest.raises(ValidationError) as err:
            schema.load(dict(GOOD, **change))
        assert list(err.value.messages) == [field]


def test_merged_work_safety_checklist_has_six_fields(pm, registry):
    schema = merged_schema(pm, registry, "work_safety")
    values = {i.code: "compliant" for i in registry.check_items["work_safety"]}
    assert len(values) == 6
    assert schema.load(values) == values
    del values["mkt_ws_registration"]
    with pytest.raises(ValidationError) as err:
        schema.load(values)
    assert list(err.value.messages) == ["mkt_ws_registration"]


def test_merged_refined_oil_checklist(pm, registry):
    schema = merged_schema(pm, registry, "refined_oil")
    values = {i.code: "compliant" for i in registry.check_items["refined_oil"] if i.kind == "outcome"}
    values["oil_business_type"] = "零售"
    assert schema.load(values) == values
    with pytest.raises(ValidationError) as err:
        schema.load(dict(values, mkt_oil_metering="bad"))
    assert list(err.value.messages) == ["mkt_oil_metering"]


def test_validate_result(pm):
    bad = dict(GOOD, tb_reports="non_compliant", tb_reports_reviewed=0)
    assert pm.hook.gateway_validate_result(matter_code="testing_bodies", values=bad) == [
        {
            "tb_reports_reviewed": ["检验检测报告判定为“不符合”时，抽查报告份数必须大于0。"],
            "tb_problem_description": ["存在“不符合”的检查项，必须填写问题描述。"],
        }
    ]
    fixed = dict(bad, tb_reports_reviewed=6, tb_problem_description="报告 HJ-2024-017 无原始记录")
    assert pm.hook.gateway_validate_result(matter_code="testing_bodies", values=fixed) == []
    env_problem = dict(GOOD, env_data_authenticity="non_compliant")
    (errors,) = pm.hook.gateway_validate_result(matter_code="testing_bodies", values=env_problem)
    assert list(errors) == ["tb_problem_description"]


def test_guide_text(pm):
    assert "不实或者虚假报告" in pm.hook.gateway_guide_text(matter_code="testing_bodies", version="1")
    # the other matters' guides come from their lead plugins, not from market
    assert "成品油" in pm.hook.gateway_guide_text(matter_code="refined_oil", version="1")
    only_market = build_plugin_manager(load_entry_points=False, extra_plugins=[("market", market_plugin)])
    assert only_market.hook.gateway_guide_text(matter_code="refined_oil", version="1") is None


def test_found_through_entry_points():
    registry = load_registry(build_plugin_manager(allow=["commerce", "agriculture", "emergency", "market"]))
    assert registry.department_plugin["market"] == "market"
    assert registry.cooperating_departments("work_safety") == ("market",)
    assert {p.name: p.version for p in registry.plugins}["market"] == "0.1.0"
