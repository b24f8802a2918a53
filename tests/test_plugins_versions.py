"""The stored matter versions follow the plugins at every start, and a plugin that changes a matter
must raise its version (issue 22, bug 2); the allow-list refuses names no plugin has (bug 6)."""
from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli.main import cli
from gateway.config import Settings
from gateway.core import Gateway
from gateway.directory.models import Department, MatterVersion
from gateway.plugins import hookimpl
from gateway.plugins.manager import PluginError, build_plugin_manager

OTHERS = ("agriculture", "emergency", "market", "environment")
CURRENT = "2"  # refined_oil's and testing_bodies' version as the real plugins give it


def changed_commerce(version: str | None, suffix: str = "（修订）"):
    """The real commerce plugin with its matter's name changed and ``version`` (None: unchanged)."""
    import shuangsui_commerce.plugin as real

    class Changed:
        @hookimpl
        def gateway_department(self):
            return real.gateway_department()

        @hookimpl
        def gateway_matters(self):
            return [dataclasses.replace(m, name=m.name + suffix, version=version or m.version)
                    for m in real.gateway_matters()]

    return Changed()


def _versions(gw: Gateway, code: str = "refined_oil") -> list[tuple[str, bool]]:
    with gw.read() as s:
        rows = s.scalars(select(MatterVersion).where(MatterVersion.code == code).order_by(MatterVersion.id))
        return [(v.version, v.current) for v in rows]


def test_changed_content_under_the_same_version_is_refused_naming_plugin_and_matter(gateway, settings):
    changed = Gateway.create(dataclasses.replace(settings, plugins=OTHERS), extra_plugins=[("commerce", changed_commerce(None))])
    try:
        with pytest.raises(PluginError, match=rf"插件 commerce 的抽查事项 refined_oil 内容已改变，但版本号仍为 {CURRENT}"):
            changed.sync_registry()
        assert _versions(changed) == [(CURRENT, True)]
    finally:
        changed.dispose()


def test_a_cooperating_plugin_removed_keeps_the_version_number(gateway, settings):
    without = Gateway.create(dataclasses.replace(settings, plugins=("commerce", "agriculture", "emergency", "market")))
    try:
        without.sync_registry()
        assert [v for v, _ in _versions(without, "testing_bodies")] == [CURRENT, CURRENT]
    finally:
        without.dispose()


def test_the_application_syncs_at_start_so_a_new_plan_pins_the_upgraded_version(gateway, settings):
    from gateway.app import create_app

    app = create_app(dataclasses.replace(settings, plugins=OTHERS), extra_plugins=[("commerce", changed_commerce("3"))])
    try:
        assert _versions(gateway) == [(CURRENT, False), ("3", True)]
        assert app.test_client().get("/api/v1/matters").status_code == 200
    finally:
        app.extensions["shuangsui"].dispose()


def test_the_application_refuses_to_start_on_changed_content_under_the_same_version(gateway, settings):
    from gateway.app import create_app

    with pytest.raises(PluginError, match="refined_oil"):
        create_app(dataclasses.replace(settings, plugins=OTHERS), extra_plugins=[("commerce", changed_commerce(None))])


def test_an_unmigrated_database_is_left_to_db_upgrade(tmp_path):
    from gateway.app import create_app

    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    app = create_app(Settings(instance_path=tmp_path, database_url=url, secret_key="x"))
    app.extensions["shuangsui"].dispose()


def _shuangsui(settings, *args, env=None):
    return CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance",
                                    str(settings.instance_path), *args], env=env or {})


def test_every_command_syncs_first(gateway, settings):
    """A command (the sync worker's included) started without a plugin marks its department."""
    result = _shuangsui(settings, "plugins", "--json",
                        env={"SHUANGSUI_PLUGINS": "commerce,agriculture,emergency,market"})
    assert result.exit_code == 0, result.output
    with gateway.read() as s:
        assert s.get(Department, "environment").installed is False


def test_an_unknown_allow_list_entry_is_refused_naming_it(settings):
    with pytest.raises(PluginError, match=r"中的 helth 不是已安装的插件；已安装的插件：.*commerce"):
        build_plugin_manager(allow=["commerce", "helth"])
    result = _shuangsui(settings, "plugins", env={"SHUANGSUI_PLUGINS": "commerce,agriculture,helth"})
    assert result.exit_code == 1
    assert "helth 不是已安装的插件" in result.output
