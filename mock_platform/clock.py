"""The platform's clock: real time, a fake clock a test passes in, or a time pinned through the control API.

A clock source gives epoch seconds (``int``/``float``) or a ``datetime``; a naive ``datetime`` is
China Standard Time, the platform's calendar. A fixed value is a frozen clock. The source is read
once when the clock is made, so a wrong type fails there and not at the first request.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Callable, Union

from schemas.platform import CHINA_TZ

Instant = Union[int, float, datetime]
ClockSource = Union[Callable[[], Instant], Instant]


def epoch_seconds(value: object) -> float:
    """Epoch seconds of an instant; ``TypeError`` for anything else."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"a clock must give epoch seconds (int or float) or a datetime, not {type(value).__name__}")


class Clock:
    """Callable giving epoch seconds; ``pin`` moves it to another time (advancing, or frozen there)."""

    def __init__(self, source: ClockSource = time.time):
        if isinstance(source, Clock):
            source = source._source
        self._source: Callable[[], Instant] = source if callable(source) else (lambda: source)
        epoch_seconds(self._source())
        self._offset = 0.0
        self._frozen_at: float | None = None

    def _base(self) -> float:
        return epoch_seconds(self._source())

    def __call__(self) -> float:
        return self._frozen_at if self._frozen_at is not None else self._base() + self._offset

    def pin(self, at: Instant, frozen: bool = False) -> None:
        """From now on the clock reads ``at`` (and moves on from there unless ``frozen``)."""
        seconds = epoch_seconds(at)
        self._frozen_at = seconds if frozen else None
        self._offset = 0.0 if frozen else seconds - self._base()

    def unpin(self) -> None:
        self._offset, self._frozen_at = 0.0, None

    @property
    def pinned(self) -> bool:
        return self._frozen_at is not None or self._offset != 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self(), CHINA_TZ)

    def to_json(self) -> dict[str, object]:
        seconds = self()
        return {"now": datetime.fromtimestamp(seconds, CHINA_TZ).isoformat(timespec="milliseconds"),
                "epoch_ms": int(seconds * 1000), "pinned": self.pinned, "frozen": self._frozen_at is not None}
