"""Tokens and password sign-in put the right principal on the request; bad credentials never do."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.db import utcnow
from gateway.security import accounts
from gateway.security.audit import AuditEntry
from gateway.security.models import Account, ApiToken, WebSession
from gateway.security.principal import SYSTEM

PASSWORD = "Wuzhi-2026-secret"


def make_account(gateway, username="op1", role="department_operator", department="market", **kw):
    with gateway.write() as session:
        return accounts.create_account(session, SYSTEM, username, role, department_code=department,
                                       password=PASSWORD, **kw)


def sign_in(client, username="op1", password=PASSWORD):
    return client.post("/api/v1/auth/sign-in", json={"username": username, "password": password})


def test_auth_headers_fixture_gives_a_scoped_token(client, auth_headers):
    me = client.get("/api/v1/auth/me", headers=auth_headers("department_head", "commerce")).json
    assert (me["role"], me["department_code"], me["auth_method"]) == ("department_head", "commerce", "token")
    assert client.get("/api/v1/auth/me").json["role"] == "public"
    assert auth_headers("public") == {}


def test_token_is_stored_hashed_and_shown_once(gateway, client):
    with gateway.write() as session:
        token, plaintext = accounts.issue_token(session, SYSTEM, "sync worker", "system")
    with gateway.read() as session:
        stored = session.get(ApiToken, token.id)
        assert plaintext not in (stored.token_sha256, stored.prefix, stored.name)
        assert stored.token_sha256 == accounts.sha256_hex(plaintext)
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {plaintext}"}).json
    assert (me["role"], me["username"]) == ("system", "token:sync worker")


@pytest.mark.parametrize("header", ["Bearer ssg_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "ssg_x"])
def test_bad_credentials_are_401_not_public(client, header):
    response = client.get("/api/v1/plugins", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"


def test_revoked_and_expired_tokens_are_refused(gateway, client):
    with gateway.write() as session:
        revoked, revoked_text = accounts.issue_token(session, SYSTEM, "a", "supervisor")
        expired, expired_text = accounts.issue_token(session, SYSTEM, "b", "supervisor")
        accounts.revoke_token(session, SYSTEM, revoked.id)
        session.get(ApiToken, expired.id).expires_at = utcnow() - timedelta(seconds=1)
    for text in (revoked_text, expired_text):
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {text}"}).status_code == 401


def test_token_scope_is_checked(gateway):
    with gateway.write() as session:
        with pytest.raises(Exception) as no_department:
            accounts.issue_token(session, SYSTEM, "x", "department_operator")
        assert "department_code" in no_department.value.errors
        with pytest.raises(Exception) as no_inspector:
            accounts.issue_token(session, SYSTEM, "x", "inspector", department_code="market")
        assert "inspector_id" in no_inspector.value.errors
        with pytest.raises(Exception) as unknown:
            accounts.issue_token(session, SYSTEM, "x", "department_head", department_code="nowhere")
        assert "department_code" in unknown.value.errors
        with pytest.raises(Exception) as public:
            accounts.issue_token(session, SYSTEM, "x", "public")
        assert "role" in public.value.errors


def test_password_sign_in_sets_a_safe_cookie_and_a_server_side_session(gateway, client):
    account = make_account(gateway)
    with gateway.read() as session:
        assert session.get(Account, account.id).password_hash.startswith("$argon2id$")
    response = sign_in(client)
    assert response.status_code == 200, response.json
    cookie = response.headers["Set-Cookie"]
    assert "shuangsui_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # off by default for the demo on http://127.0.0.1
    me = client.get("/api/v1/auth/me").json
    assert (me["role"], me["username"], me["auth_method"]) == ("department_operator", "op1", "session")
    assert me["csrf_token"] == response.json["csrf_token"]
    # signing out ends the session on the server, not only in the browser
    csrf = {"X-CSRF-Token": me["csrf_token"]}
    assert client.post("/api/v1/auth/sign-out", headers=csrf).status_code == 204
    with gateway.read() as session:
        assert session.scalar(select(WebSession.revoked_at)) is not None
    assert client.get("/api/v1/auth/me").json["role"] == "public"


def test_secure_cookie_when_configured(gateway, settings):
    from dataclasses import replace

    from gateway.app import create_app

    gateway.settings = replace(settings, session_cookie_secure=True)
    app = create_app(gateway=gateway)
    make_account(gateway)
    response = sign_in(app.test_client())
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_wrong_password_and_unknown_user_look_the_same(gateway, client):
    make_account(gateway)
    wrong = sign_in(client, password="Wrong-password-1")
    unknown = sign_in(client, username="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["code"] == "invalid_credentials"


def client_at(app, address: str):
    """A test client whose requests come from ``address``."""
    test_client = app.test_client()
    test_client.environ_base["REMOTE_ADDR"] = address
    return test_client


@pytest.fixture
def throttled_app(gateway, settings):
    from dataclasses import replace

    from gateway.app import create_app

    gateway.settings = replace(settings, rate_limit_sign_in="", login_max_failures=3, login_lockout_minutes=15)
    application = create_app(gateway=gateway)
    application.config["TESTING"] = True
    return application


def test_failures_slow_down_the_address_for_that_username_never_the_account(gateway, throttled_app):
    make_account(gateway)
    here, elsewhere = client_at(throttled_app, "10.0.0.1"), client_at(throttled_app, "10.0.0.2")
    for username in ("op1", "nobody"):  # a real account and an unknown name go the same way
        answers = [sign_in(here, username, password=f"Wrong-password-{i}") for i in range(3)]
        assert [(a.status_code, a.json["code"]) for a in answers] == [(401, "invalid_credentials")] * 3
    throttled = {name: sign_in(here, name) for name in ("op1", "nobody")}  # even the right password
    assert throttled["op1"].status_code == throttled["nobody"].status_code == 429
    same = [{k: v for k, v in r.json.items() if k != "errors"} for r in throttled.values()]
    assert same[0] == same[1] and same[0]["code"] == "too_many_requests"
    assert 0 < int(throttled["op1"].headers["Retry-After"]) <= 15 * 60
    # the owner, signing in from elsewhere, is not locked out by someone else's guesses
    assert sign_in(elsewhere).status_code == 200
    # and this address may still try other usernames
    assert sign_in(here, "someone-else").json["code"] == "invalid_credentials"


def test_a_successful_sign_in_clears_the_failures_of_its_address(gateway, throttled_app):
    make_account(gateway)
    for round_ in range(3):
        here = client_at(throttled_app, "10.0.0.3")  # a fresh browser: no session yet
        assert [sign_in(here, password="Wrong-password-1").status_code for _ in range(2)] == [401, 401]
        assert sign_in(here).status_code == 200, round_


def test_unknown_disabled_and_password_less_accounts_cost_one_password_check(gateway, client, monkeypatch):
    make_account(gateway)
    make_account(gateway, "gone")
    with gateway.write() as session:
        accounts.disable_account(session, SYSTEM, accounts.get_account(session, "gone"))
        accounts.create_account(session, SYSTEM, "tokens-only", "supervisor")
    checked = []
    real_verify = accounts._verify
    monkeypatch.setattr(accounts, "_verify", lambda stored, password: checked.append(stored) or real_verify(stored, password))
    answers = {}
    for username, password in (("op1", "Wrong-password-1"), ("nobody", PASSWORD), ("gone", PASSWORD),
                               ("tokens-only", PASSWORD)):
        checked.clear()
        answers[username] = sign_in(client, username, password)
        assert len(checked) == 1 and checked[0].startswith("$argon2id$"), username
    assert {r.status_code for r in answers.values()} == {401}
    assert len({str(r.json) for r in answers.values()}) == 1


def test_every_failed_sign_in_is_audited_with_the_client_address(gateway, throttled_app):
    make_account(gateway)
    here = client_at(throttled_app, "10.0.0.4")
    sign_in(here, password="Wrong-password-1")
    assert [sign_in(here, "nobody").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert sign_in(here).status_code == 200
    with gateway.read() as session:
        entries = [(e.action, e.actor_role, e.details) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("auth.%")).order_by(AuditEntry.id))]
    failed = [(role, d["username"], d["address"], d["reason"]) for action, role, d in entries
              if action == "auth.sign_in_failed"]
    assert failed == [("public", "op1", "10.0.0.4", "wrong_password")] + [
        ("public", "nobody", "10.0.0.4", "unknown_user")] * 3 + [("public", "nobody", "10.0.0.4", "throttled")]
    assert entries[-1][0] == "auth.sign_in" and entries[-1][2]["address"] == "10.0.0.4"
    assert PASSWORD not in str(entries) and "Wrong-password-1" not in str(entries)


@pytest.mark.parametrize("through", ["api", "page"])
def test_signing_in_over_a_stale_session_cookie_keeps_the_new_session(gateway, client, through):
    from gateway.security.web import SESSION_COOKIE
    from tests.web.harness import csrf_from

    make_account(gateway)
    csrf = csrf_from(client.get("/sign-in").get_data(as_text=True))
    client.set_cookie(SESSION_COOKIE, "a-session-that-ended-long-ago")
    if through == "api":
        response = sign_in(client)
        assert response.status_code == 200
    else:
        response = client.post("/sign-in", data={"username": "op1", "password": PASSWORD, "csrf_token": csrf})
        assert response.status_code in (302, 303)
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE + "=")]
    assert len(cookies) == 1 and not cookies[0].startswith(SESSION_COOKIE + "=;"), cookies
    assert client.get("/api/v1/auth/me").json["username"] == "op1"


def test_disabled_account_loses_sessions_and_tokens(gateway, client):
    account = make_account(gateway)
    assert sign_in(client).status_code == 200
    with gateway.write() as session:
        row = session.get(Account, account.id)
        _, plaintext = accounts.issue_token(session, SYSTEM, "own", "department_operator", account=row)
        accounts.disable_account(session, SYSTEM, row)
    assert client.get("/api/v1/auth/me").json["role"] == "public"
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401
    assert sign_in(client).status_code == 401


def test_password_change_needs_the_current_one_and_ends_sessions(gateway, client):
    make_account(gateway)
    csrf = {"X-CSRF-Token": sign_in(client).json["csrf_token"]}
    bad = client.post("/api/v1/auth/password", headers=csrf,
                      json={"current_password": "nope-nope-1", "new_password": "Another-pass-2026"})
    assert bad.status_code == 422 and "current_password" in bad.json["errors"]
    weak = client.post("/api/v1/auth/password", headers=csrf,
                       json={"current_password": PASSWORD, "new_password": "aaaaaaaaaaaa"})
    assert weak.status_code == 422 and weak.json["code"] == "weak_password"
    ok = client.post("/api/v1/auth/password", headers=csrf,
                     json={"current_password": PASSWORD, "new_password": "Another-pass-2026"})
    assert ok.status_code == 204
    assert client.get("/api/v1/auth/me").json["role"] == "public"
    assert sign_in(client, password="Another-pass-2026").status_code == 200


def test_an_idle_page_session_ends_and_use_keeps_it_alive(gateway, client):
    make_account(gateway)
    assert sign_in(client).status_code == 200
    idle = timedelta(minutes=gateway.settings.session_idle_minutes)
    assert idle > timedelta(0)
    # used a minute before the limit: still signed in, and the use is recorded
    with gateway.write() as session:
        session.scalar(select(WebSession)).last_seen_at = utcnow() - idle + timedelta(minutes=1)
    assert client.get("/api/v1/auth/me").json["role"] == "department_operator"
    with gateway.read() as session:
        assert session.scalar(select(WebSession.last_seen_at)) > utcnow() - timedelta(minutes=1)
    # then left alone past the limit: the cookie no longer signs anyone in, and is cleared
    with gateway.write() as session:
        session.scalar(select(WebSession)).last_seen_at = utcnow() - idle - timedelta(seconds=1)
    response = client.get("/api/v1/auth/me")
    assert response.json["role"] == "public"
    assert "shuangsui_session=;" in response.headers.get("Set-Cookie", "")


def test_an_ended_session_sends_pages_to_sign_in_with_a_notice(gateway, client):
    make_account(gateway)
    assert sign_in(client).status_code == 200
    with gateway.write() as session:
        session.scalar(select(WebSession)).last_seen_at = utcnow() - timedelta(days=1)
    page = client.get("/console/reassignments")
    assert page.status_code in (302, 303) and "ended=1" in page.headers["Location"]
    notice = client.get(page.headers["Location"])
    assert "登录已失效" in notice.get_data(as_text=True)


def test_a_token_use_is_recorded_at_most_every_few_minutes(gateway, client):
    with gateway.write() as session:
        token, plaintext = accounts.issue_token(session, SYSTEM, "sync worker", "system")
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/auth/me", headers=headers).json["role"] == "system"
    with gateway.read() as session:
        first = session.get(ApiToken, token.id).last_used_at
    assert first is not None and first > utcnow() - timedelta(minutes=1)
    client.get("/api/v1/auth/me", headers=headers)
    with gateway.read() as session:
        assert session.get(ApiToken, token.id).last_used_at == first  # not rewritten on every request
