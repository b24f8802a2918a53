"""Schemathesis against the generated OpenAPI document: no 5xx, no response outside its own schema.

A bounded run (a few examples per operation, role and mode) on SQLite and PostgreSQL; the longer
run is ``bench/fuzz.py``.
"""
from __future__ import annotations

from dataclasses import replace

from gateway.app import create_app
from tests.security.fuzzing import run_fuzz, seed_directories

EXAMPLES = 3


def test_fuzz_finds_no_server_error_and_no_schema_violation(gateway, settings, auth_headers, capsys):
    gateway.settings = replace(settings, rate_limit_public="", rate_limit_sign_in="")
    app = create_app(gateway=gateway)
    headers = {"county_office": auth_headers("county_office"), "public": {}}
    seed_directories(app, headers["county_office"])
    report = run_fuzz(app, headers, max_examples=EXAMPLES)
    with capsys.disabled():
        print(f"\nfuzz ({settings.database_url.split(':')[0]}): {report.summary()}")
    assert not report.errors, report.errors
    assert report.operations >= 20
    failures = "\n\n".join(f"{f.role} {f.mode} {f.operation} -> {f.status}\n{f.reason}\n{f.reproduce}"
                           for f in report.failures)
    assert not report.failures, failures
