"""The ledger API: registration with bad input refused (nothing written), over-cap needs a reason,
a target's ledger, and the caps published by the county office and public to read."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from gateway.ledger.models import RegisteredInspection
from tests.drawdb import build_directory

TODAY = date.today()


def body(uscc, department, **overrides):
    data = {"uscc": uscc, "department_code": department, "channel": "special", "legal_reason_code": "special_campaign",
            "legal_basis": "县安委会专项整治部署", "inspected_on": TODAY.isoformat(), "reference": f"ZX-{uscc[-4:]}"}
    data.update(overrides)
    return data


def registered_count(gateway):
    with gateway.read() as session:
        return session.scalar(select(func.count()).select_from(RegisteredInspection))


def test_registration_by_api_and_the_target_ledger(gateway, client, client_as):
    directory = build_directory(gateway)
    uscc = directory["targets"]["refined_oil"][0]
    department = gateway.registry.matters["refined_oil"].department_code
    office = client_as("county_office")
    operator = client_as("department_operator", department)

    published = office.post("/api/v1/ledger/caps", json={"year": TODAY.year, "per_department": 1, "total": 2,
                                                          "basis": "武陟县涉企行政检查频次上限"})
    assert published.status_code == 201, published.json
    assert published.json["version"] == 1 and published.json["exempt_channels"] == ["case", "complaint", "referral"]
    assert operator.post("/api/v1/ledger/caps", json={"year": TODAY.year, "per_department": 1, "total": 2}
                         ).status_code == 403
    public = client.get("/api/v1/ledger/caps").json["items"]
    assert [c["per_department"] for c in public] == [1]

    first = operator.post("/api/v1/ledger/inspections", json=body(uscc, department))
    assert first.status_code == 201, first.json
    assert first.json["source"] == "api" and first.json["channel_label"] == "专项检查"
    assert (first.json["total_this_year"], first.json["over_caps"]) == (1, [])

    over = operator.post("/api/v1/ledger/inspections", json=body(uscc, department, reference="ZX-2"))
    assert over.status_code == 422 and over.json["code"] == "over_cap_reason_required"
    assert "over_cap_reason" in over.json["errors"]
    reasoned = operator.post("/api/v1/ledger/inspections", json=body(
        uscc, department, reference="ZX-2", over_cap_reason="发现重大事故隐患，依法复查"))
    assert reasoned.status_code == 201 and reasoned.json["over_caps"] == ["per_department"]
    complaint = operator.post("/api/v1/ledger/inspections", json=body(uscc, department, channel="complaint",
                                                                       reference="TS-1"))
    assert complaint.status_code == 201 and complaint.json["counted"] is False

    ledger = operator.get(f"/api/v1/ledger/targets/{uscc}").json
    assert sorted(e["channel"] for e in ledger["entries"]) == ["complaint", "special", "special"]
    assert ledger["total"] == 2 and ledger["at_cap"] is True and ledger["caps"]["total"] == 2
    flagged = office.get("/api/v1/ledger/inspections", query_string={"over_cap": "true"}).json
    assert [item["reference"] for item in flagged["items"]] == ["ZX-2"]
    assert client.get(f"/api/v1/ledger/targets/{uscc}").status_code == 401


def test_bad_registrations_are_refused_and_nothing_is_written(gateway, client_as):
    directory = build_directory(gateway)
    uscc = directory["targets"]["refined_oil"][0]
    department = gateway.registry.matters["refined_oil"].department_code
    other = next(code for code in gateway.registry.departments if code != department)
    operator = client_as("department_operator", department)
    cases = [
        (body(uscc, department, channel="drawn"), 422, "channel"),
        (body(uscc, department, legal_reason_code=""), 422, "legal_reason_code"),
        (body(uscc, department, inspected_on="2099-01-01"), 422, "inspected_on"),
        (body("91410822MA00000000", department), 422, "uscc"),
        (body(uscc, department, unknown="x"), 422, "unknown"),
        (body(uscc, other), 403, None),
    ]
    for data, status, field in cases:
        response = operator.post("/api/v1/ledger/inspections", json=data)
        assert response.status_code == status, (data, response.json)
        if field:
            assert field in response.json["errors"], response.json
    assert registered_count(gateway) == 0
    assert operator.post("/api/v1/ledger/inspections", json=body(uscc, department)).status_code == 201
    duplicate = operator.post("/api/v1/ledger/inspections", json=body(uscc, department))
    assert duplicate.status_code == 409 and "reference" in duplicate.json["errors"]
    assert registered_count(gateway) == 1


def test_the_ledger_export_lists_every_channel(gateway, client_as):
    import io

    from openpyxl import load_workbook

    directory = build_directory(gateway)
    uscc = directory["targets"]["refined_oil"][0]
    department = gateway.registry.matters["refined_oil"].department_code
    operator = client_as("department_operator", department)
    assert operator.post("/api/v1/ledger/inspections", json=body(uscc, department)).status_code == 201
    assert operator.post("/api/v1/ledger/inspections", json=body(uscc, department, channel="complaint",
                                                                  reference="TS-9")).status_code == 201
    csv = operator.get("/api/v1/ledger/export", query_string={"year": TODAY.year, "format": "csv"})
    assert csv.status_code == 200
    text = csv.get_data().decode("utf-8-sig")
    assert "检查渠道" in text.splitlines()[0] and "专项检查" in text and "投诉举报核查" in text
    book = load_workbook(io.BytesIO(operator.get("/api/v1/ledger/export", query_string={"year": TODAY.year}).data))
    values = [row for row in book.active.iter_rows(values_only=True) if row and row[1] == uscc]
    assert sorted(row[3] for row in values) == ["专项检查", "投诉举报核查"]
    assert client_as("inspector", inspector_id=directory["inspectors"][department][0]).get(
        "/api/v1/ledger/export", query_string={"year": TODAY.year}).status_code == 403
