"""A draw run's stage timings are recorded only inside ``timing.recorded()`` (the benchmark's)."""
from __future__ import annotations

import sys

from gateway.draw import bulk, timing
from gateway.draw import service as draws
from tests.drawdb import COUNTY, build_directory, freeze_and_seed, published_plan

# Each stage's waits for the database worker are told apart as "<stage>_wait" (timing.waiting).
# Whether a stage waits first or works first depends on the machine, so the stages between the
# first and the last come in either order.
STAGES = ["read", "select", "select_wait", "teams", "record", "record_wait", "database", "finish"]


# The database worker's jobs by kind (timing.job_clock): a table an insert writes, else the job.
WORKER_JOBS = {"reserve_ids", "read_packed", "lookups", "store_part", "tasks", "task_members",
               "add_drawn_lines", "read_exclusions", "store_outcome"}


# On PostgreSQL the reads go on a connection of their own once the writer has taken the guard on
# targets (gateway.draw.bulk.Worker.read); on SQLite everything goes through the one connection.
READS_APART = {"read_packed", "lookups"}


def test_the_benchmark_records_every_stage_of_a_run(gateway):
    build_directory(gateway)
    first = freeze_and_seed(gateway, published_plan(gateway))
    with timing.recorded() as stages:
        draws.run_and_record_failure(gateway, COUNTY, first)
    prefixes = (timing.WORKER, timing.READER)
    names = [name for name in stages if not name.startswith(prefixes)]
    assert (names[0], sorted(names), names[-1]) == (STAGES[0], sorted(STAGES), STAGES[-1])
    jobs, reads = ({name[len(p):] for name in stages if name.startswith(p)} for p in prefixes)
    if gateway.engine.dialect.name == "postgresql":
        assert (jobs, reads) == (WORKER_JOBS - READS_APART | {"hold_targets"}, READS_APART)
    else:
        assert (jobs, reads) == (WORKER_JOBS, set())
    assert all(seconds >= 0 for seconds in stages.values())


def test_workers_switch_threads_quickly_and_the_last_restores_the_interval():
    before = sys.getswitchinterval()
    with bulk.quick_switching():
        assert sys.getswitchinterval() == bulk.SWITCH_INTERVAL
        with bulk.quick_switching():
            assert sys.getswitchinterval() == bulk.SWITCH_INTERVAL
        assert sys.getswitchinterval() == bulk.SWITCH_INTERVAL
    assert sys.getswitchinterval() == before


def test_the_worker_times_each_kind_of_job_apart(gateway):
    with timing.recorded() as stages, gateway.write() as session, bulk.working(session) as worker:
        worker.submit(lambda connection: connection.exec_driver_sql("SELECT 1").scalar_one()).result()
        worker.lookup_ids([]).result()
        worker.lookup_ids([], probe=True).result()
    assert set(stages) == {"worker_<lambda>", "worker_lookups"}


def test_a_worker_made_outside_a_recording_times_nothing(gateway):
    with gateway.write() as session, bulk.working(session) as worker:
        with timing.recorded() as stages:
            worker.lookup_ids([]).result()
    assert stages == {}


def test_a_wait_is_charged_to_its_own_stage():
    with timing.recorded() as stages:
        timing.lap("select")
        with timing.waiting("select"):
            pass
        timing.lap("teams")
    assert list(stages) == ["select", "select_wait", "teams"]


def test_without_a_recorder_nothing_is_kept():
    timing.restart()
    timing.lap("read")
    with timing.recorded() as stages:
        pass
    assert stages == {}
