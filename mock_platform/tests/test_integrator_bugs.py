"""What an outside integrator hit (issue 21, bugs 1-8), each on both transports where a transport is involved."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
import requests
import responses

import mock_platform
from mock_platform.client import PlatformHandle
from mock_platform.ledger import content_sha256
from mock_platform.tests.builders import TIMEOUT, draw_result, inspection, plan, push
from schemas import uscc
from schemas.platform import parse_uscc
from schemas.signing import PlatformAuth
from schemas.validators import normalise_uscc

REPORTED = ["N2410823MA4XY8123F", "Y1410823MA4XY8123A", "A1410823MA4XY8123Y", "9Y410823MA4XY81236"]


def with_check(first17: str) -> str:
    return first17 + uscc.check_character(first17)


# --- bug 1: one USCC rule ---------------------------------------------------------------------

@pytest.mark.parametrize("prefix", sorted(uscc.REGISTRATION_AUTHORITIES))
def test_every_registration_authority_prefix_is_valid_for_the_mock_and_the_gateway(prefix: str) -> None:
    for type_code in "12359Y":
        code = with_check(f"{prefix}{type_code}410823MA4XY8123")
        assert parse_uscc(code) == code
        assert normalise_uscc(code) == code


@pytest.mark.parametrize("code", REPORTED)
def test_the_reported_codes_are_accepted_by_the_gateway_rule(code: str) -> None:
    assert normalise_uscc(code.lower()) == code


def test_letters_outside_the_alphabet_and_wrong_checks_are_still_refused() -> None:
    for bad, reason in (("I1410823MA4XY8123F", "characters"), ("91A10823MA4XY81236", "characters"),
                        ("N2410823MA4XY8123G", "check"), ("N2410823MA4XY8123", "length")):
        with pytest.raises(uscc.UsccError) as refused:
            uscc.validate(bad)
        assert refused.value.reason == reason


def test_the_reported_codes_are_accepted_on_push_and_public_reads(platform: PlatformHandle) -> None:
    records = [inspection(n, uscc=code) for n, code in enumerate(REPORTED, 1)]
    answer = push(platform, "inspection-results", records).json()
    assert answer["summary"]["accepted"] == 4, answer
    platform.control.seed_entities([{"uscc": REPORTED[0], "name": "武陟县某农民专业合作社", "entity_type": "farmer_cooperative"}])
    read = requests.get(platform.url(f"/api/v1/public/entities/{REPORTED[0]}/inspections"), timeout=TIMEOUT)
    assert read.status_code == 200 and read.json()["count"] == 1


# --- bug 2: null and omitted are the same -----------------------------------------------------

def test_null_and_omitted_matters_are_stored_alike(platform: PlatformHandle) -> None:
    omitted = draw_result(1)
    for target in omitted["targets"]:
        target.pop("matters", None)
    nulled = draw_result(1)
    for target in nulled["targets"]:
        target["matters"] = None
    first = push(platform, "draw-results", [omitted]).json()["results"][0]
    second = push(platform, "draw-results", [nulled]).json()["results"][0]
    assert (first["outcome"], second["outcome"]) == ("accepted", "duplicate")
    stored = platform.session().get(platform.url(f"/api/v1/draw-results/{omitted['id']}"), timeout=TIMEOUT).json()
    assert all(target["matters"] == [] for target in stored["record"]["targets"])
    assert stored["content_sha256"] == content_sha256(stored["record"])


def test_a_null_optional_text_and_an_omitted_one_are_duplicates(platform: PlatformHandle) -> None:
    omitted = inspection(1)
    omitted.pop("remarks", None)
    results = push(platform, "inspection-results", [omitted, inspection(1, remarks=None)]).json()["results"]
    assert [r["outcome"] for r in results] == ["accepted", "duplicate"]


# --- bug 3: numbers containing / --------------------------------------------------------------

def test_plan_and_task_numbers_with_a_slash_can_be_read_back(platform: PlatformHandle) -> None:
    push(platform, "plans", [plan(1, plan_number="WZ/2024/01")])
    push(platform, "draw-results", [draw_result(1, plan_number="WZ/2024/01", task_number="WZ/2024/T/3")])
    read = requests.get(platform.url("/api/v1/public/plans/" + quote("WZ/2024/01", safe="")), timeout=TIMEOUT)
    assert read.status_code == 200 and read.json()["plan_number"] == "WZ/2024/01"
    assert read.json()["draw_results"][0]["task_number"] == "WZ/2024/T/3"
    draw = requests.get(platform.url("/api/v1/public/draw-results/" + quote("WZ/2024/T/3", safe="")), timeout=TIMEOUT)
    assert draw.status_code == 200 and draw.json()["task_number"] == "WZ/2024/T/3"


# --- bug 4: the fixture composes with responses -----------------------------------------------

@responses.activate
def test_the_fixture_works_inside_responses_activate(mock_platform: mock_platform.MockedPlatform) -> None:
    responses.add(responses.GET, "http://other.test/ping", json={"pong": True})
    assert push(mock_platform, "inspection-results", [inspection()]).json()["summary"]["accepted"] == 1
    assert requests.get("http://other.test/ping", timeout=TIMEOUT).json() == {"pong": True}
    assert any(call.request.url.startswith(mock_platform.base_url) for call in responses.calls)


def test_the_fixture_exposes_its_responses_mock(mock_platform: mock_platform.MockedPlatform) -> None:
    assert mock_platform.responses is not None
    mock_platform.responses.add(responses.GET, "http://other.test/ping", json={"pong": True})
    assert requests.get("http://other.test/ping", timeout=TIMEOUT).json() == {"pong": True}


def test_a_mocked_block_inside_responses_activate_joins_the_default_mock() -> None:
    @responses.activate
    def run() -> None:
        responses.add(responses.GET, "http://other.test/ping", json={"pong": True})
        with mock_platform.mocked() as platform:
            assert platform.control.health()["status"] == "ok"
            assert requests.get("http://other.test/ping", timeout=TIMEOUT).json() == {"pong": True}
            with pytest.raises(requests.ConnectionError):
                requests.get("http://unregistered.test/", timeout=TIMEOUT)

    run()


# --- bug 5: class decoration -------------------------------------------------------------------

def test_decorating_a_class_decorates_its_test_methods() -> None:
    seen: list[int] = []

    @mock_platform.mocked()
    class TestSync:
        def test_one(self) -> None:
            control = mock_platform.ControlClient(mock_platform.DEFAULT_BASE_URL)
            seen.append(control.health()["records"]["pushed"])

        def helper(self) -> str:
            return "not decorated"

    assert isinstance(TestSync, type)
    TestSync().test_one()
    TestSync().test_one()
    assert seen == [0, 0]
    assert TestSync().helper() == "not decorated"
    with pytest.raises(requests.ConnectionError):
        requests.get(mock_platform.DEFAULT_BASE_URL + "/_control/health", timeout=TIMEOUT)


# --- bug 6: the clock ------------------------------------------------------------------------

def test_a_datetime_clock_is_accepted_and_a_wrong_one_fails_at_once() -> None:
    at = datetime(2024, 5, 27, 1, 0, tzinfo=timezone.utc)
    backend = mock_platform.Backend(clock=at)
    assert backend.today().isoformat() == "2024-05-27" and backend.clock() == at.timestamp()
    assert mock_platform.Backend(clock=lambda: at).clock() == at.timestamp()
    with pytest.raises(TypeError):
        mock_platform.Backend(clock=lambda: "2024-05-27")  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError):
        mock_platform.mocked(clock="yesterday")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        mock_platform.mocked(backend=backend, clock=at)


def test_the_clock_control_pins_today_for_dates_and_receipts(platform: PlatformHandle) -> None:
    state = platform.control.set_clock("2024-05-27T09:00:00+08:00", frozen=True)
    assert state["now"].startswith("2024-05-27T09:00:00") and state["frozen"] is True
    session = platform.session()
    session.auth = PlatformAuth(platform.access_key, platform.secret, clock=lambda: state["epoch_ms"] / 1000)
    answer = session.post(platform.url("/api/v1/inspection-results/batch"), timeout=TIMEOUT,
                          json={"records": [inspection(1, completed_on="2024-05-27"), inspection(2, completed_on="2024-05-28")]}).json()
    assert [r["outcome"] for r in answer["results"]] == ["accepted", "rejected"]
    assert answer["results"][0]["receipt"].startswith("HA20240527")
    assert answer["results"][1]["errors"][0]["code"] == "future_date"
    assert platform.control.clear_clock()["pinned"] is False
    assert abs(platform.control.clock()["epoch_ms"] / 1000 - time.time()) < 60


# --- bug 8: small things ------------------------------------------------------------------------

def test_the_skew_message_never_says_the_limit_was_exceeded_by_equal_numbers() -> None:
    now = [1_716_800_300.9]
    backend = mock_platform.Backend(clock=lambda: now[0])
    with mock_platform.mocked(backend=backend) as platform:
        session = platform.session()
        session.auth = PlatformAuth(platform.access_key, platform.secret, clock=lambda: 1_716_800_000.0)
        refused = session.get(platform.url("/api/v1/plans"), timeout=TIMEOUT).json()
    assert refused["code"] == "timestamp_skew"
    assert "相差 301 秒，超过允许的 300 秒" in refused["message"]
