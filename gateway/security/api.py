"""Sign-in for pages, sign-out, who am I, password change, CSRF token."""
from __future__ import annotations

from flask import g, jsonify, make_response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.api.errors import ApiError
from gateway.api.session import get_gateway
from gateway.security import accounts, web
from gateway.security.models import Account
from gateway.security.policy import authorize, permission
from gateway.security.principal import ROLE_LABELS, current_principal
from schemas.security import (
    AuditPageSchema,
    AuditQuerySchema,
    AuditVerifySchema,
    CsrfSchema,
    PasswordChangeSchema,
    PrincipalSchema,
    SignInResultSchema,
    SignInSchema,
)

auth_blp = Blueprint("auth", __name__, url_prefix="/auth", description="登录、退出与当前身份")
audit_blp = Blueprint("audit", __name__, url_prefix="/audit", description="审计日志（只读）与哈希链校验")


def principal_dict() -> dict:
    principal = current_principal()
    return {
        "role": principal.role,
        "role_label": ROLE_LABELS.get(principal.role, principal.role),
        "username": principal.name,
        "department_code": principal.department_code,
        "inspector_id": principal.inspector_id,
        "auth_method": g.get("auth_method"),
        "csrf_token": g.web_session["csrf_token"] if g.get("web_session") else None,
    }


def perform_sign_in(username: str, password: str) -> accounts.SignIn:
    """Check a password and open a session; failures are counted (and committed) before raising.
    Page views call this and then ``web.set_session_cookie`` on their response."""
    web.limit_sign_in()
    gateway = get_gateway()
    settings = gateway.settings
    error: ApiError | None = None
    with gateway.write() as session:
        try:
            result = accounts.sign_in(
                session, username, password,
                max_failures=settings.login_max_failures,
                lockout_minutes=settings.login_lockout_minutes,
                session_hours=settings.session_hours,
            )
        except ApiError as exc:
            error = exc  # commit the failure count and the audit entry, then refuse
    if error is not None:
        raise error
    return result


@auth_blp.route("/sign-in")
class SignIn(MethodView):
    @permission("auth.sign_in")
    @auth_blp.arguments(SignInSchema)
    @auth_blp.response(200, SignInResultSchema)
    def post(self, data):
        """Sign in with a username and password; sets the HttpOnly session cookie.

        Send the returned ``csrf_token`` as ``X-CSRF-Token`` with every later change made through
        the session. Repeated failures lock the account for a while."""
        result = perform_sign_in(data["username"], data["password"])
        account = result.account
        body = {
            "role": account.role,
            "role_label": ROLE_LABELS.get(account.role, account.role),
            "username": account.username,
            "department_code": account.department_code,
            "inspector_id": account.inspector_id,
            "auth_method": "session",
            "csrf_token": result.csrf_token,
            "expires_at": result.expires_at,
        }
        response = make_response(jsonify(SignInResultSchema().dump(body)), 200)
        web.set_session_cookie(response, result.session_cookie, result.expires_at)
        return response


@auth_blp.route("/sign-out")
class SignOut(MethodView):
    @permission("auth.sign_in")
    @auth_blp.response(204)
    def post(self):
        """End the page session (no effect for tokens or the public)."""
        cookie = request.cookies.get(web.SESSION_COOKIE)
        if cookie and g.get("auth_method") == "session":
            with get_gateway().write() as session:
                accounts.sign_out(session, cookie)
        response = make_response("", 204)
        web.clear_session_cookie(response)
        return response


@auth_blp.route("/me")
class Me(MethodView):
    @permission("auth.sign_in")
    @auth_blp.response(200, PrincipalSchema)
    def get(self):
        """Who the request acts as (the public when nobody signed in)."""
        return principal_dict()


@auth_blp.route("/csrf")
class Csrf(MethodView):
    @permission("auth.sign_in")
    @auth_blp.response(200, CsrfSchema)
    def get(self):
        """A CSRF token for forms and for ``X-CSRF-Token`` (anonymous pages get a cookie with it)."""
        return {"csrf_token": web.csrf_token()}


@auth_blp.route("/password")
class Password(MethodView):
    @permission("auth.self")
    @auth_blp.arguments(PasswordChangeSchema)
    @auth_blp.response(204)
    def post(self, data):
        """Change one's own password; every other session of the account ends."""
        principal = current_principal()
        if principal.user_id is None:
            raise ApiError(403, "no_account", "该令牌不属于任何用户账号，无法修改密码。")
        web.limit_sign_in()
        with get_gateway().write() as session:
            account = session.get(Account, principal.user_id)
            if account is None or account.password_hash is None or not accounts._verify(
                account.password_hash, data["current_password"]
            ):
                error = ApiError(422, "invalid_credentials", "当前密码不正确。", {"current_password": ["当前密码不正确。"]})
            else:
                error = None
                accounts.set_password(session, principal, account, data["new_password"])
        if error is not None:
            raise error
        return "", 204


@audit_blp.route("")
class AuditLog(MethodView):
    @permission("audit.read")
    @audit_blp.arguments(AuditQuerySchema, location="query")
    @audit_blp.response(200, AuditPageSchema)
    def get(self, args):
        """Audit entries, newest first, filtered by action or entity."""
        from sqlalchemy import func, select

        from gateway.api.session import db
        from gateway.security.audit import AuditEntry

        authorize(current_principal(), "audit.read")
        stmt = select(AuditEntry)
        for name in ("action", "entity_type", "entity_id"):
            if args.get(name):
                stmt = stmt.where(getattr(AuditEntry, name) == args[name])
        total = db().scalar(select(func.count()).select_from(stmt.subquery()))
        rows = db().scalars(stmt.order_by(AuditEntry.id.desc()).limit(args["page_size"])
                            .offset((args["page"] - 1) * args["page_size"]))
        return {"items": list(rows), "total": int(total or 0), "page": args["page"], "page_size": args["page_size"]}


@audit_blp.route("/verify")
class AuditVerify(MethodView):
    @permission("audit.read")
    @audit_blp.response(200, AuditVerifySchema)
    def get(self):
        """Walk the hash chain; name every edited entry and every range of deleted ones."""
        from gateway.security import audit

        authorize(current_principal(), "audit.read")
        with get_gateway().read() as session:
            problems = audit.find_breaks(session, limit=100)
            head = audit.chain_head(session)
            total = audit.count_entries(session)
        return {"intact": not problems, "entries": total, "head": str(head) if head else None,
                "problems": [{"entry_id": p.entry_id, "reason": p.reason} for p in problems]}
