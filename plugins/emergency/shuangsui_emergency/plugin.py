"""Hooks of the Emergency Management Bureau plugin (entry point ``emergency``)."""
from __future__ import annotations

from gateway.plugins import hookimpl
from shuangsui_emergency.content import DEPARTMENT, GUIDE_TEXT, MATTER


@hookimpl
def gateway_department():
    return DEPARTMENT


@hookimpl
def gateway_matters():
    return [MATTER]


@hookimpl
def gateway_guide_text(matter_code):
    return GUIDE_TEXT if matter_code == MATTER.code else None
