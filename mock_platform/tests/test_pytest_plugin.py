"""The pytest plugin, used the way an integrator's suite uses it (in a separate pytest run)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

from mock_platform.server_process import PROJECT_ROOT

INTEGRATOR_SUITE = '''
    import requests

    import mock_platform

    RECORD = {
        "id": "r-1", "plan_number": "P-1", "plan_name": "计划", "task_number": "T-1", "task_name": "任务",
        "inspection_type": "joint_random", "authority": "武陟县商务局", "authority_level": "county",
        "completed_on": "2024-05-20", "result_codes": ["1"], "uscc": "91110000600037341L", "target_name": "某公司",
    }


    def push(platform):
        return platform.session().post(platform.url("/api/v1/inspection-results/batch"),
                                       json={"records": [RECORD]}, timeout=10)


    def test_in_process_fixture(mock_platform):
        assert push(mock_platform).json()["summary"]["accepted"] == 1
        assert mock_platform.control.received()["totals"]["stored"] == 1


    def test_in_process_fixture_is_fresh_for_each_test(mock_platform):
        assert mock_platform.control.health()["records"]["pushed"] == 0


    def test_server_fixture(mock_platform_server):
        assert mock_platform_server.base_url.startswith("http://127.0.0.1:")
        assert push(mock_platform_server).json()["summary"]["accepted"] == 1


    def test_server_fixture_is_reset_for_each_test(mock_platform_server):
        assert mock_platform_server.control.health()["records"]["pushed"] == 0


    @mock_platform.mocked()
    def test_decorator():
        assert requests.get(mock_platform.DEFAULT_BASE_URL + "/_control/health", timeout=10).json()["status"] == "ok"
'''


def entry_point_installed() -> bool:
    return any(ep.value == "mock_platform.pytest_plugin" for ep in entry_points(group="pytest11"))


def test_an_integrators_suite_gets_the_fixtures_from_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_integration.py").write_text(textwrap.dedent(INTEGRATOR_SUITE), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    # Installed, the distribution's entry point loads the plugin; from a bare checkout, -p does.
    load = [] if entry_point_installed() else ["-p", "mock_platform.pytest_plugin"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *load, "-p", "no:cacheprovider", str(tmp_path / "test_integration.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 passed" in run.stdout


def test_the_plugin_is_declared_as_a_pytest11_entry_point() -> None:
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'mock_platform = "mock_platform.pytest_plugin"' in pyproject.split("[project.entry-points.pytest11]")[1]
