"""One page of a listing: the API's envelope ``{items, total, page, page_size}`` (dumped by
``schemas.common.page_schema``) and the pages' pager, filled from a query in one place."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import CTE, Select, Subquery, bindparam, func, select
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


@dataclass(frozen=True)
class FoundPages:
    """Pages of a search whose rows are costly to find (a name through its index: the candidates
    are read from the table and checked one by one), built once and run with the search's values.

    ``page`` finds the rows once for a page and its total: a window count (``found_total``) over
    the rows found, not a count and then the page, each finding them again. The page's rows are
    chosen before the columns computed for each row (``shown``), so those are computed for the
    rows shown and not for every row found. Its limit and offset are bound parameters. ``total``
    counts the rows found, for a page past the last one (which has no row to carry the total)."""

    page: Select
    total: Select

    @classmethod
    def of(cls, found: CTE, order_by: Sequence[str], shown: Callable[[Subquery], list]) -> "FoundPages":
        """Pages of the rows of ``found`` in the order of its columns ``order_by`` (unique, the
        last at least), each row as the columns ``shown(page)`` of the page's subquery."""
        chosen = (select(*found.c, func.count().over().label("found_total"))
                  .order_by(*(found.c[name] for name in order_by))
                  .limit(bindparam("page_limit")).offset(bindparam("page_offset")).subquery("page"))
        return cls(select(*shown(chosen), chosen.c.found_total).order_by(*(chosen.c[name] for name in order_by)),
                   select(func.count()).select_from(found))

    def fetch(self, session: Session, parameters: Mapping[str, Any], page: int, page_size: int) -> Page:
        rows = session.execute(self.page, {**parameters, "page_limit": page_size,
                                           "page_offset": (page - 1) * page_size}).all()
        if rows:
            return Page(rows, int(rows[0].found_total), page, page_size)
        return Page([], int(session.scalar(self.total, parameters) or 0) if page > 1 else 0, page, page_size)


def query_page(session: Session, stmt: Select, args: Mapping[str, Any]) -> Page:
    """:func:`fetch_page` for a view's parsed ``PageArgsSchema`` arguments."""
    return fetch_page(session, stmt, args["page"], args["page_size"])
