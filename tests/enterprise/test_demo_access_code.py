"""The demo prints an access code that signs in to the portal, with a draft result to answer."""
from __future__ import annotations

from datetime import date

from gateway.demo.draw import ensure_demo_draw
from gateway.demo.enterprise import issue_demo_access_code
from gateway.demo.generate import DemoShape
from gateway.demo.load import load_directories
from gateway.demo.results import load_demo_results
from gateway.enterprise import portal

TODAY = date(2026, 11, 20)
SHAPE = DemoShape(targets=400, inspectors_per_department=8, conflicts=4, seed=410823)


def test_demo_prints_an_access_code_that_signs_in(gateway):
    load_directories(gateway, SHAPE, today=TODAY)
    ensure_demo_draw(gateway, today=TODAY)
    load_demo_results(gateway, today=TODAY)
    access = issue_demo_access_code(gateway)
    assert access is not None and len(access.code) == 14
    signed = portal.sign_in(gateway, access.uscc, access.code, "127.0.0.1")
    assert signed.uscc == access.uscc and signed.next_code != access.code
    with gateway.read() as session:
        entries = portal.overview(gateway, session, access.uscc, TODAY)
    assert access.task_number in [e["task_number"] for e in entries]
    assert any(e["draft_result"] is not None for e in entries)  # something to file a statement on
