"""The plugin system: hook specifications, contribution types and the manager factory.

Department plugins import ``hookimpl`` and the contribution dataclasses from here.
"""
from gateway.plugins.contributions import (
    JURISDICTION_LEVELS,
    TARGET_TYPES,
    CheckItem,
    Department,
    Matter,
    TargetCriteria,
    items_for,
)
from gateway.plugins.hookspecs import hookimpl, hookspec
from gateway.plugins.rules import problem_description_required

__all__ = [
    "CheckItem",
    "Department",
    "JURISDICTION_LEVELS",
    "Matter",
    "TARGET_TYPES",
    "TargetCriteria",
    "hookimpl",
    "hookspec",
    "items_for",
    "problem_description_required",
]
