"""Every CSV/XLSX export goes through one writer that never lets a spreadsheet run typed text as a
formula, and CSV responses name their charset once (issue 14, items 4 and 8)."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from gateway.directory import service as directory
from gateway.spreadsheets import to_xlsx

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]


def _rename_oil(world, name: str) -> None:
    with world.gateway.write() as session:
        directory.update_target(session, world.targets["oil"], {"name": name})


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("name", HOSTILE, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_task_and_result_exports_write_formulas_as_text(world, client_as, name):
    world.published("oil")
    _rename_oil(world, name)
    office = client_as("county_office")
    for what in ("tasks", "results"):
        response = office.get(f"/api/v1/exports/{what}", query_string={"format": "csv"})
        assert response.status_code == 200
        cells = [cell for row in _csv_rows(response) for cell in row]
        assert "'" + name in cells and name not in cells

        response = office.get(f"/api/v1/exports/{what}", query_string={"format": "xlsx"})
        sheet = load_workbook(io.BytesIO(response.data)).active
        cells = [cell for row in sheet.iter_rows(min_row=3) for cell in row]
        # XML turns a carriage return into a line feed; what matters is the cell's type
        ours = [cell for cell in cells if isinstance(cell.value, str) and name.strip() in cell.value]
        assert ours and all(cell.data_type == "s" for cell in ours)
        assert not any(cell.data_type == "f" for cell in cells)


def test_the_inspector_export_uses_the_same_writer(gateway, client_as):
    with gateway.write() as session:
        directory.create_inspector(session, {"department_code": "market", "name": "@王五", "gender": "male",
                                             "certificate_no": "41082300009999", "unit": "\t=1+1"})
    response = client_as("department_operator", "market").get("/api/v1/inspectors/export")
    assert response.status_code == 200
    cells = [cell for row in _csv_rows(response) for cell in row]
    assert "'@王五" in cells and "'\t=1+1" in cells


def test_csv_responses_name_their_charset_once(world, client_as):
    office, market = client_as("county_office"), client_as("department_operator", "market")
    for client, path, query in (
        (office, "/api/v1/exports/tasks", {"format": "csv"}), (office, "/api/v1/exports/results", {"format": "csv"}),
        (office, "/api/v1/stats", {"format": "csv"}), (market, "/api/v1/inspectors/export", {}),
        (office, "/console/directory/import/inspectors-template.csv", {}),
    ):
        response = client.get(path, query_string=query)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].lower().replace(" ", "") == "text/csv;charset=utf-8", path


def test_the_statistics_workbook_keeps_text_as_text():
    book = load_workbook(io.BytesIO(to_xlsx("标题", ["计划"], [["=1+1"], [3]])))
    sheet = book.active
    assert sheet["A3"].value == "=1+1" and sheet["A3"].data_type == "s"
    assert sheet["A4"].value == 3 and sheet["A4"].data_type == "n"
