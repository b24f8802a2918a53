"""The plugin catalogue as plain data, shared by ``shuangsui plugins --json`` and the API."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from gateway.directory.matters import matter_content
from gateway.plugins.manager import Registry


def describe_plugins(registry: Registry) -> dict[str, Any]:
    departments = [asdict(d) for d in registry.departments.values()]
    matters = []
    for code, matter in registry.matters.items():
        content = matter_content(registry, code)
        content["lead_department"] = matter.department_code
        content["appendix_text"] = matter.appendix_text
        content["county_defaults"] = list(matter.county_defaults)
        for item in content["check_items"]:
            item["beyond_appendix"] = item.get("beyond_appendix", False)
        matters.append(content)
    plugins = []
    for info in registry.plugins:
        if info.department_code is None and not _contributes(registry, info.name):
            continue
        plugins.append(
            {
                "name": info.name,
                "version": info.version,
                "department": info.department_code,
                "matters": [m.code for m in registry.matters.values() if m.department_code == info.department_code],
                "check_items": [
                    {"matter": item.matter_code, "code": item.code, "name": item.name,
                     "beyond_appendix": item.beyond_appendix}
                    for items in registry.check_items.values()
                    for item in items
                    if item.department_code == info.department_code
                ],
            }
        )
    return {"plugins": plugins, "departments": departments, "matters": matters}


def _contributes(registry: Registry, plugin_name: str) -> bool:
    return plugin_name in registry.department_plugin.values()
