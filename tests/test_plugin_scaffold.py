"""``scaffold_plugin`` writes a plugin distribution whose own tests pass once it is installed."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest
import shuangsui_agriculture.plugin as agriculture_plugin
import shuangsui_commerce.plugin as commerce_plugin
import shuangsui_emergency.plugin as emergency_plugin
import shuangsui_environment.plugin as environment_plugin
import shuangsui_market.plugin as market_plugin

from gateway.plugins.manager import build_plugin_manager, load_registry
from gateway.plugins.scaffold import gateway_requirement, scaffold_plugin
from gateway.testing.world import publish_filed

REPO = Path(__file__).resolve().parents[1]
FIVE = [
    ("commerce", commerce_plugin),
    ("agriculture", agriculture_plugin),
    ("emergency", emergency_plugin),
    ("market", market_plugin),
    ("environment", environment_plugin),
]


def run_generated_tests(dist: Path, pythonpath: list[Path]) -> subprocess.CompletedProcess:
    """``python -m pytest`` in the plugin's own folder, as its author runs it: the gateway as
    installed (its pytest11 fixtures included), not the gateway's source checkout on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SHUANGSUI_"))}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=dist,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def install_target(root: Path, site: Path) -> None:
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr


@pytest.fixture(scope="module")
def installed_fishery(tmp_path_factory) -> tuple[Path, Path]:
    """A scaffolded plugin and the folder it is installed into (``pip install --target``)."""
    base = tmp_path_factory.mktemp("fishery")
    root = scaffold_plugin("fishery", base / "src", department_name="武陟县渔业局")
    install_target(root, base / "site")
    return root, base / "site"


def test_writes_a_complete_distribution(tmp_path):
    root = scaffold_plugin("fishery", tmp_path, department_name="武陟县渔业局")
    assert root == tmp_path / "fishery"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "shuangsui_fishery/__init__.py",
        "shuangsui_fishery/content.toml",
        "shuangsui_fishery/plugin.py",
        "tests/test_fishery_integration.py",
        "tests/test_fishery_plugin.py",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "shuangsui-fishery"
    assert project["entry-points"]["shuangsui_gateway"] == {"fishery": "shuangsui_fishery.plugin"}
    assert project["dependencies"] == [gateway_requirement()]
    for path in root.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    content = tomllib.loads((root / "shuangsui_fishery/content.toml").read_text(encoding="utf-8"))
    assert content["department"]["name"] == "武陟县渔业局"


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
    """Not installed (package importable from its folder only), the entry-point test and the
    integration tests fail: the gateway does not load the plugin."""
    root = scaffold_plugin("fishery", tmp_path / "src")
    result = run_generated_tests(root, [])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "4 failed, 7 passed" in result.stdout
    assert "test_installed_entry_point" in result.stdout


def test_generated_tests_pass_once_installed(installed_fishery):
    """The generated tests, the integration tests through the shuangsui_* fixtures included."""
    root, site = installed_fishery
    assert (site / "shuangsui_fishery-0.1.0.dist-info" / "entry_points.txt").exists()
    result = run_generated_tests(root, [site])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "11 passed" in result.stdout


@pytest.mark.parametrize("department_name, short", [
    (None, "示例部门"),
    ("武陟县渔业局", "武陟县渔业局"),
    ("武陟县卫生健康委员会", "武陟县卫生健康委员会"),
    ("武陟县公共场所卫生监督所", "县公共场所卫生监督所"),
])
def test_the_short_name_is_never_cut_mid_word(tmp_path, department_name, short):
    root = scaffold_plugin("health", tmp_path, department_name=department_name)
    content = tomllib.loads((root / "shuangsui_health/content.toml").read_text(encoding="utf-8"))
    assert content["department"]["short_name"] == short


def test_the_command_takes_the_department_name_and_short_name(tmp_path):
    from click.testing import CliRunner

    from gateway.cli.main import cli

    result = CliRunner().invoke(cli, ["plugin", "new", "health", "--dest", str(tmp_path),
                                      "--department-name", "武陟县卫生健康委员会", "--short-name", "县卫健委"])
    assert result.exit_code == 0, result.output
    content = tomllib.loads((tmp_path / "health/shuangsui_health/content.toml").read_text(encoding="utf-8"))
    assert content["department"] == {"code": "health", "name": "武陟县卫生健康委员会", "short_name": "县卫健委"}


@pytest.mark.parametrize("version, requirement", [
    ("0.1.0", "shuangsui-gateway>=0.1,<0.2"),
    ("0.3.2", "shuangsui-gateway>=0.3,<0.4"),
    ("1.4.0", "shuangsui-gateway>=1.4,<2"),
])
def test_the_scaffold_pins_the_gateway_series(version, requirement):
    assert gateway_requirement(version) == requirement


def test_an_installed_scaffolded_plugin_joins_a_joint_plan_with_an_in_tree_matter_and_draws(
    installed_fishery, database_url, tmp_path, monkeypatch
):
    from sqlalchemy import select

    from gateway.config import Settings
    from gateway.core import Gateway
    from gateway.draw import service as draws
    from gateway.planning import service as plans
    from gateway.tasks.models import Task
    from gateway.testing.world import OFFICE, REVEALS, WITNESSES, add_inspectors, add_target, commitments_for, matter_target

    _, site = installed_fishery
    monkeypatch.syspath_prepend(str(site))
    gateway = Gateway.create(Settings(instance_path=tmp_path, database_url=database_url, secret_key="x"))
    try:
        gateway.sync_registry()
        registry = gateway.registry
        assert registry.departments["fishery"].name == "武陟县渔业局"
        matters = ["fishery_sample", "work_safety"]
        with gateway.write() as session:
            for serial, code in enumerate(matters * 3, start=1):
                add_target(session, matter_target(registry, code, 500 + serial, risk_class="D"))
            add_inspectors(session, ["fishery", "emergency", "market"], per_department=3)
            year = date.today().year
            plan = plans.create_plan(session, OFFICE, {
                "kind": "joint", "year": year, "title": f"{year}年度渔业与安全生产联合抽查计划",
                "lead_department": "fishery", "matters": matters, "scope": {},
                "ratios": dict.fromkeys("ABCD", "1"), "key_rule": {}, "frequency": "每年1次",
                "window_start": date(year, 1, 1),
                "window_end": date(year, 12, 31), "description": "",
            }, gateway.settings)
            assert plan.cooperating_departments == ["emergency", "market"]
            publish_filed(session, OFFICE, plan.id, gateway.settings)
            draw = draws.freeze(session, OFFICE, plan.id)
            draws.commit(session, OFFICE, draw.id, commitments_for(), secret=gateway.settings.secret_key)
            draws.reveal_seed(session, OFFICE, draw.id, REVEALS, WITNESSES)
            plan_id, draw_id = plan.id, draw.id
        drawn = draws.run_and_record_failure(gateway, OFFICE, draw_id)
        assert drawn.status == "drawn"
        with gateway.read() as session:
            tasks = list(session.scalars(select(Task).where(Task.plan_id == plan_id)))
            fishery_tasks = [t for t in tasks if "fishery_sample" in t.matter_codes]
            assert fishery_tasks and any("work_safety" in t.matter_codes for t in tasks)
            for task in fishery_tasks:
                leader = next(m for m in task.members if m.active and m.role == "lead")
                assert leader.department_code == "fishery"
    finally:
        gateway.dispose()
