"""The article 19 clock on stored results: overdue and due-soon lists per department, by the
service, the API and the CLI; provisional deadlines become exact once the office's file has the year."""
from __future__ import annotations

import dataclasses
import json
from datetime import date

from click.testing import CliRunner

from gateway.cli.main import cli
from gateway.results.clock import deadline_lists
from gateway.results.models import InspectionResult
from schemas.common import python_values
from schemas.results import DeadlineListSchema

AS_OF = date(2026, 10, 20)

# A made-up 2027 arrangement (NOT the State Council's notice), as the office would type it in.
HOLIDAYS_2027 = {
    "note": "测试用虚构安排",
    "years": {"2027": {
        "source": "测试用虚构安排，并非国务院通知",
        "holidays": [
            {"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
            {"name": "春节", "start": "2027-02-05", "end": "2027-02-12"},
            {"name": "清明节", "start": "2027-04-03", "end": "2027-04-05"},
            {"name": "劳动节", "start": "2027-05-01", "end": "2027-05-05"},
            {"name": "端午节", "start": "2027-06-09", "end": "2027-06-11"},
            {"name": "中秋节", "start": "2027-09-15", "end": "2027-09-17"},
            {"name": "国庆节", "start": "2027-10-01", "end": "2027-10-07"},
        ],
        "workdays": [
            {"name": "元旦", "date": "2027-01-09"},
            {"name": "春节", "date": "2027-02-14"},
            {"name": "劳动节", "date": "2027-05-08"},
            {"name": "国庆节", "date": "2027-09-26"},
            {"name": "国庆节", "date": "2027-10-09"},
        ],
    }},
}


def _scenario(world):
    """oil: completed 1 Sep, due 29 Sep → overdue; lab: completed 18 Sep, due 22 Oct → 2 working
    days left on 20 Oct → due soon; seed: completed 15 Oct, due 12 Nov → on track."""
    oil = world.record("oil", world.body("oil", completed_on="2026-09-01"), today=AS_OF)
    lab = world.record("lab", world.body("lab", completed_on="2026-09-18"), today=AS_OF)
    world.review(lab, "market")
    seed = world.record("seed", world.body("seed", completed_on="2026-10-15"), today=AS_OF)
    return oil, lab, seed


def _lists(world, principal=None, **kw):
    with world.gateway.read() as session:
        return python_values(DeadlineListSchema(), deadline_lists(
            world.gateway.settings, world.gateway.registry, session, principal or world.office, today=AS_OF, **kw))


def test_overdue_and_due_soon_per_department(world):
    oil, lab, _ = _scenario(world)
    data = _lists(world)
    assert [(i["result_id"], i["deadline"], i["working_days_left"], i["clock_status"]) for i in data["overdue"]] == [
        (oil, date(2026, 9, 29), -11, "overdue")
    ]
    assert [(i["result_id"], i["deadline"], i["working_days_left"], i["status"]) for i in data["due_soon"]] == [
        (lab, date(2026, 10, 22), 2, "reviewed")
    ]
    assert data["overdue"][0]["clock_status_label"] == "已逾期"
    assert data["departments"] == [
        {"code": "commerce", "name": "武陟县商务局", "overdue": 1, "due_soon": 0, "not_recorded": 0},
        {"code": "market", "name": "武陟县市场监督管理局", "overdue": 0, "due_soon": 1, "not_recorded": 0},
    ]
    assert [i["result_id"] for i in _lists(world, department="market")["due_soon"]] == [lab]
    assert _lists(world, department="market")["overdue"] == []
    # a wider "soon" window takes in more; 0 leaves only a result due today
    assert len(_lists(world, soon_days=20)["due_soon"]) == 2
    assert _lists(world, soon_days=0)["due_soon"] == []


def test_department_scope_and_publication_stop_the_clock(world):
    oil, lab, _ = _scenario(world)
    # agriculture sees its own task only (the seed result is on track); market sees lab and the
    # oil task, on whose team it is
    assert _lists(world, world.head("agriculture"))["overdue"] == []
    market = _lists(world, world.operator("market"))
    assert [i["result_id"] for i in market["overdue"]] == [oil]
    world.review(oil, "commerce")
    world.publish(oil, "commerce", today=AS_OF)  # late, but published: off the list
    data = _lists(world)
    assert data["overdue"] == [] and [i["result_id"] for i in data["due_soon"]] == [lab]  # the others stay
    with world.gateway.read() as session:
        assert session.get(InspectionResult, oil).published_on_time is False


def test_a_provisional_deadline_becomes_exact_when_the_office_adds_the_year(world, tmp_path):
    result_id = world.record("oil", world.body("oil", completed_on="2026-12-20"), today=date(2026, 12, 21))
    with world.gateway.read() as session:
        stored = session.get(InspectionResult, result_id)
        # 2027 is in neither chinesecalendar 1.11.0 nor the shipped file: weekdays minus 元旦
        assert (stored.deadline, stored.deadline_provisional, stored.completed_late) == (date(2027, 1, 18), True, True)
    as_of = date(2027, 1, 14)
    with world.gateway.read() as session:
        data = python_values(DeadlineListSchema(), deadline_lists(
            world.gateway.settings, world.gateway.registry, session, world.office, today=as_of))
    assert [(i["deadline"], i["deadline_provisional"], i["working_days_left"]) for i in data["due_soon"]] == [
        (date(2027, 1, 18), True, 2)
    ]
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps(HOLIDAYS_2027, ensure_ascii=False), encoding="utf-8")
    world.gateway.settings = dataclasses.replace(world.gateway.settings, holidays_file=str(path))
    with world.gateway.read() as session:
        data = python_values(DeadlineListSchema(), deadline_lists(
            world.gateway.settings, world.gateway.registry, session, world.office, today=as_of))
    # with 1–3 January off and Saturday 9 January worked, day 20 is Friday 15 January
    assert [(i["deadline"], i["deadline_provisional"], i["working_days_left"]) for i in data["due_soon"]] == [
        (date(2027, 1, 15), False, 1)
    ]
    # publication stores the exact deadline
    world.review(result_id, "commerce")
    world.publish(result_id, "commerce", today=as_of)
    with world.gateway.read() as session:
        stored = session.get(InspectionResult, result_id)
        assert (stored.deadline, stored.deadline_provisional, stored.published_on_time) == (date(2027, 1, 15), False, True)


def test_the_api_and_the_cli_list_overdue_results(world, client_as):
    oil, lab, _ = _scenario(world)
    response = client_as("county_office").get("/api/v1/results/overdue", query_string={"as_of": "2026-10-20"})
    assert response.status_code == 200, response.json
    assert [i["result_id"] for i in response.json["overdue"]] == [oil]
    assert [i["result_id"] for i in response.json["due_soon"]] == [lab]
    own = client_as("department_head", department="agriculture").get(
        "/api/v1/results/overdue", query_string={"as_of": "2026-10-20"})
    assert own.json["overdue"] == [] and own.json["due_soon"] == []
    assert client_as("public").get("/api/v1/results/overdue").status_code == 401

    # and the CLI
    settings = world.gateway.settings
    runner = CliRunner()
    base = ["--database-url", settings.database_url, "--instance", str(settings.instance_path)]
    out = runner.invoke(cli, base + ["results", "overdue", "--as-of", "2026-10-20", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [i["result_id"] for i in data["overdue"]] == [oil]
    assert [i["result_id"] for i in data["due_soon"]] == [lab]
    assert data["overdue"][0]["deadline"] == "2026-09-29"
    text = runner.invoke(cli, base + ["results", "overdue", "--as-of", "2026-10-20"])
    assert text.exit_code == 0
    assert "【武陟县商务局】逾期 1 条" in text.output and "已逾期 11 个工作日" in text.output
    assert "剩余 2 个工作日" in text.output
    only = runner.invoke(cli, base + ["results", "overdue", "--as-of", "2026-10-20", "--department", "market", "--json"])
    assert json.loads(only.output)["overdue"] == []
    bad = runner.invoke(cli, base + ["results", "overdue", "--department", "nobody"])
    assert bad.exit_code == 1 and "未知部门" in bad.output
