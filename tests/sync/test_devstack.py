"""``make run``'s launcher: the mock platform, a sync worker and the gateway, stopped together; what
was published reaches the mock platform."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import requests

from mock_platform.server_process import free_port
from tests.drawdb import published_plan


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.1)


def _json(url: str):
    try:
        return requests.get(url, timeout=2).json()
    except (requests.RequestException, ValueError):
        return None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_make_run_launcher_delivers_to_the_local_mock_platform_and_stops_everything(gateway, tmp_path):
    plan_id = published_plan(gateway)
    gateway.dispose()
    port, platform_port = free_port(), free_port()
    env = {"PATH": "/usr/bin:/bin", "SHUANGSUI_DATABASE_URL": gateway.settings.database_url,
           "SHUANGSUI_INSTANCE_PATH": str(gateway.settings.instance_path), "SHUANGSUI_SYNC_POLL_SECONDS": "0.2"}
    launcher = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.devstack", "--port", str(port), "--platform-port", str(platform_port),
         "--platform-state", str(tmp_path / "mock_platform.sqlite")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    platform = f"http://127.0.0.1:{platform_port}"
    try:
        wait_for(lambda: (_json(f"{platform}/_control/received") or {}).get("totals", {}).get("stored") == 1)
        received = _json(f"{platform}/_control/received")
        assert received["records"][0]["id"] == f"410823-plan-{plan_id}"
        wait_for(lambda: _json(f"http://127.0.0.1:{port}/api/openapi.json") is not None)
    finally:
        launcher.send_signal(signal.SIGTERM)
        output, _ = launcher.communicate(timeout=60)
    assert launcher.returncode == 0, output
    assert "已停止网关、同步进程和模拟省级平台" in output
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{platform}/_control/health", timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    # The mock platform kept its state in the file named on the command line.
    assert (tmp_path / "mock_platform.sqlite").exists()
