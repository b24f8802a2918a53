"""Fixtures of the sync tests: the mock platform in process, settings pointing at it, a clock the
tests move by hand (never the wall clock), and a factory of workers."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

import mock_platform
from gateway.config import Settings
from gateway.db import utcnow
from gateway.sync.client import PlatformClient
from gateway.sync.worker import Worker

PLATFORM_URL = "http://platform.sync-test"


class Clock:
    """A hand-moved UTC clock for leases and retry times. It starts a minute ahead of the rows the
    test then publishes (their ``next_attempt_at`` is the real time of publication), so they are due."""

    def __init__(self, start: datetime | None = None):
        self.now = start or utcnow() + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def platform():
    with mock_platform.mocked(PLATFORM_URL) as handle:
        yield handle


@pytest.fixture
def settings(tmp_path, database_url, platform) -> Settings:
    return Settings(
        instance_path=tmp_path / "instance", database_url=database_url, secret_key="test-secret",
        platform_url=platform.base_url, platform_access_key=platform.access_key, platform_secret=platform.secret,
        sync_connect_timeout=1.0, sync_read_timeout=2.0, sync_lease_seconds=30,
        sync_backoff_base=1.0, sync_backoff_max=60.0, sync_retry_after_max=30.0, sync_poll_seconds=0.05,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_worker(gateway, clock):
    """``make_worker(**kwargs)``: a worker on the test gateway with the test clock and a seeded rng."""
    made = []

    def make(**kwargs) -> Worker:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("rng", random.Random(len(made)))
        worker = Worker(gateway, PlatformClient.from_settings(gateway.settings), **kwargs)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.client.close()
