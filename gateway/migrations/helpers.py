"""What the migrations repeat, said once: a table with its primary key, foreign keys, unique
constraints and indexes; columns by kind (``*strings(name=200)``, ``*flags("active")``), with who
did something and when (``*by_at("recorded")``); columns added to or dropped from a table; the
PostgreSQL-only storage settings.

Constraint names come from the metadata's naming convention (``gateway.db.NAMING_CONVENTION``),
which alembic applies to the operations as it does to the models: ``pk_<table>``,
``fk_<table>_<column>_<referred table>``, ``uq_<table>_<first column>``. An index given by its
column is named ``ix_<table>_<column>``, as the models' ``index=True`` names it.

A migration's history must not change once it has run somewhere: a change here must leave every
migration's schema as it was (compare a fresh upgrade's ``pg_dump -s`` and SQLite ``sqlite_master``,
constraints within a table in any order: a batch copy writes them in an order that varies between
runs). tests/migrations checks that every downgrade undoes its upgrade.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import sqlalchemy as sa
from alembic import op

# An index: a column (``ix_<table>_<column>``), or a name and its columns.
Index = str | tuple[str, Sequence[str]]


def id_column() -> sa.Column:
    """The integer ``id`` column of a table keyed by it."""
    return sa.Column("id", sa.Integer(), nullable=False)


def ref(name: str, target: str | None = None, *, nullable: bool = False, ondelete: str | None = None) -> sa.Column:
    """An integer column holding another row's id (``task_id``); with ``target`` (``"tasks.id"``)
    also its foreign key, which :func:`create_table` adds (``ondelete`` as ``"CASCADE"``)."""
    column = sa.Column(name, sa.Integer(), nullable=nullable)
    if target:
        column.info["references"] = (target, {"ondelete": ondelete} if ondelete else {})
    return column


def refs(**targets: str) -> list[sa.Column]:
    """Several required :func:`ref` columns with their foreign keys, in the order given:
    ``*refs(task_id="tasks.id", member_id="task_members.id")``."""
    return [ref(name, target) for name, target in targets.items()]


def department_code(name: str = "department_code", *, nullable: bool = False, fk: bool = False) -> sa.Column:
    """A department's code; with ``fk``, a foreign key to ``departments.code`` (see :func:`ref`)."""
    column = sa.Column(name, sa.String(length=64), nullable=nullable)
    if fk:
        column.info["references"] = ("departments.code", {})
    return column


def uscc(nullable: bool = False) -> sa.Column:
    """The 18-character unified social credit code (统一社会信用代码)."""
    return sa.Column("uscc", sa.String(length=18), nullable=nullable)


def actor(name: str, *, nullable: bool = False) -> sa.Column:
    """Who did something (``recorded_by``): a principal's display form, up to 200 characters."""
    return sa.Column(name, sa.String(length=200), nullable=nullable)


def status(name: str = "status") -> sa.Column:
    """A workflow state (``recorded``, ``published``, …)."""
    return sa.Column(name, sa.String(length=16), nullable=False)


def at(name: str, *, nullable: bool = False) -> sa.Column:
    """A moment (``created_at``), stored as naive UTC."""
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def timestamps() -> tuple[sa.Column, sa.Column]:
    """``created_at`` and ``updated_at``, both required."""
    return at("created_at"), at("updated_at")


def by_at(verb: str, *, pending: bool = False, nullable: bool = False) -> list[sa.Column]:
    """Who did ``verb`` and when: ``<verb>_by`` (:func:`actor`), then ``<verb>_at`` (:func:`at`).

    ``pending``: the act may not have happened yet; the moment is NULL until it does, the actor an
    empty string. ``nullable``: both are NULL until it does."""
    return [actor(f"{verb}_by", nullable=nullable), at(f"{verb}_at", nullable=nullable or pending)]


def at_by(verb: str, *, pending: bool = False, nullable: bool = False) -> list[sa.Column]:
    """:func:`by_at` with the moment first: ``<verb>_at``, then ``<verb>_by``."""
    return by_at(verb, pending=pending, nullable=nullable)[::-1]


def _kind(type_: Callable[[], sa.types.TypeEngine], doc: str) -> Callable[..., list[sa.Column]]:
    def columns(*names: str, nullable: bool = False, **column) -> list[sa.Column]:
        return [sa.Column(name, type_(), nullable=nullable, **column) for name in names]

    columns.__doc__ = f"{doc}, one for each of ``names`` in that order; ``column`` as ``server_default``."
    return columns


# Columns of one kind: ``*flags("active", "current")``.
texts = _kind(sa.Text, "Unbounded text columns (notes, reasons, descriptions)")
integers = _kind(sa.Integer, "Integer columns holding numbers, not other rows' ids (those are :func:`ref`)")
flags = _kind(sa.Boolean, "Boolean columns")
dates = _kind(sa.Date, "Calendar dates, without a time of day")
jsons = _kind(sa.JSON, "JSON documents")
blobs = _kind(sa.LargeBinary, "Bytes (gzip-compressed bodies)")
floats = _kind(sa.Float, "Floating-point numbers (coordinates)")


def strings(*, nullable: bool = False, server_default: str | None = None, **lengths: int) -> list[sa.Column]:
    """``VARCHAR`` columns, one for each name in ``lengths`` (its maximum length), in that order:
    ``*strings(name=200, type=32)``."""
    return [sa.Column(name, sa.String(length=length), nullable=nullable, server_default=server_default)
            for name, length in lengths.items()]


def create_table(name: str, *columns: sa.Column, key: Sequence[str] | None = None,
                 unique: Iterable[str | Sequence[str]] = (), indexes: Iterable[Index] = ()) -> None:
    """``op.create_table`` with ``columns``, their foreign keys (:func:`ref`), the ``unique``
    constraints (a column, or several), the primary key, then the ``indexes``.

    The key is an integer ``id`` column, put first, unless ``key`` names the columns of another.
    The foreign keys come in the order of their columns' names, as autogenerate wrote them: on
    SQLite the order in which constraints are created is the order of the CREATE TABLE text."""
    leading = (id_column(),) if key is None else ()
    keyed = sorted((column for column in columns if "references" in column.info), key=lambda column: column.name)
    foreign = [sa.ForeignKeyConstraint([column.name], [column.info["references"][0]], **column.info["references"][1])
               for column in keyed]
    uniques = [sa.UniqueConstraint(*([names] if isinstance(names, str) else names)) for names in unique]
    op.create_table(name, *leading, *columns, *foreign, *uniques, sa.PrimaryKeyConstraint(*(key or ["id"])))
    create_indexes(name, *indexes)


def create_indexes(table: str, *indexes: Index) -> None:
    """Create ``indexes`` (see :data:`Index`) on ``table``, none of them unique."""
    # In a batch, as autogenerate wrote them: on SQLite a later batch that copies the table
    # recreates its indexes in the order this gives them.
    if not indexes:
        return
    with op.batch_alter_table(table) as batch:
        for index in indexes:
            if isinstance(index, str):
                batch.create_index(batch.f(f"ix_{table}_{index}"), [index], unique=False)
            else:
                name, columns = index
                batch.create_index(name, list(columns), unique=False)


def drop_tables(*names: str) -> None:
    """Drop tables in the order given (dependants first); their indexes go with them."""
    for name in names:
        op.drop_table(name)


def add_columns(table: str, *columns: sa.Column, batch: bool = True) -> None:
    """Add ``columns`` to ``table`` in the order given: in a batch (on SQLite a copy of the table), or
    with ``batch=False`` as plain ``ADD COLUMN`` (for a table other tables' rows refer to, which
    SQLite refuses to drop and recreate)."""
    _alter_each(table, "add_column", columns, batch)


def drop_columns(table: str, *names: str, batch: bool = True) -> None:
    """Drop the columns ``names`` of ``table`` in the order given; ``batch`` as in :func:`add_columns`
    (plain ``DROP COLUMN`` needs SQLite 3.35+)."""
    _alter_each(table, "drop_column", names, batch)


def _alter_each(table: str, method: str, items: Sequence, batch: bool) -> None:
    if not batch:
        for item in items:
            getattr(op, method)(table, item)
        return
    with op.batch_alter_table(table) as alter:
        for item in items:
            getattr(alter, method)(item)


def on_postgresql() -> bool:
    """Whether the migration runs on PostgreSQL (the other database being SQLite)."""
    return op.get_bind().dialect.name == "postgresql"


def lz4_available() -> bool:
    """Whether this is a PostgreSQL (14+) that can compress TOAST values with lz4."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or bind.dialect.server_version_info < (14,):
        return False
    values = bind.exec_driver_sql(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'").scalar()
    return bool(values) and "lz4" in values


def store_external(table: str, column: str) -> None:
    """On PostgreSQL, store ``column`` out of line uncompressed: its values are gzip-compressed
    already, and PostgreSQL need not try again. SQLite has no such setting."""
    if on_postgresql():
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL")
