"""Accounts, API tokens and page sessions: creating them and turning a credential into a Principal.

Passwords are hashed with argon2id (argon2-cffi). Tokens and session ids are random, high-entropy
strings; only their SHA-256 is stored, so a copy of the database does not let anyone sign in.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.directory.models import Department, Inspector
from gateway.errors import Conflict, Invalid, NotFound, Unauthenticated
from gateway.security import audit
from gateway.security.models import Account, ApiToken, WebSession
from gateway.security.principal import ROLES, Principal

TOKEN_PREFIX = "ssg_"
DEPARTMENT_ROLES = ("department_operator", "department_head", "inspector")
ACCOUNT_ROLES = tuple(r for r in ROLES if r != "public")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 730

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("shuangsui-dummy-password")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("weak_password", f"密码至少 {MIN_PASSWORD_LENGTH} 个字符。",
                      {"password": [f"密码至少 {MIN_PASSWORD_LENGTH} 个字符。"]})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid("weak_password", f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符。",
                      {"password": [f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符。"]})
    kinds = sum((any(c.isdigit() for c in password), any(c.isalpha() for c in password),
                 any(not c.isalnum() for c in password)))
    if kinds < 2 or len(set(password)) < 4:
        raise Invalid("weak_password", "密码过于简单：请混合使用字母、数字或符号。",
                      {"password": ["密码过于简单：请混合使用字母、数字或符号。"]})


def generate_password() -> str:
    """A random password (24 characters, 144 bits) that passes ``check_password_strength``; for
    accounts whose password is set by someone else and handed over once."""
    while True:
        candidate = secrets.token_urlsafe(18)
        try:
            check_password_strength(candidate)
        except Invalid:
            continue  # e.g. letters only: vanishingly rare, draw again
        return candidate


# ----------------------------------------------------------------------------------- scope checks

def check_scope(session: Session, role: str, department_code: str | None, inspector_id: int | None
                ) -> tuple[str | None, int | None]:
    """Validate a (role, department, inspector) scope; return the normalised department and inspector."""

    if role not in ACCOUNT_ROLES:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"role": [f"角色须为：{'、'.join(ACCOUNT_ROLES)}。"]})
    if role == "inspector":
        if inspector_id is None:
            raise Invalid("validation_error", "提交的数据未通过校验。",
                          {"inspector_id": ["执法检查人员账号须关联执法检查人员名录中的一人。"]})
        inspector = session.get(Inspector, inspector_id)
        if inspector is None:
            raise Invalid("validation_error", "提交的数据未通过校验。",
                          {"inspector_id": [f"执法检查人员 {inspector_id} 不存在。"]})
        if department_code is not None and department_code != inspector.department_code:
            raise Invalid("validation_error", "提交的数据未通过校验。",
                          {"department_code": ["执法检查人员账号的部门须与其名录中的部门一致。"]})
        department_code = inspector.department_code
    elif inspector_id is not None:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"inspector_id": ["只有执法检查人员账号可以关联执法检查人员。"]})
    if role in DEPARTMENT_ROLES:
        if not department_code:
            raise Invalid("validation_error", "提交的数据未通过校验。",
                          {"department_code": ["部门角色须指定所属部门。"]})
        dept = session.get(Department, department_code)
        if dept is None or not dept.installed:
            raise Invalid("validation_error", "提交的数据未通过校验。",
                          {"department_code": [f"部门 {department_code} 不存在或其插件未安装。"]})
    elif department_code:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"department_code": ["该角色不属于某个部门，不能指定部门。"]})
    else:
        department_code = None
    return department_code, inspector_id


# --------------------------------------------------------------------------------------- accounts

def create_account(
    session: Session,
    actor: Principal,
    username: str,
    role: str,
    *,
    department_code: str | None = None,
    inspector_id: int | None = None,
    password: str | None = None,
    display_name: str = "",
) -> Account:
    username = (username or "").strip()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-@" for c in username):
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"username": ["用户名须为 1 至 64 个字母、数字或 . _ - @。"]})
    if session.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise Conflict("duplicate_username", f"用户名 {username} 已存在。", {"username": ["用户名已存在。"]})
    department_code, inspector_id = check_scope(session, role, department_code, inspector_id)
    account = Account(
        username=username, display_name=display_name or username, role=role,
        department_code=department_code, inspector_id=inspector_id, active=True,
    )
    if password is not None:
        check_password_strength(password)
        account.password_hash = hash_password(password)
        account.password_changed_at = utcnow()
    session.add(account)
    session.flush()
    audit.record(session, actor, "accounts.create", "account", account.id,
                 {"username": username, "role": role, "department": department_code})
    return account


def get_account(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFound.of("用户", username)
    return account


def set_password(session: Session, actor: Principal, account: Account, password: str) -> None:
    check_password_strength(password)
    account.password_hash = hash_password(password)
    account.password_changed_at = utcnow()
    _end_sessions(session, account.id)
    audit.record(session, actor, "accounts.password", "account", account.id, {"username": account.username})


def disable_account(session: Session, actor: Principal, account: Account) -> None:
    """Disable the account, end its sessions and revoke its tokens."""
    account.active = False
    now = utcnow()
    _end_sessions(session, account.id)
    session.execute(update(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=now))
    audit.record(session, actor, "accounts.disable", "account", account.id, {"username": account.username})


def enable_account(session: Session, actor: Principal, account: Account) -> None:
    account.active = True
    audit.record(session, actor, "accounts.enable", "account", account.id, {"username": account.username})


def _end_sessions(session: Session, account_id: int) -> None:
    session.execute(update(WebSession).where(WebSession.account_id == account_id, WebSession.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def account_principal(account: Account) -> Principal:
    return Principal(role=account.role, name=account.username, user_id=account.id,
                     department_code=account.department_code, inspector_id=account.inspector_id)


# ----------------------------------------------------------------------------------------- tokens

def issue_token(
    session: Session,
    actor: Principal,
    name: str,
    role: str,
    *,
    department_code: str | None = None,
    inspector_id: int | None = None,
    days: int = DEFAULT_TOKEN_DAYS,
    account: Account | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; return the row and the plaintext, which is never stored and shown only now."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("validation_error", "提交的数据未通过校验。", {"name": ["令牌名称须为 1 至 100 个字符。"]})
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"days": [f"有效期须为 1 至 {MAX_TOKEN_DAYS} 天。"]})
    if account is not None:
        if not account.active:
            raise Invalid("account_disabled", f"用户 {account.username} 已停用。")
        # A user's token never reaches further than the user.
        role, department_code, inspector_id = account.role, account.department_code, account.inspector_id
    department_code, inspector_id = check_scope(session, role, department_code, inspector_id)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        name=name, prefix=plaintext[:12], token_sha256=sha256_hex(plaintext),
        account_id=account.id if account is not None else None,
        role=role, department_code=department_code, inspector_id=inspector_id,
        created_by=actor.label, created_at=now, expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(session, actor, "tokens.create", "api_token", token.id,
                 {"name": name, "role": role, "department": department_code, "prefix": token.prefix,
                  "expires_at": token.expires_at.isoformat()})
    return token, plaintext


def revoke_token(session: Session, actor: Principal, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound.of("令牌", token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor, "tokens.revoke", "api_token", token.id, {"name": token.name, "prefix": token.prefix})
    return token


def token_principal(token: ApiToken) -> Principal:
    name = token.account.username if token.account is not None else f"token:{token.name}"
    return Principal(role=token.role, name=name, user_id=token.account_id,
                     department_code=token.department_code, inspector_id=token.inspector_id)


def find_token(session: Session, plaintext: str, now: datetime | None = None) -> ApiToken | None:
    """The valid (not revoked, not expired, account active) token for ``plaintext``, or None."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == sha256_hex(plaintext)))
    now = now or utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if token.account is not None and not token.account.active:
        return None
    return token


# -------------------------------------------------------------------------------- password sign-in

@dataclass(frozen=True)
class SignIn:
    account: Account
    session_cookie: str
    csrf_token: str
    expires_at: datetime


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    session_hours: int,
    address: str = "",
    now: datetime | None = None,
) -> SignIn:
    """Check the password; on success open a page session. Raises 401 ``invalid_credentials``
    for a wrong password and for an unknown, disabled or password-less account alike, after the
    same work (one argon2 verification) and with the same audit entry. Commit the caller's
    transaction either way, so that the failure is audited."""
    now = now or utcnow()
    username = (username or "").strip()
    account = session.scalar(select(Account).where(Account.username == username))
    usable = account is not None and account.password_hash is not None and account.active
    verified = _verify(account.password_hash if usable else _DUMMY_HASH, password) and usable
    if not verified:
        audit_failed_sign_in(session, username, address, _failure_reason(account, usable),
                             account.id if account is not None else "")
        raise Unauthenticated("invalid_credentials", "用户名或密码错误。")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.last_login_at = now
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=session_hours)
    session.add(WebSession(session_sha256=sha256_hex(cookie), account_id=account.id, csrf_token=csrf,
                           created_at=now, expires_at=expires, last_seen_at=now))
    audit.record(session, account_principal(account), "auth.sign_in", "account", account.id,
                 {"username": account.username, "address": address})
    session.flush()
    return SignIn(account, cookie, csrf, expires)


def audit_failed_sign_in(session: Session, username: str, address: str, reason: str, account_id: object = "") -> None:
    """``auth.sign_in_failed``, by the public at ``address``: the username as typed, never the password."""
    audit.record(session, Principal(role="public", name=address), "auth.sign_in_failed", "account", account_id,
                 {"username": (username or "").strip()[:64], "address": address, "reason": reason})


def _failure_reason(account: Account | None, usable: bool) -> str:
    """For the audit log only (never in the answer)."""
    if account is None:
        return "unknown_user"
    if not account.active:
        return "disabled"
    return "wrong_password" if usable else "no_password"


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def find_web_session(session: Session, cookie: str, now: datetime | None = None,
                     idle: timedelta | None = None) -> WebSession | None:
    """The live session of ``cookie``: not signed out, not past its lifetime, its account active,
    and, when ``idle`` is given, used within that time (``last_seen_at``)."""
    if not cookie or len(cookie) > 200:
        return None
    row = session.scalar(select(WebSession).where(WebSession.session_sha256 == sha256_hex(cookie)))
    now = now or utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.account.active:
        return None
    if idle is not None and row.last_seen_at is not None and row.last_seen_at <= now - idle:
        return None
    return row


def sign_out(session: Session, cookie: str) -> None:
    row = session.scalar(select(WebSession).where(WebSession.session_sha256 == sha256_hex(cookie)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, account_principal(row.account), "auth.sign_out", "account", row.account_id,
                     {"username": row.account.username})
