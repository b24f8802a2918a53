"""The request side of security, installed by the application factory.

For every request, in this order:
1. **Authenticate**: ``Authorization: Bearer <token>`` (machines), else the page session cookie
   (people), else an enterprise's portal session cookie (``gateway.enterprise.sessions``: role
   ``enterprise``, its own CSRF token), else the public. Sets ``flask.g.principal``. A bad or expired token is a 401, never a
   silent fall-back to the public.
2. **Rate-limit** the public (per client address) when configured; sign-in is also throttled per
   client address and username (``sign_in_throttled``), never per account alone.
3. **CSRF**: an unsafe request that relies on the session cookie, or posts a form, must carry the
   CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form field). Bearer-token calls are exempt:
   a browser never adds that header by itself.
4. **Permission**: the view's declared action (``policy.permission``) must be open to the role,
   checked before the view parses its arguments; an API view that declares nothing is refused.
5. **Media type**: a view that reads a JSON body refuses any other body with 415.
6. **Input boundary** (``inputs.py``): control characters, lone surrogates, bidi overrides,
   out-of-range integers and absurd JSON nesting are refused with 400 before any view sees them.
Every response gets the security headers; cookies are HttpOnly, SameSite=Lax, Secure when configured.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from flask import Flask, current_app, g, request
from sqlalchemy import update
from werkzeug.wrappers import Response

from gateway.api.session import db, get_gateway
from gateway.db import utcnow
from gateway.enterprise import sessions as portal_sessions
from gateway.enterprise.access_codes import enterprise_principal
from gateway.errors import Forbidden, TooManyRequests, Unauthenticated, UnsupportedType
from gateway.security import accounts
from gateway.security.inputs import check_request_input
from gateway.security.models import ApiToken, WebSession
from gateway.security.policy import check_declared, view_action, view_handler
from gateway.security.principal import PUBLIC
from gateway.security.ratelimit import RateLimiter
from gateway.security.redact import install_log_redaction

log = logging.getLogger(__name__)

SESSION_COOKIE = "shuangsui_session"
CSRF_COOKIE = "shuangsui_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
# Paths outside the API that answer without a declared action (redirects, the OpenAPI document).
UNDECLARED_OK = ("/", "/api/openapi.json")
TOKEN_TOUCH_INTERVAL = timedelta(minutes=10)
# The idle timeout counts from the last recorded use, so it may end a session up to this much early.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Self-contained printable documents (task sheets, guides) carry their own <style> so that a saved
# file prints the same; they have no script, so inline style is all they are allowed.
PRINTABLE_DOCUMENT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SecurityState:
    """Per-application security objects (rate limiters), in ``app.extensions["shuangsui_security"]``."""

    def __init__(self, settings) -> None:

        self.settings = settings
        self.sign_in_limiter = RateLimiter(settings.rate_limit_sign_in)
        self.public_limiter = RateLimiter(settings.rate_limit_public)
        # Failed sign-ins per (client address, username), existing or not (docs/security.md).
        self.sign_in_failures = RateLimiter(
            f"{settings.login_max_failures}/{settings.login_lockout_minutes * 60}"
            if settings.login_max_failures > 0 and settings.login_lockout_minutes > 0 else "")


def install(app: Flask) -> None:
    """Wire authentication, rate limits, CSRF, permissions and headers into ``app``."""

    install_log_redaction()
    settings = app.extensions["shuangsui"].settings
    app.extensions["shuangsui_security"] = SecurityState(settings)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.session_cookie_secure),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
    )
    app.before_request(_authenticate)
    app.before_request(_rate_limit_public)
    app.before_request(_check_csrf)
    app.before_request(_check_permission)
    app.before_request(_check_media_type)
    app.before_request(_check_input)
    app.after_request(_finish_response)
    app.jinja_env.globals["csrf_token"] = csrf_token


def security_state() -> SecurityState:
    return current_app.extensions["shuangsui_security"]


# ----------------------------------------------------------------------------- 1. authentication

def _authenticate() -> None:

    g.principal = PUBLIC
    g.auth_method = None
    g.web_session = None
    g.token_id = None  # the id of the API token this request signed in with, if any
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthenticated("invalid_token", "访问令牌格式不正确：应为 Authorization: Bearer <令牌>。")
        token = accounts.find_token(db(), credential.strip())
        if token is None:
            raise Unauthenticated("invalid_token", "访问令牌无效、已过期或已被吊销。")
        g.principal = accounts.token_principal(token)
        g.auth_method = "token"
        g.token_id = token.id
        now = utcnow()
        if token.last_used_at is None or token.last_used_at < now - TOKEN_TOUCH_INTERVAL:
            _record_use(ApiToken.last_used_at, token.id, now)
        return
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        minutes = security_state().settings.session_idle_minutes
        now = utcnow()
        row = accounts.find_web_session(db(), cookie, now, idle=timedelta(minutes=minutes) if minutes > 0 else None)
        if row is None:
            g.clear_session_cookie = True
            return
        g.principal = accounts.account_principal(row.account)
        g.auth_method = "session"
        g.web_session = {"id": row.id, "csrf_token": row.csrf_token}
        if row.last_seen_at is None or row.last_seen_at < now - SESSION_TOUCH_INTERVAL:
            _record_use(WebSession.last_seen_at, row.id, now)
        return
    _authenticate_portal()


def _authenticate_portal() -> None:
    """An enterprise signed in to its portal (never together with a staff credential)."""
    cookie = request.cookies.get(portal_sessions.PORTAL_COOKIE)
    if not cookie:
        return
    row = portal_sessions.find_session(db(), cookie)
    if row is None:
        g.clear_portal_cookie = True
        return
    g.principal = enterprise_principal(row.uscc)
    g.auth_method = "portal"
    g.web_session = {"id": row.id, "csrf_token": row.csrf_token}


def _record_use(column, row_id: int, now: datetime) -> None:
    """Write ``now`` into ``column`` (a token's last_used_at, a page session's last_seen_at) of row
    ``row_id``, in a transaction of its own. Bookkeeping only: it never fails the request."""

    try:
        with get_gateway().write() as session:
            session.execute(update(column.class_).where(column.class_.id == row_id).values({column.key: now}))
    except Exception:
        log.warning("could not record the use of %s %s", column.class_.__tablename__, row_id)


# -------------------------------------------------------------------------------- 2. rate limits

def _rate_limit_public() -> None:
    if g.principal.is_public and request.method != "OPTIONS" and request.endpoint != "healthz":
        wait = security_state().public_limiter.hit(client_address())
        if wait:
            raise TooManyRequests("too_many_requests", f"请求过于频繁，请 {wait} 秒后再试。", retry_after=wait)


def limit_sign_in() -> None:
    """Called by the sign-in views: per client address."""
    wait = security_state().sign_in_limiter.hit(client_address())
    if wait:
        raise TooManyRequests("too_many_requests", f"登录尝试过于频繁，请 {wait} 秒后再试。", retry_after=wait)


def sign_in_failure_key(username: str) -> str:
    """Failed sign-ins are counted per client address and username: someone guessing from one
    address slows down only that address, never the account's owner signing in from elsewhere."""
    return f"{client_address()}\n{(username or '').strip()[:200]}"


def sign_in_throttled(username: str) -> TooManyRequests | None:
    """The refusal (the same whether or not the account exists) while this address has had too
    many failed sign-ins for ``username``; None when it may try."""
    wait = security_state().sign_in_failures.wait(sign_in_failure_key(username))
    if not wait:
        return None
    minutes = (wait + 59) // 60
    return TooManyRequests("too_many_requests", f"该用户名从本机登录失败次数过多，请 {minutes} 分钟后再试。",
                           retry_after=wait)


def client_address() -> str:
    # Deployments behind a reverse proxy wrap the app in werkzeug's ProxyFix (docs/security.md).
    return request.remote_addr or "unknown"


# -------------------------------------------------------------------------------------- 3. CSRF

def csrf_token() -> str:
    """The CSRF token to put in a page's forms (``{{ csrf_token() }}``) or in ``X-CSRF-Token``.

    Signed in: the session's own token. Anonymous (the sign-in form): an HMAC of a random
    cookie, set on the response, so a forged cross-site form cannot know it.
    """
    if g.get("web_session"):
        return g.web_session["csrf_token"]
    anon = request.cookies.get(CSRF_COOKIE) or g.get("new_csrf_cookie")
    if not anon or len(anon) > 100:
        anon = g.new_csrf_cookie = secrets.token_urlsafe(24)
    return _anonymous_token(anon)


def _anonymous_token(anon: str) -> str:
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, b"csrf:" + anon.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_required() -> bool:
    if request.method in SAFE_METHODS or g.get("auth_method") == "token":
        return False
    if g.get("auth_method") in ("session", "portal"):
        return True
    return (request.mimetype or "") in FORM_TYPES


def _check_csrf() -> None:
    if not csrf_required():
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and (request.mimetype or "") in FORM_TYPES[:2]:
        sent = request.form.get(CSRF_FIELD)
    if g.get("web_session"):
        expected = g.web_session["csrf_token"]
    else:
        anon = request.cookies.get(CSRF_COOKIE)
        expected = _anonymous_token(anon) if anon and len(anon) <= 100 else None
    if not sent or not expected or not hmac.compare_digest(str(sent), expected):
        raise Forbidden("csrf_failed", "页面已过期或请求来源不可信，请刷新页面后重试。")


# -------------------------------------------------------------------------------- 4. permission

def _check_permission() -> None:

    if request.endpoint is None or request.method == "OPTIONS":
        return  # 404 / 405 / automatic OPTIONS answer on their own
    view = current_app.view_functions.get(request.endpoint)
    action = view_action(view, request.method) if view is not None else None
    if action is None:
        if request.endpoint == "static" or request.path in UNDECLARED_OK or not request.path.startswith("/api/"):
            return
        log.error("view %s declares no action (gateway.security.policy.permission): refused", request.endpoint)
        raise Forbidden("action_not_declared", "该接口未声明权限动作，已拒绝访问。")
    g.action = action
    check_declared(g.principal, action)


def _check_media_type() -> None:
    """A view that reads a JSON body is sent JSON: a form-encoded, XML or unlabelled body is
    refused with 415 rather than read as an empty object."""

    if request.method in SAFE_METHODS or request.endpoint is None or request.is_json:
        return
    if not request.content_length and "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return
    view = current_app.view_functions.get(request.endpoint)
    handler = view_handler(view, request.method) if view is not None else None
    # flask-smorest offers no public way to ask which locations a view's arguments read; its
    # ``arguments`` decorator records them on the view's ``_apidoc``, which is read here and nowhere written.
    parameters = getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    if any(p.get("in") == "json" for p in parameters):
        raise UnsupportedType("unsupported_media_type", "请求体须为 JSON，并声明 Content-Type: application/json。")


def _check_input() -> None:

    if request.endpoint is not None and request.method != "OPTIONS":
        check_request_input()


# ---------------------------------------------------------------------------------- 5. response

def set_session_cookie(response: Response, value: str, expires: datetime) -> None:
    # A stale cookie sent with this request must not be cleared over the new one.
    g.clear_session_cookie = False
    response.set_cookie(
        SESSION_COOKIE, value, expires=expires, path="/", httponly=True, samesite="Lax",
        secure=bool(security_state().settings.session_cookie_secure),
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=bool(security_state().settings.session_cookie_secure))


def is_personal_request() -> bool:
    """Whether this request is someone's (a token, a staff or enterprise session): its answer is
    never stored by a shared cache (``no-store``)."""
    return bool(g.get("auth_method") or request.cookies.get(SESSION_COOKIE)
                or request.cookies.get(portal_sessions.PORTAL_COOKIE))


def _finish_response(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    settings = security_state().settings
    if settings.session_cookie_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if is_personal_request():
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
        response.vary.add("Authorization")
    if g.get("new_csrf_cookie"):
        response.set_cookie(CSRF_COOKIE, g.new_csrf_cookie, path="/", httponly=True, samesite="Lax",
                            secure=bool(settings.session_cookie_secure))
    if g.get("clear_session_cookie"):
        clear_session_cookie(response)
    if g.get("clear_portal_cookie"):
        response.delete_cookie(portal_sessions.PORTAL_COOKIE, path="/", httponly=True, samesite="Lax",
                               secure=bool(settings.session_cookie_secure))
    return response
