"""Checking a bulk insert's foreign keys as one set on PostgreSQL.

PostgreSQL checks a foreign key one inserted row at a time: a trigger per row runs a query that
finds the referenced row and locks it ``FOR KEY SHARE``, so that nobody deletes it or changes its
key before the inserting transaction ends. A draw inserts some 30,000 tasks and 70,000 team
members at once, three keys each: those checks take about two thirds of the time the database
spends on the draw.

:func:`copy_checked` does the same work as a set. For each foreign key of the table (read from
the catalogue, never assumed), it locks every referenced row the rows name, in one query, ``FOR
KEY SHARE`` as the trigger would, and refuses the insert, naming the constraint and the value, if
one is missing. Then it copies the rows with the per-row triggers off for that one statement
(``session_replication_role = replica``, local to the transaction and set back straight after).
Every constraint stays declared and checked by PostgreSQL for every other write.

The drawn targets (some 70,000 at a million targets) are not locked row by row: that wrote
nearly every page of ``targets`` again and was the longest wait on the draw's path. Migration
0034_targets_delete_guard makes every DELETE on ``targets`` and every UPDATE that sets its ``id``
(the column the foreign keys refer to) take an exclusive advisory lock first, statement by
statement; the draw takes it shared (:func:`hold_targets_guard`) before it looks its targets up,
so a delete or re-key under way finishes first and its result is seen, and later ones wait until
the draw ends. Draws share the lock; other updates of targets never take it. Where the guard is
missing or disabled, or the transaction is not READ COMMITTED, the drawn targets are locked ``FOR
KEY SHARE`` as before (:func:`targets_guarded`). A TRUNCATE waits for the draw's table lock.

It applies only where nothing is lost: the role may set ``session_replication_role`` (superuser,
or ``GRANT SET ON PARAMETER session_replication_role`` on PostgreSQL 15+: a role that owns the
tables could drop their constraints anyway); the only triggers that fire on the table's inserts
are its foreign keys' checks; and every foreign key is a single column referring to another table.
Otherwise the rows go in with the per-row triggers, with the same result.
"""
from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass

from psycopg import errors
from sqlalchemy.engine import Connection

from gateway.draw.pgsettings import local_setting

_INSERT = 4  # TRIGGER_TYPE_INSERT in pg_trigger.tgtype


@dataclass(frozen=True)
class ReferencingKey:
    name: str
    column: str
    referred_table: str  # as regclass prints it: quoted where needed
    referred_column: str


def may_switch_triggers(connection: Connection) -> bool:
    """Whether this connection's role may set ``session_replication_role``."""
    if connection.dialect.name != "postgresql":
        return False
    superuser = connection.exec_driver_sql("SELECT current_setting('is_superuser') = 'on'").scalar_one()
    if superuser:
        return True
    if connection.connection.dbapi_connection.info.server_version < 150000:
        return False
    return connection.exec_driver_sql(
        "SELECT has_parameter_privilege('session_replication_role', 'SET')").scalar_one()


def uses_set_checks(connection: Connection, mode: str) -> bool:
    """Whether bulk inserts on ``connection`` check keys as a set, given the ``draw_key_checks``
    setting (``auto`` or ``row``)."""
    return mode == "auto" and may_switch_triggers(connection)


def targets_guarded(connection: Connection) -> bool:
    """Whether this transaction may rely on the guard on ``targets`` (migration
    0034_targets_delete_guard) instead of locking the targets it refers to: the guard's trigger is
    installed and enabled, and the transaction reads committed data afresh at each statement (a
    snapshot taken before the shared lock was granted could still show a target deleted since)."""
    return connection.exec_driver_sql(
        "SELECT current_setting('transaction_isolation') = 'read committed' AND EXISTS ("
        "SELECT FROM pg_trigger WHERE tgrelid = 'targets'::regclass "
        "AND tgfoid = to_regproc('targets_keys_guard') AND tgenabled IN ('O', 'A'))"
    ).scalar_one()


def hold_targets_guard(connection: Connection) -> None:
    """Take the guard on ``targets`` shared until the transaction ends: a delete or re-key already
    under way is waited for (its result then seen by the next statement), later ones wait."""
    connection.exec_driver_sql("SELECT targets_keys_hold()")


def set_checkable_keys(connection: Connection, table: str) -> list[ReferencingKey] | None:
    """``table``'s foreign keys, if :func:`copy_checked` can check them all as a set; else None
    (another trigger fires on its inserts, or a key has several columns or refers to the table)."""
    key_checks, other_triggers = connection.exec_driver_sql(
        "SELECT count(*) FILTER (WHERE tgfoid = '\"RI_FKey_check_ins\"'::regproc), "
        "       count(*) FILTER (WHERE tgfoid <> '\"RI_FKey_check_ins\"'::regproc) "
        "FROM pg_trigger WHERE tgrelid = %(table)s::regclass AND tgtype & %(insert)s <> 0 AND tgenabled <> 'D'",
        {"table": f'"{table}"', "insert": _INSERT},
    ).one()
    rows = connection.exec_driver_sql(
        "SELECT c.conname, a.attname, c.confrelid::regclass::text, fa.attname, "
        "       cardinality(c.conkey), c.confrelid = c.conrelid "
        "FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND c.conrelid = %(table)s::regclass ORDER BY c.conname",
        {"table": f'"{table}"'},
    ).all()
    if other_triggers or key_checks != len(rows):
        return None
    if any(columns != 1 or itself for *_, columns, itself in rows):
        return None
    return [ReferencingKey(name, column, referred, referred_column)
            for name, column, referred, referred_column, _, _ in rows]


def lock_referenced(connection: Connection, table: str, key: ReferencingKey, values: set) -> None:
    """Lock the rows ``values`` refer to ``FOR KEY SHARE``; raise if one does not exist."""
    if not values:
        return
    column = connection.dialect.identifier_preparer.quote(key.referred_column)
    found = connection.exec_driver_sql(
        f"SELECT array_agg(k) FROM (SELECT {column} AS k FROM ONLY {key.referred_table} "
        f"WHERE {column} = ANY(%(values)s) FOR KEY SHARE) AS locked",
        {"values": sorted(values)},
    ).scalar_one()
    missing = values.difference(found or ())
    if missing:
        value = min(missing)
        raise errors.ForeignKeyViolation(
            f'insert or update on table "{table}" violates foreign key constraint "{key.name}": '
            f"Key ({key.column})=({value}) is not present in table {key.referred_table}."
        )


def copy_checked(connection: Connection, table: str, columns: tuple[str, ...], rows: Sequence[tuple],
                 keys: list[ReferencingKey], copy, held: Mapping[tuple[str, str], Container] | None = None) -> None:
    """Lock and check every row's references as a set, then ``copy(...)`` without the per-row
    checks. ``columns`` must hold every key's column (see :func:`covers`). ``held`` maps (table,
    column) to values this transaction already holds: rows it locked ``FOR KEY SHARE`` or inserted
    itself (which no other transaction sees, so none can delete); they are neither read nor locked
    again."""
    held = held or {}
    for key in keys:
        position = columns.index(key.column)
        values = {row[position] for row in rows if row[position] is not None}
        known = held.get((key.referred_table, key.referred_column), ())
        lock_referenced(connection, table, key, {v for v in values if v not in known})
    with local_setting(connection, "session_replication_role", "replica"):
        copy(connection.connection.dbapi_connection, table, columns, rows)


def covers(keys: list[ReferencingKey], columns: tuple[str, ...]) -> bool:
    """Whether the rows give every key's column (a column left out would get its default unchecked)."""
    return all(key.column in columns for key in keys)
