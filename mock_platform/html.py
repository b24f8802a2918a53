"""The public HTML page of a target's 抽查检查结果信息, rendered with Jinja2 (autoescaped)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from schemas.platform import ENTITY_TYPES


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("mock_platform", "templates"), autoescape=select_autoescape(default=True))


def inspections_page(view: dict[str, Any]) -> str:
    """The page for :func:`mock_platform.views.target_inspections`'s ``view``."""
    entity = view.get("entity")
    title = entity["name"] if entity else f"统一社会信用代码 {view['uscc']}"
    entity_type = ENTITY_TYPES.get(entity.get("entity_type", ""), "") if entity else ""
    return _environment().get_template("inspections.html").render(
        view=view, title=title, entity_type_label=entity_type, error=None
    )


def error_page(message: str) -> str:
    """The same page showing why the query failed."""
    return _environment().get_template("inspections.html").render(view=None, title="查询失败", error=message)
