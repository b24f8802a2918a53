"""Whole-record verification in bounded memory (issue 20 item 2): the selection is checked in one
pass against the last drawn ticket, and the tasks against a map of the drawn targets popped in
ticket order; both must find exactly what recomputing the whole selection and merge would."""

from __future__ import annotations

import json
import random
import runpy
from pathlib import Path

import pytest

from bench.verify_scale import write
from gateway.draw.record_v2 import read_index, read_parts
from gateway.draw.sampler import select
from gateway.draw.verify import StreamVerifier, selection_matches, verify_file

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[2] / "docs" / "verify_draw.py"))
SEED = "31415926535-89793238-46264338"


def _variants(population: list[str], right: list[str], rng: random.Random):
    yield right, True
    if right:
        yield right[:-1], False  # one missing
        yield right[::-1] if len(right) > 1 else right + right, False  # out of order / repeated
        outsiders = [u for u in population if u not in set(right)]
        if outsiders:
            yield right[:-1] + [outsiders[0]], False  # the last swapped for one not drawn
            yield [*right[:-1], rng.choice(outsiders)], False
        yield right[:-1] + ["91410800000000000Z"], False  # not in the population
    if len(right) < len(population):
        yield select(population, SEED, len(right) + 1), False  # one too many


@pytest.mark.parametrize("size", [1, 7, 60, 200])
def test_the_one_pass_selection_check_agrees_with_recomputing_it(size):
    rng = random.Random(size)
    population = sorted(f"9141080{rng.randrange(10**10):010d}X" for _ in range(size))
    population = sorted(set(population))
    for k in {0, 1, len(population) // 3, len(population) - 1, len(population)}:
        right = select(population, SEED, k)
        for selected, expected in _variants(population, right, rng):
            if len(selected) != k:
                expected = False
            assert selection_matches(population, SEED, k, selected) is (selected == right) is expected
            assert SCRIPT["selection_matches"](population, SEED, k, selected) is expected


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("record") / "draw.json"
    write(str(path), 6000, 2)
    return path


def _verifier(path: Path) -> tuple[StreamVerifier, list[dict]]:
    index = json.loads(read_index(path))
    verifier = StreamVerifier(index)
    tasks = []
    for kind, text in read_parts(path):
        if kind == "stratum":
            verifier.add_stratum(text)
        elif kind == "tasks":
            tasks += json.loads(text)
    verifier._finish_strata()
    return verifier, tasks


def _tasks_finding(path: Path, change) -> str:
    verifier, tasks = _verifier(path)
    verifier.add_task_list(change(tasks), "任务分块 1")
    finding = next(f for f in verifier.report().checks if f.subject == "tasks")
    return "一致" if finding.ok else finding.reason


def test_the_whole_record_verifies_streaming_in_both_verifiers(record):
    assert verify_file(record).ok
    assert SCRIPT["main"]([str(record)]) == 0


def test_the_tasks_are_every_drawn_target_once_in_ticket_order(record):
    order = "任务应为每个抽中对象各一项，并按票号升序排列"
    assert _tasks_finding(record, lambda tasks: tasks) == "一致"
    assert order in _tasks_finding(record, lambda tasks: tasks[:-1])
    assert order in _tasks_finding(record, lambda tasks: tasks[1:])
    assert order in _tasks_finding(record, lambda tasks: tasks + [{**tasks[-1], "number": "JH-9999999"}])
    assert order in _tasks_finding(record, lambda tasks: [{**tasks[1], "number": tasks[0]["number"]},
                                                          {**tasks[0], "number": tasks[1]["number"]}, *tasks[2:]])
    assert order in _tasks_finding(record, lambda tasks: [*tasks[:3], {**tasks[3], "uscc": "91410800000000001X"},
                                                          *tasks[4:]])


def test_a_task_with_other_matters_or_another_ticket_is_named(record):
    def matters(tasks):
        joint = next(n for n, t in enumerate(tasks) if len(t["matters"]) == 1)
        return [*tasks[:joint], {**tasks[joint], "matters": ["matter_0", "matter_1"]}, *tasks[joint + 1:]]

    def ticket(tasks):
        return [{**tasks[0], "ticket": "0." + "1" * 64}, *tasks[1:]]

    assert "的事项应为" in _tasks_finding(record, matters)
    assert "的票号与重新计算结果不同" in _tasks_finding(record, ticket)


def test_a_changed_stratum_part_is_still_named_by_both_verifiers(record, tmp_path):
    lines = record.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"selected":["', b'"selected":["9', 1)
    changed = tmp_path / "changed.json"
    changed.write_bytes(b"\n".join(lines))
    index = json.loads(read_index(record))
    key = index["parts"]["strata"][2]["key"]
    report = verify_file(changed)
    assert not report.ok and key in report.mismatched_strata
    assert SCRIPT["main"]([str(changed)]) == 1
