"""Sign-in for pages, sign-out, who am I, password change, CSRF token; the audit log; accounts and
API tokens (the county office's counterpart of ``shuangsui user`` and ``shuangsui token``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import g, jsonify, make_response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.pagination import query_page
from gateway.api.session import db, get_gateway
from gateway.db import utcnow, where_equal
from gateway.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from gateway.security import accounts, audit, web
from gateway.security.audit import AuditEntry
from gateway.security.models import Account, ApiToken
from gateway.security.policy import authorize, permission
from gateway.security.principal import ROLE_LABELS, current_principal
from schemas.common import RowView, python_values
from schemas.security import (
    AccountCreateSchema,
    AccountPageSchema,
    AccountQuerySchema,
    AccountSchema,
    AccountWithPasswordSchema,
    AuditPageSchema,
    AuditQuerySchema,
    AuditVerifySchema,
    CsrfSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    PrincipalSchema,
    SignInResultSchema,
    SignInSchema,
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenPageSchema,
    TokenQuerySchema,
    TokenSchema,
)

auth_blp = Blueprint("auth", __name__, url_prefix="/auth", description="登录、退出与当前身份")
audit_blp = Blueprint("audit", __name__, url_prefix="/audit", description="审计日志（只读）与哈希链校验")
accounts_blp = Blueprint("accounts", __name__, url_prefix="/accounts",
                         description="用户账号：新建、列出、停用、启用、重设密码（县双随机办）")
tokens_blp = Blueprint("tokens", __name__, url_prefix="/tokens",
                       description="访问令牌：新建、列出、吊销（县双随机办）")


@dataclass(frozen=True)
class PrincipalView:
    """Who a request acts as, as ``PrincipalSchema`` (and ``SignInResultSchema``) dump it."""

    role: str
    username: str
    department_code: str | None
    inspector_id: int | None
    auth_method: str | None
    csrf_token: str | None
    expires_at: datetime | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def current_principal_view() -> PrincipalView:
    principal = current_principal()
    return PrincipalView(principal.role, principal.name, principal.department_code, principal.inspector_id,
                         g.get("auth_method"), g.web_session["csrf_token"] if g.get("web_session") else None)


def perform_sign_in(username: str, password: str) -> accounts.SignIn:
    """Check a password and open a session. A failure is audited (and committed) before raising,
    and counted against this client address and username (``web.sign_in_throttled``).
    Page views call this and then ``web.set_session_cookie`` on their response."""
    web.limit_sign_in()
    gateway, address = get_gateway(), web.client_address()
    failures, key = web.security_state().sign_in_failures, web.sign_in_failure_key(username)
    error = web.sign_in_throttled(username)
    with gateway.write() as session:
        if error is not None:
            accounts.audit_failed_sign_in(session, username, address, "throttled")
        else:
            try:
                result = accounts.sign_in(session, username, password, session_hours=gateway.settings.session_hours,
                                          address=address)
            except DomainError as exc:
                error = exc  # commit the audit entry, then refuse
                failures.record(key)
    if error is not None:
        raise error
    failures.forget(key)
    return result


@auth_blp.route("/sign-in")
class SignIn(MethodView):
    @permission("auth.sign_in")
    @auth_blp.arguments(SignInSchema)
    @auth_blp.response(200, SignInResultSchema)
    def post(self, data):
        """Sign in with a username and password; sets the HttpOnly session cookie.

        Send the returned ``csrf_token`` as ``X-CSRF-Token`` with every later change made through
        the session. Repeated failures for one username from one client address make that
        address wait (429 ``too_many_requests``), whether or not the account exists."""
        result = perform_sign_in(data["username"], data["password"])
        account = result.account
        body = PrincipalView(account.role, account.username, account.department_code, account.inspector_id,
                             "session", result.csrf_token, result.expires_at)
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
        return current_principal_view()


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
            raise Forbidden("no_account", "该令牌不属于任何用户账号，无法修改密码。")
        web.limit_sign_in()
        with get_gateway().write() as session:
            account = session.get(Account, principal.user_id)
            if account is None or account.password_hash is None or not accounts._verify(
                account.password_hash, data["current_password"]
            ):
                error = Invalid("invalid_credentials", "当前密码不正确。", {"current_password": ["当前密码不正确。"]})
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


        authorize(current_principal(), "audit.read")
        stmt = select(AuditEntry)
        for name in ("action", "entity_type", "entity_id"):
            if args.get(name):
                stmt = stmt.where(getattr(AuditEntry, name) == args[name])
        return query_page(db(), stmt.order_by(AuditEntry.id.desc()), args)


@audit_blp.route("/verify")
class AuditVerify(MethodView):
    @permission("audit.read")
    @audit_blp.response(200, AuditVerifySchema)
    def get(self):
        """Walk the hash chain; name every edited entry and every range of deleted ones."""

        authorize(current_principal(), "audit.read")
        with get_gateway().read() as session:
            problems = audit.find_breaks(session, limit=100)
            head = audit.chain_head(session)
            total = audit.count_entries(session)
        return {"intact": not problems, "entries": total, "head": str(head) if head else None,
                "problems": [{"entry_id": p.entry_id, "reason": p.reason} for p in problems]}


# --------------------------------------------------------------------------------------- accounts
# Every change goes through gateway.security.accounts, which checks it and writes the audit entry.

class AccountView(RowView):
    """An account as ``AccountSchema`` dumps it: whether it has a password, never the hash."""

    def __init__(self, account: Account):
        self.row = account
        self.active = bool(account.active)
        self.has_password = account.password_hash is not None


def account_dict(account: Account) -> dict:
    """An account as the API shows it, with Python values (for the pages)."""
    return python_values(AccountSchema(), AccountView(account))


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound.of("用户", account_id)
    return account


def _not_own_account(account: Account, what: str, hint: str = "") -> None:
    """Refuse an administrative change to the account the request acts as (it would lock the
    caller out, or, for a password, skip the current-password check of /auth/password)."""
    if current_principal().user_id == account.id:
        raise Conflict("own_account", f"不能通过账号管理{what}本人的账号。{hint}".strip())


def _change_account(account_id: int, change, not_own: str | None = None) -> dict:
    """Apply ``change(session, principal, account)`` (a service function) and return the account."""
    principal = current_principal()
    authorize(principal, "accounts.manage")
    with get_gateway().write() as session:
        account = _account(session, account_id)
        if not_own is not None:
            _not_own_account(account, not_own)
        change(session, principal, account)
        return account_dict(account)


# The operations themselves, shared by the API views below and the console page (gateway/web/accounts.py),
# so that both apply the same rules (no self-disable, no self-reset, no self-revoke).
OWN_PASSWORD_HINT = "修改本人密码请用 /api/v1/auth/password（需要当前密码）。"


def user_add(data: dict) -> dict:
    """``shuangsui user add``: create an account from ``AccountCreateSchema`` data. Without ``password``
    (and without ``no_password``) one is generated and returned once as ``password``."""
    principal = current_principal()
    authorize(principal, "accounts.manage")
    password, generated = data.get("password"), None
    if password is None and not data.get("no_password"):
        password = generated = accounts.generate_password()
    with get_gateway().write() as session:
        account = accounts.create_account(
            session, principal, data["username"], data["role"],
            department_code=data.get("department_code"), inspector_id=data.get("inspector_id"),
            password=password, display_name=data.get("display_name") or "",
        )
        body = account_dict(account)
    if generated is not None:
        body["password"] = generated
    return body


def user_disable(account_id: int) -> dict:
    """``shuangsui user disable``: never one's own account."""
    return _change_account(account_id, accounts.disable_account, not_own="停用")


def user_enable(account_id: int) -> dict:
    """``shuangsui user enable`` (also clears a lock-out)."""
    return _change_account(account_id, accounts.enable_account)


def user_passwd(account_id: int, password: str | None = None, own_hint: str = OWN_PASSWORD_HINT) -> dict:
    """``shuangsui user passwd``: a new password (generated and returned once as ``password`` when
    none is given); never one's own, which needs the current one."""
    principal = current_principal()
    authorize(principal, "accounts.manage")
    generated = None
    if password is None:
        password = generated = accounts.generate_password()
    with get_gateway().write() as session:
        account = _account(session, account_id)
        _not_own_account(account, "重设", own_hint)
        accounts.set_password(session, principal, account, password)
        body = account_dict(account)
    if generated is not None:
        body["password"] = generated
    return body


@accounts_blp.route("")
class Accounts(MethodView):
    @permission("accounts.manage")
    @accounts_blp.arguments(AccountQuerySchema, location="query")
    @accounts_blp.response(200, AccountPageSchema)
    def get(self, args):
        """List accounts, by role or department (like ``shuangsui user list``); never a password hash."""
        authorize(current_principal(), "accounts.manage")
        stmt = where_equal(select(Account).order_by(Account.id), args,
                           {"role": Account.role, "department": Account.department_code})
        return query_page(db(), stmt, args).map(AccountView)

    @permission("accounts.manage")
    @accounts_blp.arguments(AccountCreateSchema)
    @accounts_blp.response(201, AccountWithPasswordSchema)
    def post(self, data):
        """Create an account. Without ``password`` (and without ``no_password``) a strong password is
        generated and returned once as ``password``; with ``no_password`` the account uses tokens only."""
        return user_add(data)


@accounts_blp.route("/<int:account_id>")
class AccountById(MethodView):
    @permission("accounts.manage")
    @accounts_blp.response(200, AccountSchema)
    def get(self, account_id):
        """One account."""
        authorize(current_principal(), "accounts.manage")
        return AccountView(_account(db(), account_id))


@accounts_blp.route("/<int:account_id>/disable")
class AccountDisable(MethodView):
    @permission("accounts.manage")
    @accounts_blp.response(200, AccountSchema)
    def post(self, account_id):
        """Disable an account: its page sessions end and all its tokens are revoked at once."""
        return user_disable(account_id)


@accounts_blp.route("/<int:account_id>/enable")
class AccountEnable(MethodView):
    @permission("accounts.manage")
    @accounts_blp.response(200, AccountSchema)
    def post(self, account_id):
        """Enable an account again (revoked tokens stay revoked)."""
        return user_enable(account_id)


@accounts_blp.route("/<int:account_id>/password")
class AccountPassword(MethodView):
    @permission("accounts.manage")
    @accounts_blp.arguments(PasswordResetSchema)
    @accounts_blp.response(200, AccountWithPasswordSchema)
    def post(self, data, account_id):
        """Set a new password (generated and returned once as ``password`` when none is given); ends
        the account's page sessions. One's own password: ``/auth/password``."""
        return user_passwd(account_id, data.get("password"))


# ----------------------------------------------------------------------------------------- tokens

class TokenView(RowView):
    """A token as ``TokenSchema`` dumps it: the account it acts for and whether it is active."""

    def __init__(self, token: ApiToken, now=None):
        now = now or utcnow()
        self.row = token
        self.username = token.account.username if token.account is not None else None
        self.status = "revoked" if token.revoked_at is not None else "expired" if token.expires_at <= now else "active"


def token_dict(token: ApiToken, now=None) -> dict:
    """A token as the API shows it, with Python values (for the pages)."""
    return python_values(TokenSchema(), TokenView(token, now))


def token_create(data: dict) -> dict:
    """``shuangsui token create`` from ``TokenCreateSchema`` data: for an account (``username``: its
    role and department) or for a role. The plaintext is in the result as ``token``, this once."""
    principal = current_principal()
    authorize(principal, "accounts.manage")
    with get_gateway().write() as session:
        account = None
        if data.get("username"):
            try:
                account = accounts.get_account(session, data["username"])
            except NotFound as exc:  # a field of the body, not the resource of the URL
                raise Invalid("validation_error", "提交的数据未通过校验。",
                              {"username": [exc.message]}) from None
        token, plaintext = accounts.issue_token(
            session, principal, data["name"], data.get("role") or "",
            department_code=data.get("department_code"), inspector_id=data.get("inspector_id"),
            days=data.get("days", accounts.DEFAULT_TOKEN_DAYS), account=account,
        )
        body = token_dict(token)
    body["token"] = plaintext
    return body


def token_revoke(token_id: int) -> dict:
    """``shuangsui token revoke``; the token a request is made with cannot revoke itself."""
    principal = current_principal()
    authorize(principal, "accounts.manage")
    if g.get("token_id") == token_id:
        raise Conflict("own_token", "不能用令牌吊销它自己：请使用其他账号或令牌，或在服务器上运行 "
                                         "shuangsui token revoke。")
    with get_gateway().write() as session:
        return token_dict(accounts.revoke_token(session, principal, token_id))


@tokens_blp.route("")
class Tokens(MethodView):
    @permission("accounts.manage")
    @tokens_blp.arguments(TokenQuerySchema, location="query")
    @tokens_blp.response(200, TokenPageSchema)
    def get(self, args):
        """List API tokens by prefix (never the token or its hash); only live ones unless ``all``,
        like ``shuangsui token list [--all]``."""
        authorize(current_principal(), "accounts.manage")
        now = utcnow()
        stmt = select(ApiToken).order_by(ApiToken.id)
        if not args["all"]:
            stmt = stmt.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        return query_page(db(), stmt, args).map(lambda t: TokenView(t, now))

    @permission("accounts.manage")
    @tokens_blp.arguments(TokenCreateSchema)
    @tokens_blp.response(201, TokenCreatedSchema)
    def post(self, data):
        """Create a token for an account (``username``: its role and department) or for a role
        (``role``, ``department_code``, ``inspector_id``). The token is in the answer this once only."""
        return token_create(data)


@tokens_blp.route("/<int:token_id>/revoke")
class TokenRevoke(MethodView):
    @permission("accounts.manage")
    @tokens_blp.response(200, TokenSchema)
    def post(self, token_id):
        """Revoke a token at once (revoking it again changes nothing). The token this request is
        made with cannot revoke itself: use another credential or ``shuangsui token revoke``."""
        return token_revoke(token_id)
