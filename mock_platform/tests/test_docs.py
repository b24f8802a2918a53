"""docs/platform-api.md documents every endpoint and every error code the code can produce."""
from __future__ import annotations

import re

import pytest

from mock_platform.faults import INJECTED_ERRORS
from mock_platform.routes import ROUTES, Route
from mock_platform.server_process import PROJECT_ROOT
from schemas.platform import RECORD_SCHEMAS

API_DOC = (PROJECT_ROOT / "docs" / "platform-api.md").read_text(encoding="utf-8")
CODE_PATTERNS = (
    r'ApiError\(\s*\d+,\s*"([a-z_]+)"',
    r'_refuse\(\s*"([a-z_]+)"',
    r'field_error\(\s*"([a-z_]+)"',
    r'CodeProblem\(\s*[^,]+,\s*"([a-z_]+)"',
    r'\bcode="([a-z_]+)"',
)


def produced_codes() -> set[str]:
    sources = [path.read_text(encoding="utf-8") for package in ("mock_platform", "schemas")
               for path in (PROJECT_ROOT / package).glob("**/*.py") if "tests" not in path.parts]
    codes = {code for text in sources for pattern in CODE_PATTERNS for code in re.findall(pattern, text, re.S)}
    return codes | {code for code, _ in INJECTED_ERRORS.values()} | {"injected_error", "invalid_choice"}


@pytest.mark.parametrize("code", sorted(produced_codes()))
def test_every_error_code_is_documented(code: str) -> None:
    assert f"`{code}`" in API_DOC


def documented_forms(route: Route) -> set[str]:
    """How the guide may name a route: exactly, or per kind as ``/api/v1/{kind}``."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.rule).replace("{record_id}", "{id}")
    forms = {f"{route.method} {path}"}
    for kind in RECORD_SCHEMAS:
        if path.startswith(f"/api/v1/{kind}") and not path.endswith("/batch"):
            forms.add(f"{route.method} " + path.replace(f"/api/v1/{kind}", "/api/v1/{kind}"))
    return forms


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_every_endpoint_is_documented(route: Route) -> None:
    assert any(form in API_DOC for form in documented_forms(route)), documented_forms(route)


@pytest.mark.parametrize("kind", RECORD_SCHEMAS)
def test_every_record_field_is_documented(kind: str) -> None:
    for name in RECORD_SCHEMAS[kind]().fields:
        assert f"`{name}`" in API_DOC
