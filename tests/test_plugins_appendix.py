"""The five department plugins together give the appendix's first joint matter list.

Sets of plugins are composed with ``build_plugin_manager(load_entry_points=False, extra_plugins=...)``
and, for the installed distributions, through their real ``shuangsui_gateway`` entry points.
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
import shuangsui_agriculture.plugin as agriculture_plugin
import shuangsui_commerce.plugin as commerce_plugin
import shuangsui_emergency.plugin as emergency_plugin
import shuangsui_environment.plugin as environment_plugin
import shuangsui_market.plugin as market_plugin

from gateway.plugins import CheckItem, Department, Matter, hookimpl
from gateway.plugins.manager import PluginError, build_plugin_manager, load_registry
from schemas.checklist import build_checklist_schema, field_for_item

FIVE = {
    "commerce": commerce_plugin,
    "agriculture": agriculture_plugin,
    "emergency": emergency_plugin,
    "market": market_plugin,
    "environment": environment_plugin,
}

# The appendix: matter -> (lead department, cooperating departments)
APPENDIX = {
    "refined_oil": ("commerce", ("market",)),
    "crop_seed": ("agriculture", ("market",)),
    "work_safety": ("emergency", ("market",)),
    "testing_bodies": ("market", ("environment",)),
}

# The appendix of the county's rules, 《武陟县市场监管领域部门联合抽查事项清单（第一版）》, copied word for
# word: matter -> (抽查领域, 抽查事项, 检查对象).
APPENDIX_TEXT = {
    "refined_oil": (
        "成品油市场监管",
        "1. 成品油经营资质，即是否具备经营条件。2. 成品油经营违法违规情况，即检查是否非法转让成品油经营批准证书、"
        "未经许可擅自新建、迁建和扩建加油站或油库、购销票据、制度制定、油品升级情况等。",
        "具有成品油经营批准证书的企业",
    ),
    "crop_seed": ("种子生产企业专项检查", "农作物种子质量检查", "武陟县对口监管企业"),
    "work_safety": (
        "对生产经营单位执行安全生产法律、法规和国家标准或者行业标准情况的抽查",
        "1、制定本单位安全生产规章制度情况；2、本单位对从业人员进行安全生产教育和培训情况；3、制定风险分级管控措施情况；"
        "4、事故隐患排查治理情况；5、制定、实施生产安全事故应急救援预案情况。6、企业登记事项检查。",
        "武陟县对口生产经营单位",
    ),
    "testing_bodies": ("环境监测机构双随机监督抽查", "检验检测机构检查", "检验检测机构"),
}

DEPARTMENT_NAMES = {
    "commerce": "武陟县商务局",
    "agriculture": "武陟县农业农村局",
    "emergency": "武陟县应急管理局",
    "market": "武陟县市场监督管理局",
    "environment": "武陟县环境保护局",
}


def registry_of(*names, extra=()):
    pm = build_plugin_manager(
        load_entry_points=False, extra_plugins=[(n, FIVE[n]) for n in names] + list(extra)
    )
    return pm, load_registry(pm)


@pytest.fixture(scope="module")
def five():
    return registry_of(*FIVE)


def test_five_departments_load_together(five):
    _pm, registry = five
    assert {code: d.name for code, d in registry.departments.items()} == DEPARTMENT_NAMES
    assert all(d.level == "county" and d.parent_code and d.short_name for d in registry.departments.values())
    assert registry.department_plugin == {code: code for code in FIVE}


def test_four_appendix_matters_with_lead_and_cooperating_departments(five):
    _pm, registry = five
    assert set(registry.matters) == set(APPENDIX)
    for code, (lead, cooperating) in APPENDIX.items():
        assert registry.matters[code].department_code == lead
        assert registry.cooperating_departments(code) == cooperating


def test_every_matter_carries_real_content(five):
    _pm, registry = five
    for matter in registry.matters.values():
        assert matter.legal_basis and all(b.startswith("《") for b in matter.legal_basis)
        assert any("第" in b and "条" in b for b in matter.legal_basis), matter.code
        assert isinstance(matter.min_ratio, Decimal) and Decimal("0") < matter.min_ratio <= Decimal("0.2")
        assert matter.frequency == "每年不少于1次"
        assert matter.methods and matter.target_description and matter.version
        assert matter.criteria.target_types
        for item in registry.check_items[matter.code]:
            assert item.name and item.content and item.help_text, item.code
            if item.kind == "outcome":
                assert item.legal_basis and item.methods, item.code


def test_fields_and_matters_are_the_appendix_text_word_for_word(five):
    _pm, registry = five
    for code, (field, cell, targets) in APPENDIX_TEXT.items():
        matter = registry.matters[code]
        assert (matter.field, matter.appendix_text, matter.target_description) == (field, cell, targets), code
        # the name is the 抽查事项 cell, or where the cell lists items, pieces of the row's own words
        assert matter.name != field, code
        assert matter.name == cell or all(part in field + cell for part in matter.name.split("；")), code


def test_refined_oil_items_are_the_appendix_words():
    _pm, registry = registry_of("commerce")
    names = [i.name for i in registry.check_items["refined_oil"] if not i.beyond_appendix]
    assert names == ["成品油经营资质", "是否具备经营条件", "非法转让成品油经营批准证书",
                     "未经许可擅自新建、迁建和扩建加油站或油库", "购销票据", "制度制定", "油品升级情况"]
    assert registry.matters["refined_oil"].name == "成品油经营资质；成品油经营违法违规情况"


def test_an_item_not_worded_as_in_the_appendix_is_marked_as_the_plugins_addition(five):
    _pm, registry = five
    for code, (_field, cell, _targets) in APPENDIX_TEXT.items():
        for item in registry.check_items[code]:
            assert item.beyond_appendix == (item.name not in cell), (code, item.code, item.name)


def test_ratios_frequencies_and_criteria_no_rule_gives_are_the_countys_defaults(five):
    _pm, registry = five
    for code in APPENDIX_TEXT:
        assert set(registry.matters[code].county_defaults) == {"min_ratio", "frequency", "criteria"}, code
    with pytest.raises(ValueError, match="county_defaults"):
        replace(registry.matters["crop_seed"], county_defaults=("legal_basis",))


def test_matters_changed_for_the_appendix_raised_their_version(five):
    _pm, registry = five
    # work_safety raised it again for non_site_methods (issue 16: checkable by written check)
    assert {code: m.version for code, m in registry.matters.items()} == {**dict.fromkeys(APPENDIX_TEXT, "2"),
                                                                          "work_safety": "3"}


def test_licence_criteria_are_exact_strings(five):
    _pm, registry = five
    licences = {code: m.criteria.required_licences for code, m in registry.matters.items()}
    assert "成品油零售经营批准证书" in licences["refined_oil"]
    assert licences["crop_seed"] == ("农作物种子生产经营许可证",)
    assert licences["testing_bodies"] == ("检验检测机构资质认定证书",)
    assert licences["work_safety"] == ()


def test_work_safety_has_six_items_the_sixth_from_market(five):
    _pm, registry = five
    items = registry.check_items["work_safety"]
    assert [i.name for i in items] == [
        "制定本单位安全生产规章制度情况",
        "本单位对从业人员进行安全生产教育和培训情况",
        "制定风险分级管控措施情况",
        "事故隐患排查治理情况",
        "制定、实施生产安全事故应急救援预案情况",
        "企业登记事项检查",
    ]
    assert [i.department_code for i in items] == ["emergency"] * 5 + ["market"]


def test_merged_checklists_have_one_field_per_item(five):
    pm, registry = five
    for code, (lead, _cooperating) in APPENDIX.items():
        base = pm.hook.gateway_checklist_schema(matter_code=code)
        assert base is not None, code
        extra = {i.code: field_for_item(i) for i in registry.check_items[code] if i.department_code != lead}
        schema = build_checklist_schema(code, extra, base=base)
        assert set(schema._declared_fields) == {i.code for i in registry.check_items[code]}
        assert pm.hook.gateway_guide_text(matter_code=code, version="1"), code


def test_work_safety_merged_checklist_round_trip(five):
    pm, registry = five
    extra = {
        i.code: field_for_item(i) for i in registry.check_items["work_safety"] if i.department_code == "market"
    }
    schema = build_checklist_schema("work_safety", extra, base=pm.hook.gateway_checklist_schema(matter_code="work_safety"))()
    values = {i.code: "compliant" for i in registry.check_items["work_safety"]}
    values["mkt_ws_registration"] = "non_compliant"
    assert schema.load(values) == values
    assert schema.validate({k: v for k, v in values.items() if k != "mkt_ws_registration"}) == {
        "mkt_ws_registration": ["Missing data for required field."]
    }


def test_validation_hooks_of_lead_and_cooperating_plugins_combine(five):
    pm, _registry = five
    values = {
        "tb_qualification": "compliant",
        "tb_conditions": "compliant",
        "tb_management_system": "compliant",
        "tb_reports": "non_compliant",
        "tb_records": "compliant",
        "tb_reports_reviewed": 0,
        "tb_body_category": "食品检验",
        "env_monitoring_standards": "compliant",
        "env_monitoring_equipment": "not_applicable",
        "env_quality_control": "not_applicable",
        "env_data_authenticity": "not_applicable",
    }
    merged: dict[str, list[str]] = {}
    for errors in pm.hook.gateway_validate_result(matter_code="testing_bodies", values=values):
        merged.update(errors)
    assert set(merged) == {"tb_reports_reviewed", "tb_problem_description", "env_monitoring_standards"}


def test_without_environment_its_items_are_gone():
    _pm, registry = registry_of("commerce", "agriculture", "emergency", "market")
    assert "environment" not in registry.departments
    assert registry.cooperating_departments("testing_bodies") == ()
    codes = {i.code for items in registry.check_items.values() for i in items}
    assert not {c for c in codes if c.startswith("env_")}
    assert len(registry.check_items["testing_bodies"]) == 8
    assert set(registry.matters) == set(APPENDIX)


def test_a_lead_plugin_missing_under_its_cooperator_stops_start_up():
    with pytest.raises(PluginError) as err:
        registry_of("agriculture", "emergency", "market", "environment")
    message = str(err.value)
    assert "market" in message and "refined_oil" in message


class _Impostor:
    """A second plugin that claims the refined-oil matter for its own department."""

    @hookimpl
    def gateway_department(self):
        return Department(code="impostor", name="武陟县某局", short_name="某局")

    @hookimpl
    def gateway_matters(self):
        return [
            Matter(
                code="refined_oil",
                field="成品油市场监管",
                name="重复的事项",
                department_code="impostor",
                check_items=(),
                legal_basis=("《中华人民共和国行政许可法》",),
                min_ratio=Decimal("0.05"),
                frequency="每年不少于1次",
                methods=("书面检查",),
            )
        ]


class _Stray:
    """A plugin adding a check item to a matter nobody leads."""

    @hookimpl
    def gateway_department(self):
        return Department(code="stray", name="武陟县另一局")

    @hookimpl
    def gateway_check_items(self):
        return [CheckItem(code="stray_item", matter_code="fishing_boats", department_code="stray", name="渔船检查")]


def test_two_plugins_with_one_matter_code_fail_naming_both():
    with pytest.raises(PluginError) as err:
        registry_of(*FIVE, extra=[("impostor", _Impostor())])
    message = str(err.value)
    assert "refined_oil" in message
    assert "commerce" in message and "impostor" in message


def test_item_for_unknown_matter_fails():
    with pytest.raises(PluginError) as err:
        registry_of(*FIVE, extra=[("stray", _Stray())])
    message = str(err.value)
    assert "stray" in message and "stray_item" in message and "fishing_boats" in message


# --- the installed distributions, through their entry points ---------------------------------


def test_entry_points_load_the_five():
    registry = load_registry(build_plugin_manager())
    assert set(DEPARTMENT_NAMES) <= set(registry.departments)
    for code, (lead, cooperating) in APPENDIX.items():
        assert registry.matters[code].department_code == lead
        assert registry.cooperating_departments(code) == cooperating
    versions = {p.name: p.version for p in registry.plugins}
    assert all(versions[name] == "0.1.0" for name in FIVE)
    assert len(registry.check_items["work_safety"]) == 6


def test_allow_list_without_environment_drops_its_items():
    registry = load_registry(build_plugin_manager(allow=["commerce", "agriculture", "emergency", "market"]))
    assert set(registry.departments) == {"commerce", "agriculture", "emergency", "market"}
    assert registry.cooperating_departments("testing_bodies") == ()
    assert [p.name for p in registry.plugins] == ["agriculture", "commerce", "emergency", "market"]


def test_allow_list_with_a_duplicate_matter_fails_naming_both():
    pm = build_plugin_manager(allow=["commerce"], extra_plugins=[("impostor", _Impostor())])
    with pytest.raises(PluginError) as err:
        load_registry(pm)
    assert "commerce" in str(err.value) and "impostor" in str(err.value)
