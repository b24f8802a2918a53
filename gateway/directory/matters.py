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
from gateway.plugins.manager import Registry


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
    """A matter with every check item (lead's and cooperating departments'), as plain JSON data."""
    matter = registry.matters[code]
    data = _jsonable(asdict(matter))
    data["check_items"] = [_jsonable(asdict(item)) for item in registry.check_items[code]]
    data["cooperating_departments"] = list(registry.cooperating_departments(code))
    return data


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
        session.add(row)
    for code, row in existing.items():
        if code not in registry.departments:
            row.installed = False
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


def current_matter_versions(session: Session) -> dict[str, MatterVersion]:
    return {v.code: v for v in session.scalars(select(MatterVersion).where(MatterVersion.current.is_(True)))}
