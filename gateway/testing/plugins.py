"""For a plugin's unit tests: the plugin manager and registry of exactly the plugin modules a test
module names, without entry points (docs/writing-a-plugin.md, "Unit tests against the plugin
manager"), and the merged checklist schema the engine builds from them."""
from __future__ import annotations

from types import ModuleType

import pluggy
import pytest
from marshmallow import Schema

from gateway.plugins.manager import Registry, build_plugin_manager, load_registry
from gateway.results.checklist import merged_checklist


def plugin_fixtures(**plugins: ModuleType | object):
    """The fixtures ``pm`` (a plugin manager with the gateway's defaults and ``plugins``, each
    registered under its keyword as entry-point name) and ``registry`` (what they contribute,
    validated), to be bound in a test module: ``pm, registry = plugin_fixtures(commerce=plugin)``."""

    @pytest.fixture(name="pm")
    def pm_fixture() -> pluggy.PluginManager:
        return build_plugin_manager(load_entry_points=False, extra_plugins=list(plugins.items()))

    @pytest.fixture(name="registry")
    def registry_fixture(pm: pluggy.PluginManager) -> Registry:
        return load_registry(pm)

    return pm_fixture, registry_fixture


def merged_schema(pm: pluggy.PluginManager, registry: Registry, matter_code: str) -> Schema:
    """An instance of the checklist schema the engine builds for ``matter_code``: the lead's items,
    then the cooperating departments'."""
    return merged_checklist(pm, registry, matter_code).schema_class()
