"""Articles 19 and 30 (issue 15, item 6): a task whose window has ended without a recorded result
is overdue — on the deadline list with its team lead, in the statistics (and so the dashboard),
and in `shuangsui results overdue`."""
from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner

from gateway.cli.main import cli
from gateway.results import stats
from gateway.results.clock import deadline_lists
from schemas.common import python_values
from schemas.results import DeadlineListSchema, StatsSchema

AFTER_WINDOW = date(2026, 11, 10)  # the window ended on 31 October
IN_WINDOW = date(2026, 10, 20)


def _lists(world, today, principal=None):
    with world.gateway.read() as session:
        return python_values(DeadlineListSchema(), deadline_lists(
            world.gateway.settings, world.gateway.registry, session, principal or world.office, today=today))


def test_a_task_never_recorded_is_overdue_once_its_window_has_ended(world):
    oil = world.record("oil", world.body("oil", completed_on="2026-10-15"), today=IN_WINDOW)
    assert [i["result_id"] for i in _lists(world, IN_WINDOW)["overdue"]] == []  # the window is still open
    data = _lists(world, AFTER_WINDOW)
    unrecorded = [i for i in data["overdue"] if i["result_id"] is None]
    assert sorted(i["task_id"] for i in unrecorded) == sorted([world.tasks["lab"], world.tasks["seed"]])
    seed = next(i for i in unrecorded if i["task_id"] == world.tasks["seed"])
    assert (seed["status"], seed["deadline"], seed["completed_on"], seed["clock_status"]) == (
        "not_recorded", date(2026, 10, 31), None, "overdue")
    assert seed["working_days_left"] < 0
    # who is behind: the team lead, who records
    assert seed["team_lead"] == {"inspector_id": world.inspectors["a1"], "name": world.names["a1"],
                                 "department": "agriculture"}
    rows = {d["code"]: d for d in data["departments"]}
    assert (rows["agriculture"]["overdue"], rows["agriculture"]["not_recorded"]) == (1, 1)
    assert (rows["market"]["overdue"], rows["market"]["not_recorded"]) == (1, 1)
    assert all(i["result_id"] != oil for i in unrecorded)
    # a department sees only its own
    own = _lists(world, AFTER_WINDOW, world.head("agriculture"))
    assert [i["task_id"] for i in own["overdue"]] == [world.tasks["seed"]]


def test_statistics_count_never_recorded_tasks_as_overdue(world):
    with world.gateway.read() as session:
        during = python_values(StatsSchema(), stats.supervision_stats(world.gateway, session, world.office,
                                                                      as_of=IN_WINDOW))
        after = python_values(StatsSchema(), stats.supervision_stats(world.gateway, session, world.office,
                                                                     as_of=AFTER_WINDOW))
    assert during["totals"]["overdue"] == 0
    assert after["totals"]["overdue"] == 3 and after["totals"]["inspected"] == 0
    assert {r["key"]: r["overdue"] for r in after["departments"] if r["drawn"]} == {"agriculture": 1, "commerce": 1, "market": 1}
    assert {r["key"] for r in after["departments"]} == set(world.gateway.registry.departments)  # none left out


def test_the_api_the_cli_and_the_pages_show_who_is_behind(world, client_as):
    response = client_as("county_office").get("/api/v1/results/overdue", query_string={"as_of": "2026-11-10"})
    assert response.status_code == 200, response.json
    assert len([i for i in response.json["overdue"] if i["status"] == "not_recorded"]) == 3
    settings = world.gateway.settings
    base = ["--database-url", settings.database_url, "--instance", str(settings.instance_path)]
    runner = CliRunner()
    data = json.loads(runner.invoke(cli, base + ["results", "overdue", "--as-of", "2026-11-10", "--json"]).output)
    assert len(data["overdue"]) == 3
    text = runner.invoke(cli, base + ["results", "overdue", "--as-of", "2026-11-10"])
    assert text.exit_code == 0, text.output
    assert "窗口期结束未录入结果 1 条" in text.output and f"组长 {world.names['a1']}" in text.output
    assert "未检查" in text.output
    page = client_as("county_office").get("/console/deadlines")  # the page counts as of today
    assert page.status_code == 200 and "仍未录入结果的任务" in page.get_data(as_text=True)
