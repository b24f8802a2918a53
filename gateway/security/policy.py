"""The one place that decides who may do what (articles 5, 14, 25).

Every action has a row: the roles allowed and the scope each role has. Views and services call
``authorize``; nothing else in the code decides access.
"""
from __future__ import annotations

from typing import Iterable

from flask_smorest import Blueprint

from gateway.errors import Forbidden, Unauthenticated
from gateway.security.principal import Principal

ANY = "any"                  # everything of that kind
OWN_DEPARTMENT = "own"       # only what belongs to the principal's department
TEAM = "team"                # only tasks whose team the inspector is on
PUBLISHED = "published"      # only what is published

_EVERYONE = {"public": ANY, "county_office": ANY, "department_operator": ANY, "department_head": ANY,
             "inspector": ANY, "supervisor": ANY, "system": ANY}
_SIGNED_IN = {role: ANY for role in _EVERYONE if role != "public"}

PERMISSIONS: dict[str, dict[str, str]] = {
    # Staff sign in with a password; an enterprise with an access code (its portal, gateway/enterprise).
    "auth.sign_in":          {**_EVERYONE, "enterprise": ANY},
    "auth.self":             dict(_SIGNED_IN),
    "catalogue.read":        {"public": ANY, "county_office": ANY, "department_operator": ANY, "department_head": ANY,
                              "inspector": ANY, "supervisor": ANY, "system": ANY},
    "directory.read":        {"county_office": ANY, "supervisor": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT, "system": ANY},
    "targets.read":          {"county_office": ANY, "supervisor": ANY, "department_operator": ANY,
                              "department_head": ANY, "inspector": ANY, "system": ANY},
    # Personal data in bulk (full phone and certificate numbers): the owning department only.
    "directory.export":      {"department_operator": OWN_DEPARTMENT, "department_head": OWN_DEPARTMENT},
    "directory.write":       {"county_office": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT},
    # Non-eligibility fields of a target; other departments' eligibility proposals.
    "targets.write":         {"county_office": ANY, "department_operator": ANY, "department_head": ANY},
    # Eligibility fields (status, active, risk class, lists) and decisions on proposals: the
    # registration authority's department (eligibility.owner_departments) or the county office.
    "targets.eligibility":   {"county_office": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT},
    "plans.read":            {"public": PUBLISHED, "county_office": ANY, "supervisor": ANY,
                              "department_operator": ANY, "department_head": ANY, "inspector": PUBLISHED,
                              "system": ANY},
    "plans.write":           {"county_office": ANY, "department_head": OWN_DEPARTMENT},
    "plans.file":            {"county_office": ANY},
    # The annual release is published data (public from 1 January of the next year).
    "annual.read":           {**_EVERYONE, "public": PUBLISHED},
    "visits.read":          {"county_office": ANY, "supervisor": ANY, "department_operator": ANY,
                              "department_head": ANY, "system": ANY},
    "visits.join":           {"department_operator": OWN_DEPARTMENT, "department_head": OWN_DEPARTMENT},
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
    "listing.read":          {"county_office": ANY, "supervisor": ANY, "department_operator": ANY,
                              "department_head": ANY},
    # Listing is the registration authority's decision: its head (eligibility.registration_authority).
    "listing.decide":        {"department_head": OWN_DEPARTMENT},
    "followups.write":       {"department_operator": OWN_DEPARTMENT, "department_head": OWN_DEPARTMENT},
    "followups.publish":     {"department_head": OWN_DEPARTMENT},
    "attachments.read":      {"county_office": ANY, "supervisor": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT, "inspector": TEAM},
    "attachments.prune":     {"county_office": ANY},
    "stats.read":            {"county_office": ANY, "supervisor": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT},
    "sync.read":             {"county_office": ANY, "supervisor": ANY, "system": ANY,
                              "department_operator": OWN_DEPARTMENT, "department_head": OWN_DEPARTMENT},
    "sync.operate":          {"county_office": ANY, "system": ANY},
    # Inspection codes (docs/enterprise.md): anyone checks a scanned code and the published keys;
    # those who may read a task show its code; the enterprise confirms the team's arrival with the
    # access code from the notice: without any account (a signed-in staff member, the team
    # included, cannot confirm an arrival); the team adds its phone's location, with consent.
    "codes.read":          dict(_EVERYONE),
    "codes.read_task":           {"county_office": ANY, "supervisor": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT, "inspector": TEAM},
    "checkins.confirm":      {"public": ANY, "enterprise": ANY},
    "checkins.locate":       {"inspector": TEAM},
    "audit.read":            {"county_office": ANY, "supervisor": ANY},
    # The inspected enterprise's side (gateway/enterprise). Role "enterprise" belongs to no account
    # or token: it is a portal session opened with an access code (gateway.enterprise.sessions).
    "notices.send":          {"county_office": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT},
    "portal.use":            {"enterprise": ANY},
    "statements.read":       {"county_office": ANY, "supervisor": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT, "inspector": TEAM},
    "statements.answer":     {"department_operator": OWN_DEPARTMENT, "department_head": OWN_DEPARTMENT},
    # Ratings are anonymous to the inspecting department: it reads aggregates of at least
    # gateway.enterprise.ratings.MIN_RATINGS_SHOWN ratings; only the office (and the supervisors, who
    # read everything and inspect nobody) read each rating.
    "ratings.read":          {"county_office": ANY, "supervisor": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT},
    "ratings.read_each":     {"county_office": ANY, "supervisor": ANY},
    "accounts.manage":       {"county_office": ANY},
    # The ledger of every inspection of a target (issue 16): every department sees all of it, so
    # that a visit can be joined with or spared after another department's.
    "ledger.read":           {"county_office": ANY, "supervisor": ANY, "department_operator": ANY,
                              "department_head": ANY, "system": ANY},
    "ledger.register":       {"county_office": ANY, "department_operator": OWN_DEPARTMENT,
                              "department_head": OWN_DEPARTMENT},
    # Published caps are public (only published versions exist to be read).
    "caps.read":             {**_EVERYONE, "public": PUBLISHED, "inspector": PUBLISHED},
    "caps.publish":          {"county_office": ANY},
}


def is_read(action: str) -> bool:
    """Reads are the actions whose verb starts with "read" (``results.read``, ``draws.read_internal``)."""
    return action.split(".", 1)[-1].startswith("read")


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
    if published and is_read(action):
        # What is published is public: every role that may read such things at all sees it.
        return True
    if scope == OWN_DEPARTMENT:
        return principal.department_code is not None and principal.department_code in set(departments)
    if scope == TEAM:
        return principal.inspector_id is not None and principal.inspector_id in set(team)
    if scope == PUBLISHED:
        return published
    return False


def authorize(principal: Principal, action: str, **resource) -> None:
    """Raise ``Unauthenticated`` for the public, ``Forbidden`` for anyone else, unless ``allows``."""
    if allows(principal, action, **resource):
        return
    _refuse(principal, action)


# ------------------------------------------------------------------------------ views declare it

VIEW_ACTION_ATTR = "_shuangsui_action"


def permission(action: str):
    """Declare the action a view performs: ``@permission("directory.read")`` on a view function or
    a MethodView method, anywhere in its decorator stack.

    Before the view runs (and before its arguments are parsed), the request is refused unless the
    principal's role has some scope for ``action``; the view then calls ``authorize`` with the
    resource for the finer scopes (own department, team, published). The action also appears in
    the OpenAPI operation as ``x-permission``, and the role test reads it from here.
    """
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}: add it to PERMISSIONS")

    def mark(func):
        setattr(func, VIEW_ACTION_ATTR, action)  # copied onto the wrapper by doc's functools.wraps
        roles = {role: scope for role, scope in PERMISSIONS[action].items()}
        return Blueprint.doc(**{"x-permission": {"action": action, "roles": roles}})(func)

    return mark


def view_handler(view_func, method: str):
    """The function that answers HTTP ``method`` behind ``view_func`` (a MethodView's method), or None."""
    view_class = getattr(view_func, "view_class", None)
    if view_class is None:
        return view_func
    handler = getattr(view_class, method.lower(), None)
    if handler is None and method.upper() == "HEAD":
        handler = getattr(view_class, "get", None)
    return handler


def view_action(view_func, method: str) -> str | None:
    """The action declared by the view behind ``view_func`` for HTTP ``method``, or None."""
    return getattr(view_handler(view_func, method), VIEW_ACTION_ATTR, None)


def check_declared(principal: Principal, action: str) -> None:
    """The coarse check run before a view: the role has some scope for ``action``."""
    if scope_of(principal, action) is None:
        _refuse(principal, action)


def _refuse(principal: Principal, action: str):
    if principal.is_public:
        raise Unauthenticated("unauthenticated", "请先登录，或在请求中提供有效的访问令牌。")
    raise Forbidden("forbidden", "无权执行此操作。", action=action)


# --------------------------------------------------------------------------------------- listings

def visible_departments(principal: Principal, action: str) -> list[str] | None:
    """For listings: None when the principal sees every department's rows for ``action``, else
    the departments it may see (its own). Refuses as ``authorize`` does when the role has no scope
    at all, and for scopes that are not about departments (team, published): use ``scope_of`` for
    those and filter by ``principal.inspector_id`` or by publication."""
    scope = scope_of(principal, action)
    if scope is None:
        _refuse(principal, action)
    if scope == ANY:
        return None
    if scope == OWN_DEPARTMENT:
        return [principal.department_code] if principal.department_code else []
    raise ValueError(f"scope {scope!r} of {action!r} is not a department scope; filter with scope_of()")
