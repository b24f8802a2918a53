"""A draw run's stage timings are recorded only inside ``timing.recorded()`` (the benchmark's)."""
from __future__ import annotations

from gateway.draw import service as draws
from gateway.draw import timing
from tests.drawdb import COUNTY, build_directory, freeze_and_seed, published_plan

# Each stage's waits for the database worker are told apart as "<stage>_wait" (timing.waiting).
STAGES = ["read", "select", "select_wait", "teams", "record", "record_wait", "database", "finish"]


def test_the_benchmark_records_every_stage_of_a_run(gateway):
    build_directory(gateway)
    first = freeze_and_seed(gateway, published_plan(gateway))
    with timing.recorded() as stages:
        draws.run_and_record_failure(gateway, COUNTY, first)
    assert list(stages) == STAGES
    assert all(seconds >= 0 for seconds in stages.values())


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
