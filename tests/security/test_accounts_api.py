"""The accounts and tokens API (/api/v1/accounts, /api/v1/tokens): the county office's counterpart
of ``shuangsui user`` and ``shuangsui token``, through the app on real data."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.db import utcnow
from gateway.security import accounts
from gateway.security.audit import AuditEntry
from gateway.security.models import Account, ApiToken
from gateway.security.principal import ROLES, SYSTEM
from schemas import security as security_schemas

PASSWORD = "Wuzhi-2026-secret"


@pytest.fixture
def county(client_as):
    return client_as("county_office")


def create(county, username="op1", role="department_operator", department="market", **body):
    return county.post("/api/v1/accounts", json={"username": username, "role": role,
                                                  "department_code": department, **body})


def sign_in(client, username, password):
    return client.post("/api/v1/auth/sign-in", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_actions(gateway) -> list[str]:
    with gateway.read() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_schema_constants_follow_the_service():
    assert security_schemas.ACCOUNT_ROLES == accounts.ACCOUNT_ROLES
    assert security_schemas.DEFAULT_TOKEN_DAYS == accounts.DEFAULT_TOKEN_DAYS
    assert security_schemas.MAX_TOKEN_DAYS == accounts.MAX_TOKEN_DAYS


def test_generated_passwords_are_strong_and_different():
    made = {accounts.generate_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        accounts.check_password_strength(password)
        assert len(password) >= 20


# ------------------------------------------------------------------------------------------ create

def test_create_with_a_password(gateway, client, county):
    response = create(county, password=PASSWORD, display_name="张三")
    assert response.status_code == 201, response.json
    body = response.json
    assert "password" not in body  # the caller chose it: nothing to show
    assert {k: body[k] for k in ("username", "display_name", "role", "department_code", "inspector_id", "active",
                                 "has_password", "last_login_at")} == {
        "username": "op1", "display_name": "张三", "role": "department_operator", "department_code": "market",
        "inspector_id": None, "active": True, "has_password": True, "last_login_at": None}
    assert body["created_at"].endswith("+00:00")
    signed = sign_in(client, "op1", PASSWORD)
    assert signed.status_code == 200 and signed.json["role"] == "department_operator"
    assert county.get(f"/api/v1/accounts/{body['id']}").json["last_login_at"] is not None
    assert "accounts.create" in audit_actions(gateway)


def test_create_without_a_password_generates_one_shown_once(gateway, client, county, caplog):
    caplog.set_level(logging.DEBUG)
    response = create(county, username="head1", role="department_head", department="commerce")
    assert response.status_code == 201, response.json
    password = response.json["password"]
    accounts.check_password_strength(password)
    assert sign_in(client, "head1", password).status_code == 200
    # shown once: neither the account, the listing, the audit log nor the logs carry it
    account_id = response.json["id"]
    assert "password" not in county.get(f"/api/v1/accounts/{account_id}").json
    listing = county.get("/api/v1/accounts").get_data(as_text=True)
    assert password not in listing and "argon2" not in listing and "password_hash" not in listing
    with gateway.read() as session:
        details = " ".join(str(d) for d in session.scalars(select(AuditEntry.details)))
        assert session.get(Account, account_id).password_hash != password
    assert password not in details
    assert password not in caplog.text


def test_a_token_only_account(client, county):
    response = create(county, username="sync", role="system", department=None, no_password=True)
    assert response.status_code == 201, response.json
    assert response.json["has_password"] is False and "password" not in response.json
    assert sign_in(client, "sync", "anything-at-all-1").status_code == 401
    both = create(county, username="sync2", role="system", department=None, no_password=True, password=PASSWORD)
    assert both.status_code == 422 and "no_password" in both.json["errors"]


def test_an_inspector_account_takes_the_inspectors_department(county):
    inspector = county.post("/api/v1/inspectors", json={
        "department_code": "market", "name": "测试员", "gender": "female",
        "certificate_no": "4108239977001", "phone": "13912345678"}).json
    made = create(county, username="insp", role="inspector", department=None, inspector_id=inspector["id"])
    assert made.status_code == 201, made.json
    assert (made.json["department_code"], made.json["inspector_id"]) == ("market", inspector["id"])
    body = made.get_data(as_text=True)
    assert "13912345678" not in body and "4108239977001" not in body
    wrong = create(county, username="insp2", role="inspector", department="commerce", inspector_id=inspector["id"])
    assert wrong.status_code == 422 and "department_code" in wrong.json["errors"]


def test_a_duplicate_username_is_409(county):
    assert create(county, password=PASSWORD).status_code == 201
    again = create(county, role="supervisor", department=None)
    assert again.status_code == 409
    assert again.json["code"] == "duplicate_username" and "username" in again.json["errors"]


@pytest.mark.parametrize("body, field", [
    ({"role": "public"}, "role"),
    ({"role": "root"}, "role"),
    ({"department_code": "nowhere"}, "department_code"),
    ({"department_code": None}, "department_code"),
    ({"role": "supervisor"}, "department_code"),  # not a department role
    ({"role": "inspector", "department_code": None}, "inspector_id"),
    ({"role": "inspector", "department_code": None, "inspector_id": 999}, "inspector_id"),
    ({"inspector_id": 1}, "inspector_id"),  # only inspector accounts have one
    ({"username": "张 三"}, "username"),
    ({"username": "x" * 65}, "username"),
    ({"username": ""}, "username"),
    ({"password": "short1"}, "password"),
    ({"password": "aaaaaaaaaaaaaaa"}, "password"),
    ({"display_name": "x" * 101}, "display_name"),
    ({"extra": 1}, "extra"),
])
def test_bad_input_is_422_naming_the_field(gateway, county, body, field):
    payload = {"username": "op1", "role": "department_operator", "department_code": "market", **body}
    response = county.post("/api/v1/accounts", json=payload)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert all(ord(c) < 128 for c in response.json["code"])
    assert any("\u4e00" <= c <= "\u9fff" for c in response.json["message"])
    with gateway.read() as session:
        assert session.scalar(select(Account.id)) is None


# -------------------------------------------------------------------------------------------- list

def test_listing_filters_by_role_and_department_and_pages(county):
    for username, role, department in (("op-market", "department_operator", "market"),
                                       ("op-commerce", "department_operator", "commerce"),
                                       ("head-market", "department_head", "market"),
                                       ("watcher", "supervisor", None)):
        assert create(county, username=username, role=role, department=department).status_code == 201

    def names(**query):
        page = county.get("/api/v1/accounts", query_string=query).json
        return [a["username"] for a in page["items"]], page["total"]

    assert names() == (["op-market", "op-commerce", "head-market", "watcher"], 4)
    assert names(role="department_operator") == (["op-market", "op-commerce"], 2)
    assert names(department="market") == (["op-market", "head-market"], 2)
    assert names(role="department_operator", department="commerce") == (["op-commerce"], 1)
    assert names(page=2, page_size=3) == (["watcher"], 4)
    assert names(role="supervisor", department="market") == ([], 0)
    bad = county.get("/api/v1/accounts", query_string={"role": "emperor"})
    assert bad.status_code == 422 and "role" in bad.json["errors"]
    assert county.get("/api/v1/accounts/999").status_code == 404


# ------------------------------------------------------------------------- disable, enable, password

def test_disable_ends_sessions_and_revokes_tokens_and_enable_lets_back_in(gateway, app, client, county):
    account_id = create(county, password=PASSWORD).json["id"]
    assert sign_in(client, "op1", PASSWORD).status_code == 200
    token = county.post("/api/v1/tokens", json={"name": "op1 的脚本", "username": "op1"}).json["token"]
    assert client.get("/api/v1/auth/me", headers=bearer(token)).json["username"] == "op1"

    disabled = county.post(f"/api/v1/accounts/{account_id}/disable")
    assert disabled.status_code == 200 and disabled.json["active"] is False
    assert client.get("/api/v1/auth/me").json["role"] == "public"  # the page session ended
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    assert sign_in(app.test_client(), "op1", PASSWORD).status_code == 401
    listed = county.get("/api/v1/tokens", query_string={"all": "true"}).json["items"]
    assert [t["status"] for t in listed if t["username"] == "op1"] == ["revoked"]

    enabled = county.post(f"/api/v1/accounts/{account_id}/enable")
    assert enabled.status_code == 200 and enabled.json["active"] is True
    assert "locked" not in enabled.json  # accounts are never locked: failures are throttled per address
    assert sign_in(app.test_client(), "op1", PASSWORD).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401  # stays revoked
    assert {"accounts.disable", "accounts.enable"} <= set(audit_actions(gateway))
    for action in ("disable", "enable"):
        assert county.post(f"/api/v1/accounts/999/{action}").status_code == 404


def test_password_reset_ends_sessions(gateway, app, client, county):
    account_id = create(county, password=PASSWORD).json["id"]
    assert sign_in(client, "op1", PASSWORD).status_code == 200
    new = "Another-pass-2026"
    reset = county.post(f"/api/v1/accounts/{account_id}/password", json={"password": new})
    assert reset.status_code == 200 and "password" not in reset.json
    assert client.get("/api/v1/auth/me").json["role"] == "public"
    assert sign_in(app.test_client(), "op1", PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "op1", new).status_code == 200

    generated = county.post(f"/api/v1/accounts/{account_id}/password", json={})
    assert generated.status_code == 200
    assert sign_in(app.test_client(), "op1", generated.json["password"]).status_code == 200
    no_body = county.post(f"/api/v1/accounts/{account_id}/password")
    assert no_body.status_code == 200 and no_body.json["password"] != generated.json["password"]

    weak = county.post(f"/api/v1/accounts/{account_id}/password", json={"password": "1234567890"})
    assert weak.status_code == 422 and weak.json["code"] == "weak_password" and "password" in weak.json["errors"]
    assert county.post("/api/v1/accounts/999/password", json={}).status_code == 404
    assert audit_actions(gateway).count("accounts.password") == 3


def test_a_county_officer_cannot_lock_themselves_out_through_the_api(gateway, client):
    with gateway.write() as session:
        me = accounts.create_account(session, SYSTEM, "office", "county_office", password=PASSWORD)
    csrf = {"X-CSRF-Token": sign_in(client, "office", PASSWORD).json["csrf_token"]}
    for path in (f"/api/v1/accounts/{me.id}/disable", f"/api/v1/accounts/{me.id}/password"):
        response = client.post(path, headers=csrf, json={})
        assert response.status_code == 409 and response.json["code"] == "own_account", path
    assert client.get("/api/v1/auth/me").json["username"] == "office"  # still signed in


def test_page_sessions_need_the_csrf_header(gateway, client):
    with gateway.write() as session:
        accounts.create_account(session, SYSTEM, "office", "county_office", password=PASSWORD)
    csrf = {"X-CSRF-Token": sign_in(client, "office", PASSWORD).json["csrf_token"]}
    body = {"username": "op1", "role": "supervisor"}
    forged = client.post("/api/v1/accounts", json=body)
    assert forged.status_code == 403 and forged.json["code"] == "csrf_failed"
    assert client.post("/api/v1/accounts", json=body, headers=csrf).status_code == 201
    listing = client.get("/api/v1/accounts").json
    assert [a["username"] for a in listing["items"]] == ["office", "op1"]


# ------------------------------------------------------------------------------------------- tokens

def test_tokens_create_list_and_revoke(gateway, client, county):
    create(county, username="sync", role="system", department=None, no_password=True)
    for_user = county.post("/api/v1/tokens", json={"name": "同步进程", "username": "sync", "days": 30})
    assert for_user.status_code == 201, for_user.json
    made = for_user.json
    assert made["token"].startswith("ssg_") and made["token"].startswith(made["prefix"])
    assert (made["role"], made["username"], made["status"], made["revoked_at"]) == ("system", "sync", "active", None)
    assert made["created_by"].startswith("县双随机办")
    with gateway.read() as session:
        row = session.get(ApiToken, made["id"])
        assert row.expires_at - row.created_at == timedelta(days=30)
        token_hash = row.token_sha256
    for_role = county.post("/api/v1/tokens", json={"name": "市场监管局接口", "role": "department_operator",
                                                   "department_code": "market"})
    assert for_role.status_code == 201, for_role.json
    assert (for_role.json["department_code"], for_role.json["username"]) == ("market", None)
    me = client.get("/api/v1/auth/me", headers=bearer(for_role.json["token"])).json
    assert (me["role"], me["department_code"], me["auth_method"]) == ("department_operator", "market", "token")

    listing = county.get("/api/v1/tokens")
    text = listing.get_data(as_text=True)
    assert made["token"] not in text and for_role.json["token"] not in text and token_hash not in text
    assert "token_sha256" not in text and '"token"' not in text
    names = [t["name"] for t in listing.json["items"]]
    assert {"同步进程", "市场监管局接口"} <= set(names)

    revoked = county.post(f"/api/v1/tokens/{made['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked" and revoked.json["revoked_at"]
    assert client.get("/api/v1/auth/me", headers=bearer(made["token"])).status_code == 401
    assert county.post(f"/api/v1/tokens/{made['id']}/revoke").status_code == 200  # again: no change
    assert audit_actions(gateway).count("tokens.revoke") == 1
    assert "同步进程" not in [t["name"] for t in county.get("/api/v1/tokens").json["items"]]
    everything = county.get("/api/v1/tokens", query_string={"all": "true"}).json["items"]
    assert {t["name"]: t["status"] for t in everything}["同步进程"] == "revoked"

    # an expired token is listed with all=true only
    with gateway.write() as session:
        session.get(ApiToken, for_role.json["id"]).expires_at = utcnow() - timedelta(seconds=1)
    assert "市场监管局接口" not in [t["name"] for t in county.get("/api/v1/tokens").json["items"]]
    everything = county.get("/api/v1/tokens", query_string={"all": "true"}).json["items"]
    assert {t["name"]: t["status"] for t in everything}["市场监管局接口"] == "expired"
    assert county.post("/api/v1/tokens/999/revoke").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({}, "role"),
    ({"role": "public"}, "role"),
    ({"role": "department_head"}, "department_code"),
    ({"role": "department_head", "department_code": "nowhere"}, "department_code"),
    ({"role": "inspector", "department_code": "market"}, "inspector_id"),
    ({"username": "nobody"}, "username"),
    ({"username": "sync", "role": "county_office"}, "role"),
    ({"role": "supervisor", "days": 0}, "days"),
    ({"role": "supervisor", "days": 731}, "days"),
    ({"role": "supervisor", "name": ""}, "name"),
    ({"role": "supervisor", "name": "x" * 101}, "name"),
])
def test_bad_token_requests_are_422_naming_the_field(gateway, county, body, field):
    create(county, username="sync", role="system", department=None, no_password=True)
    response = county.post("/api/v1/tokens", json={"name": "测试", **body})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    with gateway.read() as session:
        assert session.scalar(select(ApiToken.id).where(ApiToken.name != "pytest-county_office")) is None


def test_a_disabled_accounts_token_is_not_issued(county):
    account_id = create(county, username="sync", role="system", department=None, no_password=True).json["id"]
    county.post(f"/api/v1/accounts/{account_id}/disable")
    response = county.post("/api/v1/tokens", json={"name": "x", "username": "sync"})
    assert response.status_code == 422 and response.json["code"] == "account_disabled"


def test_a_token_cannot_revoke_itself(gateway, client, county):
    made = county.post("/api/v1/tokens", json={"name": "办公室脚本", "role": "county_office"}).json
    own = client.post(f"/api/v1/tokens/{made['id']}/revoke", headers=bearer(made["token"]))
    assert own.status_code == 409 and own.json["code"] == "own_token"
    assert county.post(f"/api/v1/tokens/{made['id']}/revoke").status_code == 200  # another credential may
    assert client.get("/api/v1/auth/me", headers=bearer(made["token"])).status_code == 401


# -------------------------------------------------------------------------------------------- roles

ENDPOINTS = [
    ("GET", "/api/v1/accounts"), ("POST", "/api/v1/accounts"), ("GET", "/api/v1/accounts/{account}"),
    ("POST", "/api/v1/accounts/{account}/disable"), ("POST", "/api/v1/accounts/{account}/enable"),
    ("POST", "/api/v1/accounts/{account}/password"), ("GET", "/api/v1/tokens"), ("POST", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens/{token}/revoke"),
]


def test_only_the_county_office_manages_accounts(gateway, client, county, auth_headers):
    account_id = create(county, password=PASSWORD).json["id"]
    token_id = county.post("/api/v1/tokens", json={"name": "x", "role": "supervisor"}).json["id"]
    inspector = county.post("/api/v1/inspectors", json={
        "department_code": "market", "name": "测试员", "gender": "male",
        "certificate_no": "4108239977002", "phone": "13912345679"}).json
    others = {role: auth_headers(role, inspector_id=inspector["id"] if role == "inspector" else None)
              for role in ROLES if role != "county_office"}
    before = audit_actions(gateway)
    for role, headers in others.items():
        expected = (401, "unauthenticated") if role == "public" else (403, "forbidden")
        for method, path in ENDPOINTS:
            url = path.format(account=account_id, token=token_id)
            body = {"username": "evil", "role": "county_office", "name": "x", "password": PASSWORD}
            response = client.open(url, method=method, headers=headers,
                                   **({"json": body} if method == "POST" else {}))
            assert (response.status_code, response.json["code"]) == expected, (role, method, url)
    assert audit_actions(gateway) == before  # nothing changed
    with gateway.read() as session:
        assert session.get(Account, account_id).active
        assert session.get(ApiToken, token_id).revoked_at is None
        assert session.scalar(select(Account.id).where(Account.username == "evil")) is None
