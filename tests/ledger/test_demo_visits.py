"""The demo holds a filed plan and a repeat-visit warning (issue 16)."""
from __future__ import annotations

from datetime import date

from gateway.demo.draw import ensure_demo_draw
from gateway.demo.generate import DemoShape
from gateway.demo.load import load_directories
from gateway.demo.visits import ensure_demo_repeat_visit
from gateway.planning.models import Plan

TODAY = date(2026, 11, 20)


def test_the_demo_plan_is_filed_and_a_registered_patrol_is_warned(gateway, client_as):
    load_directories(gateway, DemoShape(targets=400, inspectors_per_department=8, conflicts=4, seed=410823), today=TODAY)
    draw = ensure_demo_draw(gateway, today=TODAY)
    with gateway.read() as session:
        plan = session.get(Plan, draw["plan_id"])
        assert plan.filing_number and plan.filed_on is not None
    visit = ensure_demo_repeat_visit(gateway, draw["draw_id"], TODAY)
    assert [w.channel for w in visit["warnings"]] == ["drawn"] and visit["warnings"][0].days_apart == 10
    assert ensure_demo_repeat_visit(gateway, draw["draw_id"], TODAY)["warnings"] == visit["warnings"]  # once
    page = client_as("county_office").get(
        f"/console/visits?uscc={visit['uscc']}&department={visit['department']}&on={visit['on']}")
    assert "相隔 10 天" in page.get_data(as_text=True)
