"""User accounts and API tokens, for the county office (``accounts.manage``): the page counterpart of
``shuangsui user`` / ``shuangsui token`` and of ``/api/v1/accounts`` / ``/api/v1/tokens``.

Every change goes through the operations of ``gateway.security.api`` (``user_add``, ``user_disable``,
``user_enable``, ``user_passwd``, ``token_create``, ``token_revoke``), which call the service
functions of ``gateway.security.accounts`` and keep the API's rules: nobody disables or resets
their own account here, and a token cannot revoke itself. Forms are checked with the API's own wire
schemas, so a bad value gets the same Chinese message beside its field.

A generated password or a new token is shown once: the POST handler renders the page itself (no
redirect, nothing in a URL, nothing kept on the server or logged); authenticated pages are sent
with ``Cache-Control: no-store``.
"""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from gateway.api.session import get_gateway
from gateway.db import utcnow
from gateway.directory.models import Inspector
from gateway.errors import DomainError, Invalid
from gateway.security import api as ops
from gateway.security.accounts import ACCOUNT_ROLES, DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS
from gateway.security.models import Account, ApiToken
from gateway.security.policy import authorize, permission
from gateway.security.principal import ROLE_LABELS, current_principal
from gateway.web.base import (
    department_choices,
    errors_of,
    flat_errors,
    make_blueprint,
    paged,
    refusal_status,
    run_action,
    safe_next,
)
from gateway.web.forms import errors_by_name
from schemas.security import AccountCreateSchema, TokenCreateSchema

bp = make_blueprint("web_accounts", "/console")

ROLE_OPTIONS = [(role, ROLE_LABELS[role]) for role in ACCOUNT_ROLES]
PASSWORD_MODES = (("generate", "自动生成（推荐，只显示一次）"), ("set", "由我设置"),
                  ("none", "不设密码（仅令牌，用于同步等程序）"))
SCOPE_MODES = (("user", "代表一个用户账号（角色、部门随该账号）"), ("role", "按角色和部门"))
STATUS_LABELS = {"active": "有效", "revoked": "已吊销", "expired": "已过期"}
ACCOUNT_LABELS = {"username": "用户名", "display_name": "显示名称", "role": "角色", "department_code": "部门",
                  "inspector_id": "执法检查人员", "password_mode": "密码", "password": "密码", "no_password": "密码"}
TOKEN_LABELS = {"name": "令牌名称", "scope": "令牌代表", "username": "用户账号", "role": "角色",
                "department_code": "部门", "inspector_id": "执法检查人员", "days": "有效期（天）"}
OWN_PASSWORD_HINT = "本人的密码请在服务器上运行 shuangsui user passwd 修改，或通过 /api/v1/auth/password（需要当前密码）。"


# ---------------------------------------------------------------------------------------- accounts

@bp.route("/accounts")
@permission("accounts.manage")
def accounts():
    return _accounts_page()


@bp.route("/accounts", methods=["POST"])
@permission("accounts.manage")
def create_account():
    state = _account_state()
    try:
        made = ops.user_add(_load(AccountCreateSchema(), *_account_body(state)))
    except DomainError as exc:
        status = refusal_status(exc)
        return _accounts_page(state=state, errors=_account_errors(exc), status=status)
    flash(f"账号 {made['username']} 已建立。", "success")
    return _accounts_page(secret=_secret(made, "created"))


@bp.route("/accounts/<int:account_id>/disable", methods=["POST"])
@permission("accounts.manage")
def disable_account(account_id: int):
    return _switch_account(lambda: ops.user_disable(account_id),
                           "账号 {username} 已停用：其登录会话已结束，其访问令牌已全部吊销。")


@bp.route("/accounts/<int:account_id>/enable", methods=["POST"])
@permission("accounts.manage")
def enable_account(account_id: int):
    return _switch_account(lambda: ops.user_enable(account_id), "账号 {username} 已启用（已吊销的令牌不会恢复）。")


def _switch_account(action, done: str):
    """Disable or enable an account; ``done`` is said (with the account's fields) when it was."""
    made, _ = run_action(action)
    if made:
        flash(done.format(**made), "success")
    return redirect(safe_next(url_for("web_accounts.accounts")))


@bp.route("/accounts/<int:account_id>/password", methods=["POST"])
@permission("accounts.manage")
def reset_password(account_id: int):
    made, _ = run_action(lambda: ops.user_passwd(account_id, own_hint=OWN_PASSWORD_HINT))
    if not made:
        return redirect(safe_next(url_for("web_accounts.accounts")))
    flash(f"账号 {made['username']} 的密码已重设，其登录会话已结束。", "success")
    return _accounts_page(secret=_secret(made, "reset"))


def _secret(made: dict, kind: str) -> dict | None:
    if not made.get("password"):
        return None
    return {"kind": kind, "username": made["username"], "password": made["password"]}


def _accounts_page(state: dict | None = None, errors: dict | None = None, secret: dict | None = None,
                   status: int = 200):
    principal = current_principal()
    authorize(principal, "accounts.manage")
    args = {"role": request.args.get("role") or "", "department": request.args.get("department") or ""}
    if request.method != "GET":
        args = {"role": "", "department": ""}  # the page a form posted to shows the whole list
    stmt = select(Account).order_by(Account.username)
    if args["role"]:
        stmt = stmt.where(Account.role == args["role"])
    if args["department"]:
        stmt = stmt.where(Account.department_code == args["department"])
    with get_gateway().read() as session:  # not the request's: it may predate the change just made
        page = paged(session, stmt, _account_row)
        groups, names = _inspectors(session, [row["inspector_id"] for row in page.items])
    filters = {k: v for k, v in args.items() if v}
    return render_template(
        "accounts/accounts.html", page=page, args=args, role_options=ROLE_OPTIONS, role_labels=ROLE_LABELS,
        departments=department_choices(), inspector_groups=groups, inspector_names=names,
        password_modes=PASSWORD_MODES, state=state or _blank_account_state(), errors=errors or {},
        labels=ACCOUNT_LABELS, secret=secret, me=principal.user_id,
        list_url=lambda number: url_for("web_accounts.accounts", page=number, **filters),
        back=url_for("web_accounts.accounts", **filters, **({"page": page.page} if page.page > 1 else {})),
    ), status


def _account_row(account: Account) -> dict[str, Any]:
    row = ops.account_dict(account)
    statuses = []
    if not row["active"]:
        statuses.append(("disabled", "已停用"))
    if not row["has_password"]:
        statuses.append(("token_only", "仅令牌"))
    if not statuses:
        statuses.append(("normal", "正常"))
    row["statuses"] = statuses
    return row


def _blank_account_state() -> dict[str, str]:
    return {"username": "", "display_name": "", "role": "", "department_code": "", "inspector_id": "",
            "password_mode": "generate"}


def _form_state(blank: dict[str, str], choice: str, choices) -> dict[str, str]:
    """What the form sent for the fields of ``blank``, to show again on an error (never a password),
    with ``choice`` one of ``choices`` (else its blank value)."""
    form = request.form
    state = {key: (form.get(key) or "").strip() for key in blank}
    if state[choice] not in dict(choices):
        state[choice] = blank[choice]
    return state


def _account_state() -> dict[str, str]:
    return _form_state(_blank_account_state(), "password_mode", PASSWORD_MODES)


def _account_body(state: dict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form in ``AccountCreateSchema``'s shape (empty inputs left out, so that a required one is
    reported as missing), and the errors only the form can have."""
    body: dict[str, Any] = _filled(state, "username", "role", "display_name", "department_code")
    errors: dict[str, list[str]] = {}
    if state["inspector_id"]:
        body["inspector_id"] = _int(state["inspector_id"])
    if state["password_mode"] == "set":
        password = request.form.get("password") or ""
        if password:
            body["password"] = password
        else:  # never fall back to a generated one the user did not ask for
            errors["password"] = ["请填写密码，或选择“自动生成”。"]
    elif state["password_mode"] == "none":
        body["no_password"] = True
    return body, errors


def _account_errors(exc: DomainError) -> dict[str, list[str]]:
    errors = errors_by_name(flat_errors(errors_of(exc)))
    if "no_password" in errors:
        errors.setdefault("password_mode", []).extend(errors.pop("no_password"))
    return errors


# ------------------------------------------------------------------------------------------ tokens

@bp.route("/tokens")
@permission("accounts.manage")
def tokens():
    return _tokens_page(show_all=request.args.get("all") == "1")


@bp.route("/tokens", methods=["POST"])
@permission("accounts.manage")
def create_token():
    state = _token_state()
    try:
        made = ops.token_create(_load(TokenCreateSchema(), *_token_body(state)))
    except DomainError as exc:
        status = refusal_status(exc)
        errors = errors_by_name(flat_errors(errors_of(exc)))
        if exc.code == "account_disabled":
            errors = {"username": [exc.message]}
        return _tokens_page(state=state, errors=errors, status=status)
    flash(f"访问令牌“{made['name']}”已建立。", "success")
    return _tokens_page(new_token=made)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@permission("accounts.manage")
def revoke_token(token_id: int):
    made, _ = run_action(lambda: ops.token_revoke(token_id))
    if made:
        flash(f"访问令牌“{made['name']}”（{made['prefix']}…）已吊销，立即失效。", "success")
    return redirect(safe_next(url_for("web_accounts.tokens")))


def _tokens_page(show_all: bool = False, state: dict | None = None, errors: dict | None = None,
                 new_token: dict | None = None, status: int = 200):
    authorize(current_principal(), "accounts.manage")
    now = utcnow()
    stmt = select(ApiToken).order_by(ApiToken.id.desc())
    if not show_all:
        stmt = stmt.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
    with get_gateway().read() as session:  # not the request's: it may predate the token just made
        page = paged(session, stmt, lambda t: ops.token_dict(t, now))
        usernames = [(a.username, f"{a.username}（{a.display_name}）" if a.display_name != a.username else a.username)
                     for a in session.scalars(select(Account).where(Account.active.is_(True))
                                              .order_by(Account.username))]
        groups, names = _inspectors(session, [row["inspector_id"] for row in page.items])
    filters = {"all": "1"} if show_all else {}
    return render_template(
        "accounts/tokens.html", page=page, show_all=show_all, role_options=ROLE_OPTIONS, role_labels=ROLE_LABELS,
        departments=department_choices(), inspector_groups=groups, inspector_names=names, usernames=usernames,
        scope_modes=SCOPE_MODES, status_labels=STATUS_LABELS, state=state or _blank_token_state(),
        errors=errors or {}, labels=TOKEN_LABELS, new_token=new_token, max_days=MAX_TOKEN_DAYS,
        list_url=lambda number: url_for("web_accounts.tokens", page=number, **filters),
        back=url_for("web_accounts.tokens", **filters, **({"page": page.page} if page.page > 1 else {})),
    ), status


def _blank_token_state() -> dict[str, str]:
    return {"name": "", "scope": "user", "username": "", "role": "", "department_code": "", "inspector_id": "",
            "days": str(DEFAULT_TOKEN_DAYS)}


def _token_state() -> dict[str, str]:
    return _form_state(_blank_token_state(), "scope", SCOPE_MODES)


def _token_body(state: dict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form in ``TokenCreateSchema``'s shape: the fields of the chosen scope only."""
    body: dict[str, Any] = _filled(state, "name")
    errors: dict[str, list[str]] = {}
    if state["days"]:
        body["days"] = _int(state["days"])
    if state["scope"] == "user":
        if state["username"]:
            body["username"] = state["username"]
        else:
            errors["username"] = ["请选择令牌代表的用户账号。"]
    else:
        body.update(_filled(state, "department_code"))
        if state["role"]:
            body["role"] = state["role"]
        else:
            errors["role"] = ["请选择令牌的角色。"]
        if state["inspector_id"]:
            body["inspector_id"] = _int(state["inspector_id"])
    return body, errors


# -------------------------------------------------------------------------------------------- both

def _inspectors(session, shown: list[int | None]) -> tuple[dict[str, list[tuple[int, str]]], dict[int, str]]:
    """The active inspectors for the forms' select, grouped by department name, and the names of
    every inspector ``shown`` in a listing (by id). Names only: no phone or certificate number."""
    active = list(session.scalars(select(Inspector).where(Inspector.active.is_(True))
                                  .order_by(Inspector.department_code, Inspector.name, Inspector.id)))
    names = {i.id: i.name for i in active}
    missing = {i for i in shown if i and i not in names}
    if missing:
        names.update({i.id: i.name for i in session.scalars(select(Inspector).where(Inspector.id.in_(missing)))})
    departments = dict(department_choices())
    groups: dict[str, list[tuple[int, str]]] = {}
    for i in active:
        label = f"{i.name}（{i.position}）" if i.position else i.name
        groups.setdefault(departments.get(i.department_code, i.department_code), []).append((i.id, label))
    return groups, names


def _filled(state: dict[str, str], *keys: str) -> dict[str, str]:
    return {key: state[key] for key in keys if state[key]}


def _load(schema, body: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """``body`` checked by the API's schema; its errors and the form's own ``errors`` together."""
    errors = {key: list(messages) for key, messages in errors.items()}
    data: dict[str, Any] = {}
    try:
        data = schema.load(body)
    except ValidationError as exc:
        for key, messages in flat_errors(exc.messages).items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise Invalid("validation_error", "提交的数据未通过校验。", errors)
    return data


def _int(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text  # the schema refuses it with its message
