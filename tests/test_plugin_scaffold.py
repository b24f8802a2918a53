"""``scaffold_plugin`` writes a plugin distribution whose own tests pass once it is installed."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import shuangsui_agriculture.plugin as agriculture_plugin
import shuangsui_commerce.plugin as commerce_plugin
import shuangsui_emergency.plugin as emergency_plugin
import shuangsui_environment.plugin as environment_plugin
import shuangsui_market.plugin as market_plugin
from gateway.plugins.manager import build_plugin_manager, load_registry
from gateway.plugins.scaffold import scaffold_plugin

REPO = Path(__file__).resolve().parents[1]
FIVE = [
    ("commerce", commerce_plugin),
    ("agriculture", agriculture_plugin),
    ("emergency", emergency_plugin),
    ("market", market_plugin),
    ("environment", environment_plugin),
]


def run_generated_tests(dist: Path, pythonpath: list[Path], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in [*pythonpath, REPO])
    # only the generated tests' own needs: no pytest plugins from the environment
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(dist / "tests"), "-q", "-p", "no:cacheprovider"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_writes_a_complete_distribution(tmp_path):
    root = scaffold_plugin("fishery", tmp_path, department_name="武陟县渔业局")
    assert root == tmp_path / "fishery"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "shuangsui_fishery/__init__.py",
        "shuangsui_fishery/content.py",
        "shuangsui_fishery/plugin.py",
        "tests/test_fishery_plugin.py",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "shuangsui-fishery"
    assert project["entry-points"]["shuangsui_gateway"] == {"fishery": "shuangsui_fishery.plugin"}
    assert any(dep.startswith("shuangsui-gateway") for dep in project["dependencies"])
    for path in root.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    assert "name='武陟县渔业局'" in (root / "shuangsui_fishery/content.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["", "a", "Fishery", "fish-ery", "1fish", "fish__ery", "fishery_", "class", "x" * 31])
def test_refuses_unusable_names(tmp_path, name):
    with pytest.raises(ValueError):
        scaffold_plugin(name, tmp_path)
    assert not any(tmp_path.iterdir())


def test_never_overwrites(tmp_path):
    (tmp_path / "fishery").mkdir()
    (tmp_path / "fishery" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        scaffold_plugin("fishery", tmp_path)
    assert [p.name for p in (tmp_path / "fishery").iterdir()] == ["keep.txt"]


def test_scaffolded_plugin_registers_beside_the_five(tmp_path, monkeypatch):
    root = scaffold_plugin("water_works", tmp_path)
    monkeypatch.syspath_prepend(str(root))
    try:
        module = importlib.import_module("shuangsui_water_works.plugin")
        pm = build_plugin_manager(load_entry_points=False, extra_plugins=[*FIVE, ("water_works", module)])
        registry = load_registry(pm)
        assert registry.departments["water_works"].name == "示例部门（water_works）"
        assert registry.matters["water_works_sample"].department_code == "water_works"
        assert len(registry.matters) == 5
        schema = pm.hook.gateway_checklist_schema(matter_code="water_works_sample")
        assert set(schema._declared_fields) == {i.code for i in registry.check_items["water_works_sample"]}
        # the five keep their own schemas
        assert pm.hook.gateway_checklist_schema(matter_code="work_safety") is not schema
    finally:
        for mod in [m for m in sys.modules if m.startswith("shuangsui_water_works")]:
            del sys.modules[mod]


def test_generated_tests_need_the_installed_entry_point(tmp_path):
    """Not installed (package on the path only), the entry-point test fails and the others pass."""
    root = scaffold_plugin("fishery", tmp_path / "src")
    result = run_generated_tests(root, [root], cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 7 passed" in result.stdout
    assert "test_installed_entry_point" in result.stdout


def test_generated_tests_pass_once_installed(tmp_path):
    root = scaffold_plugin("fishery", tmp_path / "src")
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert (site / "shuangsui_fishery-0.1.0.dist-info" / "entry_points.txt").exists()
    result = run_generated_tests(root, [site], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout


@pytest.mark.parametrize("department_name, short", [
    (None, "示例部门"),
    ("武陟县渔业局", "武陟县渔业局"),
    ("武陟县卫生健康委员会", "武陟县卫生健康委员会"),
    ("武陟县公共场所卫生监督所", "县公共场所卫生监督所"),
])
def test_the_short_name_is_never_cut_mid_word(tmp_path, department_name, short):
    root = scaffold_plugin("health", tmp_path, department_name=department_name)
    namespace: dict = {}
    exec((root / "shuangsui_health/content.py").read_text(encoding="utf-8"), namespace)
    assert namespace["DEPARTMENT"].short_name == short


def test_the_command_takes_the_department_name_and_short_name(tmp_path):
    from click.testing import CliRunner

    from gateway.cli.main import cli

    result = CliRunner().invoke(cli, ["plugin", "new", "health", "--dest", str(tmp_path),
                                      "--department-name", "武陟县卫生健康委员会", "--short-name", "县卫健委"])
    assert result.exit_code == 0, result.output
    content = (tmp_path / "health/shuangsui_health/content.py").read_text(encoding="utf-8")
    assert "name='武陟县卫生健康委员会', short_name='县卫健委'" in content
