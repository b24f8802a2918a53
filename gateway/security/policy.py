"""The one place that decides who may do what (articles 5, 14, 25).

Every action has a row: the roles allowed and the scope each role has. Views and services call
``authorize``; nothing else in the code decides access.
"""
from __future__ import annotations

from typing import Iterable

from gateway.api.errors import ApiError
from gateway.security.principal import Principal

ANY = "any"                  # everything of that kind
OWN_DEPARTMENT = "own"       # only what belongs to the principal's department
TEAM = "team"                # only tasks whose team the inspector is on
PUBLISHED = "published"      # only what is published

PERMISSIONS: dict[str, dict[str, str]] = {
    "catalogue.read":        {"public": ANY, "county_office": ANY, "department_operator": ANY, "department_head": ANY,
                              "inspector": ANY, "supervisor": ANY, "system": ANY},
    "directory.read":        {"county_office": ANY, "supervisor": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT, "system": ANY},
    "targets.read":          {"county_office": ANY, "supervisor": ANY, "department_operator": ANY,
                              "department_head": ANY, "inspector": ANY, "system": ANY},
    "directory.write":       {"county_office": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT},
    "targets.write":         {"county_office": ANY, "department_operator": ANY, "department_head": ANY},
    "plans.read":            {"public": PUBLISHED, "county_office": ANY, "supervisor": ANY,
                              "department_operator": ANY, "department_head": ANY, "inspector": PUBLISHED,
                              "system": ANY},
    "plans.write":           {"county_office": ANY, "department_head": OWN_DEPARTMENT},
    "draws.run":             {"county_office": ANY},
    "draws.read":            {"public": PUBLISHED, "county_office": ANY, "supervisor": ANY,
                              "department_operator": ANY, "department_head": ANY, "inspector": PUBLISHED,
                              "system": ANY},
    "draws.read_internal":   {"county_office": ANY, "supervisor": ANY},
    "inspections.import":    {"county_office": ANY, "system": ANY},
    "tasks.read":            {"county_office": ANY, "supervisor": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT, "inspector": TEAM, "system": ANY},
    "reassignments.request": {"department_operator": OWN_DEPARTMENT, "department_head": OWN_DEPARTMENT,
                              "inspector": TEAM},
    "reassignments.approve": {"department_head": OWN_DEPARTMENT},
    "reassignments.file":    {"county_office": ANY},
    "results.record":        {"inspector": TEAM},
    "results.review":        {"department_head": OWN_DEPARTMENT, "department_operator": OWN_DEPARTMENT},
    "results.publish":       {"department_head": OWN_DEPARTMENT},
    "results.read":          {"public": PUBLISHED, "county_office": ANY, "supervisor": ANY,
                              "department_operator": OWN_DEPARTMENT, "department_head": OWN_DEPARTMENT,
                              "inspector": TEAM, "system": ANY},
    "followups.write":       {"department_operator": OWN_DEPARTMENT, "department_head": OWN_DEPARTMENT},
    "stats.read":            {"county_office": ANY, "supervisor": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT},
    "sync.read":             {"county_office": ANY, "supervisor": ANY, "system": ANY,
                              "department_operator": OWN_DEPARTMENT, "department_head": OWN_DEPARTMENT},
    "sync.operate":          {"county_office": ANY, "system": ANY},
    "audit.read":            {"county_office": ANY, "supervisor": ANY},
    "accounts.manage":       {"county_office": ANY},
}


def scope_of(principal: Principal, action: str) -> str | None:
    """The scope ``principal`` has for ``action``, or None when its role may not do it at all."""
    try:
        return PERMISSIONS[action].get(principal.role)
    except KeyError:
        raise KeyError(f"unknown action {action!r}: add it to PERMISSIONS") from None


def allows(
    principal: Principal,
    action: str,
    *,
    departments: Iterable[str] = (),
    team: Iterable[int] = (),
    published: bool = False,
) -> bool:
    """Whether ``principal`` may do ``action`` on a resource that belongs to ``departments``, whose
    team is the inspector ids ``team``, and which is or is not ``published``."""
    scope = scope_of(principal, action)
    if scope is None:
        return False
    if scope == ANY:
        return True
    if scope == OWN_DEPARTMENT:
        return principal.department_code is not None and principal.department_code in set(departments)
    if scope == TEAM:
        return principal.inspector_id is not None and principal.inspector_id in set(team)
    if scope == PUBLISHED:
        return published
    return False


def authorize(principal: Principal, action: str, **resource) -> None:
    """Raise 401 for the public, 403 for anyone else, unless ``allows``."""
    if allows(principal, action, **resource):
        return
    if principal.is_public:
        raise ApiError(401, "unauthenticated", "请先登录，或在请求中提供有效的访问令牌。")
    raise ApiError(403, "forbidden", "无权执行此操作。", action=action)
