"""Name and credit-code searches that use an index instead of scanning the targets (issue 20), and
the same name search for the inspectors (the staff directory).

A credit code is an index lookup: a query shaped like a USCC (18 letters and digits once spaces are
removed) compares the unique ``uscc`` column and nothing else (no name search beside it).

A name substring ``name LIKE '%text%'`` keeps its exact meaning (the LIKE stays, as the final
check of every candidate, so the results are the same as a plain scan's) but the candidates come
from an index:

PostgreSQL
    a ``pg_trgm`` GIN index on ``name`` (``gin_trgm_ops``), which the planner uses for the LIKE
    itself when the text has 3 characters or more. A text of 1 or 2 characters has no trigram: it is
    one key of a GIN index on the name's characters and pairs of adjacent characters
    (``name_grams(name)``, an SQL function of migration ``0030_search2``), whose rows are exactly
    those that contain it (the LIKE then checks each again). The database's LC_CTYPE must class Chinese characters as letters (C.UTF-8 or a UTF-8
    locale; under plain ``C`` pg_trgm sees no trigram in a Chinese name).
SQLite
    an FTS5 table ``targets_name_fts`` (``inspectors_name_fts``) with the ``trigram`` tokenizer
    (SQLite 3.34 or later), contentless, filled by triggers on ``targets`` (``inspectors``) in the
    writing transaction (so bulk imports are covered). Each name is indexed followed by two U+0001 characters, so that every occurrence of
    a 1 or 2 character text is the beginning of some indexed trigram: a text of 3 characters or more
    is a trigram phrase query (``MATCH``); a shorter one reads the trigrams that begin with it from
    the index's vocabulary (``targets_name_terms``, ``inspectors_name_terms``: ``fts5vocab``
    instance tables, read by a range of terms). Either way the rows are then fetched by rowid and the LIKE checks them.

A text of 1 or 2 very common characters ("公司") still returns most of the directory: the work
is proportional to the rows that contain it, as it must be to count them, never to a scan of
rows that do not. The public search finds them once per request: its page and its exact total come
from one statement, a window count over the rows found (``gateway.api.pagination.fetch_found_page``),
not a count and then the page, each finding the same rows.

The objects are created by migrations ``0024_search_index`` and ``0030_search2``. A later migration that rebuilds
``targets`` or ``inspectors`` on SQLite (alembic's batch mode copies and drops the table) drops its
triggers with it:
such a migration must create them again (a test inserts a target and searches for it at head).
"""
from __future__ import annotations

import re
from functools import partial
from typing import Any

from sqlalchemy import ARRAY, Text, and_, bindparam, cast, column, func, or_, select, table, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType

from gateway.directory.models import Target

USCC_SHAPE = re.compile(r"[0-9A-Z]{18}")
# The tables whose names are searched this way: the targets (public search, staff directory, task
# search) and the inspectors (staff directory). Their search objects, which the models do not
# describe (alembic's comparison leaves them alone), are named after the table.
SEARCHED_TABLES = ("targets", "inspectors")
SEARCH_OBJECTS = frozenset(
    name for t in SEARCHED_TABLES
    for name in (f"{t}_name_fts", f"{t}_name_terms", f"ix_{t}_name_trgm", f"ix_{t}_name_grams")
)
# Appended to every indexed name (SQLite) so that a text at a name's end still begins a trigram.
PAD = "\x01\x01"
# Above every term in the index (terms are compared as UTF-8 bytes).
TERM_END = "\U0010ffff"


def is_search_object(name: str | None) -> bool:
    return bool(name) and (name in SEARCH_OBJECTS or any(name.startswith(f"{t}_name_fts_") for t in SEARCHED_TABLES))


def uscc_shaped(text: str) -> str | None:
    """The credit code ``text`` spells (spaces and case ignored), or None if it is not shaped like one."""
    code = "".join(text.split()).upper()
    return code if USCC_SHAPE.fullmatch(code) else None


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(model, text: str):
    return model.name.like("%" + escape_like(text) + "%", escape="\\")


def name_search_shape(texts: list[str]) -> tuple[bool, ...]:
    """What the SQL of a name search depends on besides its values: for each distinct text, whether
    it has 3 characters or more (a trigram query rather than a 1 or 2 character key). A statement
    built once per shape (:func:`name_contains_shape`) serves every search of that shape."""
    return tuple(len(t) >= 3 for t in dict.fromkeys(texts))


def name_parameters(texts: list[str], model=Target) -> dict[str, Any]:
    """The values of the bound parameters of :func:`name_contains_shape` for ``texts``: a search run
    with another shape's statement or without them fails (each is required), never finds the wrong rows."""
    values: dict[str, Any] = {}
    for i, text in enumerate(dict.fromkeys(texts)):
        key = f"{model.__tablename__}_name_{i}"
        values[f"{key}_like"] = "%" + escape_like(text) + "%"
        if len(text) >= 3:
            values[f"{key}_phrase"] = '"' + text.replace('"', '""') + '"'
        else:
            start = text.lower()  # the tokenizer folds case; the LIKE afterwards is SQLite's own (ASCII)
            values.update({f"{key}_start": start, f"{key}_end": start + TERM_END, f"{key}_gram": [text]})
    return values


def _bound(values: dict[str, Any] | None, key: str, type_=None):
    """The parameter ``key``: with its value from ``values``, anonymous (a statement built for one
    search); without ``values``, named and required (a statement built once for a shape)."""
    if values is None:
        return bindparam(key, required=True, type_=type_)
    return bindparam(key, values[key], type_=type_, unique=True)


def _sqlite_candidates(model, key: str, long: bool, bound):
    name = model.__tablename__
    if long:
        fts = table(f"{name}_name_fts", column("rowid"), column("name"))
        return select(fts.c.rowid).where(fts.c.name.match(bound(f"{key}_phrase")))
    terms = table(f"{name}_name_terms", column("term"), column("doc"))
    return select(terms.c.doc).where(terms.c.term >= bound(f"{key}_start"), terms.c.term < bound(f"{key}_end"))


def _name_condition(model, shape: tuple[bool, ...], values: dict[str, Any] | None):
    bound = partial(_bound, values)
    keys = [f"{model.__tablename__}_name_{i}" for i in range(len(shape))]
    likes = [model.name.like(bound(f"{key}_like"), escape="\\") for key in keys]
    candidates = [_sqlite_candidates(model, key, long, bound) for key, long in zip(keys, shape)]
    postgresql_names = [
        like if long else and_(func.name_grams(model.name).op("@>")(cast(bound(f"{key}_gram", ARRAY(Text)), ARRAY(Text))), like)
        for key, long, like in zip(keys, shape, likes)
    ]
    return _PerDialect(
        or_(*likes),
        sqlite=and_(model.id.in_(candidates[0] if len(candidates) == 1 else union(*candidates)), or_(*likes)),
        postgresql=or_(*postgresql_names),
    )


class _PerDialect(ColumnElement):
    """A condition written differently for SQLite, for PostgreSQL and for the others. Its parts
    are in its cache key, so statements using it keep SQLAlchemy's compiled-statement cache."""

    inherit_cache = True
    _traverse_internals = [(name, InternalTraversal.dp_clauseelement) for name in ("default", "sqlite", "postgresql")]
    type = NullType()  # not Boolean: SQLite would compare the condition "= 1", which hides its index

    def __init__(self, default, sqlite, postgresql):
        self.default, self.sqlite, self.postgresql = default, sqlite, postgresql


@compiles(_PerDialect)
def _compile_per_dialect(element, compiler, **kw):
    variant = {"sqlite": element.sqlite, "postgresql": element.postgresql}.get(compiler.dialect.name, element.default)
    return "(" + compiler.process(variant, **kw) + ")"


def name_contains_any(texts: list[str], model=Target):
    """SQL: the name of the target (or ``model``: a class of a table in :data:`SEARCHED_TABLES`)
    contains one of ``texts`` (SQL LIKE semantics), found through an index."""
    assert model.__tablename__ in SEARCHED_TABLES, model
    if not all(texts):  # the empty text is in every name
        return _like(model, "")
    return _name_condition(model, name_search_shape(texts), name_parameters(texts, model))


def name_contains_shape(shape: tuple[bool, ...], model=Target):
    """:func:`name_contains_any` for any texts of ``shape`` (:func:`name_search_shape`, of non-empty
    texts), its values bound at execution (:func:`name_parameters`): for a statement built once."""
    assert model.__tablename__ in SEARCHED_TABLES and shape, (model, shape)
    return _name_condition(model, shape, None)
