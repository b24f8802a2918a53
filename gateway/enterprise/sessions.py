"""Portal sessions of enterprises: a cookie of their own (``shuangsui_portal``), a table of their own
(``enterprise_sessions``), never a staff session. The security layer (``gateway.security.web``)
reads the cookie when no staff credential came with the request, and the request's principal is
then the enterprise (role ``enterprise``, name = its USCC)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.enterprise.models import AccessCode, EnterpriseSession

PORTAL_COOKIE = "shuangsui_portal"
PORTAL_SESSION_HOURS = 2


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def open_session(session: Session, code: AccessCode, hours: int = PORTAL_SESSION_HOURS) -> tuple[str, EnterpriseSession]:
    """A new portal session for the enterprise of ``code``; returns the cookie value (shown once) and the row."""
    cookie = secrets.token_urlsafe(32)
    now = utcnow()
    row = EnterpriseSession(session_sha256=_sha256(cookie), uscc=code.uscc, access_code_id=code.id,
                            csrf_token=secrets.token_hex(32), created_at=now, expires_at=now + timedelta(hours=hours))
    session.add(row)
    session.flush()
    return cookie, row


def find_session(session: Session, cookie: str, now: datetime | None = None) -> EnterpriseSession | None:
    if not cookie or len(cookie) > 200:
        return None
    row = session.scalar(select(EnterpriseSession).where(EnterpriseSession.session_sha256 == _sha256(cookie)))
    if row is None or row.revoked_at is not None or row.expires_at <= (now or utcnow()):
        return None
    return row


def close_session(session: Session, cookie: str) -> None:
    row = find_session(session, cookie)
    if row is not None:
        row.revoked_at = utcnow()
