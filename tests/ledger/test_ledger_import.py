"""`shuangsui import registered-inspections FILE`: CSV and XLSX, row errors named, nothing half-written,
the file's own earlier rows counted toward the caps."""
from __future__ import annotations

import json
from datetime import date

from openpyxl import Workbook
from sqlalchemy import func, select

from gateway.ledger import service as ledger
from gateway.ledger.models import RegisteredInspection
from gateway.testing.cli import run_cli
from tests.drawdb import COUNTY, build_directory

TODAY = date.today()
HEADER = "统一社会信用代码,检查部门,检查渠道,法定事由代码,法律依据,检查日期,检查编号,超过上限理由\n"


def run(settings, path):
    return run_cli(settings, "import", "registered-inspections", path)


def count(gateway):
    with gateway.read() as session:
        return session.scalar(select(func.count()).select_from(RegisteredInspection))


def test_csv_import_refuses_bad_rows_whole_and_counts_earlier_rows(gateway, settings, tmp_path):
    made = build_directory(gateway, per_matter=3)
    oil = made["targets"]["refined_oil"]
    department = gateway.registry.matters["refined_oil"].department_code
    name = gateway.registry.departments[department].name
    with gateway.write() as session:
        ledger.publish_caps(session, COUNTY, year=TODAY.year, per_department=1, total=3)
    day = TODAY.isoformat()
    path = tmp_path / "registered.csv"
    path.write_text(HEADER
                    + f"{oil[0]},{name},专项检查,special_campaign,县安委会部署,{day},ZX-1,\n"
                    + f"{oil[0]},{department},日常巡查,routine,,{day},RC-1,\n"          # second by the same department
                    + f"{oil[1]},{department},抽查,routine,,{day},RC-2,\n"             # unknown channel
                    + f"{oil[1]},无此部门,日常巡查,routine,,{day},RC-3,\n"
                    + f"{oil[2]},{department},complaint,complaint,,2999-01-01,TS-1,\n", encoding="utf-8")
    result = run(settings, path)
    assert result.exit_code == 1, result.output
    assert "第 3 行 [over_cap_reason]" in result.output
    assert "第 4 行 [channel]" in result.output and "第 5 行 [department_code]" in result.output
    assert "第 6 行 [inspected_on]" in result.output and "未导入任何数据" in result.output
    assert count(gateway) == 0

    path.write_text(HEADER
                    + f"{oil[0]},{name},专项检查,special_campaign,县安委会部署,{day},ZX-1,\n"
                    + f"{oil[0]},{department},日常巡查,routine,,{day},RC-1,复查重大事故隐患整改\n"
                    + f"{oil[2]},{department},投诉举报核查,complaint,,{day},TS-1,\n", encoding="utf-8")
    result = run(settings, path)
    assert result.exit_code == 0 and "新增 3" in result.output, result.output
    with gateway.read() as session:
        rows = session.scalars(select(RegisteredInspection).order_by(RegisteredInspection.id)).all()
        assert [(r.channel, r.source, bool(r.over_cap_reason)) for r in rows] == [
            ("special", "import", False), ("routine", "import", True), ("complaint", "import", False)]
    assert run(settings, path).exit_code == 1 and count(gateway) == 3  # references already used


def test_xlsx_import(gateway, settings, tmp_path):
    made = build_directory(gateway, per_matter=2)
    uscc = made["targets"]["refined_oil"][0]
    department = gateway.registry.matters["refined_oil"].department_code
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append([uscc, department, "转办交办", "referral", "市局交办函", TODAY.isoformat(), "ZB-1", ""])
    path = tmp_path / "registered.xlsx"
    book.save(path)
    result = run(settings, path)
    assert result.exit_code == 0 and "新增 1" in result.output, result.output
    assert count(gateway) == 1


def test_partial_import_registers_the_valid_rows_and_reports_the_others(gateway, settings, tmp_path):
    made = build_directory(gateway, per_matter=4)
    oil = made["targets"]["refined_oil"]
    department = gateway.registry.matters["refined_oil"].department_code
    with gateway.write() as session:
        ledger.publish_caps(session, COUNTY, year=TODAY.year, per_department=1, total=3)
    day = TODAY.isoformat()
    path, report_path = tmp_path / "registered.csv", tmp_path / "report.json"
    path.write_text(HEADER
                    + f"{oil[0]},{department},专项检查,special_campaign,,{day},ZX-1,\n"
                    + f"{oil[0]},{department},日常巡查,routine,,{day},RC-1,\n"       # over the cap after row 2
                    + f"{oil[1]},{department},抽查,routine,,{day},RC-2,\n"          # unknown channel
                    + f"{oil[3]},{department},日常巡查,routine,,2999-01-01,RC-3,\n"  # in the future: rejected, so
                    + f"{oil[3]},{department},日常巡查,routine,,{day},RC-4,\n",      # this one is not over the cap
                    encoding="utf-8")
    result = run_cli(settings, "import", "registered-inspections", path, "--partial", "--report", report_path)
    assert result.exit_code == 0, result.output
    assert "第 3 行 [over_cap_reason]" in result.output and "第 4 行 [channel]" in result.output
    assert "第 5 行 [inspected_on]" in result.output
    assert "共 5 行，新增 2，更新 0，拒绝 3" in result.output
    with gateway.read() as session:
        assert sorted(session.scalars(select(RegisteredInspection.reference))) == ["RC-4", "ZX-1"]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["committed"] is True and (report["created"], report["rejected"]) == (2, 3)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (3, "over_cap_reason"), (4, "channel"), (5, "inspected_on")]
    assert all(e["message"] for e in report["errors"])

    # without --partial a file with a bad row is still refused whole, and says how to keep the good rows
    path.write_text(HEADER + f"{oil[2]},{department},日常巡查,routine,,{day},RC-9,\n"
                    + f"{oil[2]},{department},抽查,routine,,{day},RC-10,\n", encoding="utf-8")
    refused = run(settings, path)
    assert refused.exit_code == 1 and "未导入任何数据" in refused.output and "--partial" in refused.output
    assert count(gateway) == 2
