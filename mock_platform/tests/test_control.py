"""The control API: reset, settings, credentials, seeding, fault configuration, reports, unknown routes."""
from __future__ import annotations

import pytest
import requests

from mock_platform.client import ControlError, PlatformHandle
from mock_platform.control_schemas import FaultConfigSchema, HealthSchema, ReceivedSchema, RequestLogSchema
from mock_platform.tests.builders import TIMEOUT, inspection, make_uscc, push


def refused(call, *args) -> list[tuple[str | None, str]]:
    with pytest.raises(ControlError) as caught:
        call(*args)
    assert caught.value.status == 400 and caught.value.body["code"] == "invalid_request"
    return [(e["field"], e["code"]) for e in caught.value.body["errors"]]


def test_health_counts_records(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection()])
    health = platform.control.health()
    assert HealthSchema().validate(health) == {}
    assert health["status"] == "ok" and health["records"] == {"pushed": 1, "seeded": 0}


def test_reset_forgets_everything_and_restores_start_up_settings(platform: PlatformHandle) -> None:
    platform.control.add_credentials("county-b", "county-b-secret")
    platform.control.update_settings(max_batch_records=5)
    platform.control.set_faults({"seed": 1, "errors": {"rates": {"500": 0.5}}})
    platform.control.seed_entities([{"uscc": make_uscc(1), "name": "某公司"}])
    push(platform, "inspection-results", [inspection()])
    platform.control.reset()
    assert platform.control.health()["records"] == {"pushed": 0, "seeded": 0}
    assert platform.control.settings()["max_batch_records"] == 100
    assert platform.control.faults()["errors"]["rates"] == {}
    assert platform.control.received()["totals"]["requests"] == 0
    view = requests.get(platform.url(f"/api/v1/public/entities/{make_uscc(1)}/inspections"), timeout=TIMEOUT).json()
    assert view["entity"] is None


def test_settings_are_read_and_patched(platform: PlatformHandle) -> None:
    before = platform.control.settings()
    after = platform.control.update_settings(max_batch_records=7)
    assert after == {**before, "max_batch_records": 7}


def test_invalid_settings_are_refused_with_field_errors(platform: PlatformHandle) -> None:
    assert sorted(refused(lambda: platform.control.update_settings(max_batch_records=0, colour="red", max_clock_skew_seconds="x"))) == [
        ("colour", "unknown_field"), ("max_batch_records", "out_of_range"), ("max_clock_skew_seconds", "invalid_type"),
    ]


def test_invalid_credentials_are_refused(platform: PlatformHandle) -> None:
    assert sorted(refused(platform.control.add_credentials, "a b", "short")) == [
        ("access_key", "invalid_format"), ("secret", "too_short"),
    ]


def test_entities_are_validated(platform: PlatformHandle) -> None:
    assert refused(platform.control.seed_entities, [{"uscc": "1", "name": "x"}]) == [("entities[0].uscc", "invalid_uscc")]


def test_seeding_inspections_is_all_or_nothing(platform: PlatformHandle) -> None:
    errors = refused(platform.control.seed_inspections, [inspection(1, id="ok"), inspection(2, id="bad", uscc="1")])
    assert errors == [("records[1].uscc", "invalid_uscc")]
    assert platform.control.health()["records"]["seeded"] == 0


def test_reseeding_an_id_replaces_the_record(platform: PlatformHandle) -> None:
    platform.control.seed_inspections([inspection(1, id="prov-1", authority_level="province")])
    answer = platform.control.seed_inspections([inspection(1, id="prov-1", authority_level="national")])
    assert answer["seeded"] == 1 and len(answer["receipts"]) == 1
    view = requests.get(platform.url(f"/api/v1/public/entities/{make_uscc(1)}/inspections"), timeout=TIMEOUT).json()
    assert [i["authority_level"] for i in view["inspections"]] == ["national"]
    assert platform.control.received()["totals"]["seeded"] == 1


def test_fault_configuration_round_trips_with_defaults(platform: PlatformHandle) -> None:
    config = platform.control.set_faults({"seed": 9, "errors": {"rates": {"503": 0.25}}, "drops": {"rate": 0.1}})
    assert FaultConfigSchema().validate(config) == {}
    assert config["errors"] == {"rates": {"503": 0.25}, "phase": "before"}
    assert config["drops"] == {"rate": 0.1, "phase": "after"}
    assert platform.control.faults() == config
    platform.control.clear_faults()
    assert platform.control.faults()["drops"]["rate"] == 0.0


@pytest.mark.parametrize("config, error", [
    ({"errors": {"rates": {"503": 0.8}}, "drops": {"rate": 0.3}}, (None, "out_of_range")),
    ({"errors": {"rates": {"200": 0.1}}}, ("errors.rates.200.key", "invalid_format")),
    ({"drops": {"rate": 0.1, "phase": "during"}}, ("drops.phase", "invalid_choice")),
    ({"bursts": {"every": 2, "length": 3}}, ("bursts.length", "out_of_range")),
    ({"hangs": {"seconds": 1000}}, ("hangs.seconds", "out_of_range")),
    ({"scope": "api"}, ("scope", "invalid_format")),
])
def test_invalid_fault_configurations_are_refused(platform: PlatformHandle, config: dict, error: tuple) -> None:
    assert refused(platform.control.set_faults, config) == [error]


def test_received_lists_events_in_order_with_counts(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection(1), inspection(2)])
    push(platform, "inspection-results", [inspection(1), inspection(2, result_codes=["E"]), inspection(3, uscc="1")])
    push(platform, "plans", [{"id": "p"}])
    report = platform.control.received()
    assert ReceivedSchema().validate(report) == {}
    assert [(e["id"], e["outcome"]) for e in report["events"]] == [
        ("result-1", "accepted"), ("result-2", "accepted"),
        ("result-1", "duplicate"), ("result-2", "conflict"), ("result-3", "rejected"), ("p", "rejected"),
    ]
    rows = {r["id"]: r for r in report["records"]}
    assert rows["result-1"] == {"sender": platform.access_key, "kind": "inspection-results", "id": "result-1",
                                "received": 2, "accepted": 1, "duplicate": 1, "conflict": 0, "rejected": 0, "stored": True}
    assert rows["result-3"]["stored"] is False
    assert report["totals"] == {"requests": 3, "replayed": 0, "faults": 0, "received": 6, "accepted": 2,
                                "duplicate": 1, "conflict": 1, "rejected": 2, "stored": 2, "seeded": 0}
    only_plans = platform.control.received("plans")
    assert [e["id"] for e in only_plans["events"]] == ["p"] and only_plans["totals"]["stored"] == 0


def test_received_refuses_an_unknown_kind(platform: PlatformHandle) -> None:
    with pytest.raises(ControlError) as caught:
        platform.control.received("nothing")
    assert caught.value.body["code"] == "invalid_query"


def test_the_request_log_keeps_non_control_requests_in_order(platform: PlatformHandle) -> None:
    push(platform, "inspection-results", [inspection()], headers={"Idempotency-Key": "k1"})
    requests.get(platform.url("/api/v1/public/plans/x"), timeout=TIMEOUT)
    log = platform.control.requests()
    assert RequestLogSchema().validate({"requests": log}) == {}
    assert [(r["method"], r["path"], r["status"], r["access_key"], r["idempotency_key"]) for r in log] == [
        ("POST", "/api/v1/inspection-results/batch", 200, platform.access_key, "k1"),
        ("GET", "/api/v1/public/plans/x", 404, None, None),
    ]


def test_control_bodies_must_be_json(platform: PlatformHandle) -> None:
    response = requests.put(platform.url("/_control/faults"), data="seed=1", timeout=TIMEOUT)
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
    response = requests.put(platform.url("/_control/faults"), data="{", headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert response.status_code == 400 and response.json()["code"] == "invalid_json"


def test_unknown_paths_and_methods_answer_in_json(platform: PlatformHandle) -> None:
    missing = requests.get(platform.url("/api/v2/plans"), timeout=TIMEOUT)
    assert missing.status_code == 404 and missing.json() == {"code": "not_found", "message": "接口不存在：/api/v2/plans"}
    wrong = requests.delete(platform.url("/api/v1/plans/batch"), timeout=TIMEOUT)
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"
    trailing = requests.get(platform.url("/_control/health/"), timeout=TIMEOUT)
    assert trailing.status_code == 404
