"""What docs/writing-a-plugin.md shows works: the example plan JSON is taken by the API, and the
integration test shown is the one the scaffold writes."""
from __future__ import annotations

import json
import re
from pathlib import Path

from gateway.plugins.scaffold import scaffold_plugin

DOC = (Path(__file__).resolve().parents[1] / "docs" / "writing-a-plugin.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return DOC.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_the_example_plan_is_created_by_the_api(client_as):
    plan = json.loads(re.search(r"```json\n(.+?)```", _section("Trying the matter in a plan"), re.S).group(1))
    assert (plan["lead_department"], plan["matters"]) == ("health", ["public_place_hygiene", "work_safety"])
    # the same plan with an installed matter in the health commission's place
    plan.update(lead_department="commerce", matters=["refined_oil", "work_safety"])
    response = client_as("county_office").post("/api/v1/plans", json=plan)
    assert response.status_code == 201, response.json
    assert set(response.json["cooperating_departments"]) == {"market", "emergency"}


def test_the_integration_test_shown_is_the_scaffolds(tmp_path):
    shown = re.search(r"The scaffold's `tests/test_fishery_integration.py`, complete:\n\n```python\n(.+?)```",
                      DOC, re.S).group(1)
    written = (scaffold_plugin("fishery", tmp_path) / "tests/test_fishery_integration.py").read_text(encoding="utf-8")
    assert shown in written
