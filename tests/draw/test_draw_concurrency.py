"""A plan is drawn once, even when many requests arrive together: the database decides
(unique active_plan_id / open_year, and a guarded status change), on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from gateway.draw.models import Draw
from gateway.sync.models import OutboxRecord
from gateway.tasks.models import Task
from tests.drawdb import build_directory, freeze_and_seed, published_plan

REQUESTS = 10


def _all_at_once(app, headers, calls):
    barrier = threading.Barrier(len(calls))

    def one(call):
        method, path, body = call
        client = app.test_client()
        barrier.wait()
        response = getattr(client, method)(path, json=body, headers=headers)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(one, calls))


def test_ten_concurrent_runs_make_exactly_one_draw(gateway, app, auth_headers):
    build_directory(gateway, per_matter=6)
    draw_id = freeze_and_seed(gateway, published_plan(gateway))
    results = _all_at_once(app, auth_headers("county_office"), [("post", f"/api/v1/draws/{draw_id}/run", None)] * REQUESTS)
    codes = sorted(code for code, _ in results)
    assert codes == [200] + [409] * (REQUESTS - 1), results
    assert {body["code"] for code, body in results if code == 409} <= {"draw_finished", "conflict"}
    with gateway.read() as session:
        draw = session.get(Draw, draw_id)
        tasks = session.scalar(select(func.count()).select_from(Task))
        assert draw.status == "drawn" and tasks == draw.task_count > 0
        assert session.scalar(select(func.count()).select_from(OutboxRecord).where(OutboxRecord.kind == "draw")) == 1


def test_ten_concurrent_freezes_make_exactly_one_draw(gateway, app, auth_headers):
    build_directory(gateway, per_matter=4)
    first, second = published_plan(gateway), published_plan(gateway)
    calls = [("post", "/api/v1/draws", {"plan_id": first if n % 2 else second}) for n in range(REQUESTS)]
    results = _all_at_once(app, auth_headers("county_office"), calls)
    codes = sorted(code for code, _ in results)
    # one draw for the year at a time: of ten requests for two plans of one year, exactly one wins
    assert codes == [201] + [409] * (REQUESTS - 1), results
    with gateway.read() as session:
        assert session.scalar(select(func.count()).select_from(Draw)) == 1
