"""One page of a listing: the API's envelope ``{items, total, page, page_size}`` (dumped by
``schemas.common.page_schema``) and the pages' pager, filled from a query in one place."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size)) if self.page_size else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def map(self, transform: Callable[[Any], Any]) -> "Page":
        return replace(self, items=[transform(i) for i in self.items])

    def map_batch(self, transform: Callable[[list], list]) -> "Page":
        """The page with its rows transformed all at once (what each row needs read in one query)."""
        return replace(self, items=transform(self.items))


def fetch_page(session: Session, stmt: Select, page: int, page_size: int) -> Page:
    """The rows of ``stmt`` (ordered) on page ``page``, and how many rows it has in all."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)))
    return Page(items, int(total or 0), page, page_size)


def query_page(session: Session, stmt: Select, args: Mapping[str, Any]) -> Page:
    """:func:`fetch_page` for a view's parsed ``PageArgsSchema`` arguments."""
    return fetch_page(session, stmt, args["page"], args["page_size"])
