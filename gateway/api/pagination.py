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


def _count(session: Session, stmt: Select) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def fetch_page(session: Session, stmt: Select, page: int, page_size: int, count: bool = True) -> Page:
    """The rows of ``stmt`` (ordered) on page ``page``, and how many rows it has in all. With
    ``count=False`` (a page that shows the rows but no total) the total is not counted: it is the
    rows up to this page's last, a lower bound."""
    items = list(session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)))
    total = _count(session, stmt) if count else (page - 1) * page_size + len(items)
    return Page(items, total, page, page_size)


def fetch_found_page(session: Session, stmt: Select, page: int, page_size: int) -> Page:
    """:func:`fetch_page` for a search whose rows are costly to find (a name through its index: the
    candidates are read from the table and checked one by one): the page and the total come from
    one statement, a window count over the rows found, so they are found once and not twice. Only
    a page past the last one counts again. ``stmt`` has no DISTINCT; it selects one entity (the
    page's items), or columns (the items are then its rows, with one more column, ``found_total``)."""
    entity = len(stmt.column_descriptions) == 1 and isinstance(stmt.column_descriptions[0]["expr"], type)
    rows = session.execute(stmt.add_columns(func.count().over().label("found_total")).limit(page_size)
                           .offset((page - 1) * page_size)).all()
    if rows:
        items = [row[0] for row in rows] if entity else rows
        return Page(items, int(rows[0][-1]), page, page_size)
    return Page([], _count(session, stmt) if page > 1 else 0, page, page_size)


def query_page(session: Session, stmt: Select, args: Mapping[str, Any]) -> Page:
    """:func:`fetch_page` for a view's parsed ``PageArgsSchema`` arguments."""
    return fetch_page(session, stmt, args["page"], args["page_size"])
