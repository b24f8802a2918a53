"""The in-process transport: context manager, decorator, base URL, pass-through, your own RequestsMock."""
from __future__ import annotations

import pytest
import requests
import responses

import mock_platform
from mock_platform.server_process import ServerPlatform
from mock_platform.tests.builders import TIMEOUT, inspection, push
from schemas.signing import PlatformAuth

HEALTH = "/_control/health"


def test_the_context_manager_serves_a_fresh_platform_and_stops_after() -> None:
    with mock_platform.mocked() as platform:
        assert platform.base_url == mock_platform.DEFAULT_BASE_URL
        push(platform, "inspection-results", [inspection()])
        assert platform.backend.store.count_records()["pushed"] == 1
    with pytest.raises(requests.ConnectionError):
        requests.get(mock_platform.DEFAULT_BASE_URL + HEALTH, timeout=TIMEOUT)
    with mock_platform.mocked() as platform:
        assert platform.control.health()["records"]["pushed"] == 0


@mock_platform.mocked()
def test_the_decorator_serves_the_default_url_and_credentials() -> None:
    control = mock_platform.ControlClient(mock_platform.DEFAULT_BASE_URL)
    assert control.health()["status"] == "ok"
    session = requests.Session()
    session.auth = PlatformAuth(mock_platform.DEFAULT_ACCESS_KEY, mock_platform.DEFAULT_SECRET)
    response = session.get(mock_platform.DEFAULT_BASE_URL + "/api/v1/plans", timeout=TIMEOUT)
    assert response.status_code == 200


def test_a_custom_base_url_and_credentials() -> None:
    with mock_platform.mocked("https://gsxt.henan.test:8443", credentials={"wuzhi": "wuzhi-secret"}) as platform:
        assert (platform.access_key, platform.secret) == ("wuzhi", "wuzhi-secret")
        assert push(platform, "inspection-results", [inspection()]).status_code == 200
        assert requests.get("https://gsxt.henan.test:8443" + HEALTH, timeout=TIMEOUT).status_code == 200


def test_a_base_url_with_a_path_is_refused() -> None:
    with pytest.raises(ValueError):
        mock_platform.mocked("http://platform.mock/api")


def test_the_same_block_cannot_be_entered_twice() -> None:
    block = mock_platform.mocked()
    with block:
        with pytest.raises(RuntimeError):
            block.__enter__()


def test_a_shared_backend_keeps_state_between_blocks() -> None:
    backend = mock_platform.Backend()
    with mock_platform.mocked(backend=backend) as platform:
        push(platform, "inspection-results", [inspection()])
    with mock_platform.mocked(backend=backend) as platform:
        assert platform.control.health()["records"]["pushed"] == 1


def test_other_hosts_pass_through(mock_platform_server_process: ServerPlatform) -> None:
    with mock_platform.mocked():
        real = requests.get(mock_platform_server_process.url(HEALTH), timeout=TIMEOUT)
    assert real.status_code == 200


def test_the_platform_joins_a_requests_mock_you_run() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, "http://other.test/ping", json={"pong": True})
        with mock_platform.mocked(responses_mock=rsps) as platform:
            assert platform.control.health()["status"] == "ok"
            assert requests.get("http://other.test/ping", timeout=TIMEOUT).json() == {"pong": True}
        with pytest.raises(requests.ConnectionError):
            requests.get(mock_platform.DEFAULT_BASE_URL + HEALTH, timeout=TIMEOUT)


def test_a_fake_clock_drives_signatures_and_dates() -> None:
    now = [1_716_800_000.0]
    backend = mock_platform.Backend(clock=lambda: now[0])
    with mock_platform.mocked(backend=backend) as platform:
        session = platform.session()
        session.auth = PlatformAuth(platform.access_key, platform.secret, clock=lambda: now[0])
        ok = session.post(platform.url("/api/v1/inspection-results/batch"), timeout=TIMEOUT,
                          json={"records": [inspection(completed_on="2024-05-27")]})
        assert ok.json()["results"][0]["outcome"] == "accepted"
        assert ok.json()["received_at"].startswith("2024-05-27T")
        late = session.post(platform.url("/api/v1/inspection-results/batch"), timeout=TIMEOUT,
                            json={"records": [inspection(2, completed_on="2024-05-28")]})
        assert late.json()["results"][0]["errors"][0]["code"] == "future_date"
