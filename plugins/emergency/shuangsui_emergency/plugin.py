"""Hooks of the Emergency Management Bureau plugin (entry point ``emergency``): its department, the
work-safety matter and its guide text, all in ``content.toml``; no hook of its own."""
from __future__ import annotations

from gateway.plugins.content import load_content

CONTENT = load_content(__package__)
gateway_department, gateway_matters, gateway_check_items, gateway_guide_text = CONTENT.hooks()
