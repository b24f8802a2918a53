"""mock_platform never imports gateway; schemas never imports gateway or mock_platform."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from mock_platform.server_process import PROJECT_ROOT


def imported_top_levels(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package, forbidden", [("mock_platform", {"gateway"}), ("schemas", {"gateway", "mock_platform"})])
def test_no_forbidden_imports(package: str, forbidden: set[str]) -> None:
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): imported_top_levels(path) & forbidden
        for path in (PROJECT_ROOT / package).rglob("*.py")
        if imported_top_levels(path) & forbidden
    }
    assert offenders == {}


def test_importing_the_mock_loads_no_gateway_module() -> None:
    code = "import sys, mock_platform, mock_platform.flask_app, mock_platform.openapi; print([m for m in sys.modules if m.split('.')[0] == 'gateway'])"
    run = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
