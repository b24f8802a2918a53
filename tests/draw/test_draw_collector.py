"""gateway.draw.collector: the cyclic garbage collector is paused for a draw stage and restored."""
from __future__ import annotations

import gc
import threading

from gateway.draw.collector import collector_paused


def test_paused_inside_and_restored_after_even_on_error():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    try:
        with collector_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_as_a_decorator_and_nested():
    @collector_paused()
    def stage():
        with collector_paused():
            assert not gc.isenabled()
        return gc.isenabled()

    assert stage() is False
    assert gc.isenabled()


def test_left_off_when_it_was_off_before():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_two_threads_the_collector_returns_when_the_last_leaves():
    first_in, second_done = threading.Event(), threading.Event()
    seen = []

    def first():
        with collector_paused():
            first_in.set()
            second_done.wait(5)
            seen.append(gc.isenabled())  # the other thread left, this one still holds the pause

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with collector_paused():
        pass
    second_done.set()
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()
