"""The emulated provincial platform (国家企业信用信息公示系统（河南）) for integrators' tests.

Three ways to run it, one backend and one route table:

* ``python -m mock_platform --port 8900``: a standalone server on 127.0.0.1;
* ``with mock_platform.mocked() as platform:`` (or ``@mock_platform.mocked()``): in process,
  through ``responses``;
* the ``mock_platform`` pytest fixture, registered through the ``pytest11`` entry point.

This package never imports ``gateway``; the contract it emulates lives in ``schemas``.
"""
from mock_platform.backend import Backend
from mock_platform.client import Call, Calls, ControlClient, ControlError, PlatformHandle
from mock_platform.faults import FaultConfig
from mock_platform.inprocess import MockedPlatform, mocked
from mock_platform.server_process import ServerPlatform
from mock_platform.settings import DEFAULT_ACCESS_KEY, DEFAULT_BASE_URL, DEFAULT_SECRET, Settings
from schemas.signing import PlatformAuth

__all__ = [
    "Backend", "Call", "Calls", "ControlClient", "ControlError", "DEFAULT_ACCESS_KEY", "DEFAULT_BASE_URL", "DEFAULT_SECRET",
    "FaultConfig", "MockedPlatform", "PlatformAuth", "PlatformHandle", "ServerPlatform", "Settings", "mocked",
]
