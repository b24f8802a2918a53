"""The office's view of how often enterprises are inspected (issue 16 item 3: 大数据预警 of repeated
or high-frequency inspections): the most-inspected targets of a year against the year's caps.

Two grouped queries over the ledger (every channel; then the counted channels for those targets)
and one for their names, never one per target. At 1M targets the first query groups every ledger
row of the year (3M rows: one pass, an index on year) and hands back one row per inspected target;
the sorting and the top ``limit`` are done here.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.directory.models import Target
from gateway.ledger.models import InspectionCaps
from gateway.ledger.queries import counts_by_target, current_caps


@dataclass(frozen=True)
class FrequencyRow:
    uscc: str
    name: str
    inspections: int       # every channel, exempt ones too
    counted: int           # the channels that count toward the caps
    by_department: dict[str, int]
    at_cap: bool
    high_frequency: bool


def most_inspected(session: Session, year: int, threshold: int, limit: int = 20) -> tuple[InspectionCaps | None, list[FrequencyRow]]:
    """The year's caps and its ``limit`` most-inspected targets, flagged at a cap (counted
    inspections at the total cap or one department at its cap) and high-frequency (``threshold``
    inspections or more in all)."""
    caps = current_caps(session, year)
    # Transient caps that exempt nothing: every channel counted, for the frequency itself.
    everything = counts_by_target(session, year, caps=InspectionCaps(exempt_channels=[]))
    top = sorted(everything.items(), key=lambda item: (-item[1].total, item[0]))[:limit]
    if not top:
        return caps, []
    usccs = [uscc for uscc, _ in top]
    counted = counts_by_target(session, year, usccs=usccs, caps=caps)
    names = dict(session.execute(select(Target.uscc, Target.name).where(Target.uscc.in_(usccs))).all())
    rows = []
    for uscc, every in top:
        mine = counted.get(uscc)
        total, by_department = (mine.total, mine.by_department) if mine else (0, {})
        at_cap = caps is not None and (total >= caps.total or any(
            n >= caps.per_department for code, n in by_department.items() if code))
        rows.append(FrequencyRow(uscc, names.get(uscc, uscc), every.total, total, by_department, at_cap,
                                 every.total >= threshold))
    return caps, rows
