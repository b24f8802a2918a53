"""The plugin catalogue through the API and the CLI, and the start-up checks."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gateway.cli.main import cli
from gateway.config import Settings
from gateway.core import Gateway
from tests.test_plugins_versions import changed_commerce


def test_api_lists_five_departments_and_the_joint_matters(client):
    data = client.get("/api/v1/plugins").json
    # the five in-tree plugins, and whichever others an instance installs
    assert {p["department"] for p in data["plugins"]} >= {"commerce", "agriculture", "emergency", "market", "environment"}
    matters = {m["code"]: m for m in data["matters"]}
    assert matters["work_safety"]["lead_department"] == "emergency"
    assert matters["work_safety"]["cooperating_departments"] == ["market"]
    assert len(matters["work_safety"]["check_items"]) == 6
    assert matters["work_safety"]["check_items"][5]["department_code"] == "market"


def test_cli_plugins_json(settings):
    result = CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance",
                                      str(settings.instance_path), "plugins", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    lead_coop = {m["code"]: (m["lead_department"], m["cooperating_departments"]) for m in data["matters"]}
    assert {code: lead_coop[code] for code in ("refined_oil", "crop_seed", "work_safety", "testing_bodies")} == {
        "refined_oil": ("commerce", ["market"]),
        "crop_seed": ("agriculture", ["market"]),
        "work_safety": ("emergency", ["market"]),
        "testing_bodies": ("market", ["environment"]),
    }
    for plugin in data["plugins"]:
        assert plugin["version"]
    matters = {m["code"]: m for m in data["matters"]}
    oil = matters["refined_oil"]
    assert oil["appendix_text"].startswith("1. 成品油经营资质，即是否具备经营条件。")
    assert oil["county_defaults"] == ["min_ratio", "frequency", "criteria"]
    assert oil["guide_text"].startswith("成品油市场联合抽查检查指引")
    marked = {i["code"]: i["beyond_appendix"] for i in oil["check_items"]}
    assert marked["oil_fuel_upgrade"] is False and marked["oil_business_type"] is True
    commerce = next(p for p in data["plugins"] if p["name"] == "commerce")
    assert {i["code"]: i["beyond_appendix"] for i in commerce["check_items"]}["oil_problem_description"] is True


def test_allow_list_setting_limits_plugins(tmp_path, database_url):
    settings = Settings(instance_path=tmp_path, database_url=database_url, secret_key="x",
                        plugins=("commerce", "market", "agriculture", "emergency"))
    gw = Gateway.create(settings)
    assert set(gw.registry.departments) == {"commerce", "market", "agriculture", "emergency"}
    assert gw.registry.cooperating_departments("testing_bodies") == ()
    gw.dispose()


def test_allow_list_from_environment(tmp_path):
    settings = Settings.load(environ={"SHUANGSUI_PLUGINS": "commerce, market"}, instance_path=tmp_path)
    assert settings.plugins == ("commerce", "market")
    assert settings.database_url.startswith("sqlite:///")


def test_matter_versions_follow_plugin_content(gateway):
    from sqlalchemy import select

    from gateway.directory.models import MatterVersion

    with gateway.read() as s:
        rows = [(r.code, r.current) for r in s.scalars(select(MatterVersion))]
    assert {code for code, current in rows if current} == set(gateway.registry.matters)
    assert set(gateway.registry.matters) >= {"refined_oil", "crop_seed", "work_safety", "testing_bodies"}
    gateway.sync_registry()  # unchanged content: no new version
    with gateway.read() as s:
        assert len(list(s.scalars(select(MatterVersion)))) == len(rows)


def test_unknown_instance_config_key_is_a_clear_error(tmp_path):
    (tmp_path / "shuangsui.toml").write_text('databse_url = "sqlite://"\n')
    with pytest.raises(ValueError, match="未知配置项：databse_url"):
        Settings.load(environ={}, instance_path=tmp_path)


def test_instance_config_file_is_read_and_environment_wins(tmp_path):
    (tmp_path / "shuangsui.toml").write_text('county_name = "温县"\nsync_batch_size = 7\n')
    settings = Settings.load(environ={"SHUANGSUI_SYNC_BATCH_SIZE": "9"}, instance_path=tmp_path)
    assert (settings.county_name, settings.sync_batch_size) == ("温县", 9)


def test_changed_matter_content_makes_a_new_version_and_keeps_the_old(gateway, settings):
    from dataclasses import replace

    from sqlalchemy import select

    from gateway.directory.models import MatterVersion

    others = ("agriculture", "emergency", "market", "environment")
    changed = Gateway.create(replace(settings, plugins=others), extra_plugins=[("commerce", changed_commerce("3", "（2027 修订）"))])
    changed.sync_registry()
    with changed.read() as s:
        versions = [(v.version, v.current, v.name) for v in s.scalars(
            select(MatterVersion).where(MatterVersion.code == "refined_oil").order_by(MatterVersion.id))]
    changed.dispose()
    assert [(v, c) for v, c, _ in versions] == [(gateway.registry.matters["refined_oil"].version, False), ("3", True)]
    assert versions[1][2].endswith("（2027 修订）")


def test_uninstalled_plugin_leaves_the_catalogue_and_is_marked_in_the_database(gateway, settings):
    from dataclasses import replace

    from sqlalchemy import select

    from gateway.directory.models import Department, MatterVersion

    without = Gateway.create(replace(settings, plugins=("commerce", "agriculture", "emergency", "market")))
    without.sync_registry()
    assert "environment" not in without.registry.departments
    assert all(i.department_code != "environment" for i in without.registry.check_items["testing_bodies"])
    with without.read() as s:
        assert s.get(Department, "environment").installed is False
        current = s.scalar(select(MatterVersion).where(MatterVersion.code == "testing_bodies", MatterVersion.current.is_(True)))
        assert "environment" not in current.content["cooperating_departments"]
    without.dispose()


def test_the_public_matter_list_marks_county_defaults_and_plugin_additions(client):
    matters = {m["code"]: m for m in client.get("/api/v1/public/matters").json}
    assert matters["work_safety"]["county_defaults"] == ["最低抽查比例", "抽查频次", "检查对象条件"]
    assert matters["testing_bodies"]["field"] == "环境监测机构双随机监督抽查"
    items = {i["name"]: i["beyond_appendix"] for i in matters["refined_oil"]["check_items"]}
    assert items["未经许可擅自新建、迁建和扩建加油站或油库"] is False and items["经营类别"] is True
