"""One measured step of bench/draw.py, run in its own process so its peak memory is its own.

    python -m bench.draw_steps load URL TARGETS INSPECTORS_PER_DEPARTMENT
    python -m bench.draw_steps ledger URL ROWS_PER_TARGET
    python -m bench.draw_steps floor URL
    python -m bench.draw_steps draw URL RECORD_PATH
    python -m bench.draw_steps verify RECORD_PATH
    python -m bench.draw_steps script RECORD_PATH

Each prints one JSON line: the step's timings in seconds and its peak memory in MB.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from datetime import date
from pathlib import Path

from bench.common import peak_rss_mb
from gateway.testing.world import publish_filed

YEAR = date.today().year + 1
RATIOS = {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"}
REVEALS = [
    {"role": "organiser", "name": "组织人员", "digits": "31415926535", "salt": "bench-organiser"},
    {"role": "operator", "name": "技术操作人员", "digits": "89793238", "salt": "bench-operator"},
    {"role": "supervisor", "name": "监督人员", "digits": "46264338", "salt": "bench-supervisor"},
]
SEED = "-".join(r["digits"] for r in REVEALS)


def _gateway(url: str):
    import os
    import tempfile

    from gateway.config import Settings
    from gateway.core import Gateway

    settings = Settings(instance_path=Path(tempfile.mkdtemp()), database_url=url, secret_key="bench",
                        draw_key_checks=os.environ.get("SHUANGSUI_DRAW_KEY_CHECKS", "auto"))
    gateway = Gateway.create(settings)
    gateway.sync_registry()
    return gateway


def load(url: str, targets: int, per_department: int) -> dict:
    from gateway.demo.generate import DemoShape
    from gateway.demo.load import load_directories

    gateway = _gateway(url)
    start = time.perf_counter()
    counts = load_directories(gateway, DemoShape(targets=targets, inspectors_per_department=per_department,
                                                 conflicts=300))
    seconds = time.perf_counter() - start
    if gateway.engine.dialect.name == "postgresql":
        # A county imports its directory long before a draw: autovacuum has processed it and
        # checkpoints have written it out by then. Doing both now keeps them from starting in
        # the middle of the measurements (the import writes about a gigabyte of WAL).
        with gateway.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            conn.exec_driver_sql("CHECKPOINT")
    return {"seconds": seconds, **counts}


def ledger(url: str, rows_per_target: int) -> dict:
    """Register ``rows_per_target`` inspections outside the draw for every target in the plan's
    year (one INSERT … SELECT per row number), and publish caps of 2 per department and 4 in all.
    Channels cycle over routine, special, complaint (exempt); every tenth target has all its rows
    from one department, so that it reaches the per-department cap and the freeze excludes it."""
    from sqlalchemy import case, insert, literal, select

    from gateway.db import utcnow
    from gateway.directory.models import Target
    from gateway.ledger import counts as ledger_counts
    from gateway.ledger import service as ledger_service
    from gateway.ledger.models import RegisteredInspection
    from gateway.security.principal import Principal

    gateway = _gateway(url)
    departments = sorted(gateway.registry.departments)
    channels = ("routine", "special", "complaint")
    start = time.perf_counter()
    with gateway.write() as session:
        ledger_service.publish_caps(session, Principal(role="county_office", name="基准测试"), year=YEAR,
                                    per_department=2, total=4, basis="基准测试")
        for k in range(rows_per_target):
            department = case((Target.id % 10 == 0, departments[0]), else_=departments[k % len(departments)])
            columns = ("uscc", "department_code", "channel", "legal_reason_code", "legal_basis", "inspected_on",
                       "year", "reference", "source", "over_cap_reason", "created_by", "created_at")
            session.execute(insert(RegisteredInspection).from_select(columns, select(
                Target.uscc, department, literal(channels[k % len(channels)]), literal("bench"), literal(""),
                literal(date(YEAR, 2, 1 + k % 28)), literal(YEAR), literal(""), literal("import"), literal(""),
                literal("bench"), literal(utcnow()))))
        # Written behind the ORM's back, as a bulk load would be: recount, as after one.
        ledger_counts.rebuild(session.connection(), [YEAR])
    if gateway.engine.dialect.name == "postgresql":
        with gateway.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE registered_inspections, ledger_target_counts, ledger_department_counts")
    else:
        with gateway.engine.connect() as conn:
            for table in ("registered_inspections", "ledger_target_counts", "ledger_department_counts"):
                conn.exec_driver_sql(f"ANALYZE {table}")
    return {"seconds": time.perf_counter() - start}


def plan_body(gateway) -> dict:
    from gateway.demo.draw import demo_lead_department

    return {
        "kind": "joint", "year": YEAR, "title": f"{YEAR}年度跨部门联合抽查计划（基准测试）",
        "lead_department": demo_lead_department(gateway), "matters": list(gateway.registry.matters),
        "scope": {}, "ratios": dict(RATIOS), "key_rule": {}, "frequency": "每年1次",
        "window_start": date(YEAR, 4, 1), "window_end": date(YEAR, 11, 30), "description": "",
    }


def floor(url: str) -> dict:
    """The bare minimum any correct draw does: select the eligible ids, compute their tickets."""
    from sqlalchemy import select

    from gateway.directory.models import INACTIVE_TARGET_STATUSES, Target
    from gateway.directory.queries import criteria_clause

    gateway = _gateway(url)
    start = time.perf_counter()
    seed_hash = hashlib.sha256(SEED.encode()).hexdigest()
    tickets = 0
    with gateway.engine.connect() as conn:
        for matter in gateway.registry.matters.values():
            stmt = select(Target.uscc, Target.risk_class).where(
                Target.status.not_in(INACTIVE_TARGET_STATUSES), Target.active.is_(True), criteria_clause(matter.criteria))
            for uscc, _risk in conn.execute(stmt):
                value = int.from_bytes(hashlib.sha256((seed_hash + uscc).encode()).digest(), "big")
                str(value).zfill(64)[::-1]
                tickets += 1
    return {"seconds": time.perf_counter() - start, "tickets": tickets}


def draw(url: str, record_path: str) -> dict:
    from sqlalchemy import select

    from gateway.draw import service as draws
    from gateway.draw import timing
    from gateway.draw.commitment import commitment
    from gateway.planning import service as plans
    from gateway.security.principal import Principal

    gateway = _gateway(url)
    office = Principal(role="county_office", name="基准测试")
    with gateway.write() as session:
        plan = plans.create_plan(session, office, plan_body(gateway), gateway.settings)
        publish_filed(session, office, plan.id, gateway.settings)
        plan_id = plan.id
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with timing.recorded() as freeze_stages, gateway.write() as session:
        frozen = draws.freeze(session, office, plan_id)
        draw_id = frozen.id
        eligible = sum(s["population"] for s in frozen.stats["strata"])
        excluded = sum(frozen.stats["exclusions"].values())
    timings["freeze"] = time.perf_counter() - start
    timings["freeze_peak_mb"] = peak_rss_mb()  # the run's peak, if higher, is the step's peak_mb
    # The freeze's stages; "ledger" is what remains of the caps check outside the population query
    # (which joins the targets at a cap): the counts of the targets the caps excluded, for the record.
    timings.update({f"freeze_stage_{name}": value for name, value in freeze_stages.items()})
    with gateway.write() as session:
        draws.commit(session, office, draw_id, [
            {"role": r["role"], "name": r["name"], "commitment": commitment(r["digits"], r["salt"]),
             "unit": f"{r['role']}-unit", "identity": f"bench-{r['role']}"} for r in REVEALS])
        draws.reveal_seed(session, office, draw_id, REVEALS)
    with gateway.engine.connect() as conn:
        from gateway.draw.foreign_keys import uses_set_checks

        set_checks = uses_set_checks(conn, gateway.settings.draw_key_checks)
    start = time.perf_counter()
    with timing.recorded() as stages:
        done = draws.run_and_record_failure(gateway, office, draw_id)
    timings.update(stages, run=time.perf_counter() - start)
    from gateway.draw import parts

    size = 0
    with gateway.read() as session, open(record_path, "wb") as handle:
        draw = draws.get_draw(session, draw_id)
        chunks = (parts.whole_record_stream(session, draw) if parts.is_v2(draw)
                  else [draws.public_record(draw).encode("utf-8")])
        for chunk in chunks:
            handle.write(chunk)
            size += len(chunk)
        index_bytes = len(parts.index_text(draw)) if parts.is_v2(draw) else size
        sizes = list(session.execute(select(parts.DrawRecordPart.kind, parts.DrawRecordPart.size)
                                     .where(parts.DrawRecordPart.draw_id == draw_id)))
    largest = max((n for kind, n in sizes if kind == parts.STRATUM), default=0)
    largest_tasks = max((n for kind, n in sizes if kind == parts.TASKS), default=0)
    return {**timings, "eligible": eligible, "excluded": excluded, "tasks_created": done.task_count,
            "key_checks": "as a set" if set_checks else "row by row",
            "record_mb": size / 1e6, "index_mb": index_bytes / 1e6, "largest_part_mb": largest / 1e6,
            "largest_tasks_part_mb": largest_tasks / 1e6, "parts": len(sizes)}


def verify(record_path: str) -> dict:
    """``shuangsui verify``'s way: a whole version 2 record streamed a part at a time."""
    from gateway.draw.verify_v2 import verify_file

    start = time.perf_counter()
    report = verify_file(Path(record_path))
    return {"seconds": time.perf_counter() - start, "ok": report.ok}


def script(record_path: str) -> dict:
    """docs/verify_draw.py (standard library only) on the whole record."""
    import contextlib
    import io
    import runpy

    module = runpy.run_path(str(Path(__file__).resolve().parents[1] / "docs" / "verify_draw.py"))
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = module["main"]([record_path])
    return {"seconds": time.perf_counter() - start, "ok": code == 0}


if __name__ == "__main__":
    step, *args = sys.argv[1:]
    if step == "load":
        result = load(args[0], int(args[1]), int(args[2]))
    elif step == "ledger":
        result = ledger(args[0], int(args[1]))
    elif step == "floor":
        result = floor(args[0])
    elif step == "draw":
        result = draw(args[0], args[1])
    elif step == "script":
        result = script(args[0])
    else:
        result = verify(args[0])
    result["peak_mb"] = peak_rss_mb()
    print(json.dumps(result))
