"""Every role against every endpoint, expected outcomes read from the one PERMISSIONS table.

The endpoints come from the application's url_map, so a new endpoint is tried as soon as it is
registered; each view's action comes from its ``@permission`` declaration. A role without the
action must be refused (401 for the public, 403 otherwise) before anything else happens; a role
with it must get past the check (whatever the resource then says: 2xx, 404, 409, 422...).
"""
from __future__ import annotations

import re

import pytest

from gateway.demo.generate import make_uscc
from gateway.security.policy import ANY, OWN_DEPARTMENT, PERMISSIONS, view_action
from gateway.security.principal import ROLES

PHONE = "13912345678"
CERTIFICATE = "4108239977001"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def world(client_as):
    """A market inspector, a target, a conflict; a client per role (department roles in market)."""
    county = client_as("county_office")
    inspector = county.post("/api/v1/inspectors", json={
        "department_code": "market", "name": "测试员", "gender": "female",
        "certificate_no": CERTIFICATE, "phone": PHONE,
    }).json
    uscc = make_uscc("enterprise", 77)
    county.post("/api/v1/targets", json={"uscc": uscc, "name": "武陟县测试有限公司", "type": "enterprise"})
    county.post("/api/v1/conflicts", json={"inspector_id": inspector["id"], "uscc": uscc, "reason": "近亲属任职"})
    clients = {role: client_as(role, inspector_id=inspector["id"] if role == "inspector" else None)
               for role in ROLES}
    return {"inspector_id": inspector["id"], "uscc": uscc, "clients": clients}


def endpoints(app):
    """(rule, method, action) for every API endpoint of the application."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(set(rule.methods) & set(METHODS)):
            found.append((rule, method, view_action(view, method)))
    return found


def sample_url(rule, world) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if name == "uscc":
            values[name] = world["uscc"]
        elif name == "inspector_id":
            values[name] = world["inspector_id"]
        elif type(converter).__name__ == "IntegerConverter":
            values[name] = 1
        else:
            values[name] = "1"
    url = rule.rule
    for name, value in values.items():
        url = re.sub(r"<[^>]*\b" + name + r">", str(value), url)
    return url


def test_every_api_endpoint_declares_an_action_from_the_table(app):
    found = endpoints(app)
    assert len(found) >= 20
    undeclared = [f"{m} {r.rule}" for r, m, a in found if a is None]
    assert not undeclared, f"views without @permission: {undeclared}"
    unknown = [f"{m} {r.rule}: {a}" for r, m, a in found if a not in PERMISSIONS]
    assert not unknown


def test_every_role_against_every_endpoint(app, world):
    outcomes = []
    problems = []
    for rule, method, action in endpoints(app):
        if action is None:
            continue  # reported by the test above
        url = sample_url(rule, world)
        for role in ROLES:
            client = world["clients"][role]
            scope = PERMISSIONS[action].get(role)
            kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            response = client.open(url, method=method, **kwargs)
            status = response.status_code
            outcomes.append((method, rule.rule, role, status))
            where = f"{role:20} {method:6} {url} ({action}, scope {scope}) -> {status}"
            if status >= 500:
                problems.append("server error: " + where)
            elif scope is None:
                expected = 401 if role == "public" else 403
                if status != expected or response.json.get("code") not in ("unauthenticated", "forbidden"):
                    problems.append(f"should be refused with {expected}: " + where)
            elif scope in (ANY, OWN_DEPARTMENT) and status in (401, 403):
                # department roles act on market's data, which is their own
                problems.append("should be allowed: " + where + f" {response.json}")
    assert not problems, "\n".join(problems)
    assert {o[2] for o in outcomes} == set(ROLES)


def test_public_responses_never_carry_personal_data(app, world):
    public = world["clients"]["public"]
    for rule, method, action in endpoints(app):
        if method != "GET" or action is None or "public" not in PERMISSIONS[action]:
            continue
        body = public.get(sample_url(rule, world)).get_data(as_text=True)
        assert PHONE not in body and CERTIFICATE not in body, rule.rule


def test_supervisors_read_everything_and_change_nothing():
    for action, roles in PERMISSIONS.items():
        if "supervisor" in roles and not action.startswith("auth."):
            assert action.split(".", 1)[1].startswith("read"), f"supervisor may change through {action}"
    reads = [a for a in PERMISSIONS if a.split(".", 1)[1].startswith("read") and a != "auth.sign_in"]
    assert all(PERMISSIONS[a].get("supervisor") == ANY for a in reads)


def test_the_public_only_ever_has_published_or_open_scopes():
    for action, roles in PERMISSIONS.items():
        if "public" in roles:
            assert roles["public"] in ("published", ANY)
            if roles["public"] == ANY:
                # anyone checks a scanned inspection code; the enterprise confirms an arrival with
                # its access code, without an account (docs/enterprise.md)
                assert action.startswith(("catalogue.", "auth.sign_in", "codes.read", "checkins.confirm")), action
                assert action != "codes.read_task", action
