"""Bulk import from CSV and XLSX: headers in Chinese or English, per-row errors, all-or-nothing."""
from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from gateway.cli.main import cli
from gateway.demo.generate import make_uscc
from gateway.directory.importing import import_file
from gateway.directory.importing.importer import ImportFileError
from gateway.directory.importing.labels import department_labels
from gateway.directory.importing.run import run_import as run_staged
from gateway.directory.models import Inspector, Target
from gateway.security.principal import Principal

OFFICE = Principal(role="county_office", name="导入测试")

ZH_TARGET_HEADER = ["统一社会信用代码", "名称", "主体类型", "乡镇", "经营范围", "许可证", "信用风险分类", "经营异常名录"]
EN_TARGET_HEADER = ["uscc", "name", "type", "township", "business_scope", "licences", "risk_class", "abnormal_list"]


def target_rows(n: int, start: int = 1) -> list[list[str]]:
    return [
        [make_uscc("enterprise", i), f"武陟县导入{i}有限公司", "企业", "詹店镇", "成品油零售",
         "成品油经营批准证书；危险化学品经营许可证", "C", "否"]
        for i in range(start, start + n)
    ]


def csv_bytes(header, rows, encoding="utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(header, rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def run_import(gateway, kind, data: bytes, filename: str, partial=False):
    if kind == "targets":  # in steps, as every caller imports targets (importing.staged)
        return run_staged(gateway, OFFICE, "targets", io.BytesIO(data), filename, partial=partial)
    with gateway.engine.connect() as conn:
        with conn.begin() as tx:
            report = import_file(conn, kind, io.BytesIO(data), filename, partial=partial,
                                 departments=department_labels(gateway.registry))
            if not report.committed:
                tx.rollback()
    return report


def count(gateway, model) -> int:
    with gateway.read() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("header", [ZH_TARGET_HEADER, EN_TARGET_HEADER], ids=["zh", "en"])
def test_csv_import_with_either_header_language(gateway, header):
    report = run_import(gateway, "targets", csv_bytes(header, target_rows(5)), "targets.csv")
    assert (report.committed, report.created, report.updated, report.rejected) == (True, 5, 0, 0)
    with gateway.read() as s:
        target = s.scalar(select(Target).where(Target.uscc == make_uscc("enterprise", 1)))
        assert target.type == "enterprise" and target.risk_class == "C"
        assert target.licence_list == ["成品油经营批准证书", "危险化学品经营许可证"]


def test_xlsx_import(gateway):
    report = run_import(gateway, "targets", xlsx_bytes(ZH_TARGET_HEADER, target_rows(3)), "targets.xlsx")
    assert report.created == 3
    assert count(gateway, Target) == 3


def test_gb18030_csv_as_saved_by_chinese_excel(gateway):
    report = run_import(gateway, "targets", csv_bytes(ZH_TARGET_HEADER, target_rows(2), "gb18030"), "t.csv")
    assert report.created == 2


def test_one_bad_row_imports_nothing_and_names_the_row(gateway):
    rows = target_rows(4)
    rows[2][0] = rows[2][0][:-1] + ("1" if rows[2][0][-1] != "1" else "2")  # wrong check digit on file row 4
    report = run_import(gateway, "targets", csv_bytes(ZH_TARGET_HEADER, rows), "t.csv")
    assert report.committed is False
    assert [(e.row, e.field) for e in report.errors] == [(4, "uscc")]
    assert "统一社会信用代码" in report.errors[0].message
    assert count(gateway, Target) == 0


def test_partial_keeps_good_rows_and_reports_the_rest(gateway):
    rows = target_rows(4)
    rows[0][2] = "外资"  # unknown type on row 2
    rows[3][1] = ""  # missing name on row 5
    report = run_import(gateway, "targets", csv_bytes(ZH_TARGET_HEADER, rows), "t.csv", partial=True)
    assert report.committed and report.created == 2 and report.rejected == 2
    assert {(e.row, e.field) for e in report.errors} == {(2, "type"), (5, "name")}
    assert count(gateway, Target) == 2


def test_reimport_updates_instead_of_duplicating(gateway):
    run_import(gateway, "targets", csv_bytes(ZH_TARGET_HEADER, target_rows(3)), "t.csv")
    rows = [row + ["信用风险分类调整"] for row in target_rows(4)]
    rows[0][6] = "D"  # a change of eligibility: it names its reason (issue 15)
    report = run_import(gateway, "targets", csv_bytes(ZH_TARGET_HEADER + ["变更原因"], rows), "t.csv")
    assert (report.created, report.updated) == (1, 3)
    assert report.eligibility_changes == [(make_uscc("enterprise", 1), "risk_class", "C", "D", "credit_reclassified")]
    assert count(gateway, Target) == 4
    with gateway.read() as s:
        assert s.scalar(select(Target.risk_class).where(Target.uscc == make_uscc("enterprise", 1))) == "D"


def test_reimport_with_fewer_columns_keeps_the_others(gateway):
    run_import(gateway, "targets", csv_bytes(ZH_TARGET_HEADER, target_rows(1)), "t.csv")
    run_import(gateway, "targets", csv_bytes(["统一社会信用代码", "名称", "主体类型"],
                                             [[make_uscc("enterprise", 1), "新名称", "企业"]]), "t.csv")
    with gateway.read() as s:
        target = s.scalar(select(Target))
        assert (target.name, target.risk_class, target.township) == ("新名称", "C", "詹店镇")


def test_duplicate_uscc_within_one_file(gateway):
    rows = target_rows(2) + target_rows(1)
    report = run_import(gateway, "targets", csv_bytes(ZH_TARGET_HEADER, rows), "t.csv")
    assert report.committed is False
    assert report.errors[0].row == 4 and "第 2 行重复" in report.errors[0].message


@pytest.mark.parametrize(
    "data, filename, fragment",
    [
        (b"", "t.csv", "文件为空"),
        ("统一社会信用代码,名称\n".encode(), "t.csv", "缺少必需的列"),
        ("统一社会信用代码,名称,主体类型,颜色\n".encode(), "t.csv", "未知列"),
        (b"\xff\xfe\x00\x01garbage\x80\x81", "t.csv", "编码"),
        (b"not a zip", "t.xlsx", "Excel"),
        (b"x", "t.pdf", "不支持的文件类型"),
    ],
)
def test_unreadable_files_are_refused_clearly(gateway, data, filename, fragment):
    with pytest.raises(ImportFileError, match=fragment):
        run_import(gateway, "targets", data, filename)
    assert count(gateway, Target) == 0


def test_inspector_import_by_department_name(gateway):
    header = ["所属部门", "姓名", "性别", "执法证号", "联系电话", "证件有效期至"]
    name = gateway.registry.departments["market"].name
    rows = [[name, "李四", "男", "41082377000001", "13900001111", "2030-12-31"],
            ["market", "王五", "女", "41082377000002", "", ""]]
    report = run_import(gateway, "inspectors", csv_bytes(header, rows), "i.csv")
    assert report.created == 2
    with gateway.read() as s:
        assert {i.department_code for i in s.scalars(select(Inspector))} == {"market"}


def test_inspector_import_errors_do_not_echo_personal_data(gateway):
    header = ["部门", "姓名", "性别", "执法证号", "联系电话"]
    rows = [["market", "李四", "男", "41082377000001", "12345"], ["税务局", "王五", "女", "41082377000002", ""]]
    report = run_import(gateway, "inspectors", csv_bytes(header, rows), "i.csv")
    assert {(e.row, e.field) for e in report.errors} == {(2, "phone"), (3, "department_code")}
    assert "12345" not in json.dumps(report.as_dict(), ensure_ascii=False, default=str)


def test_api_upload_all_or_nothing(client, gateway):
    rows = target_rows(3)
    rows[1][2] = "外资"
    data = {"file": (io.BytesIO(csv_bytes(ZH_TARGET_HEADER, rows)), "targets.csv")}
    response = client.post("/api/v1/imports/targets", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.json["code"] == "import_rows_invalid"
    assert response.json["errors"][0]["row"] == 3
    assert count(gateway, Target) == 0
    data = {"file": (io.BytesIO(csv_bytes(ZH_TARGET_HEADER, rows)), "targets.csv")}
    partial = client.post("/api/v1/imports/targets?partial=true", data=data, content_type="multipart/form-data")
    assert partial.status_code == 200 and partial.json["created"] == 2


def test_api_upload_without_file(client):
    response = client.post("/api/v1/imports/targets", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "file" in response.json["errors"]


def test_cli_import_reports_rows_and_exit_code(gateway, tmp_path, settings):
    rows = target_rows(3)
    rows[0][0] = "123"
    path = tmp_path / "targets.csv"
    path.write_bytes(csv_bytes(ZH_TARGET_HEADER, rows))
    runner = CliRunner()
    args = ["--database-url", settings.database_url, "--instance", str(settings.instance_path)]
    result = runner.invoke(cli, args + ["import", "targets", str(path)])
    assert result.exit_code == 1
    assert "第 2 行 [uscc]" in result.output and "未导入任何数据" in result.output
    report_path = tmp_path / "report.json"
    result = runner.invoke(cli, args + ["import", "targets", str(path), "--partial", "--report", str(report_path)])
    assert result.exit_code == 0, result.output
    assert "新增 2" in result.output
    assert json.loads(report_path.read_text())["errors"][0]["row"] == 2
    assert count(gateway, Target) == 2
