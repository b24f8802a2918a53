"""Ratings of inspections by the inspected enterprise, anonymous to the inspecting department.

A department (``ratings.read``, own department) gets only aggregates of its inspections, and only
once at least ``MIN_RATINGS_SHOWN`` ratings exist; below that it learns the count is too small and
nothing else. Single ratings (score, comment, task) are read by the office and the supervisors alone
(``ratings.read_each``), never by a department. No other API, page or export shows a rating.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gateway.enterprise.models import Rating
from gateway.security.policy import visible_departments
from gateway.security.principal import Principal

MIN_RATINGS_SHOWN = 5
SCORES = (1, 2, 3, 4, 5)


def rating_summaries(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Per department: the number of ratings, and (at ``MIN_RATINGS_SHOWN`` or more) the average
    and the count of each score."""
    departments = visible_departments(principal, "ratings.read")
    stmt = select(Rating.department_code, Rating.score, func.count(Rating.id)).group_by(Rating.department_code,
                                                                                      Rating.score)
    if departments is not None:
        stmt = stmt.where(Rating.department_code.in_(departments))
    counts: dict[str, dict[int, int]] = {}
    for department, score, n in session.execute(stmt):
        counts.setdefault(department, {})[score] = n
    summaries = []
    for department in sorted(counts):
        by_score = counts[department]
        total = sum(by_score.values())
        shown = total >= MIN_RATINGS_SHOWN
        summaries.append({
            "department_code": department,
            "count": total,
            "shown": shown,
            "average": round(sum(s * n for s, n in by_score.items()) / total, 2) if shown else None,
            "scores": {str(s): by_score.get(s, 0) for s in SCORES} if shown else None,
        })
    return summaries


def each_rating_query(principal: Principal) -> Select:
    """Every single rating, newest first: the office and supervisors only (``ratings.read_each``)."""
    visible_departments(principal, "ratings.read_each")  # refuses every department role
    return select(Rating).order_by(Rating.id.desc())
