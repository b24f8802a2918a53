"""Tests of the Agriculture and Rural Affairs Bureau plugin against the real plugin machinery."""
from __future__ import annotations

from decimal import Decimal

import pytest
import shuangsui_agriculture.plugin as agriculture_plugin
from marshmallow import ValidationError

from gateway.plugins.manager import build_plugin_manager, load_registry
from gateway.testing.plugins import plugin_fixtures

GOOD = {
    "seed_licence": "compliant",
    "seed_variety": "compliant",
    "seed_labelling": "compliant",
    "seed_archives": "compliant",
    "seed_quality_testing": "compliant",
    "seed_sample_count": 0,
    "seed_stock_kg": "12500.5",
    "seed_fake_inferior": "compliant",
}


pm, registry = plugin_fixtures(agriculture=agriculture_plugin)


@pytest.fixture()
def schema(pm):
    return pm.hook.gateway_checklist_schema(matter_code="crop_seed")()


def test_registry_loads_department(registry):
    dept = registry.departments["agriculture"]
    assert (dept.name, dept.level, dept.parent_code, dept.short_name) == ("武陟县农业农村局", "county", "jiaozuo_agriculture", "县农业农村局")


def test_crop_seed_matter_content(registry):
    matter = registry.matters["crop_seed"]
    assert matter.department_code == "agriculture"
    assert (matter.field, matter.name) == ("种子生产企业专项检查", "农作物种子质量检查")
    assert matter.min_ratio == Decimal("0.10")
    assert matter.frequency == "每年不少于1次"
    assert "抽样检验" in matter.methods
    assert any("中华人民共和国种子法" in b and "第四十九条" in b for b in matter.legal_basis)
    assert matter.criteria.required_licences == ("农作物种子生产经营许可证",)
    assert set(matter.criteria.target_types) == {"enterprise", "farmer_cooperative"}
    assert matter.criteria.scope_keywords == ("种子",)


def test_check_items(registry):
    items = {item.code: item for item in registry.check_items["crop_seed"]}
    assert list(items) == [
        "seed_licence",
        "seed_variety",
        "seed_labelling",
        "seed_archives",
        "seed_quality_testing",
        "seed_sample_count",
        "seed_stock_kg",
        "seed_fake_inferior",
        "seed_problem_description",
    ]
    assert items["seed_sample_count"].kind == "integer"
    assert items["seed_stock_kg"].kind == "decimal"
    assert items["seed_problem_description"].required is False
    assert "第四十一条" in items["seed_labelling"].legal_basis[0]
    assert "第三十六条" in items["seed_archives"].legal_basis[0]
    assert "发芽率" in items["seed_quality_testing"].content


def test_schema_fields_match_items(pm, registry):
    schema_cls = pm.hook.gateway_checklist_schema(matter_code="crop_seed")
    assert set(schema_cls._declared_fields) == {i.code for i in registry.check_items["crop_seed"]}
    assert pm.hook.gateway_checklist_schema(matter_code="refined_oil") is None


def test_schema_accepts_good_input(schema):
    loaded = schema.load(GOOD)
    assert loaded["seed_sample_count"] == 0
    assert loaded["seed_stock_kg"] == Decimal("12500.5")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"seed_sample_count": -1}, "seed_sample_count"),
        ({"seed_sample_count": "3"}, "seed_sample_count"),  # strict integers only
        ({"seed_sample_count": 1.5}, "seed_sample_count"),
        ({"seed_stock_kg": "many"}, "seed_stock_kg"),
        ({"seed_labelling": "符合"}, "seed_labelling"),  # codes, not labels
        ({"germination": "95"}, "germination"),
    ],
)
def test_schema_refuses_bad_input(schema, change, field):
    with pytest.raises(ValidationError) as err:
        schema.load(dict(GOOD, **change))
    assert field in err.value.messages


def test_schema_requires_every_required_item(schema):
    with pytest.raises(ValidationError) as err:
        schema.load({})
    assert set(err.value.messages) == set(GOOD)


def test_failed_quality_needs_samples(pm):
    values = dict(GOOD, seed_quality_testing="non_compliant", seed_problem_description="玉米种子发芽率存疑")
    (errors,) = pm.hook.gateway_validate_result(matter_code="crop_seed", values=values)
    assert errors == {"seed_sample_count": ["种子质量检验判定为“不符合”时，抽取样品数必须大于0。"]}
    sampled = dict(values, seed_sample_count=2)
    assert pm.hook.gateway_validate_result(matter_code="crop_seed", values=sampled) == []


def test_problem_needs_description_and_stock_not_negative(pm):
    values = dict(GOOD, seed_labelling="non_compliant", seed_stock_kg=Decimal("-1"))
    (errors,) = pm.hook.gateway_validate_result(matter_code="crop_seed", values=values)
    assert set(errors) == {"seed_problem_description", "seed_stock_kg"}
    assert pm.hook.gateway_validate_result(matter_code="crop_seed", values=GOOD) == []
    assert pm.hook.gateway_validate_result(matter_code="refined_oil", values=values) == []


def test_guide_text(pm):
    guide = pm.hook.gateway_guide_text(matter_code="crop_seed", version="1")
    assert "抽样" in guide and "签字" in guide
    assert pm.hook.gateway_guide_text(matter_code="work_safety", version="1") is None


def test_found_through_entry_point():
    registry = load_registry(build_plugin_manager(allow=["agriculture"]))
    assert list(registry.matters) == ["crop_seed"]
    (info,) = registry.plugins
    assert (info.name, info.version, info.department_code) == ("agriculture", "0.1.0", "agriculture")


def test_cooperating_items_problem_needs_description_too(pm):
    values = dict(GOOD, mkt_seed_registration="non_compliant")
    (errors,) = pm.hook.gateway_validate_result(matter_code="crop_seed", values=values)
    assert list(errors) == ["seed_problem_description"]
