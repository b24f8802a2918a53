"""The mock platform's tunable limits, and its default credentials."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Mapping

import schemas
from schemas.platform import MAX_BATCH_RECORDS

OPENAPI_DOCUMENT = Path(schemas.__file__).resolve().parent / "openapi" / "platform.json"

DEFAULT_BASE_URL = "http://platform.mock"
DEFAULT_ACCESS_KEY = "mock-access-key"
DEFAULT_SECRET = "mock-secret"


@dataclass(frozen=True)
class Settings:
    """Limits the platform enforces. Change them at run time through ``PATCH /_control/settings``."""

    max_batch_records: int = MAX_BATCH_RECORDS
    max_body_bytes: int = 2_000_000
    max_clock_skew_seconds: int = 300
    rate_limit_per_second: float | None = 50.0
    rate_limit_burst: int = 100
    require_known_entities: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: Mapping[str, Any]) -> "Settings":
        return replace(self, **dict(changes))
