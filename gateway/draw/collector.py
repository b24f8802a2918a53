"""Pausing Python's cyclic garbage collector while a draw stage runs.

Freezing and running a draw of a large county create millions of small objects (USCC strings,
tuples, rows) that all live until the stage ends. The collector would walk them again and again
(a full collection every so many allocations) and find nothing to free: a third of a stage's
Python time on a directory of a million targets. Reference counting still frees everything as
usual; only the search for reference cycles waits until the stage is over.
"""
from __future__ import annotations

import gc
import threading
from contextlib import ContextDecorator

_lock = threading.Lock()
_holders = 0
_was_enabled = False


class collector_paused(ContextDecorator):
    """Context manager and decorator: the collector is off inside, and back as it was after.

    Nested or concurrent holders (two draws in two threads of one worker) are counted, so the
    collector comes back only when the last one leaves, and only if it was on before the first.
    """

    def __enter__(self) -> "collector_paused":
        global _holders, _was_enabled
        with _lock:
            if _holders == 0:
                _was_enabled = gc.isenabled()
                gc.disable()
            _holders += 1
        return self

    def __exit__(self, *exc_info) -> None:
        global _holders
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
