"""The annual release (issue 16 item 6): the previous year's inspections by department and channel,
public as a page, CSV and XLSX, and the command line writes the very same files."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli.main import cli
from gateway.demo.codes import confirm_arrival
from gateway.ledger.models import InspectionCaps, RegisteredInspection
from gateway.results import service as results
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from gateway.testing.world import SIGNED, checklist_values
from tests.drawdb import build_directory, complete_draw, published_plan

LAST = date.today().year - 1


def _last_year(gateway) -> dict:
    """A joint plan of last year drawn, one result published (code 1), caps, and a complaint check
    registered outside the draw (exempt)."""
    build_directory(gateway, per_matter=3, per_department=3)
    plan_id = published_plan(gateway, year=LAST, title=f"{LAST}年度测试联合抽查计划",
                             window_start=date(LAST, 1, 1), window_end=date(LAST, 12, 31))
    complete_draw(gateway, plan_id)
    with gateway.read() as session:
        tasks = list(session.scalars(select(Task).where(Task.plan_id == plan_id).order_by(Task.id)))
        task = tasks[0]
        lead, task_id, uscc, matters = task.lead_department, task.id, task.target.uscc, list(task.matter_codes)
        recorder = next(m.inspector_id for m in task.members if m.active and m.role == "lead")
        drawn_by_lead = sum(t.lead_department == lead for t in tasks)
        joint_by_lead = sum(t.lead_department == lead and len({m.department_code for m in t.members if m.active}) > 1
                            for t in tasks)
    day = date(LAST, 6, 1)
    body = {"checklists": {m: checklist_values(gateway, m) for m in matters}, "result_codes": ["1"],
            "methods": [(gateway.registry.matters[matters[0]].non_site_methods
                         or gateway.registry.matters[matters[0]].methods)[0]], "completed_on": day.isoformat(),
            "signature": dict(SIGNED), "remarks": ""}
    confirm_arrival(gateway, task_id, today=day)  # a site visit: the enterprise confirmed the arrival
    with gateway.write() as session:
        inspector = Principal(role="inspector", name="检查员", inspector_id=recorder)
        result = results.record_result(gateway, session, inspector, task_id, body, today=day)
        head = Principal(role="department_head", name="负责人", department_code=lead)
        results.review_result(gateway, session, head, result.id, True, "")
        results.publish_result(gateway, session, head, result.id, today=day)
        session.add(InspectionCaps(year=LAST, version=1, per_department=2, total=4,
                                   exempt_channels=["complaint", "referral", "case"], key_targets_exempt=True,
                                   published_at=datetime(LAST, 1, 5), published_by="县双随机办"))
        session.add(RegisteredInspection(uscc=uscc, department_code=lead, channel="complaint",
                                         legal_reason_code="complaint", inspected_on=date(LAST, 7, 1), year=LAST,
                                         reference="投诉-2", source="api"))
    return {"lead": lead, "drawn": drawn_by_lead, "joint": joint_by_lead}


def test_the_previous_year_is_released_as_a_page_csv_and_xlsx_the_command_writes_alike(gateway, settings, client, tmp_path):
    facts = _last_year(gateway)
    assert client.get("/annual").headers["Location"].endswith(f"/annual/{LAST}")
    page = client.get(f"/annual/{LAST}").get_data(as_text=True)
    assert f"{LAST} 年度涉企行政检查数据公开" in page and "同一部门每年不超过 2 次，各部门合计不超过 4 次" in page

    served_csv = client.get(f"/annual/{LAST}/csv")
    assert served_csv.status_code == 200 and served_csv.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(served_csv.data.decode("utf-8-sig"))))
    mine = {r["检查渠道"]: r for r in rows if r["部门代码"] == facts["lead"]}
    drawn = mine["双随机抽查"]
    assert (int(drawn["检查次数"]), int(drawn["计入上限次数"]), int(drawn["联合检查次数"])) == (
        facts["drawn"], facts["drawn"], facts["joint"])
    assert drawn["检查结果（按结果代码，仅双随机抽查）"] == "1 未发现问题 1"
    assert (drawn["同一部门年度上限"], drawn["各部门合计年度上限"]) == ("2", "4")
    complaint = mine["投诉举报核查"]
    assert (complaint["检查次数"], complaint["计入上限次数"], complaint["联合检查占比"]) == ("1", "0", "0.0%")

    served_xlsx = client.get(f"/annual/{LAST}/xlsx").data
    assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(served_xlsx)).namelist()

    out = tmp_path / "release"
    done = CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance", str(settings.instance_path),
                                    "results", "annual-release", "--year", str(LAST), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert (out / f"annual-release-{LAST}.csv").read_bytes() == served_csv.data
    assert (out / f"annual-release-{LAST}.xlsx").read_bytes() == served_xlsx


def test_a_year_not_ended_is_not_released(client):
    assert client.get(f"/annual/{date.today().year}").status_code == 409
    assert client.get(f"/annual/{date.today().year - 1}/pdf").status_code == 404
    assert client.get("/annual/0").status_code == 404


def test_the_release_as_json_has_the_figures_of_the_page_and_the_files(gateway, client, client_as):
    facts = _last_year(gateway)
    answer = client.get(f"/api/v1/annual/{LAST}")          # public: no sign-in
    assert answer.status_code == 200, answer.json
    release = answer.json
    assert release["year"] == LAST and release["caps"] == {"version": 1, "per_department": 2, "total": 4}
    assert release["files"] == {"csv": f"/annual/{LAST}/csv", "xlsx": f"/annual/{LAST}/xlsx"}
    rows = list(csv.DictReader(io.StringIO(client.get(release["files"]["csv"]).data.decode("utf-8-sig"))))
    assert [(r["部门代码"], r["部门"], r["检查渠道"], int(r["检查次数"]), int(r["计入上限次数"]), int(r["联合检查次数"]),
             r["联合检查占比"], r["检查结果（按结果代码，仅双随机抽查）"]) for r in rows] == [
        (r["department_code"], r["department_name"], r["channel_label"], r["inspections"], r["counted"], r["joint"],
         r["joint_share"], "；".join(f"{x['code']} {x['label']} {x['count']}" for x in r["results"]))
        for r in release["rows"]]
    assert release["totals"] == {"inspections": sum(int(r["检查次数"]) for r in rows),
                                 "counted": sum(int(r["计入上限次数"]) for r in rows),
                                 "joint": sum(int(r["联合检查次数"]) for r in rows)}
    drawn = next(r for r in release["rows"] if r["department_code"] == facts["lead"] and r["channel"] == "drawn")
    assert drawn["results"] == [{"code": "1", "label": "未发现问题", "count": 1}]
    page = client.get(f"/annual/{LAST}").get_data(as_text=True)
    assert f"检查 {release['totals']['inspections']} 次，其中计入上限 {release['totals']['counted']} 次" in page
    assert client_as("county_office").get(f"/api/v1/annual/{LAST}").json == release


def test_the_json_release_refuses_a_year_not_ended(client):
    not_due = client.get(f"/api/v1/annual/{date.today().year}")
    assert not_due.status_code == 409 and not_due.json["code"] == "annual_release_not_due"
    assert "尚未结束" in not_due.json["message"]
    assert client.get("/api/v1/annual/1999").status_code == 404
