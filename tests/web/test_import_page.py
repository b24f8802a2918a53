"""The directory import page: the per-row error report on the page, and a partial import."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from gateway.demo.generate import make_uscc
from gateway.directory.models import Target


def _csv(rows):
    lines = ["统一社会信用代码,名称,主体类型"] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_import_page_shows_each_bad_row_and_imports_nothing(gateway, client_as):
    office = client_as("county_office")
    rows = [[make_uscc("enterprise", 1), "甲公司", "企业"], ["123", "乙公司", "企业"], [make_uscc("enterprise", 3), "丙公司", "外资"]]
    response = office.post("/console/directory/import", data={"kind": "targets", "file": (io.BytesIO(_csv(rows)), "t.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "未导入任何数据" in html
    assert "统一社会信用代码" in html and "主体类型" in html
    with gateway.read() as s:
        assert s.scalar(select(func.count()).select_from(Target)) == 0

    response = office.post("/console/directory/import",
                           data={"kind": "targets", "partial": "1", "file": (io.BytesIO(_csv(rows)), "t.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    with gateway.read() as s:
        assert s.scalar(select(func.count()).select_from(Target)) == 1


def test_import_page_refuses_an_unreadable_file(client_as):
    office = client_as("county_office")
    response = office.post("/console/directory/import", data={"kind": "targets", "file": (io.BytesIO(b"x"), "t.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "不支持的文件类型" in response.get_data(as_text=True)
