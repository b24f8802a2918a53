"""Drawn tasks of the market plugin's testing-bodies matter (a real plan, freeze, seed and draw)."""
from __future__ import annotations

import pytest

from gateway.testing.world import DrawnTask, draw_task_for


@pytest.fixture
def drawn(gateway) -> DrawnTask:
    """A drawn task whose team has not checked in yet."""
    return draw_task_for(gateway, "testing_bodies", checked_in=False)
