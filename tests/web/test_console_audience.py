"""The console is for signed-in staff; the public reaches published things through the public pages,
which never name an official."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from gateway.security.web import CSRF_COOKIE
from tests.security import crawl


@pytest.fixture
def demo(gateway):
    return crawl.build(gateway)


def console_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith("/console")), key=lambda r: r.rule)


def test_every_console_page_sends_anonymous_visitors_to_sign_in(app, client, demo):
    csrf = client.get("/api/v1/auth/csrf").json["csrf_token"]  # so that a form post gets past CSRF
    assert client.get_cookie(CSRF_COOKIE) is not None
    tried, problems = 0, []
    for rule in console_rules(app):
        for url in crawl.urls(rule, demo.values):
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(url, method=method, data={"csrf_token": csrf} if method == "POST" else None)
                tried += 1
                location = urlsplit(response.headers.get("Location", ""))
                if response.status_code not in (302, 303) or location.path != "/sign-in":
                    problems.append(f"{method} {url} -> {response.status_code} {location.path}")
    assert not problems, "\n".join(problems)
    assert tried >= 60


def test_sign_in_brings_the_visitor_back_to_the_console_page(client, demo):
    response = client.get(f"/console/results/{demo.values['result_id'][0]}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sign-in?next=/console/results/{demo.values['result_id'][0]}")


def test_public_pages_never_name_an_official(app, client, demo):
    assert demo.officials
    public_secrets = demo.personal(demo.people.values()) | demo.officials
    shown = 0
    for rule in crawl.get_rules(app):
        if rule.rule.startswith(("/api/", "/console", "/assets", "/static")):
            continue
        for url in crawl.urls(rule, demo.values):
            for args in ({}, {"q": demo.values["uscc"][0]}):
                response = client.get(url, query_string=args)
                assert response.status_code < 500, url
                if response.status_code == 200:
                    shown += 1
                    text = crawl.body_text(response)
                    leaked = [s for s in public_secrets if s in text]
                    assert not leaked, f"{url} {args} names {leaked}"
    assert shown >= 10
