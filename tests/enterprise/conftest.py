"""The results tests' small world (three tasks with their teams), for the enterprise's side."""
from __future__ import annotations

import pytest

from tests.results.conftest import World, build_world


@pytest.fixture
def world(gateway) -> World:
    return build_world(gateway)
