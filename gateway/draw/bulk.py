"""Writing a draw's tasks and team members in bulk, inside the draw's own transaction.

A draw of a large county writes tens of thousands of tasks and team members at once; these
helpers go through the driver (SQLite ``json_each``, PostgreSQL ``COPY``, its foreign keys checked
as a set where the role may, the drawn targets held by a guard rather than locked one by one:
:mod:`gateway.draw.foreign_keys`) instead of the ORM, and hand out
the new tasks' ids up front so that nothing has to be read back. A :class:`Worker` runs them in a
thread of their own, so that the database works while the draw goes on computing.
"""
from __future__ import annotations

import json
import operator
import sys
import threading
import time
from array import array
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, Sequence

import orjson
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from gateway.db import unpooled
from gateway.draw import foreign_keys, timing


def reserve_ids(connection: Connection, table: str, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``'s integer ``id``, ascending.

    PostgreSQL draws them from the column's sequence, as a plain INSERT would. SQLite allows one
    writer at a time and the caller's transaction already holds the write lock (the draw has
    updated its own row), so the ids after the current largest are free until it commits.
    """
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        # One array rather than ``count`` rows: the driver decodes it in one go. The sequence is
        # looked up once (an InitPlan), not once per id: that lookup cost ten times the nextval.
        return connection.exec_driver_sql(
            "SELECT array_agg(id ORDER BY id) FROM "
            "(SELECT nextval((SELECT pg_get_serial_sequence(%(table)s, 'id')::regclass)) AS id "
            "FROM generate_series(1, %(count)s)) AS s",
            {"table": table, "count": count},
        ).scalar_one()
    largest = connection.exec_driver_sql(f'SELECT coalesce(max(id), 0) FROM "{table}"').scalar_one()
    return list(range(largest + 1, largest + 1 + count))


def target_ids(connection: Connection, usccs: Sequence[str], lock: bool = False, probe: bool = False) -> dict[str, int]:
    """USCC -> target id for the given USCCs, in one query whatever their number.

    With ``lock``, PostgreSQL also locks the targets ``FOR KEY SHARE``, as a foreign key's check
    would, so that none can be deleted before the transaction ends (where the guard on ``targets``
    cannot stand in: :func:`foreign_keys.targets_guarded`).

    With ``probe``, PostgreSQL looks each code up in the index, in code order, however many there
    are; otherwise it chooses, and for more than about 1 % of the table it reads the whole table,
    which is cheaper once but not when the draw looks up each stratum's selection apart.
    """
    # A USCC never contains a comma: both databases join or split the codes on commas.
    if any("," in uscc for uscc in usccs):
        raise ValueError("统一社会信用代码不能包含逗号")
    if connection.dialect.name == "postgresql":
        # One text parameter split by the server: adapting a list of 10^5 strings costs the
        # driver more than the lookup costs the server.
        # Two arrays in one row: the driver decodes them in C, leaving the GIL to the draw.
        locking = " FOR KEY SHARE" if lock else ""
        query = (_PROBE.format(columns="array_agg(u.uscc ORDER BY u.n), ", lock=locking) if probe else
                 "SELECT array_agg(uscc), array_agg(id) FROM (SELECT uscc, id FROM targets "
                 "WHERE uscc = ANY(string_to_array(%s, ','))" + locking + ") AS found")
        found, ids = connection.exec_driver_sql(query, (",".join(usccs),)).one()
        return dict(zip(found or (), ids or ()))
    return _sqlite_target_ids(connection, usccs)


_PROBE = ("SELECT {columns}array_agg(t.id ORDER BY u.n) FROM "
          "(SELECT uscc, n FROM unnest(string_to_array(%s, ',')) WITH ORDINALITY AS codes(uscc, n) ORDER BY uscc) AS u "
          "CROSS JOIN LATERAL (SELECT id FROM targets WHERE targets.uscc = u.uscc OFFSET 0{lock}) AS t")
"""A lookup per code (OFFSET 0 keeps PostgreSQL from flattening the subquery into a join, which it
would run as a scan of the table), in code order (neighbouring index pages read in turn), the
results in the order asked."""


def ordered_target_ids(connection: Connection, usccs: Sequence[str], lock: bool = False) -> array:
    """The ids of the targets ``usccs`` names, in that order (:func:`target_ids` with ``probe``; on
    PostgreSQL put in order by the server, so that no map of the codes is built here). A code not
    found raises ``KeyError``."""
    text = ",".join(usccs)
    if connection.dialect.name == "postgresql" and text.count(",") == len(usccs) - 1:
        ids = connection.exec_driver_sql(_PROBE.format(columns="", lock=" FOR KEY SHARE" if lock else ""),
                                         (text,)).scalar_one()
        if len(ids or ()) == len(usccs):
            return array("q", ids or ())
    # A code not found (the server's lists are then short) or holding a comma: named by the map.
    return array("q", map(target_ids(connection, usccs, lock, probe=True).__getitem__, usccs))


def _sqlite_target_ids(connection: Connection, usccs: Sequence[str]) -> dict[str, int]:
    """:func:`target_ids` on SQLite: the codes and ids joined in one row (the two aggregates see
    the rows in the same order): a row per target cost the driver a step and a row object each,
    a third more time (0.36 s against 0.24 s for 69,397 codes at 1M targets)."""
    found, ids = connection.exec_driver_sql(
        "SELECT group_concat(uscc), group_concat(id) FROM targets WHERE uscc IN (SELECT value FROM json_each(?))",
        (json.dumps(list(usccs)),),
    ).one()
    if found is None:
        return {}
    return dict(zip(found.split(","), map(int, ids.split(","))))


def insert_rows(connection: Connection, table: str, columns: tuple[str, ...], rows: Sequence[tuple]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` through the driver."""
    if not rows:
        return
    dbapi_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        _copy(dbapi_connection, table, columns, rows)
    else:
        _insert_from_json(dbapi_connection, table, columns, rows)


BINARY_TYPES = {"smallint": "int2", "integer": "int4", "bigint": "int8", "boolean": "bool", "text": "text",
                "character varying": "text", "date": "date", "timestamp without time zone": "timestamp",
                "timestamp with time zone": "timestamptz", "json": "text"}
"""Column types :func:`_copy` sends in COPY's binary format, and as which type the driver dumps the
value: a ``json`` value goes as its text (the draw hands JSON text over; json's binary form is its
text), a ``varchar`` as text (the server still checks its length)."""


def _copy(dbapi_connection, table: str, columns: tuple[str, ...], rows: Sequence[tuple]) -> None:
    """COPY ``rows`` into ``table``: in the binary format where every column's type allows
    (:data:`BINARY_TYPES`), which the driver writes in C, without formatting each value as text
    while holding the GIL the draw computes with; else in the text format."""
    names = ", ".join(f'"{n}"' for n in columns)
    with dbapi_connection.cursor() as cursor:
        found = dict(cursor.execute(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", (f'"{table}"',)).fetchall())
        types = [BINARY_TYPES.get(found.get(name, "")) for name in columns]
        binary = all(types)
        with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN' + (" (FORMAT BINARY)" if binary else "")) as copy:
            if binary:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)


@lru_cache(maxsize=64)
def _sqlite_value(value):
    """Dates and times as SQLAlchemy stores them in SQLite, for :func:`_insert_from_json`. Memoised:
    a draw's rows repeat a few values (its time, the plan's window) hundreds of thousands of times,
    and formatting each anew took most of the serialisation (0.6 s of 150,000 member rows)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a bulk insert")


def _insert_from_json(dbapi_connection, table: str, columns: tuple[str, ...], rows: Sequence[tuple]) -> None:
    """One INSERT … SELECT over ``json_each`` of all the rows: a single statement step, during
    which SQLite runs without the GIL (``executemany`` would take it back after every row)."""
    names = ", ".join(f'"{n}"' for n in columns)
    values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
    text = orjson.dumps(rows, default=_sqlite_value, option=orjson.OPT_PASSTHROUGH_DATETIME).decode("utf-8")
    dbapi_connection.execute(f'INSERT INTO "{table}" ({names}) SELECT {values} FROM json_each(?)', (text,))


class IdSet:
    """A set of non-negative integer ids, as bitmaps of :data:`SPAN` ids each: the ids a draw has
    locked or inserted (a province's run, hundreds of thousands of targets and tasks) take about a
    bit each where a ``set`` takes some 70 bytes."""

    SPAN = 1024

    def __init__(self) -> None:
        self._maps: dict[int, bytearray] = {}

    def update(self, values: Iterable[int]) -> None:
        maps, span = self._maps, self.SPAN
        for value in values:
            if value < 0:
                raise ValueError(f"an id is not negative: {value}")
            bits = maps.get(value // span)
            if bits is None:
                bits = maps[value // span] = bytearray(span // 8)
            offset = value % span
            bits[offset >> 3] |= 1 << (offset & 7)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int) or value < 0:
            return False
        bits = self._maps.get(value // self.SPAN)
        offset = value % self.SPAN
        return bits is not None and bool(bits[offset >> 3] >> (offset & 7) & 1)


class Worker:
    """The session's connection, lent to one thread for the duration of :func:`working`.

    Jobs run there one at a time, in the order they were handed in, each in the caller's
    transaction. PostgreSQL works in its own process meanwhile and SQLite releases the GIL inside
    each statement step, so the caller goes on computing while the database inserts, checks and
    indexes. Until the block ends, nothing else may use the session or its connection.
    """

    def __init__(self, session: Session, key_checks: str = "auto", read_apart: bool = False) -> None:
        self.connection = session.connection()
        self.postgresql = self.connection.dialect.name == "postgresql"
        # Whether inserts check their foreign keys as a set (gateway.draw.foreign_keys).
        self.set_checks = foreign_keys.uses_set_checks(self.connection, key_checks)
        # Whether the drawn targets are held by the guard on ``targets`` rather than row locks;
        # None until the first lookup decides (and takes the guard).
        self._guarded: bool | None = None if self.set_checks else False
        self._keys: dict[str, list[foreign_keys.ReferencingKey] | None] = {}
        # (table, column) -> the values this transaction has already locked FOR KEY SHARE (or holds
        # by the guard on targets), or inserted (rows nobody else can see, so nobody can delete): a
        # set check need not lock them again.
        self._held: dict[tuple[str, str], IdSet] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="draw-db")
        self._jobs: list[Future] = []
        self._failed = False
        self._clock = timing.job_clock()  # the benchmark's: how long each kind of job keeps the database
        # Reads of committed rows that need no lock of this transaction's (:meth:`read`) go through
        # a connection of their own, so that they never wait in the queue of the writes: on
        # PostgreSQL, where keys are checked as a set, and only for a session on an engine (one
        # bound to a connection may hold uncommitted rows that another connection cannot see).
        bind = session.get_bind()
        self._engine: Engine | None = (bind if read_apart and self.set_checks and isinstance(bind, Engine)
                                       else None)
        self._reader: ThreadPoolExecutor | None = None
        self._reader_connection: Connection | None = None
        self._reads: list[Future] = []
        self._guard: Future | None = None  # the guard taken for lookups apart: whether targets must be locked
        self._reader_clock = timing.job_clock(timing.READER)

    def submit(self, job: Callable[..., Any], *args: Any) -> Future:
        """Run ``job(connection, *args)`` after the jobs before it; its result comes as a future."""
        future = self._executor.submit(self._run, job, args)
        self._jobs.append(future)
        return future

    @property
    def reads_apart(self) -> bool:
        """Whether :meth:`read` runs on a connection of its own, beside the writes."""
        return self._engine is not None

    def read(self, job: Callable[..., Any], *args: Any) -> Future:
        """Run ``job(connection, *args)``, a read of rows committed before the draw's transaction
        began that takes no lock, on the worker's reading connection where it has one (it then
        runs beside the writes, in the order reads were handed in), else as :meth:`submit`."""
        if not self.reads_apart:
            return self.submit(job, *args)
        if self._reader is None:
            self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="draw-read")
        future = self._reader.submit(self._run_read, job, args)
        self._reads.append(future)
        return future

    def _run_read(self, job: Callable[..., Any], args: tuple) -> Any:
        if self._failed:
            raise _Skipped
        if self._reader_connection is None:
            assert self._engine is not None
            self._reader_connection = unpooled(self._engine).connect().execution_options(isolation_level="AUTOCOMMIT")
        start = time.perf_counter()
        try:
            return job(self._reader_connection, *args)
        finally:
            if self._reader_clock is not None:
                self._reader_clock(self._job_kind(job, args), time.perf_counter() - start)

    def backlog(self, jobs: int) -> None:
        """Wait until at most ``jobs`` of the jobs handed in are still waiting or running: what a
        job holds (rows, a record part) stays in memory until it has run, so a caller that
        computes faster than the database writes bounds its memory by calling this after each
        batch of jobs."""
        pending = [future for future in self._jobs if not future.done()]
        if len(pending) > jobs:
            wait(pending[:len(pending) - jobs])

    def _run(self, job: Callable[..., Any], args: tuple) -> Any:
        if self._failed:
            raise _Skipped  # the transaction is lost after a failure: the caller raises the first error
        start = time.perf_counter()
        try:
            return job(self.connection, *args)
        except BaseException:
            self._failed = True
            raise
        finally:
            if self._clock is not None:
                self._clock(self._job_kind(job, args), time.perf_counter() - start)

    def _job_kind(self, job: Callable[..., Any], args: tuple) -> str:
        """A job's kind in the benchmark's timings: the table an insert writes, else the job's name."""
        if job in (insert_rows, self._insert_set_checked):
            return str(args[0])
        if job in (self._lookup_ids, self._lookup_targets, self._read_ids):
            return "lookups"
        return getattr(job, "__name__", type(job).__name__).lstrip("_")

    def lookup_targets(self, usccs: Sequence[str]) -> Future:
        """Queue :func:`target_ids`; where keys are checked as a set, the targets are held until
        the transaction ends by the guard on ``targets``, or else locked (:mod:`gateway.draw.foreign_keys`)."""
        return self.submit(self._lookup_targets, usccs)

    def lookup_ids(self, usccs: Sequence[str], probe: bool = False) -> Future:
        """:meth:`lookup_targets`, the result being the targets' ids in the order of ``usccs``
        (an array: a province's drawn targets are not held as a map). A code not found raises
        ``KeyError``. ``probe``: see :func:`target_ids`. Probes go through the reading connection
        where the guard holds the targets (:meth:`read`)."""
        if probe and self.reads_apart:
            if self._guard is None:
                self._guard = self.submit(self._hold_targets)
            return self.read(self._read_ids, usccs)
        return self.submit(self._lookup_ids, usccs, probe)

    def _read_ids(self, connection: Connection, usccs: Sequence[str]) -> array:
        """:meth:`lookup_ids` on the reading connection, once this transaction holds the guard on
        ``targets``; where it cannot, and must lock each target, on the draw's own connection."""
        assert self._guard is not None
        if self._guard.result():
            return self.submit(self._lookup_ids, usccs, True).result()
        ids = ordered_target_ids(connection, usccs)
        self._note_held_targets(ids)
        return ids

    def _lookup_ids(self, connection: Connection, usccs: Sequence[str], probe: bool) -> array:
        if not probe:
            return array("q", map(self._lookup_targets(connection, usccs).__getitem__, usccs))
        ids = ordered_target_ids(connection, usccs, self._hold_targets(connection))
        self._note_held_targets(ids)
        return ids

    def _hold_targets(self, connection: Connection) -> bool:
        """Take the guard on ``targets`` at the first lookup where it stands; return whether the
        lookups must lock the targets they find instead."""
        if self._guarded is None:
            self._guarded = foreign_keys.targets_guarded(connection)
            if self._guarded:
                foreign_keys.hold_targets_guard(connection)
        return self.set_checks and not self._guarded

    def _note_held_targets(self, ids: Iterable[int]) -> None:
        if self.set_checks:
            self._held.setdefault(("targets", "id"), IdSet()).update(ids)

    def _lookup_targets(self, connection: Connection, usccs: Sequence[str]) -> dict[str, int]:
        found = target_ids(connection, usccs, self._hold_targets(connection))
        self._note_held_targets(found.values())
        return found

    def insert(self, table: str, columns: tuple[str, ...], rows: Sequence[tuple], *,
               sort_by: str | None = None) -> Future:
        """Queue :func:`insert_rows`, or where the worker checks keys as a set (PostgreSQL, see
        :mod:`gateway.draw.foreign_keys`), :func:`foreign_keys.copy_checked`.

        ``sort_by`` names a foreign-key column: when PostgreSQL checks keys row by row, it then
        gets the rows in that column's order, so that its checks visit the referenced table's
        pages in order instead of at random. (SQLite gets them as given: there the primary key
        order is best.)
        """
        if self.set_checks:
            return self.submit(self._insert_set_checked, table, columns, rows)
        if self.postgresql and sort_by is not None:
            rows = sorted(rows, key=operator.itemgetter(columns.index(sort_by)))
        return self.submit(insert_rows, table, columns, rows)

    def _insert_set_checked(self, connection: Connection, table: str, columns: tuple[str, ...],
                            rows: Sequence[tuple]) -> None:
        if table not in self._keys:
            self._keys[table] = foreign_keys.set_checkable_keys(connection, table)
        keys = self._keys[table]
        if keys is None or not foreign_keys.covers(keys, columns):
            insert_rows(connection, table, columns, rows)
        elif rows:
            foreign_keys.copy_checked(connection, table, columns, rows, keys, _copy, self._held)
            if "id" in columns:
                position = columns.index("id")
                self._held.setdefault((table, "id"), IdSet()).update(row[position] for row in rows)

    def finish(self) -> None:
        """Wait for every job; raise the first job's error, if any."""
        self.stop()
        for future in [*self._jobs, *self._reads]:
            error = future.exception()
            if error is not None and not isinstance(error, _Skipped):
                raise error

    def stop(self) -> None:
        """Wait for the jobs handed in and let the reading connection go. The reads first: a
        lookup that must lock its targets hands itself to the writer."""
        if self._reader is not None:
            self._reader.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        if self._reader_connection is not None:
            self._reader_connection.close()
            self._reader_connection = None


class _Skipped(Exception):
    """A job not run because an earlier one failed."""


SWITCH_INTERVAL = 0.0005
"""Seconds between the interpreter's thread switches while a worker runs (Python's default: 0.005)."""

_switching_lock = threading.Lock()
_switching: list[float] = []  # the interval before the first worker still running, once per worker


@contextmanager
def quick_switching() -> Iterator[None]:
    """Switch threads every :data:`SWITCH_INTERVAL` for the block. The worker's thread needs the
    GIL to hand each batch of rows to the driver, and at the default interval it waited up to 5 ms
    for the draw's computing thread after every send while the database sat idle: at 1M targets
    the worker's jobs took 10-15 % longer. The interval is the process's: the last block to end
    restores the one found by the first."""
    with _switching_lock:
        _switching.append(sys.getswitchinterval())
        sys.setswitchinterval(min(SWITCH_INTERVAL, _switching[0]))
    try:
        yield
    finally:
        with _switching_lock:
            before = _switching.pop()
            if not _switching:
                sys.setswitchinterval(before)


@contextmanager
def working(session: Session, key_checks: str = "auto", read_apart: bool = False) -> Iterator[Worker]:
    """A :class:`Worker` for the block (``read_apart``: with a reading connection, see
    :meth:`Worker.read`). Leaving it waits for every job; a job's error is raised then (unless the
    block raised its own), so the caller's transaction never commits half the rows."""
    worker = Worker(session, key_checks, read_apart)
    with quick_switching():
        try:
            yield worker
        except BaseException:
            worker._failed = True  # nothing more is run: the transaction is rolled back
            worker.stop()
            raise
        worker.finish()
