"""Ratings of inspections by the inspected enterprise, anonymous to the inspecting department.

A department (``ratings.read``, own department) gets only aggregates of its inspections, and only
once at least ``MIN_RATINGS_SHOWN`` ratings exist; below that it learns the count is too small and
nothing else. Single ratings (score, comment, task) are read by the office and the supervisors alone
(``ratings.read_each``), never by a department. No other API, page or export shows a rating.

Batches: were the department's average and distribution recomputed at every new rating, comparing
the aggregate before and after would give that one rating away. So a department's aggregate covers
only its first ``BATCH``·⌊n/``BATCH``⌋ ratings in the order they were given (``covered``): it moves
only when a whole batch of ``BATCH`` new ratings is complete, and two aggregates a department sees
differ by zero or by at least ``BATCH`` ratings, never by one. The count ``n`` stays exact (it says
that a rating came in, not what it was). The office and the supervisors, who read every rating
anyway, get aggregates over all of them.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from gateway.enterprise.models import Rating
from gateway.security.policy import visible_departments
from gateway.security.principal import Principal

MIN_RATINGS_SHOWN = 5
BATCH = MIN_RATINGS_SHOWN
"""A department's aggregate moves by whole batches of this many ratings."""
SCORES = (1, 2, 3, 4, 5)


def rating_summaries(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Per department: the number of ratings and how many the aggregate covers (whole batches for a
    department, all for the office and supervisors), and, once it covers ``MIN_RATINGS_SHOWN`` or
    more, their average and the count of each score. One query."""
    departments = visible_departments(principal, "ratings.read")
    order = func.row_number().over(partition_by=Rating.department_code, order_by=(Rating.rated_at, Rating.id))
    total = func.count(Rating.id).over(partition_by=Rating.department_code)
    ranked = select(Rating.department_code, Rating.score, order.label("position"), total.label("total"))
    if departments is not None:
        ranked = ranked.where(Rating.department_code.in_(departments))
    ranked = ranked.subquery()
    covered = ranked.c.total if departments is None else ranked.c.total - ranked.c.total % BATCH
    stmt = (select(ranked.c.department_code, ranked.c.score, ranked.c.total,
                   func.sum(case((ranked.c.position <= covered, 1), else_=0)))
            .group_by(ranked.c.department_code, ranked.c.score, ranked.c.total))
    counts: dict[str, dict[int, int]] = {}
    totals: dict[str, int] = {}
    for department, score, n_total, n_covered in session.execute(stmt):
        counts.setdefault(department, {})[score] = int(n_covered or 0)
        totals[department] = n_total
    summaries = []
    for department in sorted(counts):
        by_score = counts[department]
        n_covered = sum(by_score.values())
        shown = n_covered >= MIN_RATINGS_SHOWN
        summaries.append({
            "department_code": department,
            "count": totals[department],
            "covered": n_covered if shown else 0,
            "shown": shown,
            "average": round(sum(s * n for s, n in by_score.items()) / n_covered, 2) if shown else None,
            "scores": {str(s): by_score.get(s, 0) for s in SCORES} if shown else None,
        })
    return summaries


def each_rating_query(principal: Principal) -> Select:
    """Every single rating, newest first: the office and supervisors only (``ratings.read_each``)."""
    visible_departments(principal, "ratings.read_each")  # refuses every department role
    return select(Rating).order_by(Rating.id.desc())
