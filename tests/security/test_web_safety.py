"""CSRF, cookies, security headers, size and rate limits, and no stack traces for clients."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import event

from gateway.app import create_app
from gateway.demo.generate import make_uscc
from gateway.security import accounts
from gateway.security.principal import SYSTEM
from gateway.security.ratelimit import RateLimiter, parse_limit

PASSWORD = "Wuzhi-2026-secret"


def app_with(gateway, settings, **changes):
    gateway.settings = replace(settings, **changes)
    application = create_app(gateway=gateway)
    application.config["TESTING"] = True
    return application


def signed_in_client(gateway, client, role="department_operator", department="market"):
    with gateway.write() as session:
        accounts.create_account(session, SYSTEM, "web1", role, department_code=department, password=PASSWORD)
    response = client.post("/api/v1/auth/sign-in", json={"username": "web1", "password": PASSWORD})
    assert response.status_code == 200
    return response.json["csrf_token"]


def test_security_headers_on_every_response(client):
    for response in (client.get("/api/v1/plugins"), client.get("/api/v1/nowhere"), client.get("/api/v1/inspectors")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_changes_need_the_csrf_token(gateway, client):
    csrf = signed_in_client(gateway, client)
    body = {"uscc": make_uscc("enterprise", 1), "name": "甲公司", "type": "enterprise"}
    forged = client.post("/api/v1/targets", json=body)
    assert forged.status_code == 403 and forged.json["code"] == "csrf_failed"
    wrong = client.post("/api/v1/targets", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert client.get("/api/v1/targets").json["total"] == 0  # nothing changed
    assert client.post("/api/v1/targets", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    # reads need no token
    assert client.get("/api/v1/targets").status_code == 200


def test_bearer_token_calls_are_exempt_from_csrf(client, auth_headers):
    body = {"uscc": make_uscc("enterprise", 2), "name": "乙公司", "type": "enterprise"}
    assert client.post("/api/v1/targets", json=body, headers=auth_headers("county_office")).status_code == 201


def test_anonymous_form_posts_need_the_csrf_token(client):
    refused = client.post("/api/v1/auth/sign-in", data={"username": "a", "password": "b"})
    assert refused.status_code == 403 and refused.json["code"] == "csrf_failed"
    token = client.get("/api/v1/auth/csrf")
    assert "shuangsui_csrf=" in token.headers["Set-Cookie"] and "HttpOnly" in token.headers["Set-Cookie"]
    passed = client.post("/api/v1/auth/sign-in", data={"username": "a", "password": "b",
                                                       "csrf_token": token.json["csrf_token"]})
    assert passed.json["code"] != "csrf_failed"  # past the CSRF check (the API itself takes JSON)


def test_csrf_token_of_another_browser_does_not_work(app, client):
    token = client.get("/api/v1/auth/csrf").json["csrf_token"]
    other = app.test_client()
    other.get("/api/v1/auth/csrf")
    refused = other.post("/api/v1/auth/sign-in", data={"username": "a", "password": "b", "csrf_token": token})
    assert refused.json["code"] == "csrf_failed"


def test_payload_too_large_is_a_clean_413(gateway, settings, auth_headers):
    application = app_with(gateway, settings, max_upload_bytes=10_000)
    response = application.test_client().post(
        "/api/v1/imports/targets", headers=auth_headers("county_office"),
        data={"file": (__import__("io").BytesIO(b"x" * 50_000), "big.csv")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"


def test_public_rate_limit_answers_429_with_retry_after(gateway, settings):
    application = app_with(gateway, settings, rate_limit_public="3/60")
    client = application.test_client()
    statuses = [client.get("/api/v1/plugins").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/matters")
    assert limited.json["code"] == "too_many_requests" and "message" in limited.json
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_signed_in_callers_are_not_held_by_the_public_limit(gateway, settings, auth_headers):
    application = app_with(gateway, settings, rate_limit_public="2/60")
    client = application.test_client()
    headers = auth_headers("supervisor")
    assert {client.get("/api/v1/plugins", headers=headers).status_code for _ in range(5)} == {200}


def test_the_health_check_reads_nothing_and_is_outside_the_public_limit(gateway, settings):
    application = app_with(gateway, settings, rate_limit_public="2/60")
    client = application.test_client()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(gateway.engine, "before_cursor_execute", listener)
    try:
        answers = [client.get("/healthz") for _ in range(5)]
    finally:
        event.remove(gateway.engine, "before_cursor_execute", listener)
    assert [(a.status_code, a.text, a.headers["Cache-Control"]) for a in answers] == [(200, "ok\n", "no-store")] * 5
    assert statements == []
    assert answers[0].headers["X-Content-Type-Options"] == "nosniff"  # the same hooks as every page
    # The limit still holds for everything else from that address.
    assert [client.get("/matters").status_code for _ in range(3)] == [200, 200, 429]


def test_sign_in_rate_limit(gateway, settings):
    application = app_with(gateway, settings, rate_limit_sign_in="2/60", rate_limit_public="")
    client = application.test_client()
    codes = [client.post("/api/v1/auth/sign-in", json={"username": "x", "password": "y" * 10}).status_code
             for _ in range(3)]
    assert codes == [401, 401, 429]


def test_rate_limiter_window_slides():
    now = [0.0]
    limiter = RateLimiter("2/10", clock=lambda: now[0])
    assert [limiter.hit("a"), limiter.hit("a"), limiter.hit("b")] == [0, 0, 0]
    assert limiter.hit("a") == 10
    now[0] = 10.5
    assert limiter.hit("a") == 0
    assert parse_limit("") is None and parse_limit("0/60") is None
    with pytest.raises(ValueError):
        parse_limit("ten per minute")


def test_no_stack_trace_reaches_the_client(app, client, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail for 13912345678")

    response = client.get("/boom")
    assert response.status_code == 500
    assert response.json == {"code": "internal_error", "message": "服务器内部错误，请联系系统管理员。"}
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "secret detail" not in body
    assert "13912345678" not in caplog.text  # and the log line is redacted


def test_an_undeclared_api_view_is_refused(app, client, auth_headers):

    @app.get("/api/v1/forgotten")
    def forgotten():
        return {"secret": True}

    response = client.get("/api/v1/forgotten", headers=auth_headers("county_office"))
    assert response.status_code == 403 and response.json["code"] == "action_not_declared"


def test_refusals_name_their_facts_under_errors_never_details(client_as):
    from gateway.api.errors import error_body
    from gateway.errors import Conflict

    refused = client_as("supervisor").post("/api/v1/targets", json={})
    assert refused.status_code == 403
    assert refused.json == {"code": "forbidden", "message": "无权执行此操作。", "errors": {"action": "targets.write"}}
    assert Conflict("result_exists", "该任务已有检查结果。", result_id=7).to_dict() == {
        "code": "result_exists", "message": "该任务已有检查结果。", "errors": {"result_id": 7}}
    assert error_body("conflict", "冲突。", {"name": ["已存在。"]}, result_id=3) == {
        "code": "conflict", "message": "冲突。", "errors": {"result_id": 3, "name": ["已存在。"]}}
    assert "details" not in error_body("too_many_requests", "请稍后。", retry_after=9)


@pytest.mark.parametrize("body, content_type", [
    ("name=x&uscc=y", "application/x-www-form-urlencoded"),
    ("<target><name>x</name></target>", "application/xml"),
    ("<target/>", "text/xml"),
    ('{"name": "x"}', None),
])
def test_a_json_endpoint_refuses_other_bodies_with_415(client_as, body, content_type):
    county = client_as("county_office")
    headers = {"Content-Type": content_type} if content_type else {}
    response = county.post("/api/v1/targets", data=body, headers=headers)
    assert response.status_code == 415, response.json
    assert response.json["code"] == "unsupported_media_type" and "JSON" in response.json["message"]
    # JSON itself still reaches the schema; uploads still reach their multipart endpoints
    assert county.post("/api/v1/targets", json={}).status_code == 422
    upload = county.post("/api/v1/imports/targets", data={}, content_type="multipart/form-data")
    assert upload.status_code != 415
