"""What a public page costs at province scale (issue 20), proven on the demo's data: a plan's task
count is read from its draws and the few tasks made outside a draw, never counted over all its
tasks, and stays right after a write; the search by credit code and a target's page run a fixed,
small number of statements; a pooled PostgreSQL connection is checked before use only after idling."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import event, func, select

from gateway import db as db_module
from gateway.demo.draw import ensure_demo_draw
from gateway.demo.generate import DemoShape
from gateway.demo.load import load_directories
from gateway.demo.results import load_demo_results
from gateway.directory.models import Target
from gateway.directory.search import uscc_shaped
from gateway.planning.models import Plan
from gateway.results.models import InspectionResult
from gateway.results.public import (
    found_results,
    latest_result_summaries,
    public_dispositions,
    public_results,
    public_target,
    search_targets,
)
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from tests.query_plans import captured, prefer_indexes, query_plan

TODAY = date(2026, 11, 20)
SHAPE = DemoShape(targets=300, inspectors_per_department=6, conflicts=4, seed=410823)


@pytest.fixture
def demo(gateway):
    load_directories(gateway, SHAPE, today=TODAY)
    ensure_demo_draw(gateway, today=TODAY)
    load_demo_results(gateway, today=TODAY)
    return gateway


@contextmanager
def counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _counted(gateway) -> tuple[dict[int, int], dict[int, set[int]]]:
    """Each plan's tasks counted one by one, and the draws they came from: what the page must show."""
    counts: dict[int, int] = {}
    draws: dict[int, set[int]] = {}
    with gateway.read() as session:
        for plan_id, draw_id, n in session.execute(
                select(Task.plan_id, Task.draw_id, func.count()).group_by(Task.plan_id, Task.draw_id)):
            counts[plan_id] = counts.get(plan_id, 0) + n
            if draw_id is not None:
                draws.setdefault(plan_id, set()).add(draw_id)
    return counts, draws


def _shown(client) -> dict[int, dict]:
    answer = client.get("/api/v1/public/plans", query_string={"page_size": 100})
    assert answer.status_code == 200
    return {p["id"]: p for p in answer.json["items"]}


def test_a_plans_task_count_is_its_tasks_after_a_draw_and_after_a_task_made_outside_one(demo, app):
    client = app.test_client()
    counts, draws = _counted(demo)
    shown = _shown(client)
    assert any(counts.get(p, 0) for p in shown)
    assert {p: (v["task_count"], set(v["draw_ids"])) for p, v in shown.items()} == \
        {p: (counts.get(p, 0), draws.get(p, set())) for p in shown}

    with demo.write() as session:  # one more task made outside a draw, in the plan with the most
        plan = session.get(Plan, max(shown, key=lambda p: shown[p]["task_count"]))
        taken = select(Task.target_id).where(Task.plan_id == plan.id)
        target = session.scalar(select(Target).where(Target.id.not_in(taken)).order_by(Target.id).limit(1))
        session.add(Task(number=f"{plan.number}-extra", plan_id=plan.id, target_id=target.id,
                         lead_department=plan.lead_department, matter_codes=[plan.matters[0].matter_code],
                         window_start=plan.window_start, window_end=plan.window_end))
    after = _shown(client)
    assert after[plan.id]["task_count"] == shown[plan.id]["task_count"] + 1 == _counted(demo)[0][plan.id]
    page = client.get("/").get_data(as_text=True)
    assert f"抽取任务 {after[plan.id]['task_count']} 项" in page


def test_the_home_page_never_counts_all_of_a_plans_tasks(demo, app):
    client = app.test_client()
    client.get("/")
    with counting(demo.engine) as statements:
        assert client.get("/").status_code == 200
    reading_tasks = [s for s in statements if re.search(r"\bFROM tasks\b", s) and "count(" in s]
    assert reading_tasks and all("tasks.draw_id IS NULL" in s for s in reading_tasks), reading_tasks


def test_the_credit_code_search_and_a_targets_page_run_a_fixed_number_of_statements(demo, app):
    """A target without a published result or disposition (most targets): its search and its page
    read the target with how many it has, and nothing more. With results (and no disposition): both
    read the results' summaries in one statement. No pool check
    (``SELECT 1``) either: the connection was in use a moment ago."""
    with demo.read() as session:
        with_results = session.scalar(
            select(Target.uscc).join(Task, Task.target_id == Target.id)
            .join(InspectionResult, InspectionResult.task_id == Task.id)
            .where(InspectionResult.status == "published").order_by(Target.id).limit(1))
        without = session.scalar(select(Target.uscc).where(~Target.id.in_(select(Task.target_id)))
                                 .order_by(Target.id).limit(1))
    client = app.test_client()
    begin = 1 if demo.engine.dialect.name == "sqlite" else 0  # PostgreSQL reads for the public in autocommit
    expected = {f"/search?q={without}": 1 + begin, f"/targets/{without}": 1 + begin,
                f"/search?q={with_results}": 2 + begin, f"/targets/{with_results}": 2 + begin}
    executed, pages = {}, {}
    for path in expected:
        client.get(path)
        with counting(demo.engine) as statements:
            answer = client.get(path)
            assert answer.status_code == 200
        executed[path], pages[path] = statements, answer.get_data(as_text=True)
    assert {p: len(s) for p, s in executed.items()} == expected, executed
    listed = "相关的已公示检查结果"
    assert listed in pages[f"/search?q={with_results}"] and listed not in pages[f"/search?q={without}"]
    assert "暂无已公示的抽查检查结果" not in pages[f"/targets/{with_results}"]
    assert "暂无已公示的抽查检查结果" in pages[f"/targets/{without}"]


def test_a_search_finding_more_targets_than_its_page_still_lists_their_results(demo, app):
    """Targets past the page may have results: the latest are read and listed."""
    with demo.read() as session:
        names = list(session.scalars(select(Target.name).order_by(Target.name, Target.id)))
    assert len(names) > 20 and all(n.startswith("武陟县") for n in names)
    page = app.test_client().get("/search?q=武陟县").get_data(as_text=True)
    assert "相关的已公示检查结果" in page and 'href="/results/' in page


def test_the_search_pages_related_results_are_those_its_text_finds(demo):
    """The search statement also finds the ids of the latest published results of every target
    found, so that the search page does not search again: the results shown are those of
    ``public_results`` for the same text, on the first page, a later one and past the last, for a
    text finding every target, one target with results, targets without, and none."""
    principal = Principal(role="public")
    with demo.read() as session:
        with_results = session.scalar(
            select(Target).join(Task, Task.target_id == Target.id).join(InspectionResult, InspectionResult.task_id == Task.id)
            .where(InspectionResult.status == "published").order_by(Target.id).limit(1))
        without = session.scalar(select(Target).where(~Target.id.in_(select(Task.target_id))).order_by(Target.id).limit(1))
        texts = ["武陟县", with_results.uscc, with_results.name, without.name, without.uscc, "没有这个名称"]
        shown = 0
        for q in texts:
            expected = public_results(demo, session, principal, q, 1, 10, count=False).items
            for number in (1, 2, 1000):
                found = search_targets(session, principal, q, number, 5, related=10)
                summaries = found_results(demo, session, principal, q, found, 10)
                assert [r.id for r in summaries] == [r["id"] for r in expected], (q, number)
                assert [_summary_fields(r) for r in summaries] == [_summary_fields(r) for r in expected], (q, number)
            shown += len(expected)
        assert shown  # some texts do have results


SUMMARY_FIELDS = ("id", "target", "matters", "result_description", "authority", "completed_on", "published_on")


def _summary_fields(result) -> dict:
    """What a list of results shows of one, from a summary or from the whole public result."""
    return {name: result[name] if isinstance(result, dict) else getattr(result, name) for name in SUMMARY_FIELDS}


def test_a_targets_page_lists_its_results_as_the_api_gives_them(demo):
    """The target's page lists summaries of its results: the fields it shows equal to those of the
    public API's target, for every target with a published result."""
    principal = Principal(role="public")
    with demo.read() as session:
        usccs = list(session.scalars(
            select(Target.uscc).join(Task, Task.target_id == Target.id).join(InspectionResult, InspectionResult.task_id == Task.id)
            .where(InspectionResult.status == "published").distinct()))
        assert len(usccs) > 3
        for uscc in usccs:
            whole, page = public_target(demo, session, principal, uscc), public_target(demo, session, principal, uscc, summaries=True)
            assert [_summary_fields(r) for r in page.results] == [_summary_fields(r) for r in whole.results], uscc
            assert page.results and page.dispositions == whole.dispositions, uscc


def test_the_home_pages_latest_results_are_the_public_results_summarised_in_one_statement(demo):
    """The home page lists the latest current published results as the public results list them,
    the fields it shows equal to theirs, read in one statement whatever their number."""
    principal = Principal(role="public")
    with demo.read() as session:
        for size in (1, 3, 50):
            expected = public_results(demo, session, principal, None, 1, size, count=False).items
            with counting(demo.engine) as statements:
                summaries = latest_result_summaries(demo, session, principal, size)
            assert len(statements) == 1, statements
            assert [_summary_fields(r) for r in summaries] == [_summary_fields(r) for r in expected], size
        assert len(expected) > 3 and any(r["target"]["name"] for r in expected)


def test_a_credit_code_finds_its_target_with_its_published_results_counted(demo):
    """The credit-code search (a statement of its own, built once): the target the code names,
    spaces and case ignored, with its published result versions counted; on a later page none and
    the same total; an unknown code nothing."""
    principal = Principal(role="public")
    with demo.read() as session:
        counted = (select(Target.id, Target.uscc, Target.name, Target.township, func.count(InspectionResult.id))
                   .outerjoin(Task, Task.target_id == Target.id)
                   .outerjoin(InspectionResult, (InspectionResult.task_id == Task.id)
                              & (InspectionResult.status == "published"))
                   .group_by(Target.id).order_by(func.count(InspectionResult.id).desc(), Target.id))
        with_results, without = session.execute(counted.limit(1)).one(), session.execute(counted).all()[-1]
        assert with_results[-1] > 0 and without[-1] == 0
        for row in (with_results, without):
            for q in (row.uscc, " " + row.uscc.lower()[:9] + " " + row.uscc.lower()[9:]):
                found = search_targets(session, principal, q, 1, 5, related=10)
                assert found.total == 1 and [tuple(hit.row) for hit in found.items] == [tuple(row)], q
                later = search_targets(session, principal, q, 2, 5, related=10)
                assert later.total == 1 and later.items == []
        unknown = "91410823MA00000000"
        assert uscc_shaped(unknown) and session.scalar(select(Target.id).where(Target.uscc == unknown)) is None
        assert search_targets(session, principal, unknown, 1, 5).total == 0


def test_a_name_search_counts_the_published_results_of_the_targets_on_each_page(demo):
    """The name search chooses its page first and counts the published results of the page's
    targets only: on every page each hit carries its own target's count, as counted apart."""
    principal = Principal(role="public")
    with demo.read() as session:
        counted = dict(session.execute(
            select(Target.id, func.count(InspectionResult.id)).outerjoin(Task, Task.target_id == Target.id)
            .outerjoin(InspectionResult, (InspectionResult.task_id == Task.id) & (InspectionResult.status == "published"))
            .group_by(Target.id)).all())
        pages = [search_targets(session, principal, "武陟县", number, 7, related=10) for number in range(1, 50)]
        hits = [hit for page in pages for hit in page.items]
        assert [hit.id for hit in hits] == list(session.scalars(select(Target.id).order_by(Target.name, Target.id)))
        assert {hit.id: hit.published_results for hit in hits} == counted
        assert any(counted.values()) and not all(counted.values())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_pooled_connection_is_checked_only_after_idling_and_replaced_when_dropped(gateway, monkeypatch):
    engine = gateway.engine
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or ping(conn))
    engine.dispose()
    backend = sa.text("SELECT pg_backend_pid()")
    with engine.connect() as conn:
        first = conn.scalar(backend)
    with engine.connect() as conn:  # back in use at once: not checked
        assert conn.scalar(backend) == first
    assert pings == []

    admin = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    admin.dispose()
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # every connection has idled long enough
    with engine.connect() as conn:  # checked, found dropped, replaced: the statement succeeds
        assert conn.scalar(backend) != first
    assert len(pings) == 1


@pytest.mark.parametrize("listing, table", [(public_results, "inspection_results"), (public_dispositions, "dispositions")])
def test_the_latest_published_are_read_from_the_index_end_not_sorted(demo, listing, table):
    """The public lists show the newest published first: the plan reads them in the order of
    (status, published_on, id), never sorting every published row (a province has millions)."""
    with captured(demo.engine) as statements, demo.read() as session:
        listing(demo, session, Principal(role="public"), None, 1, 10)
    statement, parameters = next((s, p) for s, p in statements if f"ORDER BY {table}.published_on DESC" in s)
    with demo.engine.connect() as conn:
        prefer_indexes(conn)
        plan = query_plan(conn, statement, parameters)
    sort = "TEMP B-TREE FOR ORDER BY" if demo.engine.dialect.name == "sqlite" else "Sort"
    assert f"ix_{table}_status_published" in plan and sort not in plan, plan
