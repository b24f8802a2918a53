"""Inspection plans (articles 11, 12): annual and joint, versioned, immutable once published."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, utcnow

PLAN_KINDS = ("annual", "joint")
PLAN_STATUSES = ("draft", "published", "superseded")


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("number", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Human plan number, e.g. 武陟联抽〔2026〕3号; versions of one plan share it.
    number: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    year: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    lead_department: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    # Every other department taking part (article 12): the matters' departments, the departments
    # that bring check items to them, and any the plan names; the joint inspector pool is their union.
    cooperating_departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Target scope filters (township, type, level, …) as data, compiled to SQL with the matters' criteria.
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Sampling ratio per credit-risk class, e.g. {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"}.
    ratios: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Which targets get key inspection (article 15: high risk, complaints, abnormal or serious-violation
    # list): they bypass the yearly cap and are counted apart. See gateway.draw.population.KeyRule.
    key_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Matter code -> this plan's minimum ratio for the matter, where the matter's minimum is a county
    # default (Matter.county_defaults names min_ratio) and the plan adjusts it (本计划调整).
    min_ratios: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True, default=dict)
    frequency: Mapped[str] = mapped_column(String(100), default="")
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    published_late: Mapped[bool] = mapped_column(Boolean, default=False)
    published_by: Mapped[str] = mapped_column(String(200), default="")
    # A matter its plugin marks as checkable by written check or data comparison
    # (Matter.non_site_methods) is checked that way unless the plan chooses a site visit for it, with
    # the reason, which is public: {matter_code: reason} (2025 rules: no visit where a written check
    # or shared data suffices).
    site_visit_reasons: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Filing (备案) with the county justice bureau, entered by the county office (gateway.planning.filing);
    # a draw needs it first unless the setting draw_requires_filing is off.
    filing_number: Mapped[str] = mapped_column(String(100), default="")
    filed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    filed_by: Mapped[str] = mapped_column(String(200), default="")
    filed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    amend_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    matters: Mapped[list["PlanMatter"]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanMatter.id", lazy="selectin"
    )


class PlanMatter(Base):
    """A matter in a plan, pinned to the matter version the plan uses (article 8)."""

    __tablename__ = "plan_matters"
    __table_args__ = (UniqueConstraint("plan_id", "matter_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    matter_code: Mapped[str] = mapped_column(String(64))
    matter_version_id: Mapped[int] = mapped_column(ForeignKey("matter_versions.id"))
    # The department that brings this matter into a joint plan (the matter's lead department).
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))

    plan: Mapped[Plan] = relationship(back_populates="matters")


def min_ratio_of(content: Mapping[str, Any], adjusted: Mapping[str, str], code: str) -> tuple[Decimal, str]:
    """A plan's minimum ratio for a matter and where it comes from (:data:`MIN_RATIO_SOURCES`): the
    plan's adjustment, else the pinned version's minimum, a county default or a rule's."""
    if code in adjusted:
        return Decimal(str(adjusted[code])), "plan"
    source = "county_default" if "min_ratio" in content.get("county_defaults", ()) else "rule"
    return Decimal(str(content.get("min_ratio", "0"))), source
