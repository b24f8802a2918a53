"""Serving one request against a backend: route it, then, in order, record it, check it against the
expectations, take the fault schedule's step (latency, then faults striking ``before``), check the
signature and the rate limit (signed routes), replay an ``Idempotency-Key``, run the handler, and
apply faults striking ``after``. Both transports call :func:`handle` (or :func:`dispatch` when they
routed the request themselves).
"""
from __future__ import annotations

import hashlib
import json
from typing import Mapping

from mock_platform import routes
from mock_platform.backend import Backend
from mock_platform.context import Context
from mock_platform.faults import NO_FAULT, Decision, Probe, fault_outcome
from mock_platform.http import (
    IDEMPOTENCY_HEADER,
    MAX_IDEMPOTENCY_KEY,
    REPLAYED_HEADER,
    ApiError,
    BrokenBody,
    Outcome,
    Request,
    Response,
)
from mock_platform.store import SavedResponse

MASKED_HEADERS = ("x-ca-signature", "authorization", "proxy-authorization", "cookie")
MASK = "***"


def handle(backend: Backend, request: Request) -> Outcome:
    """Route and serve one request."""
    route, args = routes.match(request.method, request.path)
    return dispatch(backend, route, args, request)


def dispatch(backend: Backend, route: routes.Route, args: Mapping[str, str], request: Request) -> Outcome:
    """Serve one request already matched to ``route``."""
    logged = route.tag != "control"
    with backend.lock:
        seq = backend.store.start_request(
            at=backend.timestamp(), method=request.method, path=request.path,
            idempotency_key=request.header(IDEMPOTENCY_HEADER),
        ) if logged else 0
        refusal = _expectation_refusal(backend, seq, request) if logged else None
        decision = NO_FAULT
        if refusal is None and route.faultable and backend.faults.applies_to(request.path):
            decision = backend.faults.decide(_probe(route, args, request))
    if refusal is not None:
        with backend.lock:
            _finish(backend, seq, request, refusal, None, NO_FAULT, False)
        return refusal
    if decision.latency_ms:
        backend.sleep(decision.latency_ms / 1000)
    if decision.kind is not None and decision.phase == "before":
        outcome = fault_outcome(decision, None)
        with backend.lock:
            _finish(backend, seq, request, outcome, None, decision, False)
        return outcome
    with backend.lock:
        ctx = Context(backend, request, seq)
        response, replayed = _process(route, args, ctx)
        outcome = fault_outcome(decision, response) if decision.kind is not None else response
        if logged:
            _finish(backend, seq, request, outcome, ctx.access_key, decision, replayed)
    return outcome


def _expectation_refusal(backend: Backend, seq: int, request: Request) -> Response | None:
    expectations = backend.expectations
    reason = expectations.observe(seq, request.method, request.path)
    if not expectations.refuses(reason):
        return None
    message = ("请求顺序不符合预期：" if reason == "out_of_order" else "请求不在预期之内：") + f"{request.method} {request.path}"
    return ApiError(501, "unexpected_request", message, reason=reason).response()


def _probe(route: routes.Route, args: Mapping[str, str], request: Request) -> Probe:
    """What targeted faults may match: method, record kind and the record ids a request names."""
    ids = {args["record_id"]} if "record_id" in args else set()
    if route.idempotent and request.body:
        try:
            records = json.loads(request.body.decode("utf-8")).get("records")
            ids.update(r["id"] for r in records if isinstance(r, dict) and isinstance(r.get("id"), str))
        except (ValueError, AttributeError, TypeError):
            pass
    return Probe(request.method, route.kind, frozenset(ids))


def _process(route: routes.Route, args: Mapping[str, str], ctx: Context) -> tuple[Response, bool]:
    """Authenticate, rate-limit, replay or run the handler: ``(response, replayed)``."""
    backend, request = ctx.backend, ctx.request
    try:
        if route.signed:
            ctx.access_key = backend.authenticate(request)
            wait = backend.limiter.acquire(ctx.access_key)
            if wait:
                raise ApiError(429, "rate_limited", f"请求过于频繁，请在 {wait} 秒后重试",
                               headers={"Retry-After": str(wait)}, retry_after=wait)
        key = request.header(IDEMPOTENCY_HEADER) if route.idempotent else None
        if key is None:
            return _run(route, args, ctx), False
        return _idempotent(route, args, ctx, key)
    except ApiError as error:
        return error.response(), False


def _idempotent(route: routes.Route, args: Mapping[str, str], ctx: Context, key: str) -> tuple[Response, bool]:
    """Answer a request with an ``Idempotency-Key``: the first answer again, or run and keep it.

    Only answers to processed batches (2xx) are kept: a batch refused as a whole changed nothing,
    so the corrected request may be sent under the same key.
    """
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise ApiError(400, "invalid_idempotency_key", f"Idempotency-Key 应为 1 至 {MAX_IDEMPOTENCY_KEY} 个可打印 ASCII 字符")
    request, store = ctx.request, ctx.backend.store
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.path.encode("utf-8") + b"\n" + request.body
    ).hexdigest()
    assert ctx.access_key is not None
    saved = store.saved_response(ctx.access_key, key)
    if saved is not None:
        if saved.fingerprint != fingerprint:
            raise ApiError(422, "idempotency_key_reused", "该 Idempotency-Key 已用于内容不同的请求，请为新请求使用新的键")
        return Response(saved.status, saved.body, {**saved.headers, REPLAYED_HEADER: "true"}), True
    response = _run(route, args, ctx)
    if 200 <= response.status < 300:
        store.save_response(ctx.access_key, key, SavedResponse(fingerprint, response.status, dict(response.headers), response.body))
    return response, False


def _run(route: routes.Route, args: Mapping[str, str], ctx: Context) -> Response:
    try:
        return route.handler(ctx, **args)
    except ApiError as error:
        return error.response()


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


def _finish(backend: Backend, seq: int, request: Request, outcome: Outcome, access_key: str | None,
            decision: Decision, replayed: bool) -> None:
    """Complete the request log entry with everything a test may assert on (secrets masked)."""
    sent = outcome.answer if isinstance(outcome, BrokenBody) else outcome
    status = sent.status if isinstance(sent, Response) else None
    body: bytes | None = sent.body if isinstance(sent, Response) else None
    if isinstance(outcome, BrokenBody) and outcome.pause is None and body is not None:
        body = body[:outcome.keep]
    backend.store.finish_request(seq, status=status, access_key=access_key, fault=decision.label, replayed=replayed)
    backend.store.record_exchange(seq, {
        "query": [list(pair) for pair in request.query],
        "headers": {name: MASK if name in MASKED_HEADERS else value for name, value in request.headers.items()},
        "body": _text(request.body),
        "response_headers": dict(sent.headers) if isinstance(sent, Response) else None,
        "response_body": _text(body) if body is not None else None,
    })

