"""The emulated platform's state in plain Python: store, settings, credentials, clock, faults and expectations.

It knows nothing of routes: :mod:`mock_platform.dispatch` serves requests against a backend (as
moto keeps its backends apart from its response dispatch).
"""
from __future__ import annotations

import threading
import time
from datetime import date, datetime
from typing import Callable, Mapping

from mock_platform.auth import authenticate
from mock_platform.clock import Clock, ClockSource
from mock_platform.expectations import Expectations
from mock_platform.faults import FaultConfig, FaultSchedule
from mock_platform.http import Request
from mock_platform.ratelimit import RateLimiter
from mock_platform.settings import DEFAULT_ACCESS_KEY, DEFAULT_SECRET, Settings
from mock_platform.store import Store


class Backend:
    """One emulated platform. Thread-safe: requests are processed one at a time under ``lock``.

    ``clock`` is a callable giving epoch seconds or a ``datetime`` (or a fixed one of those); it
    drives signature skew, "today", receipt numbers and the rate limit.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        credentials: Mapping[str, str] | None = None,
        state_path: str | None = None,
        clock: ClockSource = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.clock = Clock(clock)
        self.sleep = sleep
        self.store = Store(state_path or ":memory:")
        self._initial_settings = settings or Settings()
        self._initial_credentials = dict(credentials) if credentials is not None else {DEFAULT_ACCESS_KEY: DEFAULT_SECRET}
        self.lock = threading.RLock()
        self.faults = FaultSchedule()
        self.expectations = Expectations()
        saved_settings = self.store.get_value("settings")
        self._apply_settings(Settings(**saved_settings) if saved_settings else self._initial_settings)
        self._apply_credentials({**self._initial_credentials, **(self.store.get_value("credentials") or {})})

    # --- configuration (kept in the store, so a state file restores it) -------------------------

    def _apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst, self.clock)
        self.store.put_value("settings", settings.to_json())

    def _apply_credentials(self, credentials: dict[str, str]) -> None:
        self.credentials = credentials
        self.store.put_value("credentials", credentials)

    def reset(self) -> None:
        """Forget everything; back to the start-up settings, credentials and clock, no faults or expectations."""
        with self.lock:
            self.store.clear()
            self.faults = FaultSchedule()
            self.expectations = Expectations()
            self.clock.unpin()
            self._apply_settings(self._initial_settings)
            self._apply_credentials(dict(self._initial_credentials))

    def update_settings(self, changes: Mapping[str, object]) -> None:
        with self.lock:
            self._apply_settings(self.settings.updated(changes))

    def add_credentials(self, access_key: str, secret: str) -> None:
        with self.lock:
            self._apply_credentials({**self.credentials, access_key: secret})

    def set_faults(self, config: FaultConfig) -> None:
        """Replace the fault configuration; its schedule starts again from step one."""
        with self.lock:
            self.faults = FaultSchedule(config)

    # --- the platform's clock -----------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.now().date()

    def timestamp(self) -> str:
        return self.now().isoformat(timespec="seconds")

    def receipt_prefix(self) -> str:
        return "HA" + self.now().strftime("%Y%m%d")

    # --- checks the dispatcher asks for -----------------------------------------------------------

    def authenticate(self, request: Request) -> str:
        """The access key of a correctly signed request, or ``ApiError`` 401."""
        now_ms = int(self.clock() * 1000)
        window_ms = self.settings.max_clock_skew_seconds * 1000

        def use_nonce(key: str, nonce: str, at_ms: int) -> bool:
            return self.store.use_nonce(key, nonce, at_ms, forget_before_ms=now_ms - window_ms - 1000)

        return authenticate(request, self.credentials, use_nonce, now_ms, self.settings.max_clock_skew_seconds)
