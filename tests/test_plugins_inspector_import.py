"""A new department's inspectors arrive by CSV: the columns are documented, common variants are
accepted and an unknown column lists the accepted headers (issue 22, bug 6)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.directory.importing.columns import INSPECTOR_COLUMNS
from gateway.directory.importing.importer import ImportFileError
from gateway.directory.models import Inspector
from tests.directory.test_import import csv_bytes, run_import

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def test_the_variants_authors_use_are_accepted(gateway):
    header = ["部门", "姓名", "性别", "执法证号", "证件有效期", "专业"]
    report = run_import(gateway, "inspectors", csv_bytes(header, [["market", "李四", "男", "41082377000001",
                                                                   "2030-12-31", "公共卫生"]]), "i.csv")
    assert report.created == 1
    with gateway.read() as s:
        inspector = s.scalar(select(Inspector))
        assert (inspector.expertise, inspector.certificate_valid_until.isoformat()) == ("公共卫生", "2030-12-31")


def test_an_unknown_column_lists_the_accepted_headers(gateway):
    header = ["部门", "姓名", "性别", "执法证号", "籍贯"]
    with pytest.raises(ImportFileError) as exc:
        run_import(gateway, "inspectors", csv_bytes(header, [["market", "李四", "男", "41082377000001", "河南"]]), "i.csv")
    message = str(exc.value)
    assert "未知列“籍贯”" in message
    assert "*部门/所属部门/部门编码" in message and "证件有效期至" in message and "联系电话" in message


def test_the_inspector_columns_are_documented():
    table = DOC.read_text(encoding="utf-8").split("## Inspectors of a new department", 1)[1].split("\n## ", 1)[0]
    documented = {cell for row in re.findall(r"^\| `(\w+)` \|(.+)$", table, re.M) for cell in [row[0]]}
    assert documented == {c.key for c in INSPECTOR_COLUMNS}
    for column in INSPECTOR_COLUMNS:
        for header in column.headers:
            assert header in table, header
