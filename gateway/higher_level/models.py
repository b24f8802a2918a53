"""Records of inspections made this year by city, provincial or national authorities."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, utcnow


class HigherLevelInspection(Base):
    """One inspection of a target by a higher-level authority.

    ``department_code`` (the county department of the same line, optional) and ``matter_code``
    (optional) narrow the exclusion: a record naming a matter excludes the target from that matter,
    one naming a department from that department's matters, one naming neither from every matter.
    """

    __tablename__ = "higher_level_inspections"
    __table_args__ = (Index("ix_higher_level_inspections_year_uscc", "year", "uscc"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stable key for re-imports: the authority's own reference, or uscc|authority|date|matter.
    record_key: Mapped[str] = mapped_column(String(300), unique=True)
    uscc: Mapped[str] = mapped_column(String(18))
    authority: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    department_code: Mapped[str] = mapped_column(String(64), default="")
    matter_code: Mapped[str] = mapped_column(String(64), default="")
    inspected_on: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(32), default="import")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
