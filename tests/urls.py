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
