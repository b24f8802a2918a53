"""How a department may be named in an import file: its code, name or short name."""
from __future__ import annotations

from gateway.plugins.manager import Registry


def department_labels(registry: Registry) -> dict[str, str]:
    labels: dict[str, str] = {}
    for code, dept in registry.departments.items():
        for label in (code, dept.name, dept.short_name):
            if label:
                labels[label] = code
    return labels
