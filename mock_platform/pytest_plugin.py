"""pytest fixtures for testing against the mock platform (registered through the ``pytest11`` entry point).

* ``mock_platform``: a fresh in-process platform for each test (``responses``), at
  ``http://platform.mock``; the handle's ``backend`` is the platform itself.
* ``mock_platform_server``: the standalone server in a child process on 127.0.0.1, started
  once per session and reset before each test.

Both give a :class:`mock_platform.PlatformHandle`: ``base_url``, ``access_key``, ``secret``,
``auth``, ``session()``, ``url(path)`` and ``control`` (reset, seed, faults, received, ...).
"""
from __future__ import annotations

from typing import Iterator

import pytest
import responses

from mock_platform.inprocess import MockedPlatform, mocked
from mock_platform.server_process import ServerPlatform


@pytest.fixture
def mock_platform_responses_mock() -> responses.RequestsMock | None:
    """The ``responses.RequestsMock`` the ``mock_platform`` fixture joins; override it to pass in yours.

    ``None`` (the default): inside ``@responses.activate`` the platform joins responses' default mock,
    otherwise it runs its own (``mock_platform.responses``).
    """
    return None


@pytest.fixture
def mock_platform(mock_platform_responses_mock: responses.RequestsMock | None) -> Iterator[MockedPlatform]:
    """A fresh mock platform served in process for this test; its expectations are checked at teardown."""
    with mocked(responses_mock=mock_platform_responses_mock) as platform:
        yield platform


@pytest.fixture(scope="session")
def mock_platform_server_process() -> Iterator[ServerPlatform]:
    """The standalone mock platform, one child process for the whole session."""
    with ServerPlatform() as server:
        yield server


@pytest.fixture
def mock_platform_server(mock_platform_server_process: ServerPlatform) -> Iterator[ServerPlatform]:
    """The standalone mock platform, reset for this test; its expectations are checked at teardown."""
    mock_platform_server_process.control.reset()
    yield mock_platform_server_process
    report = mock_platform_server_process.control.expectations()
    if report["expectations"] or report["strict"]:
        mock_platform_server_process.assert_all_requests_are_fired()
