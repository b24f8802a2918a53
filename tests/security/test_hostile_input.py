"""Hostile values get a clear 4xx and change nothing; legitimate unusual text goes through intact."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from gateway.demo.generate import make_uscc
from gateway.directory.importing import tabular
from gateway.directory.models import Inspector, Target


def counts(gateway) -> tuple[int, int]:
    with gateway.read() as session:
        return (session.scalar(select(func.count()).select_from(Target)),
                session.scalar(select(func.count()).select_from(Inspector)))


def target(serial: int, **overrides) -> dict:
    body = {"uscc": make_uscc("enterprise", serial), "name": f"测试{serial}有限公司", "type": "enterprise"}
    body.update(overrides)
    return body


def upload(client, kind: str, name: str, content: bytes):
    return client.post(f"/api/v1/imports/{kind}", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


@pytest.fixture
def county(client_as):
    return client_as("county_office")


SQL_FRAGMENTS = ["'; DROP TABLE targets; --", "1 OR 1=1", "\" OR \"\"=\"", "%' UNION SELECT * FROM accounts --",
                 "_%\\"]


def test_sql_fragments_are_only_text(gateway, county):
    for i, fragment in enumerate(SQL_FRAGMENTS):
        created = county.post("/api/v1/targets", json=target(100 + i, name=f"公司{fragment}", address=fragment))
        assert created.status_code == 201, created.json
        assert created.json["address"] == fragment
        found = county.get("/api/v1/targets", query_string={"q": fragment, "scope": fragment, "township": fragment})
        assert found.status_code == 200
    # LIKE wildcards are escaped: "%" finds the two names that contain a real "%", not everything
    assert county.get("/api/v1/targets", query_string={"q": "%"}).json["total"] == 2
    assert county.get("/api/v1/targets", query_string={"q": "公司_"}).json["total"] == 1
    assert counts(gateway) == (len(SQL_FRAGMENTS), 0)


@pytest.mark.parametrize("field,value", [
    ("name", "长" * 5000), ("address", "x" * 100_000), ("business_scope", "范" * 4001),
    ("licences", ["许" * 101]), ("complaint_count", 10**12), ("uscc", "9" * 10_000),
])
def test_very_long_values_are_422_or_400_naming_the_field(gateway, county, field, value):
    response = county.post("/api/v1/targets", json=target(1, **{field: value}))
    assert response.status_code in (400, 422), response.json
    assert field in response.json["errors"]
    assert len(response.get_data()) < 5_000  # the hostile value is not echoed back
    assert counts(gateway) == (0, 0)


@pytest.mark.parametrize("value", ["a\x00b", "a\x1bb", "a\x7f", "a\u202eb", "a\u2066b", "\x85"])
def test_control_characters_are_refused_everywhere(gateway, county, value):
    assert county.post("/api/v1/targets", json=target(2, name=value)).status_code == 400
    assert county.post("/api/v1/targets", json=target(2, licences=[value])).status_code == 400
    assert county.post("/api/v1/targets", json={**target(2), value: 1}).status_code == 400
    assert county.get("/api/v1/targets", query_string={"q": value}).status_code == 400
    assert county.get("/api/v1/inspectors", query_string={"department": value}).status_code == 400
    assert counts(gateway) == (0, 0)


def test_lone_surrogates_and_bad_utf8_bodies_are_refused(gateway, county):
    raw = json.dumps(target(3, name="a\ud800b"), ensure_ascii=True)
    assert county.post("/api/v1/targets", data=raw, content_type="application/json").status_code == 400
    bad = b'{"uscc": "x", "name": "\xff\xfe"}'
    response = county.post("/api/v1/targets", data=bad, content_type="application/json")
    assert response.status_code == 400 and response.json["code"] == "invalid_input"
    assert counts(gateway) == (0, 0)


def test_deep_json_and_huge_integers_are_refused(county):
    deep = "[" * 5000 + "]" * 5000
    assert county.post("/api/v1/targets", data=deep, content_type="application/json").status_code == 400
    assert county.post("/api/v1/conflicts", json={"inspector_id": 2**70, "uscc": make_uscc("enterprise", 4),
                                                  "reason": "x"}).status_code == 400
    assert county.get("/api/v1/inspectors/99999999999999999999").status_code == 404
    assert county.patch("/api/v1/inspectors/2147483648", json={"name": "x"}).status_code == 404


def test_mixed_scripts_and_rare_characters_round_trip(county):
    name = "武陟𠀀Wuzhi Ⅲ Ωmega 公司（Ａ）"  # CJK extension B, Latin, Roman numeral, Greek, full-width
    created = county.post("/api/v1/targets", json=target(5, name=name, address="木城街道\t88号\n东院"))
    assert created.status_code == 201, created.json
    again = county.get(f"/api/v1/targets/{created.json['uscc']}").json
    assert again["name"] == name and again["address"] == "木城街道\t88号\n东院"


def test_bad_utf8_in_an_uploaded_csv_is_a_clear_422(gateway, county):
    header = "统一社会信用代码,名称,类型\n".encode("utf-8")
    response = upload(county, "targets", "t.csv", header + b"\xff\xfe\xfa\xfb," + b"\x80" * 10 + b",enterprise\n")
    assert response.status_code == 422 and response.json["code"] == "import_file_invalid"
    assert "编码" in response.json["message"]
    assert counts(gateway) == (0, 0)


def test_not_really_an_xlsx_is_a_clear_422(county):
    response = upload(county, "targets", "t.xlsx", b"PK\x03\x04 this is no zip")
    assert response.status_code == 422 and response.json["code"] == "import_file_invalid"


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def with_extra_part(xlsx: bytes, name: str, size: int) -> bytes:
    """Add a highly compressible part (zeros) to an xlsx: a small zip bomb."""
    out = io.BytesIO(xlsx)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w", force_zip64=True) as part:
            chunk = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                part.write(chunk)
    return out.getvalue()


def test_xlsx_zip_bomb_is_refused_before_decompression(gateway, county, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_XLSX_UNCOMPRESSED", 8 << 20)
    bomb = with_extra_part(xlsx_bytes([["统一社会信用代码", "名称", "类型"]]), "xl/media/zeros.bin", 16 << 20)
    assert len(bomb) < 100_000  # 16 MB inflated from a few kilobytes
    response = upload(county, "targets", "bomb.xlsx", bomb)
    assert response.status_code == 422 and response.json["code"] == "import_file_invalid"
    assert "压缩炸弹" in response.json["message"]
    assert counts(gateway) == (0, 0)


def test_xlsx_with_an_abnormal_compression_ratio_is_refused(county, monkeypatch):
    monkeypatch.setattr(tabular, "XLSX_RATIO_FLOOR", 1 << 20)
    bomb = with_extra_part(xlsx_bytes([["统一社会信用代码", "名称", "类型"]]), "xl/worksheets/sheet9.xml", 4 << 20)
    response = upload(county, "targets", "ratio.xlsx", bomb)
    assert response.status_code == 422 and "压缩比异常" in response.json["message"]


def test_huge_spreadsheets_hit_the_row_limit(gateway, county, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_ROWS", 50)
    rows = [["统一社会信用代码", "名称", "类型"]] + [[make_uscc("enterprise", i), f"公司{i}", "enterprise"]
                                                  for i in range(60)]
    for name, content in (("big.xlsx", xlsx_bytes(rows)),
                          ("big.csv", "\n".join(",".join(r) for r in rows).encode("utf-8"))):
        response = upload(county, "targets", name, content)
        assert response.status_code == 422, response.json
        assert "上限 50 行" in response.json["message"]
    assert counts(gateway) == (0, 0)
    ok = upload(county, "targets", "ok.csv", "\n".join(",".join(r) for r in rows[:40]).encode("utf-8"))
    assert ok.status_code == 200 and ok.json["created"] == 39


@pytest.mark.parametrize("value", ["王\u202e五", "王\x00五", "王\u2066五", "王\x85五"])
def test_the_command_line_runs_the_same_text_check(gateway, settings, value):
    from click.testing import CliRunner

    from gateway.cli.main import cli
    from gateway.security.models import Account

    result = CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance", str(settings.instance_path),
                                      "user", "add", "wang", "--role", "supervisor", "--name", value, "--no-password"])
    assert result.exit_code != 0
    assert "文字方向控制符" in result.output and "--name" in result.output
    with gateway.read() as session:
        assert session.scalar(select(Account.id).where(Account.username == "wang")) is None
