"""The publication deadline of article 19: results are entered and published within
20 working days of finishing the inspection.

Counting convention
-------------------
The completion date itself is day 0 and never counts, whatever kind of day it is. Day 1 is the
first working day *after* the completion date, and the deadline is the n-th such working day, so
the due date is always a working day and exactly n working days lie in ``(completed, due]``. An
inspection finished on Wednesday 30 September 2026 has 1–7 October off (国庆节), works Thursday
8 October (day 1), Friday 9 October (day 2) and the make-up Saturday 10 October (day 3), and is
due on Tuesday 3 November 2026 (day 20).

Working days come from :mod:`gateway.results.holidays`: the office's data file, then
chinesecalendar, then — for a year neither knows — weekdays minus the fixed-date statutory
holidays. A deadline whose count passes through such a year is ``provisional``: recompute it once
the office has added the year to the data file (see ``docs/holidays.md``).

Every function takes an optional ``holidays_file`` (a path, or ``""``/``None`` for the
``SHUANGSUI_HOLIDAYS_FILE`` environment variable or the shipped default).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

from gateway.results.holidays import WorkingCalendar, calendar_for, require_date

# Article 19: results are published within 20 working days of finishing the inspection.
PUBLICATION_WORKING_DAYS = 20
DEFAULT_SOON_DAYS = 3

OVERDUE = "overdue"
DUE_SOON = "due_soon"
ON_TRACK = "on_track"
STATUS_LABELS = {OVERDUE: "已逾期", DUE_SOON: "即将到期", ON_TRACK: "正常"}

_ONE_DAY = timedelta(days=1)

HolidaysFile = str | os.PathLike[str] | None


@dataclass(frozen=True)
class Deadline:
    """A due date, and whether it rests on a year whose holiday arrangement is not yet known."""

    due: date
    provisional: bool


def add_working_days(start: date, n: int, *, holidays_file: HolidaysFile = None) -> Deadline:
    """The n-th working day after ``start`` (``start`` itself is day 0 and never counts).

    ``provisional`` is True if any day from the day after ``start`` up to the due date lies in a
    year known neither to the data file nor to chinesecalendar."""
    require_date(start)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    calendar = calendar_for(holidays_file)
    day, counted, provisional = start, 0, False
    while counted < n:
        day += _ONE_DAY
        info = calendar.day_info(day)
        provisional = provisional or info.provisional
        if info.working:
            counted += 1
    return Deadline(due=day, provisional=provisional)


def publication_deadline(completed: date, *, holidays_file: HolidaysFile = None) -> Deadline:
    """The article 19 deadline: 20 working days after the inspection was completed."""
    return add_working_days(completed, PUBLICATION_WORKING_DAYS, holidays_file=holidays_file)


def is_working_day(d: date, *, holidays_file: HolidaysFile = None) -> bool:
    """True if ``d`` is a working day (make-up working weekends included)."""
    return calendar_for(holidays_file).is_working_day(d)


def working_days_between(a: date, b: date, *, holidays_file: HolidaysFile = None) -> int:
    """The number of working days in ``(a, b]``, negative if ``b`` is before ``a``.

    ``working_days_between(start, add_working_days(start, n).due) == n``; with ``a`` today and
    ``b`` a due date it is the working days left (or, negated, the working days overdue)."""
    require_date(a)
    require_date(b)
    if b < a:
        return -_count(calendar_for(holidays_file), b, a)
    return _count(calendar_for(holidays_file), a, b)


def _count(calendar: WorkingCalendar, a: date, b: date) -> int:
    count, day = 0, a
    while day < b:
        day += _ONE_DAY
        if calendar.is_working_day(day):
            count += 1
    return count


def due_status(
    due: date | Deadline,
    today: date,
    soon_days: int = DEFAULT_SOON_DAYS,
    *,
    holidays_file: HolidaysFile = None,
) -> str:
    """``"overdue"`` once ``today`` is past the due date; ``"due_soon"`` while at most
    ``soon_days`` working days are left (the due date itself included, 0 left); else
    ``"on_track"``. :data:`STATUS_LABELS` has the Chinese labels."""
    if isinstance(due, Deadline):
        due = due.due
    require_date(due)
    require_date(today)
    if isinstance(soon_days, bool) or not isinstance(soon_days, int) or soon_days < 0:
        raise ValueError(f"soon_days must be a non-negative int, got {soon_days!r}")
    if today > due:
        return OVERDUE
    if working_days_between(today, due, holidays_file=holidays_file) <= soon_days:
        return DUE_SOON
    return ON_TRACK
