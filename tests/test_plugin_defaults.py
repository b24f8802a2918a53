"""The gateway's own defaults: a plugin states only what differs from them."""
from __future__ import annotations

from decimal import Decimal

import pytest
from marshmallow import fields, validate

from gateway.plugins import CheckItem, Department, Matter, hookimpl, items_for, problem_description_required
from gateway.plugins.manager import build_plugin_manager, load_registry
from gateway.results.checklist import merged_checklist
from schemas.checklist import BaseChecklistSchema


def _matter(*items: CheckItem) -> Matter:
    return Matter(
        code="boats", field="渔业", name="渔船检查", department_code="fishery", check_items=items,
        legal_basis=("《中华人民共和国渔业法》",), min_ratio=Decimal("0.05"), frequency="每年1次", methods=("实地核查",),
    )


def test_a_matter_fills_in_its_items_matter_department_and_position():
    matter = _matter(CheckItem(code="boat_licence", name="捕捞许可"), CheckItem(code="boat_crew", name="船员", order=7))
    assert [(i.matter_code, i.department_code, i.order, i.kind) for i in matter.check_items] == [
        ("boats", "fishery", 1, "outcome"),
        ("boats", "fishery", 7, "outcome"),
    ]


def test_an_item_naming_another_matter_is_refused():
    with pytest.raises(ValueError, match="names matter refined_oil"):
        _matter(CheckItem(code="boat_licence", matter_code="refined_oil", name="捕捞许可"))
    with pytest.raises(ValueError, match="name is required"):
        CheckItem(code="nameless")


def test_items_for_a_cooperating_department():
    items = items_for("boats", "water", CheckItem(code="water_a", name="甲"), CheckItem(code="water_b", name="乙", order=6))
    assert [(i.matter_code, i.department_code, i.order) for i in items] == [("boats", "water", 1), ("boats", "water", 6)]


class Fishery:
    """A plugin with data and no other hook."""

    @hookimpl
    def gateway_department(self):
        return Department(code="fishery", name="武陟县渔业局")

    @hookimpl
    def gateway_matters(self):
        return [_matter(CheckItem(code="boat_licence", name="捕捞许可"), CheckItem(code="boat_count", name="船数", kind="integer"))]


def test_the_default_checklist_schema_is_derived_from_the_leads_items():
    pm = build_plugin_manager(load_entry_points=False, extra_plugins=[("fishery", Fishery())])
    registry = load_registry(pm)
    schema = pm.hook.gateway_checklist_schema(matter_code="boats")
    assert list(schema._declared_fields) == ["boat_licence", "boat_count"]
    assert pm.hook.gateway_checklist_schema(matter_code="unknown") is None
    loaded, errors, _ = merged_checklist(pm, registry, "boats").load({"boat_licence": "compliant", "boat_count": -1})
    assert list(errors) == ["boat_count"] and loaded == {"boat_licence": "compliant"}
    # the defaults are no department's plugin
    assert [p.name for p in registry.plugins] == ["fishery"]


def test_problem_description_required():
    assert problem_description_required({"a": "compliant", "desc": ""}, "desc") == {}
    assert problem_description_required({"a": "non_compliant", "desc": "  "}, "desc") == {
        "desc": ["存在“不符合”的检查项，必须填写问题描述。"]
    }
    assert problem_description_required({"a": "non_compliant", "desc": "漏油"}, "desc") == {}


class FisheryWithOwnSchema(Fishery):
    """A lead plugin whose one field says more than its item can: at most 99 boats."""

    @hookimpl
    def gateway_checklist_schema(self, matter_code):
        if matter_code != "boats":
            return None
        return BaseChecklistSchema.from_dict({
            "boat_licence": fields.String(required=True),
            "boat_count": fields.Integer(required=True, validate=validate.Range(max=99)),
        })


def test_a_lead_plugins_own_schema_wins_over_the_default():
    pm = build_plugin_manager(load_entry_points=False, extra_plugins=[("fishery", FisheryWithOwnSchema())])
    registry = load_registry(pm)
    _, errors, _ = merged_checklist(pm, registry, "boats").load({"boat_licence": "compliant", "boat_count": 100})
    assert list(errors) == ["boat_count"]
