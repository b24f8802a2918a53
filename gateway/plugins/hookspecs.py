"""Hook specifications of the ``gateway`` project.

Every hook is named ``gateway_*``. A department plugin implements ``gateway_department``
and whichever of the others it needs. The gateway registers its own defaults first
(:mod:`gateway.plugins.defaults`, as pluggy's eggsample host registers its ``lib``), so a
plugin implements a hook only where it differs from them.
"""
from __future__ import annotations

from typing import Any, Mapping

import marshmallow
import pluggy

from gateway.plugins.contributions import CheckItem, Department, Matter

PROJECT_NAME = "gateway"
ENTRY_POINT_GROUP = "shuangsui_gateway"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def gateway_department() -> Department | None:
    """Called once at start-up. Return the department this plugin represents.

    A plugin that only adds hooks (no department) returns None.
    """


@hookspec
def gateway_matters() -> list[Matter]:
    """Called once at start-up. Return the inspection matters this plugin's department leads."""


@hookspec
def gateway_check_items() -> list[CheckItem]:
    """Called once at start-up. Return the check items this department adds, as a cooperating
    department, to matters that other departments lead."""


@hookspec(firstresult=True)
def gateway_checklist_schema(matter_code: str) -> type[marshmallow.Schema] | None:
    """Called when the engine builds a matter's checklist: the marshmallow schema class of the
    lead department's items (one field per item, field name = check item code). The gateway's
    default derives it from the matter's check items (``schemas.checklist.field_for_item``); a
    lead plugin implements this hook only for a field the items cannot describe, and returns
    None for other matters."""


@hookspec
def gateway_checklist_fields(matter_code: str) -> Mapping[str, marshmallow.fields.Field] | None:
    """Called when the engine builds a matter's checklist. A cooperating plugin returns the
    marshmallow fields of the check items it brings to ``matter_code`` (keyed by check item code),
    to be merged into the lead's schema; None to keep the fields derived from its check items."""


@hookspec
def gateway_validate_result(matter_code: str, values: Mapping[str, Any]) -> Mapping[str, list[str]] | None:
    """Called after schema validation of a recorded result. Return extra field errors
    ({check item code: [messages in Chinese]}) or None when the values are acceptable.
    ``values`` follow the matter version the task's plan pinned, which may be older than the
    plugin's own: look check items up with ``values.get``."""


@hookspec
def gateway_result_recorded(matter_code: str, result: Mapping[str, Any]) -> None:
    """Called after a result covering ``matter_code`` has been stored. For notifications only;
    the return value is ignored."""


@hookspec
def gateway_violation_found(matter_code: str, result: Mapping[str, Any]) -> None:
    """Called after a stored result found problems on ``matter_code``. For the competent
    department's follow-up (article 22); the return value is ignored."""


@hookspec(firstresult=True)
def gateway_guide_text(matter_code: str, version: str) -> str | None:
    """Called at start-up for each matter the plugin leads, with the matter's own ``version``:
    return extra guidance text in Chinese for the inspection guide (检查指引书) of ``matter_code``
    (procedure, cautions), or None. The text is stored with the matter version, so a changed text
    needs a new version, and a task's guide shows the text of the version its plan pinned. Only a
    version stored before texts were kept is asked again, with its older ``version``; an
    implementation may leave the parameter out when its text never changed."""
