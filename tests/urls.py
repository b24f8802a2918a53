"""Helpers for tests that walk every registered endpoint."""
from __future__ import annotations

import re


def fill_rule(rule, values) -> str | None:
    """The URL of a Flask ``rule`` with its arguments taken from ``values``; None if one is missing."""
    url = rule.rule
    for name in rule.arguments:
        if name not in values:
            return None
        url = re.sub(r"<[^>]*\b" + name + r">", str(values[name]), url)
    return url


def api_get_urls(app, values):
    """(rule, URL) of every GET endpoint of the API whose arguments ``values`` fill in."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or "GET" not in rule.methods:
            continue
        url = fill_rule(rule, values)
        if url is not None:
            yield rule, url
