"""The integrator's suite (mock_platform/tests/integrator) stands alone: it runs from a copy outside
the checkout against the installed distribution, and imports only mock_platform's public names."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parent / "integrator"
ALLOWED = {"__future__", "base64", "datetime", "hashlib", "hmac", "json", "secrets", "time", "typing", "urllib",
           "pytest", "requests", "responses", "mock_platform"}


def test_the_suite_imports_only_public_names() -> None:
    for path in SUITE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, (path.name, name)
                assert name.split(".")[0] != "mock_platform" or name == "mock_platform", (path.name, name)


@pytest.mark.skipif(not any(ep.value == "mock_platform.pytest_plugin" for ep in entry_points(group="pytest11")),
                    reason="the distribution is not installed")
def test_the_suite_passes_from_outside_the_checkout(tmp_path: Path) -> None:
    project = tmp_path / "integrator-project"
    shutil.copytree(SUITE, project / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
