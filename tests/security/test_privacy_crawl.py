"""Every route, as every role, on demo-like data: nobody gets an inspector's personal data they may
not see (articles 5 and 25).

The public sees no inspector at all: no name, phone or certificate number, and no official is
named as having recorded, reviewed or published anything. A department sees its
own inspectors, and the names (never the phone or certificate number) of the other departments'
inspectors it shares a task with. An inspector sees teammates by name, and nobody else. The
county office and supervisors may read the directories; they are walked too, for server errors.
Every GET route of the application is tried (API, pages, CSV and XLSX exports), each path
parameter filled with several real ids, listings also at their largest page and as CSV.
"""
from __future__ import annotations

import pytest

from tests.security import crawl

LISTING_VARIANTS = ({}, {"page_size": 500}, {"format": "csv"})


@pytest.fixture
def demo(gateway):
    return crawl.build(gateway)


def walk(app, client, demo, values, hidden: set[str], who: str) -> tuple[list[str], int]:
    """GET every route as ``client``; return the leaks found and how many answers had a body."""
    leaks, shown = [], 0
    for rule in crawl.get_rules(app):
        if rule.rule.startswith(("/assets", "/static")):
            continue
        variants = LISTING_VARIANTS if not rule.arguments else ({},)
        for url in crawl.urls(rule, values):
            for args in variants:
                response = client.get(url, query_string=args)
                assert response.status_code < 500, f"{who}: {url} {args} -> {response.status_code}"
                if response.status_code != 200:
                    continue
                shown += 1
                text = crawl.body_text(response)
                found = sorted(s for s in hidden if s in text)
                if found:
                    leaks.append(f"{who}: {url} {args or ''} shows {found[:4]}{' …' if len(found) > 4 else ''}")
    return leaks, shown


def test_nothing_personal_reaches_a_role_that_may_not_see_it(app, client_as, demo):
    departments = sorted({p.department for p in demo.people.values()})
    first_task = demo.values["task_id"][0]
    inspector_id = min(demo.team_of_task[first_task])
    own_tasks = [t for t, team in demo.team_of_task.items() if inspector_id in team]
    inspector_values = {**demo.values, "task_id": sorted(set(demo.values["task_id"]) | set(own_tasks))}

    leaks, shown = [], {}
    nobody_named = demo.personal(demo.people.values()) | demo.officials
    walked = walk(app, client_as("public"), demo, demo.values, nobody_named, "public")
    leaks += walked[0]
    shown["public"] = walked[1]
    for department in departments:
        hidden = demo.secrets_hidden_from_department(department)
        for role in ("department_operator", "department_head"):
            who = f"{role}/{department}"
            found, shown[who] = walk(app, client_as(role, department), demo, demo.values, hidden, who)
            leaks += found
    found, shown["inspector"] = walk(app, client_as("inspector", inspector_id=inspector_id), demo, inspector_values,
                                     demo.secrets_hidden_from_inspector(inspector_id), "inspector")
    leaks += found
    for role in ("supervisor", "county_office"):
        _, shown[role] = walk(app, client_as(role), demo, demo.values, set(), role)
    assert not leaks, "\n".join(leaks)
    # the walk reached real pages and data for every role
    assert min(shown.values()) >= 20, shown
    assert shown["supervisor"] >= 150 and shown["department_head/market"] >= 150, shown


def test_the_crawl_knows_what_each_role_may_see(demo):
    """The expectations above are not empty: every department has colleagues and strangers."""
    everyone = demo.personal(demo.people.values())
    for department in {p.department for p in demo.people.values()}:
        hidden = demo.secrets_hidden_from_department(department)
        own = [p for p in demo.people.values() if p.department == department]
        assert own and not (demo.personal(own) & hidden)
        assert hidden and hidden < everyone
