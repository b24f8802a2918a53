"""The ledger reads every channel in one place, and counts only what the caps count."""
from __future__ import annotations

from datetime import date, datetime

from gateway.higher_level.models import HigherLevelInspection
from gateway.ledger.channels import DEFAULT_EXEMPT
from gateway.ledger.models import InspectionCaps, RegisteredInspection
from gateway.ledger.queries import counts_by_target, current_caps, ledger_entries
from gateway.tasks.models import Task
from tests.drawdb import YEAR, build_directory, complete_draw, published_plan


def registered(uscc, department, channel, day, **kwargs):
    return RegisteredInspection(uscc=uscc, department_code=department, channel=channel,
                                legal_reason_code=kwargs.pop("reason", "law"), inspected_on=day, year=day.year,
                                reference=kwargs.pop("reference", f"{channel}-{day}"), source="api", **kwargs)


def test_the_ledger_unites_drawn_higher_level_and_registered_inspections(gateway):
    directory = build_directory(gateway)
    complete_draw(gateway, published_plan(gateway, ratios={"A": "1", "B": "1", "C": "1", "D": "1"}))
    oil = directory["targets"]["refined_oil"]
    department = gateway.registry.matters["refined_oil"].department_code
    other = next(code for code in gateway.registry.departments if code != department)
    with gateway.write() as session:
        session.add(HigherLevelInspection(record_key="h1", uscc=oil[0], authority="焦作市某局", level="city",
                                          department_code=department, inspected_on=date(YEAR, 2, 1), year=YEAR))
        session.add(registered(oil[0], other, "special", date(YEAR, 3, 1)))
        session.add(registered(oil[0], other, "complaint", date(YEAR, 3, 2)))
        session.add(registered(oil[0], other, "routine", date(YEAR - 1, 3, 2)))
    with gateway.read() as session:
        entries = ledger_entries(session, uscc=oil[0], year=YEAR)
        drawn_tasks = session.query(Task).join(Task.target).filter_by(uscc=oil[0]).count()
        channels = sorted(e.channel for e in entries)
        assert channels == sorted(["drawn"] * drawn_tasks + ["higher_level", "special", "complaint"])
        assert drawn_tasks >= 1
        assert {e.channel: e.counts for e in entries}["complaint"] is False  # exempt by default
        assert all(e.counts for e in entries if e.channel != "complaint")
        assert [e.on for e in entries] == sorted(e.on for e in entries)
        assert len(ledger_entries(session, uscc=oil[0])) == len(entries) + 1
        assert {e.department_code for e in ledger_entries(session, uscc=oil[0], department=other)} == {other}

        counts = counts_by_target(session, YEAR)
        mine = counts[oil[0]]
        assert mine.total == drawn_tasks + 2
        assert mine.by_department[other] == 1
        assert current_caps(session, YEAR) is None


def test_published_caps_choose_the_exempt_channels_and_the_at_cap_filter(gateway):
    directory = build_directory(gateway)
    oil = directory["targets"]["refined_oil"]
    department = gateway.registry.matters["refined_oil"].department_code
    with gateway.write() as session:
        for day in (1, 2):
            session.add(registered(oil[0], department, "routine", date(YEAR, 4, day)))
        session.add(registered(oil[1], department, "routine", date(YEAR, 4, 1)))
        session.add(registered(oil[1], department, "complaint", date(YEAR, 4, 2)))
        session.add(InspectionCaps(year=YEAR, version=1, per_department=2, total=4,
                                   exempt_channels=sorted(DEFAULT_EXEMPT), published_at=datetime(YEAR, 1, 1)))
        session.add(InspectionCaps(year=YEAR, version=2, per_department=2, total=4, exempt_channels=["case"],
                                   published_at=datetime(YEAR, 2, 1)))
        session.add(InspectionCaps(year=YEAR, version=3, per_department=1, total=1, exempt_channels=[]))  # draft
    with gateway.read() as session:
        caps = current_caps(session, YEAR)
        assert caps.version == 2
        assert counts_by_target(session, YEAR)[oil[1]].total == 2  # complaints count under version 2
        at_cap = counts_by_target(session, YEAR, at_cap_only=True)
        assert set(at_cap) == {oil[0], oil[1]}
        first = session.get(InspectionCaps, 1)
        assert counts_by_target(session, YEAR, caps=first)[oil[1]].total == 1
        assert set(counts_by_target(session, YEAR, caps=first, at_cap_only=True)) == {oil[0]}
        assert set(counts_by_target(session, YEAR, usccs=[oil[1]])) == {oil[1]}
        assert {e.counts for e in ledger_entries(session, uscc=oil[1])} == {True}
