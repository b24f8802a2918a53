"""The emulated platform in plain Python: state, authentication, limits, idempotency and faults.

Transports call :meth:`Backend.handle` (or :meth:`Backend.dispatch` when they routed the request
themselves) and get a :class:`~mock_platform.http.Response` or a transport fault back. A request
goes through, in order: the request log; the fault schedule (latency, then faults striking
``before``); the signature check and the rate limit (signed routes); the ``Idempotency-Key``
(replay of the first answer); the handler; faults striking ``after``.
"""
from __future__ import annotations

import hashlib
import threading
import time
from datetime import date, datetime
from typing import Callable, Mapping

from mock_platform import routes
from mock_platform.auth import authenticate
from mock_platform.context import Context
from mock_platform.faults import NO_FAULT, Decision, FaultConfig, FaultSchedule
from mock_platform.http import ApiError, DropConnection, HoldConnection, Outcome, Request, Response, json_response
from mock_platform.ratelimit import RateLimiter
from mock_platform.settings import DEFAULT_ACCESS_KEY, DEFAULT_SECRET, Settings
from mock_platform.store import SavedResponse, Store
from schemas.platform import CHINA_TZ

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
MAX_IDEMPOTENCY_KEY = 255

INJECTED_ERRORS = {
    500: ("internal_error", "平台内部错误，请稍后重试"),
    502: ("bad_gateway", "网关错误，请稍后重试"),
    503: ("service_unavailable", "服务暂不可用，请稍后重试"),
    504: ("gateway_timeout", "网关超时，请稍后重试"),
}


class Backend:
    """One emulated platform. Thread-safe: requests are processed one at a time under a lock."""

    def __init__(
        self,
        settings: Settings | None = None,
        credentials: Mapping[str, str] | None = None,
        state_path: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.clock = clock
        self.sleep = sleep
        self.store = Store(state_path or ":memory:")
        self._initial_settings = settings or Settings()
        self._initial_credentials = dict(credentials) if credentials is not None else {DEFAULT_ACCESS_KEY: DEFAULT_SECRET}
        self._lock = threading.RLock()
        self.faults = FaultSchedule()
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
        """Forget everything; back to the start-up settings and credentials, no faults."""
        with self._lock:
            self.store.clear()
            self.faults = FaultSchedule()
            self._apply_settings(self._initial_settings)
            self._apply_credentials(dict(self._initial_credentials))

    def update_settings(self, changes: Mapping[str, object]) -> None:
        with self._lock:
            self._apply_settings(self.settings.updated(changes))

    def add_credentials(self, access_key: str, secret: str) -> None:
        with self._lock:
            self._apply_credentials({**self.credentials, access_key: secret})

    def set_faults(self, config: FaultConfig) -> None:
        """Replace the fault configuration; its schedule starts again from step one."""
        with self._lock:
            self.faults = FaultSchedule(config)

    # --- the platform's clock -----------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), CHINA_TZ)

    def today(self) -> date:
        return self.now().date()

    def timestamp(self) -> str:
        return self.now().isoformat(timespec="seconds")

    def receipt_prefix(self) -> str:
        return "HA" + self.now().strftime("%Y%m%d")

    # --- serving requests -----------------------------------------------------------------------

    def handle(self, request: Request) -> Outcome:
        """Route and serve one request."""
        route, args = routes.match(request.method, request.path)
        return self.dispatch(route, args, request)

    def dispatch(self, route: routes.Route, args: Mapping[str, str], request: Request) -> Outcome:
        """Serve one request already matched to ``route``."""
        logged = route.tag != "control"
        with self._lock:
            seq = self.store.start_request(
                at=self.timestamp(), method=request.method, path=request.path,
                idempotency_key=request.header(IDEMPOTENCY_HEADER),
            ) if logged else 0
            decision = self.faults.decide() if route.faultable and self.faults.applies_to(request.path) else NO_FAULT
        if decision.latency_ms:
            self.sleep(decision.latency_ms / 1000)
        if decision.kind is not None and decision.phase == "before":
            outcome = _fault_outcome(decision)
            with self._lock:
                self.store.finish_request(seq, status=_status(outcome), access_key=None, fault=decision.label, replayed=False)
            return outcome
        with self._lock:
            ctx = Context(self, request, seq)
            response, replayed = self._process(route, args, ctx)
            outcome = _fault_outcome(decision) if decision.kind is not None else response
            if logged:
                self.store.finish_request(seq, status=_status(outcome), access_key=ctx.access_key,
                                          fault=decision.label, replayed=replayed)
        return outcome

    def _process(self, route: routes.Route, args: Mapping[str, str], ctx: Context) -> tuple[Response, bool]:
        """Authenticate, rate-limit, replay or run the handler: ``(response, replayed)``."""
        request = ctx.request
        try:
            if route.signed:
                ctx.access_key = self._authenticate(request)
                wait = self.limiter.acquire(ctx.access_key)
                if wait:
                    raise ApiError(429, "rate_limited", f"请求过于频繁，请在 {wait} 秒后重试",
                                   headers={"Retry-After": str(wait)}, retry_after=wait)
            key = request.header(IDEMPOTENCY_HEADER) if route.idempotent else None
            if key is None:
                return _run(route, args, ctx), False
            return self._idempotent(route, args, ctx, key)
        except ApiError as error:
            return error.response(), False

    def _authenticate(self, request: Request) -> str:
        now_ms = int(self.clock() * 1000)
        window_ms = self.settings.max_clock_skew_seconds * 1000

        def use_nonce(key: str, nonce: str, at_ms: int) -> bool:
            return self.store.use_nonce(key, nonce, at_ms, forget_before_ms=now_ms - window_ms - 1000)

        return authenticate(request, self.credentials, use_nonce, now_ms, self.settings.max_clock_skew_seconds)

    def _idempotent(self, route: routes.Route, args: Mapping[str, str], ctx: Context, key: str) -> tuple[Response, bool]:
        """Answer a request with an ``Idempotency-Key``: the first answer again, or run and keep it."""
        if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
            raise ApiError(400, "invalid_idempotency_key", f"Idempotency-Key 应为 1 至 {MAX_IDEMPOTENCY_KEY} 个可打印 ASCII 字符")
        request = ctx.request
        fingerprint = hashlib.sha256(
            request.method.encode() + b" " + request.path.encode("utf-8") + b"\n" + request.body
        ).hexdigest()
        assert ctx.access_key is not None
        saved = self.store.saved_response(ctx.access_key, key)
        if saved is not None:
            if saved.fingerprint != fingerprint:
                raise ApiError(422, "idempotency_key_reused", "该 Idempotency-Key 已用于内容不同的请求，请为新请求使用新的键")
            return Response(saved.status, saved.body, {**saved.headers, REPLAYED_HEADER: "true"}), True
        response = _run(route, args, ctx)
        self.store.save_response(ctx.access_key, key, SavedResponse(fingerprint, response.status, dict(response.headers), response.body))
        return response, False


def _run(route: routes.Route, args: Mapping[str, str], ctx: Context) -> Response:
    try:
        return route.handler(ctx, **args)
    except ApiError as error:
        return error.response()


def _fault_outcome(decision: Decision) -> Outcome:
    """What the client gets for an injected fault."""
    if decision.kind == "drop":
        return DropConnection()
    if decision.kind == "hang":
        return HoldConnection(decision.seconds)
    if decision.kind == "burst":
        return json_response(
            429, {"code": "rate_limited", "message": f"请求过于频繁，请在 {decision.retry_after} 秒后重试",
                  "retry_after": decision.retry_after, "injected": True},
            {"Retry-After": str(decision.retry_after)},
        )
    assert decision.status is not None
    code, message = INJECTED_ERRORS.get(decision.status, ("injected_error", f"模拟故障（HTTP {decision.status}）"))
    return json_response(decision.status, {"code": code, "message": message, "injected": True})


def _status(outcome: Outcome) -> int | None:
    return outcome.status if isinstance(outcome, Response) else None
