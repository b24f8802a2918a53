"""The in-process transport: ``responses`` callbacks in front of a backend, moto style.

::

    with mock_platform.mocked() as platform:        # http://platform.mock by default
        session = platform.session()                # signs with the default credentials
        session.post(platform.url("/api/v1/plans/batch"), json={"records": [...]})

    @mock_platform.mocked()
    def test_sync():                                # a fresh platform for each call
        ...

Requests to other hosts pass through to the network unless you bring your own
``responses.RequestsMock`` (then its rules apply). A dropped connection raises
``requests.ConnectionError``; a hung request raises ``requests.ReadTimeout`` at once when the
client's read timeout is shorter than the hang (no real waiting), otherwise it waits the hang out
and raises ``requests.ConnectionError``.
"""
from __future__ import annotations

import re
import time
from contextlib import ContextDecorator
from http.client import IncompleteRead, RemoteDisconnected
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
import responses
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from mock_platform.backend import Backend
from mock_platform.client import PlatformHandle
from mock_platform.clock import Clock, ClockSource
from mock_platform.dispatch import handle
from mock_platform.http import BrokenBody, DropConnection, HoldConnection, Request
from mock_platform.settings import DEFAULT_ACCESS_KEY, DEFAULT_BASE_URL, DEFAULT_SECRET, Settings

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class MockedPlatform(PlatformHandle):
    """The handle a ``mocked()`` block gives you; ``backend`` is the platform itself."""

    transport = "inprocess"

    def __init__(self, backend: Backend, base_url: str, access_key: str, secret: str,
                 responses_mock: responses.RequestsMock | None = None):
        super().__init__(base_url, access_key, secret)
        self.backend = backend
        self.responses = responses_mock
        """The ``responses.RequestsMock`` serving the platform: add your own rules for other hosts to it."""


def _active(mock: responses.RequestsMock) -> bool:
    """Whether ``mock`` is started (e.g. by ``@responses.activate``)."""
    return getattr(mock, "_patcher", None) is not None


def _read_timeout(timeout: Any) -> float | None:
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    return float(timeout) if timeout is not None else None


def request_from_prepared(prepared: requests.PreparedRequest) -> Request:
    """The backend's view of a request ``requests`` was about to send."""
    parts = urlsplit(prepared.url or "")
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    kwargs = getattr(prepared, "req_kwargs", {}) or {}
    return Request.build(
        method=prepared.method or "GET",
        path=unquote(parts.path or "/"),
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=prepared.headers.items(),
        body=body,
        client_timeout=_read_timeout(kwargs.get("timeout")),
    )


def _dropped(prepared: requests.PreparedRequest) -> requests.ConnectionError:
    reason = ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection without response"))
    return requests.ConnectionError(reason, request=prepared)


def _broken(outcome: BrokenBody, request: Request, prepared: requests.PreparedRequest,
            sleep: Callable[[float], None]) -> tuple[int, dict[str, str], bytes]:
    """What ``requests`` raises reading a body cut short, or one paused longer than the read timeout."""
    answer = outcome.answer
    if outcome.pause is None:
        missing = len(answer.body) - outcome.keep
        reason = ProtocolError("Connection broken: IncompleteRead", IncompleteRead(answer.body[:outcome.keep], missing))
        raise requests.exceptions.ChunkedEncodingError(reason, request=prepared)
    if request.client_timeout is not None and request.client_timeout < outcome.pause:
        raise requests.ConnectionError(ReadTimeoutError(None, prepared.url, "Read timed out."), request=prepared)
    sleep(outcome.pause)
    return answer.status, dict(answer.headers), answer.body


class MockedContext(ContextDecorator):
    """Context manager and decorator that serves a fresh platform at ``base_url`` in process.

    Decorating a class decorates each of its ``test*`` methods (as moto does), each call getting a
    fresh platform. On exit, unless an exception is on its way out, the platform's expectations are
    checked (:meth:`PlatformHandle.assert_all_requests_are_fired`) when any were set.

    ``credentials`` maps access keys to secrets (default ``mock-access-key`` / ``mock-secret``);
    the handle's ``access_key`` and ``secret`` are the first pair. Pass ``backend`` to share one
    platform between blocks, ``responses_mock`` to add the platform to a ``RequestsMock`` you run
    (inside ``@responses.activate`` the platform joins responses' default mock by itself). ``clock``
    gives epoch seconds or a ``datetime`` (or is a fixed one). ``strict`` answers 501 to any request
    no expectation allows; on exit the expectations are checked unless ``assert_all_requests_are_fired``
    is false.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        settings: Settings | None = None,
        credentials: Mapping[str, str] | None = None,
        backend: Backend | None = None,
        responses_mock: responses.RequestsMock | None = None,
        clock: ClockSource | None = None,
        strict: bool = False,
        assert_all_requests_are_fired: bool = True,
    ):
        self.base_url = base_url.rstrip("/")
        if urlsplit(self.base_url).path:
            raise ValueError("base_url must be scheme://host[:port] without a path")
        if clock is not None:
            if backend is not None:
                raise ValueError("give the clock to the Backend you pass: Backend(clock=...)")
            Clock(clock)  # a wrong clock fails here, not at the first request
        self._options: dict[str, Any] = dict(
            base_url=base_url, settings=settings, credentials=credentials, backend=backend,
            responses_mock=responses_mock, clock=clock, strict=strict,
            assert_all_requests_are_fired=assert_all_requests_are_fired,
        )
        self._credentials = dict(credentials) if credentials is not None else {DEFAULT_ACCESS_KEY: DEFAULT_SECRET}
        self._pattern = re.compile(re.escape(self.base_url) + r"(?:[/?#].*)?$")
        self._mock: responses.RequestsMock | None = None
        self._shadowed: responses.RequestsMock | None = None
        self._owned = False
        self.platform: MockedPlatform | None = None

    def __call__(self, func: Any) -> Any:
        if isinstance(func, type):
            for name, member in list(vars(func).items()):
                if name.startswith("test") and callable(member):
                    setattr(func, name, MockedContext(**self._options)(member))
            return func
        return super().__call__(func)

    def _recreate_cm(self) -> "MockedContext":
        return MockedContext(**self._options)

    def _register(self, mock: responses.RequestsMock) -> None:
        for method in METHODS:
            mock.add_callback(method, self._pattern, callback=self._callback, content_type=None)

    def _unregister(self, mock: responses.RequestsMock) -> None:
        for method in METHODS:
            mock.remove(method, self._pattern)

    def __enter__(self) -> MockedPlatform:
        if self._mock is not None:
            raise RuntimeError("this mocked() platform is already active")
        options = self._options
        backend = options["backend"] or Backend(settings=options["settings"], credentials=self._credentials,
                                                clock=options["clock"] or time.time)
        # Compose with responses: a mock passed in, or responses' default mock when a test already runs
        # it (@responses.activate), serves the platform; otherwise start one, and also register on the
        # default mock so that a @responses.activate starting inside this block serves the platform too.
        mock = options["responses_mock"] or (responses.mock if _active(responses.mock) else None)
        self._owned = mock is None
        if mock is None:
            mock = responses.RequestsMock(assert_all_requests_are_fired=False)
            mock.add_passthru(re.compile(r"^(?!" + re.escape(self.base_url) + r"(?:[/?#]|$))"))
            self._shadowed = responses.mock
            self._register(self._shadowed)
        self._register(mock)
        if self._owned:
            mock.start()
        self._mock = mock
        access_key, secret = next(iter(self._credentials.items()))
        self.platform = MockedPlatform(backend, self.base_url, access_key, secret, mock)
        if options["strict"]:
            backend.expectations.strict = True
        return self.platform

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        mock, self._mock = self._mock, None
        if mock is None:
            return
        platform = self.platform
        try:
            expectations = platform.backend.expectations if platform else None
            if (exc_type is None and self._options["assert_all_requests_are_fired"] and platform is not None
                    and expectations is not None and (expectations.items or expectations.strict)):
                platform.assert_all_requests_are_fired()
        finally:
            self.platform = None
            if self._owned:
                mock.stop()
                mock.reset()
            else:
                self._unregister(mock)
            if self._shadowed is not None:
                self._unregister(self._shadowed)
                self._shadowed = None

    def _callback(self, prepared: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        platform = self.platform
        assert platform is not None
        request = request_from_prepared(prepared)
        backend = platform.backend
        outcome = handle(backend, request)
        if isinstance(outcome, DropConnection):
            raise _dropped(prepared)
        if isinstance(outcome, HoldConnection):
            if request.client_timeout is not None and request.client_timeout < outcome.seconds:
                raise requests.ReadTimeout(f"mock platform held the request longer than the read timeout ({request.client_timeout} s)", request=prepared)
            backend.sleep(outcome.seconds)
            raise _dropped(prepared)
        if isinstance(outcome, BrokenBody):
            return _broken(outcome, request, prepared, backend.sleep)
        return outcome.status, dict(outcome.headers), outcome.body


# ``mocked(...)``: the context manager and decorator, named as moto names its own.
mocked = MockedContext
