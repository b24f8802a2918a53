"""The merged matter list as data: what plugins contribute, serialised and versioned."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.directory.models import Department, MatterVersion
from gateway.plugins.manager import PluginError, Registry


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def matter_content(registry: Registry, code: str) -> dict[str, Any]:
    """A matter with every check item (lead's and cooperating departments') and its guide text, as
    plain JSON data: what a plan pins, so that its sheets and guides never follow a later upgrade."""
    matter = registry.matters[code]
    data = _without_unset(_jsonable(asdict(matter)), _OPTIONAL_MATTER_FIELDS)
    data["check_items"] = [_without_unset(_jsonable(asdict(item)), _OPTIONAL_ITEM_FIELDS)
                           for item in registry.check_items[code]]
    data["cooperating_departments"] = list(registry.cooperating_departments(code))
    if registry.guide_texts.get(code):
        data["guide_text"] = registry.guide_texts[code]
    return data


# Fields added after matters were first stored: left out while unset, so that a matter not using
# them keeps its content hash (and its version) across gateway upgrades.
_OPTIONAL_ITEM_FIELDS = ("minimum", "maximum", "beyond_appendix")
_OPTIONAL_MATTER_FIELDS = ("appendix_text", "county_defaults", "non_site_methods")


def _without_unset(data: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not (k in optional and v in (None, False, "", []))}


def content_sha256(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sync_registry(session: Session, registry: Registry) -> None:
    """Bring departments and matter versions in the database in line with the installed plugins.

    A matter whose content changed gets a new version row; older versions stay for the plans
    that used them. Departments and matters of uninstalled plugins are marked, never deleted.
    """
    existing = {d.code: d for d in session.scalars(select(Department))}
    for code, dept in registry.departments.items():
        row = existing.get(code) or Department(code=code)
        row.name = dept.name
        row.short_name = dept.short_name
        row.level = dept.level
        row.parent_code = dept.parent_code
        row.plugin = registry.department_plugin[code]
        row.installed = True
        row.registration_authority = dept.registration_authority
        session.add(row)
    for code, row in existing.items():
        if code not in registry.departments:
            row.installed = False
            row.registration_authority = False
    session.flush()

    versions = list(session.scalars(select(MatterVersion)))
    for code in registry.matters:
        content = matter_content(registry, code)
        digest = content_sha256(content)
        same = [v for v in versions if v.code == code]
        match = next((v for v in same if v.content_sha256 == digest), None)
        for v in same:
            v.current = v is match
        if match is None:
            _refuse_same_version(registry, content, same)
            session.add(
                MatterVersion(
                    code=code,
                    version=content["version"],
                    department_code=content["department_code"],
                    name=content["name"],
                    content_sha256=digest,
                    content=content,
                    current=True,
                )
            )
    for v in versions:
        if v.code not in registry.matters:
            v.current = False
    session.flush()


def _lead_part(content: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """What the lead plugin alone decides: the matter without the cooperating departments' items.
    A version ``stored`` before guide texts were pinned is compared without its guide text: the
    gateway started pinning it, the plugin did not change."""
    lead = content["department_code"]
    part = {k: v for k, v in content.items() if k != "cooperating_departments"}
    if "guide_text" not in stored:
        part.pop("guide_text", None)
    part["check_items"] = [i for i in content["check_items"] if i["department_code"] == lead]
    return part


def _refuse_same_version(registry: Registry, content: dict[str, Any], stored: list[MatterVersion]) -> None:
    """A lead plugin that changed its matter must raise ``Matter.version``: two different
    contents stored as one "第 N 版" would make the published list ambiguous. Only cooperating
    departments' items (a cooperating plugin added, removed or upgraded) may change under one
    version."""
    for row in stored:
        if row.version == content["version"] and _lead_part(content, row.content) != _lead_part(row.content, row.content):
            plugin = registry.department_plugin[content["department_code"]]
            raise PluginError(
                f"插件 {plugin} 的抽查事项 {content['code']} 内容已改变，但版本号仍为 {content['version']}："
                f"请在该插件中提高 Matter 的 version（例如改为 \"{_next(content['version'])}\"）后重新安装"
            )


def _next(version: str) -> str:
    return str(int(version) + 1) if version.isdigit() else version + ".1"


def current_matter_versions(session: Session) -> dict[str, MatterVersion]:
    return {v.code: v for v in session.scalars(select(MatterVersion).where(MatterVersion.current.is_(True)))}
