"""Importing may not take over another department's inspectors; every import names the inspectors it
wrote; an inspector's account always sits in the inspector's department (issue 14, item 2)."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli.main import cli
from gateway.directory import service
from gateway.directory.models import Inspector
from gateway.security import accounts
from gateway.security.audit import AuditEntry
from gateway.security.models import Account, ApiToken
from gateway.security.principal import Principal

SYSTEM = Principal(role="system", name="pytest")
HEADER = ["部门", "姓名", "性别", "执法证号", "联系电话"]
COMMERCE_CERT = "41082300001111"
COMMERCE_PHONE = "13911112222"


def _csv(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    return buf.getvalue().encode("utf-8")


@pytest.fixture
def commerce_inspector(gateway) -> int:
    """A commerce inspector with an account and a token of its own."""
    with gateway.write() as session:
        inspector = service.create_inspector(session, {
            "department_code": "commerce", "name": "赵商务", "gender": "male",
            "certificate_no": COMMERCE_CERT, "phone": COMMERCE_PHONE,
        })
        accounts.create_account(session, SYSTEM, "zhao", "inspector", inspector_id=inspector.id)
        accounts.issue_token(session, SYSTEM, "zhao-phone", "inspector", inspector_id=inspector.id, days=1)
        return inspector.id


def _department_of(gateway, inspector_id: int) -> tuple[str, set[str | None]]:
    with gateway.read() as session:
        inspector = session.get(Inspector, inspector_id)
        scopes = set(session.scalars(select(Account.department_code).where(Account.inspector_id == inspector_id)))
        scopes |= set(session.scalars(select(ApiToken.department_code).where(ApiToken.inspector_id == inspector_id)))
        return inspector.department_code, scopes


def _last_import_audit(gateway) -> dict:
    with gateway.read() as session:
        return session.scalar(select(AuditEntry.details).where(AuditEntry.action == "inspectors.import")
                              .order_by(AuditEntry.id.desc()).limit(1))


def _takeover_file() -> bytes:
    return _csv([["market", "钱市场", "女", "41082300002222", ""], ["market", "冒名", "男", COMMERCE_CERT, ""]])


def _assert_refused_without_disclosure(body: str, errors) -> None:
    assert any(e["row"] == 3 and e["field"] == "certificate_no" for e in errors)
    for secret in ("赵商务", "commerce", "商务", COMMERCE_PHONE, COMMERCE_CERT):
        assert secret not in body


def test_api_import_refuses_another_departments_inspector(gateway, client_as, commerce_inspector):
    market = client_as("department_operator", "market")
    response = market.post("/api/v1/imports/inspectors", data={"file": (io.BytesIO(_takeover_file()), "i.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    _assert_refused_without_disclosure(response.get_data(as_text=True), response.json["errors"])
    assert _department_of(gateway, commerce_inspector) == ("commerce", {"commerce"})

    partial = market.post("/api/v1/imports/inspectors?partial=true",
                          data={"file": (io.BytesIO(_takeover_file()), "i.csv")}, content_type="multipart/form-data")
    assert partial.status_code == 200 and partial.json["created"] == 1 and partial.json["updated"] == 0
    assert _department_of(gateway, commerce_inspector) == ("commerce", {"commerce"})
    with gateway.read() as session:
        created = session.scalar(select(Inspector.id).where(Inspector.name == "钱市场"))
    entry = _last_import_audit(gateway)
    assert entry["inspector_ids"] == [created]
    assert COMMERCE_CERT not in json.dumps(entry) and "41082300002222" not in json.dumps(entry)


def test_import_page_refuses_another_departments_inspector(gateway, client_as, commerce_inspector):
    market = client_as("department_operator", "market")
    response = market.post("/console/directory/import",
                           data={"kind": "inspectors", "file": (io.BytesIO(_takeover_file()), "i.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "另一名执法检查人员" in html
    _assert_refused_without_disclosure(html, [{"row": 3, "field": "certificate_no"}])
    assert _department_of(gateway, commerce_inspector) == ("commerce", {"commerce"})


def test_a_move_by_import_takes_the_account_along_and_is_audited(gateway, client_as, commerce_inspector):
    """The county office may move an inspector between departments; the account follows."""
    office = client_as("county_office")
    data = _csv([["market", "赵商务", "男", COMMERCE_CERT, ""], ["market", "孙新", "男", "41082300003333", ""]])
    response = office.post("/api/v1/imports/inspectors", data={"file": (io.BytesIO(data), "i.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    assert _department_of(gateway, commerce_inspector) == ("market", {"market"})
    with gateway.read() as session:
        new_id = session.scalar(select(Inspector.id).where(Inspector.name == "孙新"))
    entry = _last_import_audit(gateway)
    assert entry["inspector_ids"] == sorted([commerce_inspector, new_id])
    assert entry["moved_inspector_ids"] == [commerce_inspector]


def test_cli_import_audits_every_inspector_and_moves_the_account(gateway, settings, tmp_path, commerce_inspector):
    path = tmp_path / "i.csv"
    path.write_bytes(_csv([["agriculture", "赵商务", "男", COMMERCE_CERT, ""]]))
    args = ["--database-url", settings.database_url, "--instance", str(settings.instance_path)]
    result = CliRunner().invoke(cli, args + ["import", "inspectors", str(path)])
    assert result.exit_code == 0, result.output
    assert _department_of(gateway, commerce_inspector) == ("agriculture", {"agriculture"})
    entry = _last_import_audit(gateway)
    assert entry["inspector_ids"] == [commerce_inspector]


def test_moving_an_inspector_through_the_api_moves_the_account(gateway, client_as, commerce_inspector):
    office = client_as("county_office")
    response = office.patch(f"/api/v1/inspectors/{commerce_inspector}", json={"department_code": "market"})
    assert response.status_code == 200, response.json
    assert _department_of(gateway, commerce_inspector) == ("market", {"market"})


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_refuses_bidi_and_control_characters_naming_row_and_field(gateway, client_as, fmt):
    import openpyxl

    rows = [["market", "正常", "男", "41082300004444", ""], ["market", "李\u202e四", "男", "41082300005555", ""]]
    if fmt == "csv":
        data = _csv(rows)
    else:
        workbook = openpyxl.Workbook()
        for row in [HEADER, *rows]:
            workbook.active.append(row)
        out = io.BytesIO()
        workbook.save(out)
        data = out.getvalue()
    office = client_as("county_office")
    response = office.post("/api/v1/imports/inspectors", data={"file": (io.BytesIO(data), f"i.{fmt}")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert [(e["row"], e["field"]) for e in response.json["errors"]] == [(3, "name")]
    assert "文字方向控制符" in response.json["errors"][0]["message"]
    with gateway.read() as session:
        assert session.scalar(select(Inspector.id)) is None
