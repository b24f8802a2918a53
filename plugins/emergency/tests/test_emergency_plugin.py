"""Tests of the Emergency Management Bureau plugin against the real plugin machinery."""
from __future__ import annotations

from decimal import Decimal

import pytest
import shuangsui_emergency.plugin as emergency_plugin
from marshmallow import ValidationError

from gateway.plugins.manager import build_plugin_manager, load_registry
from gateway.testing.plugins import plugin_fixtures

APPENDIX_ITEMS = {
    "ws_safety_rules": "制定本单位安全生产规章制度情况",
    "ws_safety_training": "本单位对从业人员进行安全生产教育和培训情况",
    "ws_risk_control": "制定风险分级管控措施情况",
    "ws_hazard_investigation": "事故隐患排查治理情况",
    "ws_emergency_plan": "制定、实施生产安全事故应急救援预案情况",
}
GOOD = {code: "compliant" for code in APPENDIX_ITEMS}


pm, registry = plugin_fixtures(emergency=emergency_plugin)


def test_registry_loads_department(registry):
    dept = registry.departments["emergency"]
    assert (dept.name, dept.level, dept.parent_code, dept.short_name) == ("武陟县应急管理局", "county", "jiaozuo_emergency", "县应急管理局")


def test_work_safety_has_exactly_the_appendix_items_1_to_5(registry):
    items = registry.check_items["work_safety"]
    assert {item.code: item.name for item in items} == APPENDIX_ITEMS
    assert [item.code for item in items] == list(APPENDIX_ITEMS)
    assert [item.order for item in items] == [1, 2, 3, 4, 5]
    assert all(item.kind == "outcome" and item.required for item in items)
    assert all(item.department_code == "emergency" for item in items)
    assert registry.cooperating_departments("work_safety") == ()


def test_work_safety_matter_content(registry):
    matter = registry.matters["work_safety"]
    assert matter.field == "对生产经营单位执行安全生产法律、法规和国家标准或者行业标准情况的抽查"
    assert matter.name == "生产经营单位执行安全生产法律、法规和国家标准或者行业标准情况"
    assert matter.version == "3"
    assert matter.non_site_methods == ("书面检查",)
    assert matter.min_ratio == Decimal("0.05")
    assert matter.frequency == "每年不少于1次"
    assert matter.criteria.required_licences == ()
    assert "individual_business" in matter.criteria.target_types
    assert "危险化学品" in matter.criteria.scope_keywords
    basis = " ".join(matter.legal_basis)
    assert "中华人民共和国安全生产法" in basis and "第四十一条" in basis and "第八十一条" in basis
    items = {item.code: item for item in matter.check_items}
    assert "第二十八条" in items["ws_safety_training"].legal_basis[0]
    assert "第八十一条" in items["ws_emergency_plan"].legal_basis[0]


def test_checklist_schema(pm):
    schema_cls = pm.hook.gateway_checklist_schema(matter_code="work_safety")
    assert set(schema_cls._declared_fields) == set(APPENDIX_ITEMS)
    schema = schema_cls()
    mixed = dict(GOOD, ws_emergency_plan="non_compliant", ws_risk_control="not_applicable")
    assert schema.load(mixed) == mixed
    with pytest.raises(ValidationError) as err:
        schema.load(dict(GOOD, ws_safety_rules=True))
    assert list(err.value.messages) == ["ws_safety_rules"]
    with pytest.raises(ValidationError) as err:
        schema.load(dict(GOOD, mkt_ws_registration="compliant"))  # item 6 belongs to the merged schema only
    assert list(err.value.messages) == ["mkt_ws_registration"]
    missing = dict(GOOD)
    del missing["ws_hazard_investigation"]
    with pytest.raises(ValidationError) as err:
        schema.load(missing)
    assert list(err.value.messages) == ["ws_hazard_investigation"]


def test_hooks_answer_only_for_own_matter(pm):
    assert pm.hook.gateway_checklist_schema(matter_code="crop_seed") is None
    assert "应急救援预案" in pm.hook.gateway_guide_text(matter_code="work_safety", version="1")
    assert pm.hook.gateway_guide_text(matter_code="crop_seed", version="1") is None
    assert pm.hook.gateway_validate_result(matter_code="work_safety", values=GOOD) == []


def test_found_through_entry_point():
    registry = load_registry(build_plugin_manager(allow=["emergency"]))
    assert list(registry.departments) == ["emergency"]
    assert list(registry.matters) == ["work_safety"]
    assert registry.plugins[0].version == "0.1.0"
