"""Fault injection: errors, drops and hangs before or after processing, latency, 429 bursts, repeatability."""
from __future__ import annotations

import pytest
import requests

from mock_platform.client import PlatformHandle
from mock_platform.faults import FaultConfig, FaultSchedule
from mock_platform.tests.builders import TIMEOUT, inspection, push

LIST = "/api/v1/plans"


def statuses(platform: PlatformHandle, count: int) -> list[int | str]:
    """Status of ``count`` signed GETs, or the name of the exception a fault raised."""
    session, seen = platform.session(), []
    for _ in range(count):
        try:
            seen.append(session.get(platform.url(LIST), timeout=TIMEOUT).status_code)
        except requests.RequestException as error:
            seen.append(type(error).__name__)
    return seen


def stored(platform: PlatformHandle) -> int:
    return platform.control.health()["records"]["pushed"]


def test_an_error_before_processing_stores_nothing(platform: PlatformHandle) -> None:
    platform.control.set_faults({"errors": {"rates": {"503": 1.0}}})
    response = push(platform, "inspection-results", [inspection()])
    assert response.status_code == 503
    assert response.json() == {"code": "service_unavailable", "message": "服务暂不可用，请稍后重试", "injected": True}
    assert stored(platform) == 0
    assert platform.control.requests()[0]["fault"] == "error_503_before"


def test_an_error_after_processing_hides_a_stored_answer_that_a_retry_replays(platform: PlatformHandle) -> None:
    platform.control.set_faults({"errors": {"rates": {"500": 1.0}, "phase": "after"}})
    first = push(platform, "inspection-results", [inspection()], headers={"Idempotency-Key": "b1"})
    assert first.status_code == 500 and first.json()["code"] == "internal_error"
    assert stored(platform) == 1
    platform.control.clear_faults()
    retry = push(platform, "inspection-results", [inspection()], headers={"Idempotency-Key": "b1"})
    assert retry.headers["Idempotency-Replayed"] == "true"
    assert retry.json()["results"][0]["outcome"] == "accepted"


def test_other_statuses_get_a_generic_injected_error(platform: PlatformHandle) -> None:
    platform.control.set_faults({"errors": {"rates": {"418": 1.0}}})
    assert push(platform, "inspection-results", [inspection()]).json()["code"] == "injected_error"


@pytest.mark.parametrize("phase, kept", [("before", 0), ("after", 1)])
def test_a_dropped_connection_before_or_after_processing(platform: PlatformHandle, phase: str, kept: int) -> None:
    platform.control.set_faults({"drops": {"rate": 1.0, "phase": phase}})
    with pytest.raises(requests.ConnectionError):
        push(platform, "inspection-results", [inspection()])
    assert stored(platform) == kept
    assert platform.control.requests()[0]["status"] is None
    assert platform.control.requests()[0]["fault"] == f"drop_{phase}"


@pytest.mark.parametrize("phase, kept", [("before", 0), ("after", 1)])
def test_a_hung_request_outlasts_the_client_timeout(platform: PlatformHandle, phase: str, kept: int) -> None:
    platform.control.set_faults({"hangs": {"rate": 1.0, "seconds": 1.0, "phase": phase}})
    with pytest.raises(requests.ReadTimeout):
        push(platform, "inspection-results", [inspection()], timeout=0.2)
    assert stored(platform) == kept


def test_a_hang_shorter_than_the_timeout_ends_in_a_dropped_connection(platform: PlatformHandle) -> None:
    platform.control.set_faults({"hangs": {"rate": 1.0, "seconds": 0.05}})
    with pytest.raises(requests.ConnectionError) as caught:
        push(platform, "inspection-results", [inspection()], timeout=5)
    assert not isinstance(caught.value, requests.ReadTimeout)


def test_latency_is_added_and_logged(platform: PlatformHandle) -> None:
    platform.control.set_faults({"latency_ms": 20})
    assert statuses(platform, 1) == [200]
    assert platform.control.requests()[0]["fault"] == "latency_20ms"


def test_429_bursts_follow_their_period_with_retry_after(platform: PlatformHandle) -> None:
    platform.control.set_faults({"bursts": {"every": 4, "length": 2, "retry_after": 3}})
    assert statuses(platform, 8) == [200, 200, 429, 429, 200, 200, 429, 429]
    response = platform.session().get(platform.url(LIST), timeout=TIMEOUT)
    assert response.status_code == 200
    platform.control.set_faults({"bursts": {"every": 1, "length": 1, "retry_after": 3}})
    limited = platform.session().get(platform.url(LIST), timeout=TIMEOUT)
    assert limited.headers["Retry-After"] == "3" and limited.json()["code"] == "rate_limited"


def test_the_same_seed_repeats_the_same_schedule(platform: PlatformHandle) -> None:
    config = {"seed": 2024, "errors": {"rates": {"500": 0.2, "503": 0.2}}, "drops": {"rate": 0.2, "phase": "before"}}
    platform.control.set_faults(config)
    first = statuses(platform, 20)
    platform.control.set_faults(config)
    second = statuses(platform, 20)
    platform.control.set_faults({**config, "seed": 2025})
    other = statuses(platform, 20)
    assert first == second
    assert first != other
    assert 200 in first and set(first) - {200}


def test_faults_apply_only_within_their_scope(platform: PlatformHandle) -> None:
    platform.control.set_faults({"errors": {"rates": {"503": 1.0}}, "scope": "/api/v1/inspection-results/"})
    assert push(platform, "inspection-results", [inspection()]).status_code == 503
    assert statuses(platform, 1) == [200]


def test_control_endpoints_never_fail(platform: PlatformHandle) -> None:
    platform.control.set_faults({"drops": {"rate": 1.0}, "scope": "/"})
    assert platform.control.health()["status"] == "ok"
    assert statuses(platform, 1) == ["ConnectionError"]


def test_the_schedule_draws_one_number_per_request() -> None:
    schedule = FaultSchedule(FaultConfig(seed=5, drop_rate=0.5, burst_every=3, burst_length=1))
    kinds = [schedule.decide().kind for _ in range(9)]
    assert kinds[2::3] == ["burst"] * 3
    replay = FaultSchedule(FaultConfig(seed=5, drop_rate=0.5, burst_every=3, burst_length=1))
    assert [replay.decide().kind for _ in range(9)] == kinds
    assert FaultSchedule().decide().label is None
