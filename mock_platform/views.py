"""Public views of what the platform holds: a target's inspections, a plan, a draw result."""
from __future__ import annotations

from typing import Any

from mock_platform.store import Store, StoredRecord
from schemas.platform import AUTHORITY_LEVELS, DISPOSITIONS, INSPECTION_TYPES, PLAN_TYPES
from schemas.result_codes import describe


def _latest(records: list[StoredRecord]) -> StoredRecord | None:
    return records[-1] if records else None


def target_inspections(store: Store, uscc: str, year: int | None = None) -> dict[str, Any]:
    """Every authority's inspection results for ``uscc``, newest first, with their follow-ups."""
    follow_ups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for stored in store.records_by("follow-ups", "uscc", uscc):
        key = (stored.sender, stored.body["inspection_result_id"])
        follow_ups.setdefault(key, []).append(
            {**stored.body, "disposition_label": DISPOSITIONS[stored.body["disposition"]]}
        )
    results = [
        r for r in store.records_by("inspection-results", "uscc", uscc)
        if year is None or r.body["completed_on"].startswith(f"{year:04d}-")
    ]
    results.sort(key=lambda r: (r.body["completed_on"], r.seq), reverse=True)
    inspections = [
        {
            **r.body,
            "inspection_type_label": INSPECTION_TYPES[r.body["inspection_type"]],
            "authority_level_label": AUTHORITY_LEVELS[r.body["authority_level"]],
            "result_description": describe(r.body["result_codes"]),
            "follow_ups": follow_ups.get((r.sender, r.record_id), []),
        }
        for r in results
    ]
    return {"uscc": uscc, "entity": store.entity(uscc), "count": len(inspections), "inspections": inspections}


def public_plan(store: Store, plan_number: str) -> dict[str, Any] | None:
    """The latest plan published under ``plan_number``, with the draws made under it."""
    plan = _latest(store.records_by("plans", "plan_number", plan_number))
    if plan is None:
        return None
    draws = [
        {"task_number": d.body["task_number"], "task_name": d.body["task_name"],
         "drawn_on": d.body["drawn_on"], "target_count": len(d.body["targets"])}
        for d in store.records_by("draw-results", "plan_number", plan_number)
    ]
    return {**plan.body, "plan_type_label": PLAN_TYPES[plan.body["plan_type"]], "draw_results": draws}


def public_draw_result(store: Store, task_number: str) -> dict[str, Any] | None:
    """The latest draw result published for ``task_number``."""
    draw = _latest(store.records_by("draw-results", "task_number", task_number))
    return draw.body if draw else None
