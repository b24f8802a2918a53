"""No list endpoint queries the database once per row.

Every GET endpoint under ``/api/`` that answers a page (``{items, total, page, page_size}``) is
called on the demo data with ``page_size=1`` and with a page holding every row: the number of SQL
statements the request runs (counted with SQLAlchemy's ``before_cursor_execute`` event) must be
the same. The lists that are not paged (a task's result versions, a result's dispositions, …) are
compared between a key with one row and a key with several.
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, func, select
from sqlalchemy import inspect as sa_inspect

from gateway.demo.accounts import create_demo_accounts
from gateway.demo.draw import ensure_demo_draw
from gateway.demo.generate import DemoShape
from gateway.demo.load import load_directories
from gateway.demo.results import load_demo_results
from gateway.directory.models import Target
from gateway.draw.models import Draw
from gateway.planning.models import Plan
from gateway.results.models import Disposition, InspectionResult
from gateway.security.accounts import issue_token
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from tests.urls import api_get_urls

TODAY = date(2026, 11, 20)
SHAPE = DemoShape(targets=300, inspectors_per_department=6, conflicts=4, seed=410823)
MANY = 500

# Lists that must hold several rows in the demo, so that the comparison proves something.
MUST_CHECK = {
    "/api/v1/results", "/api/v1/tasks", "/api/v1/plans", "/api/v1/draws", "/api/v1/inspectors",
    "/api/v1/targets", "/api/v1/conflicts", "/api/v1/accounts", "/api/v1/tokens", "/api/v1/audit",
    "/api/v1/public/plans", "/api/v1/public/results", "/api/v1/public/dispositions", "/api/v1/public/targets",
    "/api/v1/public/plans/<int:plan_id>/tasks",
}
# Query arguments some lists need ("q": every demo target's name starts with the county's).
QUERIES = {"/api/v1/public/targets": {"q": "武陟县"}}
COPIES = 3


def _copy(session, row, **changes):
    """A copy of ``row`` with a new id (the demo has one plan and one draw; lists need several)."""
    columns = {c.key: getattr(row, c.key) for c in sa_inspect(type(row)).column_attrs if c.key != "id"}
    copy = type(row)(**{**columns, **changes})
    session.add(copy)
    session.flush()
    return copy


@pytest.fixture
def demo(gateway):
    load_directories(gateway, SHAPE, today=TODAY)
    ensure_demo_draw(gateway, today=TODAY)
    load_demo_results(gateway, today=TODAY)
    create_demo_accounts(gateway)
    with gateway.write() as session:
        plan = session.scalar(select(Plan).where(Plan.status == "published").order_by(Plan.id))
        draw = session.scalar(select(Draw).where(Draw.plan_id == plan.id))
        disposition = session.scalar(select(Disposition).where(Disposition.status == "published"))
        for n in range(COPIES):
            copy = _copy(session, plan, number=f"{plan.number}-{n}")
            for matter in plan.matters:
                _copy(session, matter, plan_id=copy.id)
            _copy(session, draw, plan_id=copy.id, active_plan_id=copy.id if draw.active_plan_id else None,
                  open_year=None)
            _copy(session, disposition)
            issue_token(session, Principal(role="system", name="pytest"), f"pytest-{n}", "supervisor", days=1)
    return gateway


@contextmanager
def counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _get(client, gateway, url, query):
    client.get(url, query_string=query)  # once uncounted: a token's first use of the day is written
    with counting(gateway.engine) as statements:
        response = client.get(url, query_string=query)
    return response, statements


def test_every_paged_list_runs_as_many_statements_for_one_row_as_for_many(demo, app, client_as):
    gateway = demo
    with gateway.read() as session:
        published = session.scalar(select(InspectionResult).where(InspectionResult.status == "published")
                                   .order_by(InspectionResult.id))
        values = {"plan_id": published.task.plan_id, "task_id": published.task_id,
                  "result_id": published.id, "uscc": published.task.target.uscc}
    clients = {"office": client_as("county_office"), "public": app.test_client()}
    checked, too_small, grown = {}, set(), []
    for rule, url in api_get_urls(app, values):
        for who, client in clients.items():
            query = QUERIES.get(rule.rule, {})
            one, one_statements = _get(client, gateway, url, {**query, "page_size": 1})
            if one.status_code != 200 or not one.is_json or not isinstance(one.json, dict) \
                    or set(one.json) != {"items", "total", "page", "page_size"}:
                continue
            many, many_statements = _get(client, gateway, url, {**query, "page_size": MANY})
            assert many.status_code == 200
            if len(many.json["items"]) < 3:
                too_small.add(rule.rule)
                continue
            assert len(one.json["items"]) == 1
            if len(many_statements) != len(one_statements):
                grown.append(f"{url} as {who}: {len(one_statements)} statements for one row, "
                             f"{len(many_statements)} for {len(many.json['items'])} rows")
            checked[rule.rule] = len(many.json["items"])
    assert not grown, "\n".join(grown)
    assert MUST_CHECK <= set(checked), (sorted(MUST_CHECK - set(checked)), sorted(too_small))


def test_unpaged_lists_run_as_many_statements_for_one_row_as_for_many(demo, client_as):
    gateway = demo
    with gateway.read() as session:
        per_task = dict(session.execute(
            select(InspectionResult.task_id, func.count()).group_by(InspectionResult.task_id)).all())
        one_version = min(t for t, n in per_task.items() if n == 1)
        versions = max(per_task, key=per_task.get)
        by_task = dict(session.execute(
            select(InspectionResult.task_id, func.count(Disposition.id))
            .join(Disposition, Disposition.result_id == InspectionResult.id)
            .group_by(InspectionResult.task_id)).all())
        result_of = {t: session.scalar(select(InspectionResult.id).where(InspectionResult.task_id == t).limit(1))
                     for t in by_task}
    assert per_task[versions] >= 2, "the demo has a corrected result"
    client = client_as("county_office")

    def compare(one_url, many_url):
        one, one_statements = _get(client, gateway, one_url, {})
        many, many_statements = _get(client, gateway, many_url, {})
        assert one.status_code == many.status_code == 200, (one_url, one.json, many_url, many.json)
        assert len(one.json) < len(many.json), (one_url, many_url)
        assert len(one_statements) == len(many_statements), (
            f"{one_url}: {len(one_statements)} statements for {len(one.json)} rows, "
            f"{many_url}: {len(many_statements)} for {len(many.json)}:\n" + "\n".join(many_statements))

    compare(f"/api/v1/tasks/{one_version}/results", f"/api/v1/tasks/{versions}/results")
    if len(set(by_task.values())) > 1:
        few, lots = min(by_task, key=by_task.get), max(by_task, key=by_task.get)
        compare(f"/api/v1/results/{result_of[few]}/dispositions", f"/api/v1/results/{result_of[lots]}/dispositions")


def _difference(few: list[str], many: list[str]) -> str:
    """The statements (their first line and FROM clause) that one list runs more often than the other."""
    def shape(statement):
        return " ".join(statement.split())[:40] + " … " + " ".join(statement.split("FROM", 1)[-1].split())[:120]
    extra = Counter(map(shape, many))
    extra.subtract(Counter(map(shape, few)))
    return "\n".join(f"{n:+d} × {s}" for s, n in extra.items() if n)


def test_public_pages_run_as_many_statements_for_one_row_as_for_many(demo, app, monkeypatch):
    """The home page, the search page and a target's page (issue 20): no statement per row shown."""
    from gateway.web import public as public_pages

    gateway = demo
    with gateway.read() as session:
        per_target = dict(session.execute(
            select(Task.target_id, func.count(InspectionResult.id)).join(Task, Task.id == InspectionResult.task_id)
            .where(InspectionResult.status == "published").group_by(Task.target_id)).all())
        one_id = min(t for t, n in per_target.items() if n == 1)
        most_id = max((t for t in per_target if t != one_id), key=per_target.get)
        one = session.scalar(select(Target.uscc).where(Target.id == one_id))
        most = session.scalar(select(Target.uscc).where(Target.id == most_id))
    client = app.test_client()

    def statements(url):
        path, _, query = url.partition("?")
        response, executed = _get(client, gateway, path, dict([query.split("=")]) if query else {})
        assert response.status_code == 200, url
        return response, executed

    counts = {}
    for n in (1, 50):
        monkeypatch.setattr(public_pages, "HOME_RESULTS", n)
        monkeypatch.setattr(public_pages, "HOME_PLANS", n)
        response, counts[n] = statements("/")
        assert response.data.count(b'href="/results/') >= (1 if n == 1 else 3)
    assert len(counts[1]) == len(counts[50]), "\n".join(counts[50])

    few, few_statements = statements(f"/search?q={one}")
    many, many_statements = statements("/search?q=武陟县")  # every demo target, and the latest results
    assert few.data.count(b'href="/targets/') < many.data.count(b'href="/targets/')
    assert len(few_statements) == len(many_statements), "\n".join(many_statements)

    if per_target[most_id] == 1:  # give that target a second inspection
        with gateway.write() as session:
            result = session.scalar(select(InspectionResult).join(Task, Task.id == InspectionResult.task_id)
                                    .join(Target, Target.id == Task.target_id)
                                    .where(Target.uscc == most, InspectionResult.status == "published"))
            other = session.scalar(select(Plan.id).where(Plan.id.not_in(
                select(Task.plan_id).where(Task.target_id == most_id))).order_by(Plan.id))
            task = _copy(session, result.task, plan_id=other, number=result.task.number + "-2", draw_id=None)
            _copy(session, result, task_id=task.id)
    few, few_statements = statements(f"/targets/{one}")
    many, many_statements = statements(f"/targets/{most}")
    assert few.data.count(b'href="/results/') < many.data.count(b'href="/results/')
    # A target's own dispositions are read only when it has some (its page then shows them).
    with gateway.read() as session:
        disposed = {t: bool(session.scalar(select(func.count(Disposition.id)).where(
            Disposition.target_id == t, Disposition.status == "published"))) for t in (one_id, most_id)}
    assert len(few_statements) + disposed[most_id] - disposed[one_id] == len(many_statements), \
        _difference(few_statements, many_statements)


def test_the_deadline_lists_run_as_many_statements_for_few_rows_as_for_many(demo, client_as):
    """``/results/overdue`` loads each row's task, target and team with the results, not per row."""
    client = client_as("county_office")
    few, few_statements = _get(client, demo, "/api/v1/results/overdue", {"as_of": TODAY.isoformat(), "soon_days": 0})
    lots, lots_statements = _get(client, demo, "/api/v1/results/overdue", {"as_of": "2027-03-01", "soon_days": 20})
    assert few.status_code == lots.status_code == 200
    rows = [len(r.json["overdue"]) + len(r.json["due_soon"]) for r in (few, lots)]
    assert 1 <= rows[0] < rows[1], rows
    assert any(i["team_lead"] for i in lots.json["overdue"]), "the rows name their team lead"
    assert len(few_statements) == len(lots_statements), (
        f"{rows[0]} rows: {len(few_statements)} statements, {rows[1]} rows: {len(lots_statements)}:\n"
        + "\n".join(lots_statements))
