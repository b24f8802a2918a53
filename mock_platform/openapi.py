"""The OpenAPI document of the platform contract, generated from the route table and the schemas.

``python -m mock_platform.openapi`` rewrites ``schemas/openapi/platform.json``;
``python -m mock_platform.openapi --check`` exits 1 when the file has drifted from the code.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from functools import lru_cache
from typing import Any, Sequence

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from mock_platform.faults import BROKEN_KINDS, INJECTED_ERROR, INJECTED_ERRORS
from mock_platform.http import IDEMPOTENCY_HEADER, MAX_IDEMPOTENCY_KEY, REPLAYED_HEADER
from mock_platform.routes import ROUTES, Route
from mock_platform.settings import DEFAULT_BASE_URL, OPENAPI_DOCUMENT
from schemas import signing
from schemas.platform import RECORD_ID_PATTERN, RECORD_SCHEMAS, USCC_PATTERN, ErrorSchema

API_VERSION = "1.1.0"
DOCUMENT_PATH = OPENAPI_DOCUMENT
PATH_RULE = re.compile(r"<(?:\w+:)?(\w+)>")

SIGNATURE_SCHEMES = {
    "AccessKey": (signing.ACCESS_KEY_HEADER, "The access key."),
    "Timestamp": (signing.TIMESTAMP_HEADER, "Unix time in milliseconds; refused beyond the allowed clock skew."),
    "Nonce": (signing.NONCE_HEADER, "8 to 64 characters of [A-Za-z0-9_-], never reused."),
    "Signature": (signing.SIGNATURE_HEADER, "base64(HMAC-SHA256(secret, string_to_sign)); see docs/platform-api.md."),
}
AUTH_ERRORS = (
    "auth_headers_missing, auth_header_invalid, unsupported_signature_method, access_key_unknown, "
    "timestamp_skew, signature_mismatch, nonce_reused"
)
PATH_PARAMETERS = {
    "record_id": ("The sender's record id.", {"type": "string", "pattern": RECORD_ID_PATTERN}),
    "uscc": ("Unified Social Credit Code (统一社会信用代码), compact and upper case.", {"type": "string", "pattern": USCC_PATTERN}),
    "plan_number": ("Plan number (计划编号), percent-encoded; may contain /.", {"type": "string", "minLength": 1, "maxLength": 64}),
    "task_number": ("Task number (任务编号), percent-encoded; may contain /.", {"type": "string", "minLength": 1, "maxLength": 64}),
}
RATE_LIMITED = "rate_limited (Retry-After says when to retry)"
UNEXPECTED = "unexpected_request (only while the test's expectations are strict or ordered)"
INJECTED_4XX = f"Only under fault injection: {INJECTED_ERROR[0]} (any 4xx status a test asks for)"
INJECTED_5XX = ("Only under fault injection: " + ", ".join(code for code, _ in INJECTED_ERRORS.values())
                + f", {INJECTED_ERROR[0]}; or an HTML page from a proxy (html_502)")
TAGS = (
    ("records", "Push records and read back your own (signed)."),
    ("public", "Public reads, no signature."),
    ("control", "Test control of the mock (not part of the real platform)."),
    ("meta", "About the API itself."),
)
DESCRIPTION = (
    "The contract between Shuangsui Gateway and the provincial platform (国家企业信用信息公示系统（河南）), "
    "as emulated by mock_platform. Errors are {\"code\": <stable machine code>, \"message\": <简体中文>, ...}. "
    "A path no operation serves answers 404 not_found (components/responses/NotFound); a method a path does "
    "not serve answers 405 method_not_allowed with an Allow header (components/responses/MethodNotAllowed). "
    "Under fault injection the mock may also send broken answers: " + ", ".join(BROKEN_KINDS) + ". "
    "Full guide: docs/platform-api.md."
)


def _error(description: str, html: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": "Error"}}
    if html:
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def _retry_after(description: str) -> dict[str, Any]:
    return {**_error(description),
            "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}, "description": "Seconds to wait."}}}


def _operation(route: Route) -> dict[str, Any]:
    status, description, schema = route.ok
    if route.html:
        ok: dict[str, Any] = {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}
    elif schema is not None:
        ok = {"description": description, "content": {"application/json": {"schema": schema}}}
    else:
        ok = {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}
    responses: dict[str, Any] = {str(status): ok}
    for code, codes in route.errors:
        responses[str(code)] = {"description": codes} if route.html else _error(codes)
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name][1], "description": PATH_PARAMETERS[name][0]}
        for name in PATH_RULE.findall(route.rule)
    ]
    parameters += [
        {"name": arg.name, "in": "query", "required": False, "schema": arg.schema(), "description": arg.description}
        for arg in route.query
    ]
    operation: dict[str, Any] = {
        "operationId": route.name,
        "tags": [route.tag],
        "summary": route.summary,
        "responses": responses,
    }
    if route.description:
        operation["description"] = route.description
    if route.signed:
        operation["security"] = [{name: [] for name in SIGNATURE_SCHEMES}]
        responses["401"] = _error(AUTH_ERRORS)
    if route.signed or route.faultable:
        responses["429"] = _retry_after(RATE_LIMITED + ("" if route.signed else "; only from injected bursts"))
    if route.idempotent:
        parameters.append({
            "name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY, "pattern": "^[\\x20-\\x7e]+$"},
            "description": "Replays the first answer to a request with the same key (per access key) and the same body.",
        })
        ok["headers"] = {REPLAYED_HEADER: {"schema": {"type": "string"}, "description": "\"true\" on a replayed answer."}}
    if route.tag != "control":
        responses["501"] = _error(UNEXPECTED)
    if route.faultable:
        responses["4XX"] = _error(INJECTED_4XX)
        responses["5XX"] = _error(INJECTED_5XX, html=True)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
    return operation


@lru_cache(maxsize=1)
def _document() -> str:
    spec = APISpec(
        title="Provincial platform API (mock of 国家企业信用信息公示系统（河南）)",
        version=API_VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": DESCRIPTION},
        servers=[{"url": DEFAULT_BASE_URL, "description": "in-process mock"},
                 {"url": "http://127.0.0.1:8900", "description": "python -m mock_platform"}],
        tags=[{"name": name, "description": text} for name, text in TAGS],
    )
    for name, (header, text) in SIGNATURE_SCHEMES.items():
        spec.components.security_scheme(name, {"type": "apiKey", "in": "header", "name": header, "description": text})
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.response("NotFound", _error("not_found: no operation serves this path"))
    spec.components.response("MethodNotAllowed", {
        **_error("method_not_allowed: the path does not serve this method"),
        "headers": {"Allow": {"schema": {"type": "string"}, "description": "The methods the path serves, e.g. GET, HEAD."}},
    })
    for schema in RECORD_SCHEMAS.values():
        spec.components.schema(schema.__name__.removesuffix("Schema"), schema=schema)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        path = PATH_RULE.sub(r"{\1}", route.rule)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return json.dumps(spec.to_dict(), ensure_ascii=False, indent=2) + "\n"


def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.0 document as a dict (a fresh copy each call)."""
    return json.loads(_document())


def render() -> str:
    """The document exactly as stored in ``schemas/openapi/platform.json``."""
    return _document()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mock_platform.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the stored document differs")
    args = parser.parse_args(argv)
    current = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
    if args.check:
        if current != render():
            print(f"{DOCUMENT_PATH} is out of date; run python -m mock_platform.openapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {DOCUMENT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
