"""Check-ins (扫码入企): the enterprise confirmed the team's arrival with its access code."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, utcnow


class CheckIn(Base):
    """One arrival of a task's team, confirmed by the enterprise's representative (no account: the
    access code of the task's notice). The team may add its phone's location, with consent;
    departure is recorded when the target signs the result."""

    __tablename__ = "task_checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    access_code_id: Mapped[int] = mapped_column(ForeignKey("enterprise_access_codes.id"))
    arrived_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The signing key of the code scanned, and the team it named (opaque ids, as the record shows them).
    code_kid: Mapped[str] = mapped_column(String(32))
    team: Mapped[list[str]] = mapped_column(JSON, default=list)
    location_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    located_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    departed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    departure_result_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_results.id"), nullable=True)

    def facts(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "access_code_id": self.access_code_id, "kid": self.code_kid}
