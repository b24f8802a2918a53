"""The OpenAPI document in schemas/openapi/platform.json matches the route table and the schemas."""
from __future__ import annotations

import re

from mock_platform.openapi import DOCUMENT_PATH, build_openapi, main, render
from mock_platform.routes import ROUTES
from schemas.platform import RECORD_SCHEMAS


def test_the_stored_document_has_not_drifted_from_the_code() -> None:
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == render(), (
        "schemas/openapi/platform.json is out of date: run python -m mock_platform.openapi"
    )
    assert main(["--check"]) == 0


def test_every_route_is_documented_once() -> None:
    document = build_openapi()
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    expected = {(route.method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.rule)) for route in ROUTES}
    assert documented == expected
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_signed_routes_declare_the_signature_headers_and_their_errors() -> None:
    push = build_openapi()["paths"]["/api/v1/inspection-results/batch"]["post"]
    assert push["security"] == [{"AccessKey": [], "Timestamp": [], "Nonce": [], "Signature": []}]
    assert {"200", "400", "401", "413", "415", "422", "429", "5XX"} <= set(push["responses"])
    assert "nonce_reused" in push["responses"]["401"]["description"]
    assert any(p["name"] == "Idempotency-Key" for p in push["parameters"])
    body = push["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/InspectionResultsBatchRequest"}


def test_the_record_schemas_carry_their_chinese_titles_and_rules() -> None:
    schemas = build_openapi()["components"]["schemas"]
    for name in RECORD_SCHEMAS.values():
        assert name.__name__.removesuffix("Schema") in schemas
    result = schemas["InspectionResultRecord"]["properties"]
    assert result["uscc"]["title"] == "统一社会信用代码"
    assert result["completed_on"]["x-not-future"] is True
    assert "B" in result["result_codes"]["items"]["enum"]
