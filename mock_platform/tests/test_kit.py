"""What moto and pytest-httpserver users expect: recording, expectations, targeted faults, broken answers."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import requests

import mock_platform
from mock_platform.client import PlatformHandle
from mock_platform.control_schemas import RequestLogSchema
from mock_platform.tests.builders import TIMEOUT, inspection, plan, push

LIST = "/api/v1/plans"


# --- recording ----------------------------------------------------------------------------------

def test_every_call_is_recorded_with_its_answer_and_secrets_masked(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection()], headers={"Idempotency-Key": "k1"})
    push(platform, "inspection-results", [inspection()], headers={"Idempotency-Key": "k1"})
    platform.session().get(platform.url(LIST), params={"limit": "5"}, timeout=TIMEOUT)
    calls = platform.calls
    assert RequestLogSchema().validate({"requests": platform.control.requests()}) == {}
    first, replay, listing = calls
    assert first.method == "POST" and first.status == 200 and first.json()["records"][0]["id"] == inspection()["id"]
    assert first.headers["x-ca-signature"] == "***" and first.headers["x-ca-key"] == platform.access_key
    assert first.response_json()["summary"]["accepted"] == 1 and first.replayed is False
    assert replay.replayed is True and replay.response_body == first.response_body
    assert listing.query == [("limit", "5")] and listing.body == ""
    calls.assert_called("POST", "/api/v1/inspection-results/batch", times=2)
    calls.assert_not_called("GET", "/api/v1/follow-ups")
    with pytest.raises(AssertionError, match="expected GET /api/v1/follow-ups"):
        calls.assert_called("GET", "/api/v1/follow-ups")
    assert len(calls.filter(path="/api/v1/*", status=200)) == 3


def test_faults_are_recorded_on_the_call(platform: PlatformHandle) -> None:
    platform.control.set_faults({"errors": {"rates": {"503": 1.0}}})
    push(platform, "inspection-results", [inspection()])
    (call,) = platform.calls
    assert (call.status, call.fault) == (503, "error_503_before")
    assert call.response_json()["code"] == "service_unavailable"


# --- expectations -------------------------------------------------------------------------------

def test_strict_mode_refuses_unexpected_requests_and_reports_them(platform: PlatformHandle) -> None:
    platform.control.set_expectations([{"method": "GET", "path": LIST, "times": 1}], strict=True)
    assert platform.session().get(platform.url(LIST), timeout=TIMEOUT).status_code == 200
    unexpected = platform.session().get(platform.url("/api/v1/follow-ups"), timeout=TIMEOUT)
    assert unexpected.status_code == 501 and unexpected.json()["code"] == "unexpected_request"
    with pytest.raises(AssertionError, match="unexpected request #2: GET /api/v1/follow-ups"):
        platform.assert_all_requests_are_fired()
    platform.control.clear_expectations()  # else the fixture's teardown check fails this test


def test_unfired_expectations_fail_the_check(platform: PlatformHandle) -> None:
    platform.expect("GET", LIST, times=2)
    platform.expect("POST", "/api/v1/plans/batch")
    platform.session().get(platform.url(LIST), timeout=TIMEOUT)
    with pytest.raises(AssertionError) as failed:
        platform.assert_all_requests_are_fired()
    assert "GET /api/v1/plans 2 time(s), got 1" in str(failed.value)
    assert "POST /api/v1/plans/batch 1 time(s), got 0" in str(failed.value)
    platform.session().get(platform.url(LIST), timeout=TIMEOUT)
    push(platform, "plans", [plan()])
    platform.assert_all_requests_are_fired()


def test_ordered_expectations_refuse_a_request_that_skips_ahead(platform: PlatformHandle) -> None:
    platform.control.set_expectations([
        {"method": "POST", "path": "/api/v1/plans/batch"},
        {"method": "GET", "path": "/api/v1/plans/*", "times": None},
    ], ordered=True)
    early = platform.session().get(platform.url("/api/v1/plans/plan-1"), timeout=TIMEOUT)
    assert early.status_code == 501 and early.json()["reason"] == "out_of_order"
    push(platform, "plans", [plan()])
    assert platform.session().get(platform.url("/api/v1/plans/" + plan()["id"]), timeout=TIMEOUT).status_code == 200
    report = platform.control.expectations()
    assert report["unmet"] == [] and report["unexpected"][0]["reason"] == "out_of_order" and not report["satisfied"]
    platform.control.clear_expectations()


def test_a_mocked_block_checks_its_expectations_on_exit() -> None:
    with pytest.raises(AssertionError, match="expected GET /api/v1/plans"):
        with mock_platform.mocked() as platform:
            platform.expect("GET", LIST)
    with mock_platform.mocked(strict=True) as platform:
        platform.expect("GET", LIST)
        platform.session().get(platform.url(LIST), timeout=TIMEOUT)


# --- targeted faults ------------------------------------------------------------------------------

def test_the_next_n_requests_of_a_method_fail(platform: PlatformHandle) -> None:
    platform.control.set_faults({"targeted": [{"fault": "error", "status": 502, "times": 2, "method": "POST"}]})
    session = platform.session()
    assert session.get(platform.url(LIST), timeout=TIMEOUT).status_code == 200
    statuses = [push(platform, "plans", [plan()]).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]


def test_a_targeted_fault_by_record_kind_and_id(platform: PlatformHandle) -> None:
    platform.control.set_faults({"targeted": [
        {"fault": "drop", "kind": "inspection-results", "record_id": inspection(2)["id"]},
    ]})
    assert push(platform, "inspection-results", [inspection(1)]).status_code == 200
    with pytest.raises(requests.ConnectionError):
        push(platform, "inspection-results", [inspection(2)])
    assert platform.control.received()["records"][1]["stored"] is True  # a drop strikes after processing
    assert push(platform, "inspection-results", [inspection(2)]).json()["results"][0]["outcome"] == "duplicate"
    assert [t["times"] for t in platform.control.faults()["targeted"]] == [0]


# --- broken answers -----------------------------------------------------------------------------------

def test_an_html_502_from_a_proxy(platform: PlatformHandle) -> None:
    platform.control.set_faults({"targeted": [{"fault": "html_502"}]})
    response = push(platform, "plans", [plan()])
    assert response.status_code == 502 and response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()
    assert platform.control.health()["records"]["pushed"] == 1


def test_a_200_that_is_not_json(platform: PlatformHandle) -> None:
    platform.control.set_faults({"broken": {"rates": {"not_json": 1.0}}})
    response = platform.session().get(platform.url(LIST), timeout=TIMEOUT)
    assert response.status_code == 200 and "系统维护中" in response.text
    with pytest.raises(ValueError):
        response.json()


def test_a_truncated_body(platform: PlatformHandle) -> None:
    platform.control.set_faults({"targeted": [{"fault": "truncated"}]})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        push(platform, "plans", [plan()])
    (call,) = platform.calls
    assert call.fault == "truncated_after" and call.status == 200


def test_a_slow_body_times_out_a_short_read_timeout_and_arrives_for_a_patient_client(platform: PlatformHandle) -> None:
    platform.control.set_faults({"targeted": [{"fault": "slow_body", "times": 2, "seconds": 1.5}]})
    session = platform.session()
    with pytest.raises(requests.ConnectionError):
        session.get(platform.url(LIST), timeout=(5, 0.3))
    assert session.get(platform.url(LIST), timeout=10).json() == {"items": [], "next_after": None}


# --- the control API takes only real booleans ------------------------------------------------------

@pytest.mark.parametrize("value", ["yes", 0, 1, "true", None])
def test_control_booleans_are_strict(platform: PlatformHandle, value: object) -> None:
    with pytest.raises(mock_platform.ControlError) as refused:
        platform.control.update_settings(require_known_entities=value)
    assert refused.value.body["errors"][0]["field"] == "require_known_entities"


def test_405_names_the_allowed_methods(platform: PlatformHandle) -> None:
    response = requests.delete(platform.url("/api/v1/openapi.json"), timeout=TIMEOUT)
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"
    assert response.json()["code"] == "method_not_allowed"


# --- no import cycle among mock_platform's modules ------------------------------------------------------

PACKAGE = Path(mock_platform.__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    """Every mock_platform module ``path`` imports, at any depth of its code (TYPE_CHECKING included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("mock_platform.")}


def test_no_import_cycle_among_the_modules() -> None:
    modules = {
        ".".join(("mock_platform", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py") if "tests" not in path.relative_to(PACKAGE).parts
    }
    graph = {name: imported_modules(path) & set(modules) - {name} for name, path in modules.items()}
    for name in list(graph):
        if name == "mock_platform" or name.count(".") == 1 and modules[name].name == "__init__.py":
            graph[name] = set()  # package __init__ files only re-export

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return trail + [start]
                if nxt not in trail:
                    stack.append((nxt, trail + [nxt]))
        return None

    cycles = [c for c in (cycle_from(name) for name in graph) if c]
    assert cycles == [], " ; ".join(" -> ".join(c) for c in cycles)
    assert "mock_platform.routes" not in graph["mock_platform.backend"]


def test_the_served_openapi_document_is_the_published_one(platform: PlatformHandle) -> None:
    served = requests.get(platform.url("/api/v1/openapi.json"), timeout=TIMEOUT).json()
    assert served == json.loads((PACKAGE.parent / "schemas" / "openapi" / "platform.json").read_text(encoding="utf-8"))
