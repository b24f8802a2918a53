"""A matter's checklist, merged from the lead plugin and the cooperating plugins.

The merge is generic: for a matter, ``gateway_checklist_schema`` gives the base (the gateway's
default derives it from the lead's items, :mod:`gateway.plugins.defaults`); every check item the base does not
declare gets the field its own department's plugin returns from ``gateway_checklist_fields``,
or else the field ``schemas.checklist.field_for_item`` derives from the item. A plugin may only
give fields for check items its own department brings to that matter.

A task is inspected against the matter version its plan pinned (:func:`task_checklists`). While
the installed plugins provide that very version, that is their merged checklist; after an update
changed the matter, it is the pinned version's own check items, each with its derived field (the
plugins' fields are written for their current items).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import TYPE_CHECKING, Any, Mapping

import pluggy
from marshmallow import RAISE, Schema, ValidationError

from gateway.directory.matters import content_sha256, matter_content
from gateway.plugins.contributions import CheckItem
from gateway.plugins.manager import PluginError, Registry
from gateway.tasks.service import TaskMatter, task_matters
from schemas.checklist import OUTCOMES, build_checklist_schema, field_for_item, schema_from_items

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gateway.core import Gateway
    from gateway.directory.models import MatterVersion
    from gateway.tasks.models import Task

NON_COMPLIANT = "non_compliant"


class ChecklistError(PluginError):
    """A plugin's checklist contribution does not fit the matter (a start-up style error)."""


@dataclass(frozen=True)
class MergedChecklist:
    matter_code: str
    matter_name: str
    lead_department: str
    schema_class: type[Schema]
    items: tuple[CheckItem, ...]
    content_sha256: str  # of the matter version it checks (gateway.directory.matters)

    def load(self, values: Any) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, Any]]:
        """Validate ``values``: (loaded values, field errors, JSON-ready values)."""
        schema = self.schema_class(unknown=RAISE)
        try:
            loaded = schema.load(values)
        except ValidationError as exc:
            errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
            return valid, errors, {}
        return loaded, {}, schema.dump(loaded)

    def describe(self) -> dict[str, Any]:
        """The checklist as data for forms and printed sheets: one entry per field."""
        schema = self.schema_class()
        by_code = {item.code: item for item in self.items}
        fields_out = []
        for name, field in schema.fields.items():
            item = by_code.get(name)
            meta = dict(field.metadata)
            fields_out.append(
                {
                    "code": name,
                    "label": meta.get("label") or (item.name if item else name),
                    "kind": meta.get("kind") or (item.kind if item else ""),
                    "required": bool(field.required),
                    "choices": meta.get("choices") or {},
                    "help": meta.get("help", ""),
                    "department_code": item.department_code if item else self.lead_department,
                    "methods": list(item.methods) if item else [],
                }
            )
        return {
            "matter_code": self.matter_code,
            "matter_name": self.matter_name,
            "lead_department": self.lead_department,
            "fields": fields_out,
        }


_CACHE: "weakref.WeakKeyDictionary[pluggy.PluginManager, dict[str, MergedChecklist]]" = weakref.WeakKeyDictionary()


def merged_checklist(pm: pluggy.PluginManager, registry: Registry, matter_code: str) -> MergedChecklist:
    """The merged checklist of ``matter_code`` (built once per plugin manager)."""
    per_pm = _CACHE.setdefault(pm, {})
    if matter_code not in per_pm:
        per_pm[matter_code] = _build(pm, registry, matter_code)
    return per_pm[matter_code]


def _build(pm: pluggy.PluginManager, registry: Registry, matter_code: str) -> MergedChecklist:
    if matter_code not in registry.matters:
        raise KeyError(matter_code)
    matter = registry.matters[matter_code]
    items = registry.check_items[matter_code]
    by_code = {item.code: item for item in items}
    plugin_department = {plugin: dept for dept, plugin in registry.department_plugin.items()}

    base = pm.hook.gateway_checklist_schema(matter_code=matter_code)
    if not (isinstance(base, type) and issubclass(base, Schema)):
        raise ChecklistError(f"抽查事项 {matter_code} 的 gateway_checklist_schema 返回的不是 marshmallow Schema 类")
    declared = set(base._declared_fields)

    contributed: dict[str, Any] = {}
    for impl in pm.hook.gateway_checklist_fields.get_hookimpls():
        plugin_name = pm.get_name(impl.plugin)
        fields_given = impl.function(matter_code=matter_code)
        if not fields_given:
            continue
        if not isinstance(fields_given, Mapping):
            raise ChecklistError(f"插件 {plugin_name} 的 gateway_checklist_fields 返回的不是映射")
        own_department = plugin_department.get(plugin_name)
        for code, field in fields_given.items():
            item = by_code.get(code)
            if item is None:
                raise ChecklistError(f"插件 {plugin_name} 为抽查事项 {matter_code} 提供了未知检查项 {code} 的字段")
            if item.department_code != own_department:
                raise ChecklistError(
                    f"插件 {plugin_name} 为检查项 {code} 提供了字段，但该检查项由部门 {item.department_code} 提供"
                )
            contributed[code] = field

    extra: dict[str, Any] = {}
    for item in items:
        if item.code in contributed:
            extra[item.code] = contributed[item.code]
        elif item.code not in declared:
            extra[item.code] = field_for_item(item)
    schema_class = build_checklist_schema(f"Checklist_{matter_code}", extra, base=base)
    return MergedChecklist(
        matter_code=matter_code,
        matter_name=matter.name,
        lead_department=matter.department_code,
        schema_class=schema_class,
        items=items,
        content_sha256=content_sha256(matter_content(registry, matter_code)),
    )


_PINNED: dict[str, MergedChecklist] = {}  # by content hash: a version's content never changes


def version_checklist(pm: pluggy.PluginManager, registry: Registry, version: "MatterVersion") -> MergedChecklist:
    """The checklist of one stored matter version (see the module's docstring)."""
    if version.code in registry.matters:
        live = merged_checklist(pm, registry, version.code)
        if live.content_sha256 == version.content_sha256:
            return live
    if version.content_sha256 not in _PINNED:
        _PINNED[version.content_sha256] = _from_content(version.content, version.content_sha256)
    return _PINNED[version.content_sha256]


def _from_content(content: Mapping[str, Any], digest: str) -> MergedChecklist:
    known = {f.name for f in dataclass_fields(CheckItem)}
    items = tuple(
        CheckItem(**{k: tuple(v) if isinstance(v, list) else v for k, v in item.items() if k in known})
        for item in content["check_items"]
    )
    schema_class = schema_from_items(items, name=f"Checklist_{content['code']}_{digest[:12]}")
    return MergedChecklist(
        matter_code=content["code"],
        matter_name=content["name"],
        lead_department=content["department_code"],
        schema_class=schema_class,
        items=items,
        content_sha256=digest,
    )


def task_checklists(gateway: "Gateway", session: "Session", task: "Task",
                    matters: list[TaskMatter] | None = None) -> dict[str, MergedChecklist]:
    """Matter code -> the checklist of the version the task's plan pinned, for every matter of
    the task whose department's plugin is installed (``matters``: the task's, already read)."""

    return {
        matter.code: version_checklist(gateway.plugin_manager, gateway.registry, matter.version)
        for matter in (task_matters(session, task) if matters is None else matters)
        if matter.code in gateway.registry.matters
    }


def unavailable_matters(gateway: "Gateway", session: "Session", task: "Task") -> list[dict[str, Any]]:
    """The task's matters whose lead department's plugin is not installed or not enabled: each
    with the name and version its plan pinned and why no result can be recorded for it."""

    return [
        {
            "matter_code": matter.code,
            "matter_name": matter.version.name,
            "version": matter.version.version,
            "lead_department": matter.department,
            "reason": (f"抽查事项“{matter.version.name}”（第 {matter.version.version} 版）的牵头部门 "
                       f"{matter.department} 的插件未安装或未启用，暂不能录入该事项的检查结果；"
                       "请县级协调机构安装并启用该插件。"),
        }
        for matter in task_matters(session, task) if matter.code not in gateway.registry.matters
    ]


def non_compliant_items(values: Mapping[str, Any]) -> list[str]:
    """Codes of the check items whose outcome is 不符合."""
    return [code for code, value in values.items() if value == NON_COMPLIANT]


def outcome_label(value: Any) -> str:
    return OUTCOMES.get(value, "" if value is None else str(value))
