"""Check item bounds (``decimal`` and ``integer`` minimum/maximum) and one message per refused
field (issue 22, bug 6)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from gateway.directory.matters import matter_content
from gateway.errors import Invalid
from gateway.plugins import CheckItem, Department, Matter, hookimpl
from gateway.plugins.manager import build_plugin_manager, load_registry
from gateway.results import service
from schemas.checklist import field_for_item
from schemas.i18n import translate_errors
from tests.results.conftest import build_world


def _load(item: CheckItem, value):
    return field_for_item(item).deserialize(value)


def test_a_decimal_item_has_bounds():
    item = CheckItem(code="hy_co2", name="二氧化碳浓度（%）", kind="decimal", minimum="0", maximum=Decimal("0.15"))
    assert _load(item, "0.10") == Decimal("0.10")
    for bad in ("-0.01", "0.2"):
        with pytest.raises(ValidationError) as exc:
            _load(item, bad)
        assert translate_errors({"hy_co2": exc.value.messages}) == {"hy_co2": ["必须在 0 到 0.15 之间。"]}


def test_an_integer_item_has_bounds_and_is_never_negative():
    item = CheckItem(code="hy_rooms", name="客房数", kind="integer", maximum=500)
    assert _load(item, 500) == 500
    for bad in (-1, 501):
        with pytest.raises(ValidationError):
            _load(item, bad)


@pytest.mark.parametrize("kwargs", [
    {"kind": "text", "minimum": 1},
    {"kind": "outcome", "maximum": 1},
    {"kind": "decimal", "minimum": 2, "maximum": 1},
])
def test_bounds_that_make_no_sense_are_refused(kwargs):
    with pytest.raises(ValueError):
        CheckItem(code="hy_x", name="x", **kwargs)


class _Hygiene:
    @hookimpl
    def gateway_department(self):
        return Department(code="health", name="武陟县卫生健康委员会")

    @hookimpl
    def gateway_matters(self):
        return [Matter(
            code="public_place_hygiene", field="公共场所卫生", name="公共场所卫生监督检查", department_code="health",
            check_items=(CheckItem(code="hy_co2", name="二氧化碳浓度（%）", kind="decimal", maximum="0.15"),
                         CheckItem(code="hy_note", name="备注", kind="text", required=False)),
            legal_basis=("《公共场所卫生管理条例》第三条",), min_ratio=Decimal("0.05"), frequency="每年1次",
            methods=("实地核查",),
        )]


def test_bounds_are_part_of_the_stored_content_and_open_bounds_are_left_out():
    registry = load_registry(build_plugin_manager(load_entry_points=False, extra_plugins=[("health", _Hygiene())]))
    co2, note = matter_content(registry, "public_place_hygiene")["check_items"]
    assert co2["maximum"] == "0.15" and "minimum" not in co2
    assert "minimum" not in note and "maximum" not in note


def test_a_field_the_schema_refused_gets_one_message_not_the_plugins_as_well(gateway):
    world = build_world(gateway)
    body = world.body("oil", result_codes=["A"])
    values = body["checklists"]["refined_oil"]
    values["oil_licence"] = "non_compliant"
    values["oil_problem_description"] = "超" * 2001  # too long: the schema refuses it
    with pytest.raises(Invalid) as exc, gateway.write() as session:
        service.record_result(gateway, session, world.inspector("c1"), world.tasks["oil"], body, today=world.today)
    [message] = translate_errors(exc.value.errors)["checklists.refined_oil.oil_problem_description"]
    assert "2000" in message
