"""The stand-alone verifier in docs/: same as the page shows, standard library only, right verdicts."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCRIPT = DOCS / "verify_draw.py"
PAGE = DOCS / "verify-a-draw.md"


def test_page_shows_exactly_the_shipped_script():
    page = PAGE.read_text(encoding="utf-8")
    shown = re.search(
        r"<!-- verify_draw.py begins -->\n```python\n(.*?)```\n<!-- verify_draw.py ends -->", page, re.S
    )
    assert shown, "the page must embed the script between the begin/end markers"
    assert shown.group(1) == SCRIPT.read_text(encoding="utf-8")


def test_script_imports_only_the_standard_library():
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= sys.stdlib_module_names, imported - sys.stdlib_module_names


def run_script(tmp_path, record, *extra):
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path), *extra],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=60,
    )


def test_script_accepts_an_untouched_record(tmp_path, record):
    result = run_script(tmp_path, record, "--population-sha256", record["population_sha256"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("结论：一致，抽取结果可复现")
    assert result.stdout.count("：一致") == 4 + len(record["strata"])  # seed, population, key strata, each stratum


@pytest.mark.parametrize("field", ["selected", "population", "seed"])
def test_script_names_the_tampered_stratum(tmp_path, record, field):
    stratum = record["strata"][4]
    if field == "seed":
        record["seed"] = record["seed"].replace("5", "6", 1)
        expected = [s["key"] for s in record["strata"] if s["sample_size"]]
    else:
        position = next(i for i, u in enumerate(stratum["population"]) if u not in stratum["selected"])
        if field == "selected":
            stratum["selected"][-1] = stratum["population"][position]
        else:
            stratum["population"][position] = stratum["population"][position][:-1] + "~"
        expected = [stratum["key"]]
    result = run_script(tmp_path, record)
    assert result.returncode == 1, result.stdout + result.stderr
    verdict = result.stdout.strip().splitlines()[-1]
    assert verdict == f"结论：不一致（不一致的分层：{'、'.join(expected)}）"


def test_script_reports_unreadable_files(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("not json", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"}
    )
    assert result.returncode == 2
