"""Supervision statistics (article 30) and the Excel/CSV exports with Chinese headers."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from gateway.api.errors import status_of
from gateway.errors import DomainError
from gateway.results import exports, stats
from schemas.common import python_values
from schemas.results import StatsSchema

AS_OF = date(2026, 10, 20)


def _scenario(world):
    """oil: published on time with problems and a published penalty; lab: recorded 1 Sep, overdue;
    seed: never inspected."""
    body = world.body("oil", result_codes=["A", "D"], completed_on="2026-10-09")
    body["checklists"]["refined_oil"]["oil_internal_rules"] = "non_compliant"
    body["checklists"]["refined_oil"]["oil_problem_description"] = "未制定计量管理制度。"
    oil = world.published("oil", body, today=AS_OF)
    world.dispose(oil, "commerce", {"kind": "administrative_penalty", "decision_number": "武商罚决字〔2026〕3号",
                                    "decided_on": "2026-10-19", "description": "警告"}, today=AS_OF)
    lab = world.record("lab", world.body("lab", completed_on="2026-09-01"), today=AS_OF)
    return oil, lab


def _stats(world, principal=None, **kw):
    with world.gateway.read() as session:
        return python_values(StatsSchema(), stats.supervision_stats(world.gateway, session,
                                                                    principal or world.office, as_of=AS_OF, **kw))


ZERO = dict.fromkeys(stats.COUNTERS, 0)


def test_counts_per_department_and_plan(world):
    _scenario(world)
    data = _stats(world)
    rows = {r["key"]: r for r in data["departments"]}
    assert rows["commerce"] == {**ZERO, "key": "commerce", "name": "武陟县商务局", "drawn": 1, "inspected": 1,
                                "published": 1, "published_on_time": 1, "problems_found": 1,
                                "follow_up_required": 1, "followed_up": 1}
    assert rows["market"] == {**ZERO, "key": "market", "name": "武陟县市场监督管理局", "drawn": 1, "inspected": 1,
                              "overdue": 1}
    assert rows["agriculture"] == {**ZERO, "key": "agriculture", "name": "武陟县农业农村局", "drawn": 1}
    assert data["totals"]["drawn"] == 3 and data["totals"]["overdue"] == 1 and data["totals"]["followed_up"] == 1
    [plan] = data["plans"]
    assert plan["key"] == f"{world.plan_number}（第1版）" and plan["drawn"] == 3 and plan["published"] == 1
    assert _stats(world, year=2025)["totals"]["drawn"] == 0
    assert _stats(world, department="market")["totals"]["overdue"] == 1

    # a department sees its own statistics
    own = _stats(world, world.operator("market"))
    assert [r["key"] for r in own["departments"]] == ["market"]
    with pytest.raises(DomainError) as caught:
        _stats(world, world.operator("market"), department="commerce")
    assert status_of(caught.value) == 403
    with pytest.raises(DomainError) as caught:
        _stats(world, world.inspector("c1"))
    assert status_of(caught.value) == 403


def test_statistics_api_in_json_csv_and_excel(world, client_as):
    _scenario(world)
    office = client_as("county_office")
    data = office.get("/api/v1/stats", query_string={"as_of": "2026-10-20"}).json
    assert data["totals"]["published_on_time"] == 1
    response = office.get("/api/v1/stats", query_string={"as_of": "2026-10-20", "format": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == list(stats.HEADERS.values())
    assert rows[0][:4] == ["编码", "名称", "抽取任务数", "已检查数"]
    assert ["commerce", "武陟县商务局", "1", "1", "1", "1", "0", "0", "0", "1", "1", "1"] in rows
    response = office.get("/api/v1/stats", query_string={"as_of": "2026-10-20", "format": "xlsx"})
    assert response.mimetype == exports.XLSX_MIMETYPE
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["按部门", "按计划"]
    sheet = book["按部门"]
    assert "监督统计" in sheet["A1"].value
    assert [c.value for c in sheet[2]][:3] == ["部门", "抽取任务数", "已检查数"]  # names, not internal codes
    assert [c.value for c in sheet[2]][-3:] == ["检查完成率", "按时公示率", "问题发现率"]
    assert [c.value for c in sheet[sheet.max_row]][:2] == ["合计", 3]
    assert [c.value for c in sheet[sheet.max_row]][-3:] == ["66.7%", "100.0%", "50.0%"]
    departments = [row[0].value for row in sheet.iter_rows(min_row=3)]
    assert len(departments) - 1 == len(world.gateway.registry.departments) > 3  # with no task too: a row of zeros
    plans = book["按计划"]
    assert [c.value for c in plans[2]][:3] == ["计划文号", "计划名称", "抽取任务数"]
    assert [c.value for c in plans[3]][2] == 3
    for ws in book.worksheets:  # the same header style, and set up for printing
        assert ws.cell(row=2, column=1).font.bold and ws.cell(row=2, column=1).fill.fgColor.rgb.endswith("DDEBF7")
        assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$2"
    response = office.get("/api/v1/stats", query_string={"as_of": "2026-10-20", "format": "xlsx", "year": 2026})
    assert "2026年度" in response.headers["Content-Disposition"] or "2026%E5%B9%B4%E5%BA%A6" in response.headers["Content-Disposition"]
    assert "2026年度" in load_workbook(io.BytesIO(response.data))["按部门"]["A1"].value
    assert client_as("inspector", inspector_id=world.inspectors["c1"]).get("/api/v1/stats").status_code == 403


def test_task_list_and_results_register_in_excel(world, client_as):
    oil, lab = _scenario(world)
    office = client_as("county_office")
    response = office.get("/api/v1/exports/tasks", query_string={"plan_id": world.plan_id})
    assert response.status_code == 200 and response.mimetype == exports.XLSX_MIMETYPE
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "抽查任务清单" and sheet["A1"].value == "双随机抽查任务清单"
    assert [c.value for c in sheet[2]] == list(exports.TASK_HEADERS)
    first = [c.value for c in sheet[3]]
    assert first[:6] == [1, world.plan_number, "2026年度武陟县跨部门联合双随机抽查计划", f"{world.plan_number}-0001",
                         "武陟县沁河加油站有限公司", world.targets["oil"]]
    assert first[8:11] == ["武陟县商务局", "武陟县市场监督管理局",
                           f"{world.names['c1']}（武陟县商务局）、{world.names['m1']}（武陟县市场监督管理局）"]
    assert first[14] == "结果已公示"
    assert sheet.max_row == 5

    response = office.get("/api/v1/exports/results", query_string={"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == list(exports.RESULT_HEADERS)
    by_task = {r[2]: dict(zip(rows[0], r)) for r in rows[1:]}
    oil_row = by_task[f"{world.plan_number}-0001"]
    assert oil_row["检查结果代码"] == "A、D" and oil_row["检查结果"] == "发现问题待后续处理：违反其他规定"
    assert oil_row["是否按时公示"] == "是" and oil_row["后续处置"] == "行政处罚（武商罚决字〔2026〕3号）"
    assert oil_row["签字情况"] == "检查对象已签字确认：周建华"
    lab_row = by_task[f"{world.plan_number}-0002"]
    assert lab_row["结果状态"] == "已录入" and lab_row["公示日期"] == "" and lab_row["检查实施机关"] == "武陟县市场监督管理局"
    # a department exports what it may read
    agriculture = client_as("department_operator", department="agriculture")
    sheet = load_workbook(io.BytesIO(agriculture.get("/api/v1/exports/tasks").data)).active
    assert [c.value for c in sheet[3]][3] == f"{world.plan_number}-0003" and sheet.max_row == 3


def test_cli_exports_and_statistics(world, tmp_path):
    from click.testing import CliRunner

    from gateway.cli.main import cli

    _scenario(world)
    settings = world.gateway.settings
    base = ["--database-url", settings.database_url, "--instance", str(settings.instance_path)]
    runner = CliRunner()
    out = runner.invoke(cli, base + ["results", "export", "results", "-o", str(tmp_path / "结果.xlsx")])
    assert out.exit_code == 0, out.output
    sheet = load_workbook(tmp_path / "结果.xlsx").active
    assert [c.value for c in sheet[2]] == list(exports.RESULT_HEADERS) and sheet.max_row == 4
    out = runner.invoke(cli, base + ["results", "stats", "--as-of", "2026-10-20", "--format", "csv",
                                     "-o", str(tmp_path / "stats.csv")])
    assert out.exit_code == 0, out.output
    assert "武陟县商务局" in (tmp_path / "stats.csv").read_text(encoding="utf-8-sig")
    table = runner.invoke(cli, base + ["results", "stats", "--as-of", "2026-10-20"])
    assert "逾期未公示数" in table.output and "合计" in table.output
