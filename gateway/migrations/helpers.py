"""What the migrations repeat, said once: a table with an integer ``id`` primary key, its
timestamps, its foreign keys and indexes.

Constraint names come from the metadata's naming convention (``gateway.db.NAMING_CONVENTION``),
which alembic applies to the operations as it does to the models: ``pk_<table>``,
``fk_<table>_<column>_<referred table>``, ``uq_<table>_<first column>``. An index given by its
column is named ``ix_<table>_<column>``, as the models' ``index=True`` names it.

A migration's history must not change once it has run somewhere: a change here must leave every
migration's schema as it was (compare a fresh upgrade's ``pg_dump -s`` and SQLite ``.schema``).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from alembic import op

# An index: a column (``ix_<table>_<column>``), or a name and its columns.
Index = str | tuple[str, Sequence[str]]


def id_column() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def ref(name: str, *, nullable: bool = False) -> sa.Column:
    """An integer column holding another row's id (``task_id``); its foreign key, if any, is a
    :func:`references` of the table."""
    return sa.Column(name, sa.Integer(), nullable=nullable)


def department_code(name: str = "department_code", *, nullable: bool = False) -> sa.Column:
    """A department's code (``departments.code``)."""
    return sa.Column(name, sa.String(length=64), nullable=nullable)


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


def references(column: str, target: str, **kwargs) -> sa.ForeignKeyConstraint:
    """A foreign key from ``column`` to ``target`` (``"table.column"``); ``kwargs`` as ``ondelete``."""
    return sa.ForeignKeyConstraint([column], [target], **kwargs)


def create_table(name: str, *elements: sa.schema.SchemaItem, indexes: Iterable[Index] = ()) -> None:
    """``op.create_table`` with an ``id`` primary key first, then its ``indexes``."""
    op.create_table(name, id_column(), *elements, sa.PrimaryKeyConstraint("id"))
    create_indexes(name, *indexes)


def create_indexes(table: str, *indexes: Index) -> None:
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
