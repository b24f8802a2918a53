"""Every error the mock can return is in the OpenAPI document: provoke them all, then look each one up."""
from __future__ import annotations

import json
import re
from typing import Any, Iterator
from urllib.parse import urlencode

from mock_platform import Backend, Settings
from mock_platform.dispatch import handle
from mock_platform.http import Request, Response
from mock_platform.openapi import build_openapi
from mock_platform.routes import ROUTES, Route
from mock_platform.settings import DEFAULT_ACCESS_KEY, DEFAULT_SECRET
from mock_platform.tests.builders import inspection
from schemas.signing import sign

DOCUMENT = build_openapi()
BAD_BODIES: tuple[tuple[bytes, str], ...] = (
    (json.dumps({"records": [inspection()]}).encode(), "application/json"),
    (b"{not json", "application/json"),
    (b'{"records": []}', "text/plain"),
    (b'{"records": []}', "application/json"),
    (b'{"x": 1}', "application/json"),
    (b"[]", "application/json"),
    (json.dumps({"records": [inspection(n) for n in range(101)]}).encode(), "application/json"),
    (b'{"records": [{}], "strict": "yes", "now": 1, "access_key": 0, "entities": 1, "seed": "x", "method": 1}',
     "application/json"),
)
PATH_VALUES = ("nope", "123", "91410823000000003F")


def concrete_paths(route: Route) -> Iterator[str]:
    for value in PATH_VALUES if "<" in route.rule else PATH_VALUES[:1]:
        yield re.sub(r"<(?:\w+:)?(\w+)>", value, route.rule)


def requests_for(route: Route) -> Iterator[Request]:
    for path in concrete_paths(route):
        queries = [""] + [urlencode({arg.name: bad}) for arg in route.query for bad in ("-1", "x", "99999")]
        bodies = BAD_BODIES if route.body is not None else ((b"", ""),)
        for query in queries:
            for body, content_type in bodies:
                for key in (None, "k-1", "\t") if route.idempotent else (None,):
                    headers = {"Content-Type": content_type} if content_type else {}
                    if key and route.idempotent:
                        headers["Idempotency-Key"] = key
                    for secret in (None, DEFAULT_SECRET, "wrong-secret"):
                        signing = sign(route.method, path + ("?" + query if query else ""), body,
                                       DEFAULT_ACCESS_KEY, secret) if secret else {}
                        yield Request.build(route.method, path, [tuple(p.split("=", 1)) for p in query.split("&") if p],
                                            {**headers, **signing}, body)


def provoke(backend: Backend) -> Iterator[tuple[Route, Response]]:
    for route in ROUTES:
        if route.name == "control_reset":
            continue
        for request in requests_for(route):
            outcome = handle(backend, request)
            assert isinstance(outcome, Response)
            yield route, outcome


def documented(route: Route, response: Response) -> bool:
    """Whether an error answer's status, and its code, are in the operation's responses (successes pass)."""
    if response.status < 400:
        return True
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.rule)
    answers = DOCUMENT["paths"][path][route.method.lower()]["responses"]
    entry = answers.get(str(response.status)) or answers.get(f"{response.status // 100}XX")
    if entry is None:
        return False
    if response.headers.get("Content-Type", "").startswith("application/json") and response.status >= 400:
        return response.json()["code"] in entry["description"]
    return "text/html" in entry.get("content", {}) or route.html


def collect(max_body_bytes: int = 2_000_000, **faults: Any) -> set[tuple[str, int, str]]:
    backend = Backend(settings=Settings(rate_limit_per_second=None, max_body_bytes=max_body_bytes))
    if faults:
        backend.faults = type(backend.faults)(__import__("mock_platform.faults").faults.FaultConfig.from_json(faults))
    missing = set()
    for route, response in provoke(backend):
        if not documented(route, response):
            code = response.json().get("code", "") if "json" in response.headers.get("Content-Type", "") else "html"
            missing.add((route.name, response.status, code))
    return missing


def test_every_error_without_faults_is_documented() -> None:
    assert collect() == set()
    assert collect(max_body_bytes=1024) == set()


def test_every_injected_error_is_documented() -> None:
    assert collect(errors={"rates": {"418": 0.3, "503": 0.3}}, broken={"rates": {"html_502": 0.2, "not_json": 0.1}},
                   bursts={"every": 5, "length": 1}) == set()


def test_rate_limits_and_strict_expectations_are_documented() -> None:
    backend = Backend(settings=Settings(rate_limit_per_second=0.001, rate_limit_burst=1))
    backend.expectations.strict = True
    seen = set()
    for route, response in provoke(backend):
        seen.add(response.status)
        assert documented(route, response), (route.name, response.status, response.body[:200])
    assert {501} <= seen
    backend = Backend(settings=Settings(rate_limit_per_second=0.001, rate_limit_burst=1))
    statuses = {response.status for _, response in provoke(backend)}
    assert 429 in statuses


def test_unknown_paths_and_methods_are_documented_with_allow() -> None:
    backend = Backend()
    responses = DOCUMENT["components"]["responses"]
    lost = handle(backend, Request.build("GET", "/api/v2/nothing"))
    wrong = handle(backend, Request.build("DELETE", "/api/v1/openapi.json"))
    assert isinstance(lost, Response) and isinstance(wrong, Response)
    assert lost.json()["code"] in responses["NotFound"]["description"]
    assert wrong.json()["code"] in responses["MethodNotAllowed"]["description"]
    assert wrong.headers["Allow"] == "GET, HEAD" and "Allow" in responses["MethodNotAllowed"]["headers"]


def test_the_document_carries_the_bounds_the_mock_enforces() -> None:
    listing = {p["name"]: p["schema"] for p in DOCUMENT["paths"]["/api/v1/plans"]["get"]["parameters"]}
    assert listing["limit"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}
    assert listing["after"]["minimum"] == 0
    target = DOCUMENT["paths"]["/api/v1/public/entities/{uscc}/inspections"]["get"]["parameters"]
    assert {p["name"]: p["schema"] for p in target}["uscc"]["pattern"].startswith("^[0-9A-HJ-NPQRTUWXY]{2}")
    assert {p["name"]: p["schema"] for p in target}["year"] == {"type": "integer", "minimum": 2000, "maximum": 2100}
    received = DOCUMENT["paths"]["/_control/received"]["get"]["parameters"][0]["schema"]
    assert received["enum"] == ["plans", "draw-results", "inspection-results", "follow-ups"]
    result = DOCUMENT["components"]["schemas"]["InspectionResultRecord"]["properties"]["result_codes"]
    assert result["minItems"] == 1
    settings = DOCUMENT["components"]["schemas"]["SettingsPatch"]["properties"]["require_known_entities"]
    assert settings["type"] == "boolean"
