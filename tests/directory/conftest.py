"""The directory API tests act as the county office, the role that may read and change every directory
(who else may do what is tested in tests/security)."""
from __future__ import annotations

import pytest


@pytest.fixture
def client(client_as):
    return client_as("county_office")
