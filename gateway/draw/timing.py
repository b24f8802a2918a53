"""Stage timings of a draw run, kept only while a caller records them (the benchmark,
bench/draw_steps.py); otherwise :func:`lap` and :func:`restart` do nothing."""
from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

WORKER = "worker_"
"""The prefix of the database worker's job times (:func:`job_clock`) among the stages."""
READER = "reader_"
"""The prefix of the times of the reads the worker runs on a connection of their own."""


class _Laps:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.started = time.perf_counter()


_current: ContextVar[_Laps | None] = ContextVar("draw_timings", default=None)


@contextmanager
def recorded() -> Iterator[dict[str, float]]:
    """Record the stage timings of the draw runs inside the block: stage name -> seconds."""
    laps = _Laps()
    token = _current.set(laps)
    try:
        yield laps.seconds
    finally:
        _current.reset(token)


def restart() -> None:
    """Start timing the next stage from now."""
    laps = _current.get()
    if laps is not None:
        laps.started = time.perf_counter()


@contextmanager
def waiting(stage: str) -> Iterator[None]:
    """Add the time since the last lap to ``stage`` and the block's to ``stage + "_wait"``: the
    block waits for the database worker, so that a stage's own time and its waits are told apart."""
    lap(stage)
    try:
        yield
    finally:
        lap(f"{stage}_wait")


def lap(name: str) -> None:
    """Add the time since the last lap (or restart) to stage ``name``; the next stage starts now."""
    laps = _current.get()
    if laps is not None:
        now = time.perf_counter()
        laps.seconds[name] = laps.seconds.get(name, 0.0) + now - laps.started
        laps.started = now


def job_clock(prefix: str = WORKER) -> Callable[[str, float], None] | None:
    """For the current recording, a function that adds ``seconds`` to the database worker's job
    kind ``name`` (stage ``<prefix><name>``: :data:`WORKER`, or :data:`READER` for its reads
    apart); None when nothing records. Taken where the worker is
    made and called from its thread, which a context variable does not reach."""
    laps = _current.get()
    if laps is None:
        return None
    seconds = laps.seconds

    def add(name: str, spent: float) -> None:
        stage = prefix + name
        seconds[stage] = seconds.get(stage, 0.0) + spent

    return add
