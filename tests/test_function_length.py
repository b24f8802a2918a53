"""No function longer than 80 lines without a ``# long: <why>`` comment (outside migrations).

The comment goes on the lines just above the ``def`` (or its decorators) or anywhere inside the
function. Every package of the distribution is checked: the gateway, its schemas, the mock
platform and the department plugins.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKED = ("gateway", "schemas", "mock_platform", "plugins")
LIMIT = 80
JUSTIFIED = re.compile(r"^\s*# long: \S")


def long_functions(root: Path, limit: int = LIMIT) -> list[str]:
    """``path:line name (n lines)`` of every unjustified function longer than ``limit`` under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.relative_to(root).parts:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text, str(path))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            length = node.end_lineno - node.lineno + 1
            if length > limit and not _justified(lines, node):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({length} lines)")
    return found


def _justified(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1  # 0-based
    above = first - 1
    while above >= 0 and lines[above].lstrip().startswith("#"):
        if JUSTIFIED.match(lines[above]):
            return True
        above -= 1
    return any(JUSTIFIED.match(line) for line in lines[first:node.end_lineno])


@pytest.mark.parametrize("package", CHECKED)
def test_no_unjustified_long_function(package):
    assert long_functions(REPO / package) == []


def test_the_check_finds_a_long_function_and_accepts_a_justified_one(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(LIMIT))
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(
        f"def too_long():\n{body}\n\n# long: one table, row by row\n@staticmethod\ndef justified():\n{body}\n"
        f"def short():\n    return 1\n",
        encoding="utf-8",
    )
    (tmp_path / "pkg" / "migrations").mkdir()
    (tmp_path / "pkg" / "migrations" / "m.py").write_text(f"def upgrade():\n{body}", encoding="utf-8")
    assert long_functions(tmp_path / "pkg") == [f"pkg/mod.py:1 too_long ({LIMIT + 1} lines)"]
