"""Fixtures for the mock platform's own tests.

``platform`` runs each test twice: against the in-process transport and against the standalone
server in a child process, through the fixtures the ``pytest11`` plugin gives every integrator.
"""
from __future__ import annotations

import pytest

import mock_platform.pytest_plugin as plugin
from mock_platform.client import PlatformHandle


def pytest_configure(config: pytest.Config) -> None:
    # The entry point registers the plugin once the distribution is installed; from a checkout it does not.
    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, "mock_platform")


@pytest.fixture(params=["inprocess", "server"])
def platform(request: pytest.FixtureRequest) -> PlatformHandle:
    """The same mock platform behind either transport, fresh for each test."""
    name = "mock_platform" if request.param == "inprocess" else "mock_platform_server"
    return request.getfixturevalue(name)
