"""The integrator's journey: each item of issue 21, against both transports, with an own signer."""
from __future__ import annotations

import datetime
import hashlib
import json
import time
from urllib.parse import quote

import pytest
import requests
import responses

import mock_platform

BATCH = "/api/v1/inspection-results/batch"
DRAWS = "/api/v1/draw-results/batch"


def push(client, platform, records, path=BATCH, **kwargs):
    return client.post(platform.url(path), json={"records": records}, timeout=10, **kwargs)


def test_the_guides_worked_signature_example(signing) -> None:
    string_to_sign, signature = signing
    text = string_to_sign("POST", "http://h/api/v1/inspection-results/batch", "1716800000000",
                          "3f2a9c0e5b7d41e8a6c2f0b9d8e7a6c5", b'{"records":[]}')
    assert signature("mock-secret", text) == "VvIpPKjSkZ/F1Rgu1uBo9Fr8dm5SuladBy12Da/GNbs="


@pytest.mark.parametrize("uscc", ["N2410823MA4XY8123F", "Y1410823MA4XY8123A", "A1410823MA4XY8123Y", "9Y410823MA4XY81236"])
def test_codes_with_letters_in_front_are_accepted(platform, client, make_result, uscc) -> None:
    assert push(client, platform, [make_result(uscc=uscc)]).json()["summary"]["accepted"] == 1


def test_null_matters_and_omitted_matters_are_the_same_and_the_digest_can_be_recomputed(platform, client) -> None:
    draw = {"id": "d-1", "plan_number": "P", "plan_name": "计划", "task_number": "T", "task_name": "任务",
            "organiser": "武陟县市场监督管理局", "drawn_on": "2024-05-20",
            "targets": [{"uscc": "91410823000000003F", "name": "某公司"}]}
    nulled = {**draw, "targets": [{"uscc": "91410823000000003F", "name": "某公司", "matters": None}]}
    assert [push(client, platform, [r], DRAWS).json()["results"][0]["outcome"] for r in (draw, nulled)] == ["accepted", "duplicate"]
    stored = client.get(platform.url("/api/v1/draw-results/d-1"), timeout=10).json()
    mine = {**draw, "targets": [{"uscc": "91410823000000003F", "name": "某公司", "matters": []}],
            "record_sha256": None, "record_url": None}
    digest = hashlib.sha256(json.dumps(mine, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert stored["content_sha256"] == digest


def test_a_plan_number_with_slashes_reads_back(platform, client) -> None:
    plan = {"id": "p-1", "plan_number": "WZ/2024/01", "plan_name": "计划", "plan_type": "joint", "organiser": "武陟县人民政府",
            "departments": ["武陟县市场监督管理局"], "year": 2024, "start_date": "2024-03-01", "end_date": "2024-11-30",
            "published_on": "2024-02-20", "matters": [{"code": "M1", "name": "事项"}]}
    assert push(client, platform, [plan], "/api/v1/plans/batch").json()["summary"]["accepted"] == 1
    read = requests.get(platform.url("/api/v1/public/plans/" + quote("WZ/2024/01", safe="")), timeout=10)
    assert read.status_code == 200 and read.json()["plan_number"] == "WZ/2024/01"


@responses.activate
def test_the_fixture_inside_responses_activate(mock_platform, make_result, make_signer) -> None:
    responses.add(responses.GET, "http://partner.test/x", json={"ok": 1})
    client = requests.Session()
    client.auth = make_signer(mock_platform.access_key, mock_platform.secret)
    assert push(client, mock_platform, [make_result()]).status_code == 200
    assert requests.get("http://partner.test/x", timeout=10).json() == {"ok": 1}


@mock_platform.mocked()
class TestDecoratedClass:
    def test_one(self) -> None:
        assert requests.get(mock_platform.DEFAULT_BASE_URL + "/_control/health", timeout=10).json()["records"]["pushed"] == 0

    def test_two(self) -> None:
        assert requests.get(mock_platform.DEFAULT_BASE_URL + "/api/v1/openapi.json", timeout=10).status_code == 200


def test_a_datetime_clock_in_process(make_result, make_signer) -> None:
    with mock_platform.mocked(clock=datetime.datetime(2024, 5, 21, 9, 0)) as platform:
        client = requests.Session()
        client.auth = make_signer(platform.access_key, platform.secret, clock=lambda: datetime.datetime(
            2024, 5, 21, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8))).timestamp())
        answer = push(client, platform, [make_result(), make_result(2, completed_on="2024-05-22")]).json()
    assert answer["results"][0]["receipt"].startswith("HA20240521")
    assert answer["results"][1]["errors"][0]["code"] == "future_date"


def test_the_clock_over_http(platform, make_result, make_signer) -> None:
    state = requests.put(platform.url("/_control/clock"), json={"now": "2024-05-21T09:00:00+08:00", "frozen": True}, timeout=10).json()
    client = requests.Session()
    client.auth = make_signer(platform.access_key, platform.secret, clock=lambda: state["epoch_ms"] / 1000)
    answer = push(client, platform, [make_result(completed_on="2024-05-22")]).json()
    assert answer["results"][0]["errors"][0]["code"] == "future_date"


def test_the_document_is_as_strict_as_the_mock(platform) -> None:
    document = requests.get(platform.url("/api/v1/openapi.json"), timeout=10).json()
    limit = next(p for p in document["paths"]["/api/v1/plans"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 1000)
    assert "injected_error" in document["paths"]["/api/v1/public/plans/{plan_number}"]["get"]["responses"]["4XX"]["description"]
    refused = requests.patch(platform.url("/_control/settings"), json={"require_known_entities": "yes"}, timeout=10)
    assert refused.status_code == 400
    wrong = requests.delete(platform.url("/api/v1/openapi.json"), timeout=10)
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]


def test_the_skew_message_rounds_up(platform, make_signer) -> None:

    client = requests.Session()
    client.auth = make_signer(platform.access_key, platform.secret, clock=lambda: time.time() - 300.5)
    answer = client.get(platform.url("/api/v1/plans"), timeout=10).json()
    assert answer["code"] == "timestamp_skew" and "超过允许的 300 秒" in answer["message"]
    assert "相差 300 秒" not in answer["message"]


def test_a_plus_in_the_query_signs_as_a_space(platform, client) -> None:
    assert client.get(platform.url("/api/v1/plans?limit=1&x=a+b"), timeout=10).status_code == 200


def test_the_replay_compares_bytes_and_a_keyed_415_is_not_kept(platform, client, make_result) -> None:
    body = json.dumps({"records": [make_result()]}).encode()
    url, key = platform.url(BATCH), {"Idempotency-Key": "k-1"}
    assert client.post(url, data=body, headers={**key, "Content-Type": "text/plain"}, timeout=10).status_code == 415
    first = client.post(url, data=body, headers={**key, "Content-Type": "application/json"}, timeout=10)
    again = client.post(url, data=body, headers={**key, "Content-Type": "application/json"}, timeout=10)
    assert first.status_code == 200 and again.headers["Idempotency-Replayed"] == "true"
    respaced = json.dumps({"records": [make_result()]}, indent=1).encode()
    assert client.post(url, data=respaced, headers={**key, "Content-Type": "application/json"}, timeout=10).status_code == 422


@pytest.mark.parametrize("phase", ["before", "after"])
def test_resending_the_same_headers_is_caught_after_processing(platform, make_result, phase, make_signer) -> None:
    signed = requests.Request("POST", platform.url(BATCH), json={"records": [make_result()]},
                              auth=make_signer(platform.access_key, platform.secret)).prepare()
    platform.control.set_faults({"errors": {"rates": {"503": 1.0}, "phase": phase}})
    assert requests.Session().send(signed, timeout=10).status_code == 503
    platform.control.clear_faults()
    again = requests.Session().send(signed, timeout=10)
    assert again.status_code == (200 if phase == "before" else 401)


def test_recording_expectations_and_targeted_faults(platform, client, make_result) -> None:
    platform.expect("POST", BATCH, times=2)
    platform.control.set_faults({"targeted": [{"fault": "error", "status": 503, "record_id": "r-1"}]})
    assert push(client, platform, [make_result()]).status_code == 503
    assert push(client, platform, [make_result()]).status_code == 200
    calls = platform.calls
    calls.assert_called("POST", BATCH, times=2)
    assert calls[0].fault == "error_503_before" and calls[0].headers["x-ca-signature"] == "***"
    assert calls[1].response_json()["summary"]["accepted"] == 1
    platform.assert_all_requests_are_fired()


def test_strict_mode_fails_an_unexpected_request(platform, client) -> None:
    requests.put(platform.url("/_control/expectations"), json={"strict": True, "expectations": []}, timeout=10)
    assert client.get(platform.url("/api/v1/plans"), timeout=10).json()["code"] == "unexpected_request"
    with pytest.raises(AssertionError):
        platform.assert_all_requests_are_fired()
    requests.delete(platform.url("/_control/expectations"), timeout=10)


@pytest.mark.parametrize("fault, error", [
    ("html_502", None), ("not_json", None), ("truncated", requests.exceptions.ChunkedEncodingError),
])
def test_broken_answers(platform, client, make_result, fault, error) -> None:
    platform.control.set_faults({"targeted": [{"fault": fault}]})
    if error is not None:
        with pytest.raises(error):
            push(client, platform, [make_result()])
        return
    answer = push(client, platform, [make_result()])
    assert answer.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        answer.json()


def test_a_slow_body_beyond_the_read_timeout(platform, client) -> None:
    platform.control.set_faults({"targeted": [{"fault": "slow_body", "seconds": 1.0}]})
    with pytest.raises(requests.ConnectionError):
        client.get(platform.url("/api/v1/plans"), timeout=(5, 0.2))
