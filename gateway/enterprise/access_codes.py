"""Enterprise access codes (企业访问码): one-time, rotating, rate-limited, never stored in clear.

A code reads ``LLLL-SSSS-SSSS`` in an alphabet without look-alike characters. The first group,
the *locator*, is stored in clear and finds the code among the enterprise's codes; the whole code
is stored only as its SHA-256 (with the USCC), as API tokens are.

- **Issue** (``issue_access_code``): when a notice is generated or sent again. A new code for a
  task supersedes every earlier code of that task (for every purpose).
- **Sign-in** is one-time: redeeming with ``purpose="sign_in"`` marks the code used; the portal then
  hands out its successor (``issue_successor``), shown once, for the next sign-in.
- **Check-in** (扫码入企, helper h17a): ``purpose="check_in"`` accepts the task's current code (or its
  sign-in successor) once, whether or not it was used to sign in; so the code printed on the
  notice confirms one arrival even after the enterprise signed in with it.
- **Wrong tries**: a wrong secret under a known locator counts against *that* code; the fifth locks
  it (not the enterprise's other codes) until the office issues a new one. Unknown locators count
  against nobody's code: the transports throttle them per client address.
- Every success and failure is audited (``enterprise.access_code.*``), with the client address.

A refusal writes its failure count and audit entry in the session before raising, so the caller
must commit anyway: ``redeem_committed`` does that around a write transaction.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Callable, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.enterprise.models import ACCESS_CODE_PURPOSES, AccessCode
from gateway.errors import DomainError, Forbidden, Invalid, Unauthenticated
from gateway.security import audit
from gateway.security.principal import Principal
from gateway.tasks.models import Task

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
LOCATOR_LENGTH = 4
SECRET_LENGTH = 8
MAX_FAILURES = 5
VALID_DAYS = 90
USCC_LENGTH = 18

T = TypeVar("T")


def enterprise_principal(uscc: str) -> Principal:
    """Who acts in the audit log when an enterprise does something (no staff account)."""
    return Principal(role="enterprise", name=uscc)


def code_hash(uscc: str, code: str) -> str:
    return hashlib.sha256(f"{uscc}|{code}".encode("ascii")).hexdigest()


def normalize_code(code: str) -> str | None:
    """``"abcd-efgh-jkmn"`` or ``"ABCD EFGH JKMN"`` -> ``"ABCDEFGHJKMN"``; None when it cannot be a code."""
    cleaned = "".join(ch for ch in (code or "").upper() if ch not in " -\t")
    if len(cleaned) != LOCATOR_LENGTH + SECRET_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def format_code(cleaned: str) -> str:
    return "-".join(cleaned[i:i + 4] for i in range(0, len(cleaned), 4))


def normalize_uscc(uscc: str) -> str:
    return (uscc or "").strip().upper()


def issue_access_code(session: Session, task: Task, *, actor: Principal, valid_days: int = VALID_DAYS) -> str:
    """A new code for ``task``'s enterprise; every earlier code of the task stops working. Returns
    the clear code, the only time it exists."""
    now = utcnow()
    session.execute(update(AccessCode).where(AccessCode.task_id == task.id, AccessCode.superseded_at.is_(None))
                    .values(superseded_at=now))
    previous = session.scalar(select(AccessCode.id).where(AccessCode.task_id == task.id)
                              .order_by(AccessCode.id.desc()).limit(1))
    clear, row = _new_code(session, task.id, task.target.uscc, actor, now, valid_days, previous)
    audit.record(session, actor, "enterprise.access_code.issue", "task", task.id,
                 {"access_code_id": row.id, "supersedes": previous})
    return clear


def issue_successor(session: Session, used: AccessCode, *, valid_days: int = VALID_DAYS) -> str:
    """After a sign-in consumed ``used``: the next code for the same task, shown once on the portal.
    ``used`` stays valid for one check-in; an office re-issue ends both."""
    actor = enterprise_principal(used.uscc)
    clear, row = _new_code(session, used.task_id, used.uscc, actor, utcnow(), valid_days, used.id)
    audit.record(session, actor, "enterprise.access_code.rotate", "task", used.task_id,
                 {"access_code_id": row.id, "rotated_from": used.id})
    return clear


def _new_code(session: Session, task_id: int, uscc: str, actor: Principal, now: datetime, valid_days: int,
              rotated_from: int | None) -> tuple[str, AccessCode]:
    while True:
        cleaned = "".join(secrets.choice(ALPHABET) for _ in range(LOCATOR_LENGTH + SECRET_LENGTH))
        locator = cleaned[:LOCATOR_LENGTH]
        taken = session.scalar(select(AccessCode.id).where(AccessCode.uscc == uscc, AccessCode.locator == locator))
        if taken is None:
            break
    row = AccessCode(task_id=task_id, uscc=uscc, locator=locator, code_hash=code_hash(uscc, cleaned),
                     issued_at=now, issued_by=actor.label, expires_at=now + timedelta(days=valid_days),
                     failures=0, rotated_from_id=rotated_from)
    session.add(row)
    session.flush()
    return format_code(cleaned), row


def redeem_access_code(session: Session, uscc: str, code: str, *, purpose: str, remote_addr: str) -> AccessCode:
    """The code ``code`` of enterprise ``uscc``, marked used for ``purpose`` ("sign_in" or "check_in").

    Refusals (each audited, failure counted, *written before raising*: commit anyway):
    ``Invalid`` for a malformed USCC or code; ``Unauthenticated`` for an unknown, wrong, expired,
    superseded or already used code; ``Forbidden`` (``access_code_locked``) once the code took
    ``MAX_FAILURES`` wrong tries."""
    if purpose not in ACCESS_CODE_PURPOSES:
        raise ValueError(f"unknown access code purpose {purpose!r}")
    uscc = normalize_uscc(uscc)
    cleaned = normalize_code(code)
    facts = {"purpose": purpose, "remote_addr": remote_addr}
    if len(uscc) != USCC_LENGTH or not uscc.isalnum():
        _fail(session, uscc[:18], None, "malformed_uscc", facts)
        raise Invalid("uscc_malformed", "统一社会信用代码应为 18 位数字或大写字母。",
                      {"uscc": "统一社会信用代码应为 18 位数字或大写字母。"})
    if cleaned is None:
        _fail(session, uscc, None, "malformed_code", facts)
        raise Invalid("access_code_malformed", "访问码格式不正确：应为 12 位字母和数字，如 ABCD-EFGH-JKMN。",
                      {"code": "访问码格式不正确：应为 12 位字母和数字，如 ABCD-EFGH-JKMN。"})
    row = session.scalar(select(AccessCode).where(AccessCode.uscc == uscc,
                                                  AccessCode.locator == cleaned[:LOCATOR_LENGTH])
                         .order_by(AccessCode.id.desc()).limit(1).with_for_update())
    if row is None:
        _fail(session, uscc, None, "unknown", facts)
        raise Unauthenticated("access_code_unknown", "访问码不正确：请核对检查通知书上的统一社会信用代码和访问码。")
    _check_secret(session, row, cleaned, facts)
    _check_state(session, row, purpose, facts)
    now = utcnow()
    if purpose == "sign_in":
        row.used_at = now
    else:
        row.checked_in_at = now
    audit.record(session, enterprise_principal(uscc), "enterprise.access_code.redeem", "task", row.task_id,
                 {**facts, "access_code_id": row.id})
    session.flush()
    return row


def _check_secret(session: Session, row: AccessCode, cleaned: str, facts: dict) -> None:
    if row.locked_at is not None:
        _fail(session, row.uscc, row, "locked", facts)
        raise _locked()
    if secrets.compare_digest(row.code_hash, code_hash(row.uscc, cleaned)):
        return
    row.failures = (row.failures or 0) + 1
    if row.failures >= MAX_FAILURES:
        row.locked_at = utcnow()
        _fail(session, row.uscc, row, "wrong", facts)
        audit.record(session, enterprise_principal(row.uscc), "enterprise.access_code.lock", "task", row.task_id,
                     {**facts, "access_code_id": row.id, "failures": row.failures})
        raise _locked()
    _fail(session, row.uscc, row, "wrong", facts)
    left = MAX_FAILURES - row.failures
    raise Unauthenticated("access_code_wrong", f"访问码不正确，该访问码还可再试 {left} 次，输错 {MAX_FAILURES} 次将被锁定。",
                          attempts_left=left)


def _check_state(session: Session, row: AccessCode, purpose: str, facts: dict) -> None:
    refusal: DomainError | None = None
    if row.superseded_at is not None:
        refusal = Unauthenticated("access_code_superseded", "该访问码已被新发放的访问码取代，请使用最新检查通知书上的访问码。")
    elif row.expires_at <= utcnow():
        refusal = Unauthenticated("access_code_expired",
                                  f"该访问码已于 {row.expires_at:%Y-%m-%d} 过期，请联系检查通知书上的联系人重新发放。")
    elif purpose == "sign_in" and row.used_at is not None:
        refusal = Unauthenticated("access_code_used", "该访问码已用于登录（每个访问码只能登录一次）。"
                                                      "请使用上次登录后页面显示的新访问码，或联系检查通知书上的联系人。")
    elif purpose == "check_in" and row.checked_in_at is not None:
        refusal = Unauthenticated("access_code_used", "该访问码已用于确认检查人员到达，不能再次使用。")
    if refusal is not None:
        _fail(session, row.uscc, row, refusal.code, facts)
        raise refusal


def _locked() -> Forbidden:
    return Forbidden("access_code_locked", f"该访问码已连续输错 {MAX_FAILURES} 次，已被锁定。"
                                           "请联系检查通知书上的联系人重新发放访问码。")


def _fail(session: Session, uscc: str, row: AccessCode | None, reason: str, facts: dict) -> None:
    details = {**facts, "reason": reason}
    if row is not None:
        details.update(access_code_id=row.id, failures=row.failures)
    audit.record(session, enterprise_principal(uscc or "?"), "enterprise.access_code.refuse",
                 "task" if row is not None else "enterprise", row.task_id if row is not None else (uscc or "?"),
                 details)


def redeem_committed(gateway, uscc: str, code: str, *, purpose: str, remote_addr: str,
                     then: Callable[[Session, AccessCode], T]) -> T:
    """Redeem in a write transaction of ``gateway`` and run ``then(session, code)`` in it. A refusal
    of the code still commits its failure count and audit entry, then raises; an error raised by
    ``then`` rolls everything back (the code stays unused)."""
    refusal: DomainError | None = None
    with gateway.write() as session:
        try:
            row = redeem_access_code(session, uscc, code, purpose=purpose, remote_addr=remote_addr)
        except DomainError as exc:
            refusal = exc  # commit the count and the audit entry, then refuse
        else:
            return then(session, row)
    raise refusal
