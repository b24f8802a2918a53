"""A drawn task of the market plugin's testing-bodies matter (a real plan, freeze, seed and draw)."""
from __future__ import annotations

import pytest

from gateway.testing.world import DrawnTask, draw_task_for


@pytest.fixture
def drawn(gateway) -> DrawnTask:
    return draw_task_for(gateway, "testing_bodies")
