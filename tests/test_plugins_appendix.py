"""The five department plugins together give the appendix's first joint matter list.

Sets of plugins are composed with ``build_plugin_manager(load_entry_points=False, extra_plugins=...)``
and, for the installed distributions, through their real ``shuangsui_gateway`` entry points.
"""
from __future__ import annotations

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
