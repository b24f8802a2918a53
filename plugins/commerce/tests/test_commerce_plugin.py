"""Tests of the Commerce Bureau plugin against the real plugin manager and checklist machinery."""
from __future__ import annotations

from decimal import Decimal

import pytest
import shuangsui_commerce.plugin as commerce_plugin
from marshmallow import ValidationError

from gateway.plugins.manager import build_plugin_manager, load_registry
from gateway.testing.plugins import plugin_fixtures

# Licence names exactly as they are recorded on targets (matched verbatim).
LICENCES = ("成品油零售经营批准证书", "成品油批发经营批准证书", "成品油仓储经营批准证书", "成品油经营批准证书")

OUTCOME_ITEMS = ("oil_licence", "oil_operating_conditions", "oil_certificate_transfer", "oil_unlicensed_construction",
                 "oil_invoices_records", "oil_internal_rules", "oil_fuel_upgrade")
GOOD = {**dict.fromkeys(OUTCOME_ITEMS, "compliant"), "oil_business_type": "零售"}


pm, registry = plugin_fixtures(commerce=commerce_plugin)


def test_registry_loads_department(registry):
    dept = registry.departments["commerce"]
    assert dept.name == "武陟县商务局"
    assert dept.level == "county"
    assert dept.parent_code == "jiaozuo_commerce"
    assert dept.short_name == "县商务局"
    assert registry.department_plugin == {"commerce": "commerce"}


def test_refined_oil_matter_content(registry):
    matter = registry.matters["refined_oil"]
    assert matter.department_code == "commerce"
    assert matter.field == "成品油市场监管"
    assert matter.min_ratio == Decimal("0.05")
    assert matter.frequency == "每年不少于1次"
    assert set(matter.methods) >= {"实地核查", "书面检查"}
    assert any("成品油流通管理办法" in basis and "第十条" in basis for basis in matter.legal_basis)
    assert any("大气污染防治法" in basis and "第六十五条" in basis for basis in matter.legal_basis)
    # the repealed 2006 rules are not cited
    assert not any("成品油市场管理办法" in basis for basis in matter.legal_basis)
    assert matter.criteria.target_types == ("enterprise",)
    assert "成品油零售经营批准证书" in matter.criteria.required_licences
    assert matter.criteria.required_licences == LICENCES
    assert matter.version == "2"  # version 1 renamed the appendix's items


def test_appendix_violations_are_separate_items(registry):
    items = registry.check_items["refined_oil"]
    codes = [item.code for item in items]
    assert codes == [
        "oil_licence",
        "oil_operating_conditions",
        "oil_certificate_transfer",
        "oil_unlicensed_construction",
        "oil_invoices_records",
        "oil_internal_rules",
        "oil_fuel_upgrade",
        "oil_business_type",
        "oil_problem_description",
    ]
    names = {item.code: item.name for item in items}
    assert names["oil_certificate_transfer"] == "非法转让成品油经营批准证书"
    assert names["oil_unlicensed_construction"] == "未经许可擅自新建、迁建和扩建加油站或油库"
    assert (names["oil_invoices_records"], names["oil_internal_rules"]) == ("购销票据", "制度制定")
    assert names["oil_fuel_upgrade"] == "油品升级情况"
    assert [i.code for i in items if i.beyond_appendix] == ["oil_business_type", "oil_problem_description"]
    assert all(item.department_code == "commerce" for item in items)
    outcome_items = [item for item in items if item.kind == "outcome"]
    assert len(outcome_items) == 7
    assert all(item.legal_basis and item.methods and item.help_text for item in outcome_items)
    assert [item.order for item in items] == sorted(item.order for item in items)


def test_checklist_schema_has_one_field_per_item(pm, registry):
    schema_cls = pm.hook.gateway_checklist_schema(matter_code="refined_oil")
    assert schema_cls is not None
    assert set(schema_cls._declared_fields) == {item.code for item in registry.check_items["refined_oil"]}
    assert pm.hook.gateway_checklist_schema(matter_code="crop_seed") is None


def test_checklist_accepts_good_input(pm):
    schema = pm.hook.gateway_checklist_schema(matter_code="refined_oil")()
    assert schema.load(GOOD) == GOOD
    with_problem = dict(GOOD, oil_fuel_upgrade="non_compliant", oil_problem_description="销售普通柴油")
    assert schema.load(with_problem)["oil_fuel_upgrade"] == "non_compliant"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"oil_licence": "good"}, "oil_licence"),
        ({"oil_business_type": "零售批发"}, "oil_business_type"),
        ({"oil_unknown": "compliant"}, "oil_unknown"),
        ({"oil_problem_description": "问" * 2001}, "oil_problem_description"),
    ],
)
def test_checklist_refuses_bad_values(pm, change, field):
    schema = pm.hook.gateway_checklist_schema(matter_code="refined_oil")()
    with pytest.raises(ValidationError) as err:
        schema.load(dict(GOOD, **change))
    assert field in err.value.messages


def test_checklist_refuses_missing_required_item(pm):
    schema = pm.hook.gateway_checklist_schema(matter_code="refined_oil")()
    data = dict(GOOD)
    del data["oil_certificate_transfer"]
    with pytest.raises(ValidationError) as err:
        schema.load(data)
    assert list(err.value.messages) == ["oil_certificate_transfer"]


def test_validate_result_needs_description_for_problems(pm):
    bad = dict(GOOD, oil_invoices_records="non_compliant")
    assert pm.hook.gateway_validate_result(matter_code="refined_oil", values=bad) == [
        {"oil_problem_description": ["存在“不符合”的检查项，必须填写问题描述。"]}
    ]
    fixed = dict(bad, oil_problem_description="缺少2024年10月进货发票")
    assert pm.hook.gateway_validate_result(matter_code="refined_oil", values=fixed) == []
    assert pm.hook.gateway_validate_result(matter_code="refined_oil", values=GOOD) == []


def test_validate_result_refuses_not_applicable_licence(pm):
    values = dict(GOOD, oil_licence="not_applicable")
    (errors,) = pm.hook.gateway_validate_result(matter_code="refined_oil", values=values)
    assert list(errors) == ["oil_licence"]


def test_validate_result_ignores_other_matters(pm):
    assert pm.hook.gateway_validate_result(matter_code="work_safety", values={"oil_licence": "not_applicable"}) == []


def test_guide_text(pm):
    guide = pm.hook.gateway_guide_text(matter_code="refined_oil", version="1")
    assert "批准证书" in guide and "20个工作日" in guide
    assert pm.hook.gateway_guide_text(matter_code="testing_bodies", version="1") is None


def test_found_through_entry_point():
    pm = build_plugin_manager(allow=["commerce"])
    registry = load_registry(pm)
    assert list(registry.departments) == ["commerce"]
    assert list(registry.matters) == ["refined_oil"]
    (info,) = [p for p in registry.plugins if p.name == "commerce"]
    assert info.version == "0.1.0"
    assert info.department_code == "commerce"


def test_cooperating_items_problem_needs_description_too(pm):
    values = dict(GOOD, mkt_oil_metering="non_compliant")
    (errors,) = pm.hook.gateway_validate_result(matter_code="refined_oil", values=values)
    assert list(errors) == ["oil_problem_description"]
