"""Accounts, API tokens and page sessions (articles 5, 25: who may act, and as whom)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, utcnow


class Account(Base):
    """A person (or a machine) who signs in. The role, department and inspector id are what the
    policy sees; a password is optional (machine accounts use tokens only)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspectors.id"), nullable=True)
    # argon2id hash, or None: the account cannot sign in with a password.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """A machine's bearer token. Only its SHA-256 is stored; the token is shown once at creation.
    The scope (role, department, inspector) is the token's own, never wider than its account's."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the token, to recognise it in listings (not a secret on its own).
    prefix: Mapped[str] = mapped_column(String(16))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True, index=True)
    role: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspectors.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    account: Mapped[Account | None] = relationship(lazy="joined")


class WebSession(Base):
    """A signed-in page session, kept on the server: the cookie holds a random id whose SHA-256
    is the key here, so signing out, disabling the account or a password change ends it."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    account: Mapped[Account] = relationship(lazy="joined")
