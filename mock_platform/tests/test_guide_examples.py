"""Every Python block of docs/testing-against-the-mock.md runs, in order, as one test module."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from mock_platform.server_process import PROJECT_ROOT

GUIDE = PROJECT_ROOT / "docs" / "testing-against-the-mock.md"


def guide_module() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.S | re.M)
    return "\n\n".join(blocks)


def test_the_guide_has_examples_of_the_kit() -> None:
    module = guide_module()
    for used in ("platform.calls", "set_expectations", "set_clock", '"targeted"', "@responses.activate",
                 "class TestSyncJob", '"after"'):
        assert used in module, used


def test_the_guides_examples_pass(tmp_path: Path) -> None:
    module = guide_module()
    (tmp_path / "test_guide.py").write_text(module, encoding="utf-8")
    installed = any(ep.value == "mock_platform.pytest_plugin" for ep in entry_points(group="pytest11"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         *([] if installed else ["-p", "mock_platform.pytest_plugin"]), str(tmp_path / "test_guide.py")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", run.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= len(re.findall(r"^(?:    )?def test_", module, re.M))
    assert "skipped" not in run.stdout
