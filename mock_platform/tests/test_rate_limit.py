"""The rate limit: 429 with Retry-After beyond the configured rate, per access key."""
from __future__ import annotations

from mock_platform.client import PlatformHandle
from mock_platform.tests.builders import TIMEOUT
from schemas.signing import PlatformAuth


def list_plans(platform: PlatformHandle, auth: PlatformAuth | None = None) -> object:
    session = platform.session()
    if auth is not None:
        session.auth = auth
    return session.get(platform.url("/api/v1/plans"), timeout=TIMEOUT)


def test_requests_beyond_the_burst_get_429_with_retry_after(platform: PlatformHandle) -> None:
    platform.control.update_settings(rate_limit_per_second=0.01, rate_limit_burst=3)
    statuses = [list_plans(platform).status_code for _ in range(3)]
    limited = list_plans(platform)
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) == limited.json()["retry_after"] >= 1


def test_each_access_key_has_its_own_bucket(platform: PlatformHandle) -> None:
    platform.control.update_settings(rate_limit_per_second=0.01, rate_limit_burst=1)
    platform.control.add_credentials("county-b", "county-b-secret")
    assert list_plans(platform).status_code == 200
    assert list_plans(platform).status_code == 429
    assert list_plans(platform, PlatformAuth("county-b", "county-b-secret")).status_code == 200


def test_the_limit_can_be_switched_off(platform: PlatformHandle) -> None:
    platform.control.update_settings(rate_limit_per_second=None, rate_limit_burst=1)
    assert {list_plans(platform).status_code for _ in range(5)} == {200}


def test_the_bucket_refills_at_the_configured_rate() -> None:
    from mock_platform.ratelimit import RateLimiter

    now = [1000.0]
    limiter = RateLimiter(rate=0.5, burst=2, clock=lambda: now[0])
    assert [limiter.acquire("k") for _ in range(3)] == [0, 0, 2]
    now[0] += 2.0
    assert limiter.acquire("k") == 0
    assert limiter.acquire("k") == 2
