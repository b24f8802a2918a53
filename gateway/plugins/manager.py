"""Build the plugin manager and the validated registry of what plugins contribute."""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Iterable, Iterator

import pluggy

from gateway.plugins import defaults, hookspecs
from gateway.plugins.contributions import CheckItem, Department, Matter


class PluginError(RuntimeError):
    """A plugin's contribution is inconsistent; start-up stops with this message."""


def build_plugin_manager(
    allow: Iterable[str] | None = None,
    extra_plugins: Iterable[tuple[str, object]] = (),
    load_entry_points: bool = True,
) -> pluggy.PluginManager:
    """Return a new manager with the gateway's defaults (:mod:`gateway.plugins.defaults`), the
    entry-point plugins (optionally filtered by ``allow``, a list of entry-point names) and
    ``extra_plugins`` given as (name, module_or_object)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(defaults.DefaultsPlugin(pm), name=defaults.NAME)
    if load_entry_points:
        if allow is None:
            pm.load_setuptools_entrypoints(hookspecs.ENTRY_POINT_GROUP)
        else:
            _refuse_unknown_names(allow)
            for name in allow:
                pm.load_setuptools_entrypoints(hookspecs.ENTRY_POINT_GROUP, name=name)
    for name, plugin in extra_plugins:
        pm.register(plugin, name=name)
    pm.check_pending()
    return pm


def _refuse_unknown_names(allow: Iterable[str]) -> None:
    """A name in the allow-list that no installed plugin has is a typo or a missing install:
    starting without that department would silently drop its matters."""
    installed = sorted({ep.name for ep in entry_points(group=hookspecs.ENTRY_POINT_GROUP)})
    unknown = [name for name in allow if name not in installed]
    if unknown:
        raise PluginError(
            f"插件允许列表（SHUANGSUI_PLUGINS 或配置项 plugins）中的 {'、'.join(unknown)} 不是已安装的插件；"
            f"已安装的插件：{'、'.join(installed) or '无'}"
        )


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    department_code: str | None


@dataclass(frozen=True)
class Registry:
    """Everything the plugins contribute, validated and merged."""

    plugins: tuple[PluginInfo, ...]
    departments: dict[str, Department] = field(hash=False)
    matters: dict[str, Matter] = field(hash=False)
    # matter code -> all its check items (lead's first, then cooperating), in order
    check_items: dict[str, tuple[CheckItem, ...]] = field(hash=False)
    department_plugin: dict[str, str] = field(hash=False)
    # matter code -> the lead plugin's guide text (gateway_guide_text) for the matter's own version
    guide_texts: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def registration_authority(self) -> str | None:
        """The code of the department that is the registration authority, None if none is
        installed (then the county office alone decides eligibility and nobody decides listings)."""
        return next((code for code, d in self.departments.items() if d.registration_authority), None)

    def cooperating_departments(self, matter_code: str) -> tuple[str, ...]:
        lead = self.matters[matter_code].department_code
        seen: list[str] = []
        for item in self.check_items[matter_code]:
            if item.department_code != lead and item.department_code not in seen:
                seen.append(item.department_code)
        return tuple(seen)

    def items_by_department(self, matter_code: str) -> dict[str, tuple[CheckItem, ...]]:
        out: dict[str, list[CheckItem]] = {}
        for item in self.check_items[matter_code]:
            out.setdefault(item.department_code, []).append(item)
        return {k: tuple(v) for k, v in out.items()}


def _plugin_version(pm: pluggy.PluginManager, plugin: object) -> str:
    for p, dist in pm.list_plugin_distinfo():
        if p is plugin:
            return dist.version
    return getattr(plugin, "__version__", "0")


def _results_by_plugin(pm: pluggy.PluginManager, hook_name: str):
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():
        name = pm.get_name(impl.plugin)
        yield name, impl.plugin, impl.function()


def load_registry(pm: pluggy.PluginManager) -> Registry:
    """Collect and validate every contribution; raise PluginError naming the plugins at fault.

    A department's ``parent_code`` need not be loaded: departments above the county usually
    are not."""
    departments, department_plugin = _collect_departments(pm)
    plugin_department = {name: code for code, name in department_plugin.items()}
    matters: dict[str, Matter] = {}
    items: dict[str, list[CheckItem]] = {}
    item_owner: dict[tuple[str, str], str] = {}
    for name, matter in _collect_matters(pm, departments, plugin_department):
        matters[matter.code] = matter
        items[matter.code] = []
        for item in matter.check_items:
            _add_item(items, item_owner, item, name)
    for name, item in _collect_cooperating_items(pm, departments, plugin_department, matters):
        _add_item(items, item_owner, item, name)

    ordered = {
        code: tuple(sorted(lst, key=lambda i: (i.department_code != matters[code].department_code, i.order)))
        for code, lst in items.items()
    }
    return Registry(
        plugins=_plugin_infos(pm, plugin_department),
        departments=departments,
        matters=matters,
        check_items=ordered,
        department_plugin=department_plugin,
        guide_texts=_guide_texts(pm, matters),
    )


def _guide_texts(pm: pluggy.PluginManager, matters: dict[str, Matter]) -> dict[str, str]:
    texts = {code: pm.hook.gateway_guide_text(matter_code=code, version=m.version) for code, m in matters.items()}
    return {code: text for code, text in texts.items() if text}


def _collect_departments(pm: pluggy.PluginManager) -> tuple[dict[str, Department], dict[str, str]]:
    """The departments by code, and department code -> the name of the plugin declaring it."""
    departments: dict[str, Department] = {}
    department_plugin: dict[str, str] = {}
    for name, _plugin, dept in _results_by_plugin(pm, "gateway_department"):
        if dept is None:
            continue
        if not isinstance(dept, Department):
            raise PluginError(f"插件 {name} 的 gateway_department 返回的不是 Department")
        if dept.code in departments:
            raise PluginError(
                f"部门编码 {dept.code} 重复：插件 {department_plugin[dept.code]} 与插件 {name} 都声明了它"
            )
        departments[dept.code] = dept
        department_plugin[dept.code] = name
    authorities = [department_plugin[code] for code, d in departments.items() if d.registration_authority]
    if len(authorities) > 1:
        raise PluginError("只能有一个部门是登记机关（registration_authority）：插件 " + "、".join(authorities)
                          + " 都声明了")
    return departments, department_plugin


def _collect_matters(pm, departments, plugin_department) -> Iterator[tuple[str, Matter]]:
    """(plugin name, matter) for each matter a plugin's own department leads."""
    matter_plugin: dict[str, str] = {}
    for name, _plugin, contributed in _results_by_plugin(pm, "gateway_matters"):
        for matter in contributed or ():
            if not isinstance(matter, Matter):
                raise PluginError(f"插件 {name} 的 gateway_matters 返回了非 Matter 对象")
            if matter.code in matter_plugin:
                raise PluginError(
                    f"抽查事项编码 {matter.code} 重复：插件 {matter_plugin[matter.code]} 与插件 {name} 都声明了它"
                )
            if matter.department_code not in departments:
                raise PluginError(
                    f"插件 {name} 的抽查事项 {matter.code} 引用了未知部门 {matter.department_code}"
                )
            if plugin_department.get(name) != matter.department_code:
                raise PluginError(
                    f"插件 {name} 只能声明本部门牵头的抽查事项，事项 {matter.code} 的牵头部门是 {matter.department_code}"
                )
            matter_plugin[matter.code] = name
            yield name, matter


def _collect_cooperating_items(pm, departments, plugin_department, matters) -> Iterator[tuple[str, CheckItem]]:
    """(plugin name, item) for each item a plugin's department brings to another's matter."""
    for name, _plugin, contributed in _results_by_plugin(pm, "gateway_check_items"):
        for item in contributed or ():
            if not isinstance(item, CheckItem):
                raise PluginError(f"插件 {name} 的 gateway_check_items 返回了非 CheckItem 对象")
            if item.matter_code not in matters:
                raise PluginError(
                    f"插件 {name} 的检查项 {item.code} 引用了未知抽查事项 {item.matter_code}"
                )
            if item.department_code not in departments:
                raise PluginError(f"插件 {name} 的检查项 {item.code} 引用了未知部门 {item.department_code}")
            if plugin_department.get(name) != item.department_code:
                raise PluginError(
                    f"插件 {name} 的检查项 {item.code} 声明的部门 {item.department_code} 不是本插件的部门"
                )
            if item.department_code == matters[item.matter_code].department_code:
                raise PluginError(
                    f"插件 {name} 的检查项 {item.code}：牵头部门的检查项应在抽查事项中声明"
                )
            yield name, item


def _plugin_infos(pm: pluggy.PluginManager, plugin_department: dict[str, str]) -> tuple[PluginInfo, ...]:
    names = {plugin: pm.get_name(plugin) for plugin in pm.get_plugins()}
    infos = (
        PluginInfo(name=name, version=_plugin_version(pm, plugin), department_code=plugin_department.get(name))
        for plugin, name in names.items()
        if name != defaults.NAME
    )
    return tuple(sorted(infos, key=lambda p: p.name))


def _add_item(items, item_owner, item: CheckItem, plugin_name: str) -> None:
    key = (item.matter_code, item.code)
    if key in item_owner:
        raise PluginError(
            f"抽查事项 {item.matter_code} 的检查项编码 {item.code} 重复：插件 {item_owner[key]} 与插件 {plugin_name} 都声明了它"
        )
    item_owner[key] = plugin_name
    items[item.matter_code].append(item)
