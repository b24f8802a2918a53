"""The standalone transport: a Flask app over the route table, served by werkzeug on 127.0.0.1.

Dropped connections and hung requests are real: the socket is shut down without a response
(after holding it, for a hang), so clients see exactly what a failing network gives them.
"""
from __future__ import annotations

import contextlib
import logging
import socket
from typing import Any, Callable, Iterable, Iterator

from flask import Flask, request
from flask import Response as FlaskResponse
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mock_platform import routes
from mock_platform.backend import Backend
from mock_platform.dispatch import dispatch
from mock_platform.http import BrokenBody, DropConnection, HoldConnection, Outcome, Request

FAULT_KEY = "mock_platform.fault"


class ConnectionDropped(ConnectionAbortedError):
    """Raised through werkzeug so that it hands the connection to ``connection_dropped``."""


def _request_from_flask() -> Request:
    return Request.build(
        method=request.method,
        path=request.path,
        query=request.args.items(multi=True),
        headers=request.headers.items(),
        body=request.get_data(cache=False),
    )


def _answer(outcome: Outcome, sleep: Callable[[float], None]) -> FlaskResponse:
    if isinstance(outcome, (DropConnection, HoldConnection)):
        request.environ[FAULT_KEY] = outcome
        return FlaskResponse(status=500)
    if isinstance(outcome, BrokenBody):
        return _broken(outcome, sleep)
    return FlaskResponse(outcome.body, status=outcome.status, headers=dict(outcome.headers))


def _broken(outcome: BrokenBody, sleep: Callable[[float], None]) -> FlaskResponse:
    """Headers promising the whole body, then half of it; then the rest after a pause, or a closed socket."""
    answer = outcome.answer

    def body() -> Iterator[bytes]:
        yield answer.body[:outcome.keep]
        if outcome.pause is None:
            raise ConnectionDropped("mock_platform cut the body short")
        sleep(outcome.pause)
        yield answer.body[outcome.keep:]

    headers = {**dict(answer.headers), "Content-Length": str(len(answer.body))}
    return FlaskResponse(body(), status=answer.status, headers=headers, direct_passthrough=True)


def create_app(backend: Backend) -> Flask:
    """The Flask app serving ``backend``: one URL rule per route of the table."""
    app = Flask("mock_platform")
    app.config["MOCK_PLATFORM_BACKEND"] = backend

    def view_for(route: routes.Route) -> Callable[..., FlaskResponse]:
        def view(**args: str) -> FlaskResponse:
            return _answer(dispatch(backend, route, args, _request_from_flask()), backend.sleep)

        return view

    for route in routes.ROUTES:
        app.add_url_rule(route.rule, endpoint=route.name, view_func=view_for(route), methods=[route.method],
                         provide_automatic_options=False)

    @app.errorhandler(404)
    def not_found(error: Exception) -> FlaskResponse:
        return _answer(dispatch(backend, routes.NOT_FOUND, {}, _request_from_flask()), backend.sleep)

    @app.errorhandler(405)
    def method_not_allowed(error: MethodNotAllowed) -> FlaskResponse:
        allowed = {"allowed": routes.allowed_methods(error.valid_methods)}
        return _answer(dispatch(backend, routes.METHOD_NOT_ALLOWED, allowed, _request_from_flask()), backend.sleep)

    app.wsgi_app = FaultMiddleware(app.wsgi_app, backend.sleep)  # type: ignore[method-assign]
    return app


class FaultMiddleware:
    """Turns a transport fault left in the environ into a dropped (or held, then dropped) connection."""

    def __init__(self, app: Callable[..., Iterable[bytes]], sleep: Callable[[float], None]):
        self.app = app
        self.sleep = sleep

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = self.app(environ, start_response)
        fault = environ.get(FAULT_KEY)
        if fault is None:
            return body
        if hasattr(body, "close"):
            body.close()
        if isinstance(fault, HoldConnection):
            self.sleep(fault.seconds)
        raise ConnectionDropped("mock_platform dropped the connection")


class RequestHandler(WSGIRequestHandler):
    """Closes the socket when the app dropped the connection; optionally silent."""

    quiet = False

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        if isinstance(error, ConnectionDropped):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.quiet:
            super().log_request(code, size)


def build_server(backend: Backend, host: str = "127.0.0.1", port: int = 8900, quiet: bool = False) -> BaseWSGIServer:
    """A threaded werkzeug server for ``backend`` (``port=0`` picks a free port: see ``server.port``)."""
    handler = type("MockPlatformRequestHandler", (RequestHandler,), {"quiet": quiet})
    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    return make_server(host, port, create_app(backend), threaded=True, request_handler=handler)
