"""Engine, sessions and the declarative base shared by every part of the gateway."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, TypeVar
from weakref import WeakKeyDictionary

import orjson
from sqlalchemy import MetaData, Select, create_engine, event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

T = TypeVar("T")

# A pooled PostgreSQL connection idle for longer than this is checked (SELECT 1) before it is used
# again, and replaced, with every connection pooled before it, if the server dropped it.
PING_AFTER_IDLE_SECONDS = 2.0

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def where_equal(stmt: Select, args: Mapping[str, Any], columns: Mapping[str, Any]) -> Select:
    """``stmt`` narrowed by each list filter the query string gives: ``columns`` maps an argument
    to the column it must equal (an absent or empty argument does not filter)."""
    for name, column in columns.items():
        if args.get(name):
            stmt = stmt.where(column == args[name])
    return stmt


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    """``session`` as one write transaction: committed at the end, rolled back on any error, closed."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def dumps_json(value) -> str:
    """The JSON columns' serializer: orjson (non-string keys written as strings, as the standard
    library does); the standard library for what orjson refuses but it accepts, such as integers
    past 64 bits."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    except TypeError:
        return json.dumps(value)


def make_engine(url: str, **kwargs) -> Engine:
    kwargs.setdefault("json_serializer", dumps_json)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            # Let SQLAlchemy issue BEGIN itself so that BEGIN IMMEDIATE can be used for writers.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # psycopg prepares a statement run five times on a connection, and PostgreSQL then settles on
    # a generic plan, blind to the parameters: a name search's LIKE '%…%' and its characters'
    # array then read all of targets (about 0.4 s at a million rows instead of 15 ms). Every
    # execution is planned with its values, as an unprepared statement is (issue 20).
    # Set on connect, not through the ``options`` connect argument, which would replace the
    # ``options`` a deployment puts in its URL (a role, a search path).
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _plan_each_execution(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            cur.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_conn.commit()

    _ping_after_idle(engine)
    return engine


_unpooled: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def unpooled(engine: Engine) -> Engine:
    """An engine on ``engine``'s database, made as :func:`make_engine` makes it, whose connections
    bypass the pool: for a second connection that a transaction holding locks needs beside its
    own. Taken from the pool, it could wait for ever on connections held by requests that
    themselves wait for those locks (ten requests to run one draw at once did)."""
    found = _unpooled.get(engine)
    if found is None:
        found = _unpooled[engine] = make_engine(engine.url.render_as_string(hide_password=False), poolclass=NullPool)
    return found


def read_beside(session: Session, job: Callable[[Session], T]) -> Callable[[], T]:
    """Run ``job``, a read of committed rows that takes no lock, on a connection of its own (made
    outside the pool: :func:`unpooled`) in a thread, so that it runs while ``session`` goes on;
    return a function that waits for its result. Where the session is bound to a connection
    rather than an engine, or on SQLite (one writer, whose transaction a second connection would
    wait behind), ``job`` runs at once on ``session``."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        value = job(session)
        return lambda: value

    def read() -> T:
        with unpooled(bind).connect() as connection, Session(bind=connection) as apart:
            return job(apart)

    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-beside")
    future = executor.submit(read)
    executor.shutdown(wait=False)  # the thread ends with the job
    return future.result


def _ping_after_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for a connection idle in the pool for more than
    :data:`PING_AFTER_IDLE_SECONDS`. The ping is a round trip: on a public page of two or three
    short queries it was a third of the time (issue 20). A connection back in use within seconds
    was working seconds ago; if the server restarted in between, the statement fails once, as any
    statement in flight during the restart does, and the pool then replaces its connections."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record):
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_conn, record, _proxy):
        returned = record.info.get("returned_at")  # None: a new connection, not worth a ping
        if returned is None or time.monotonic() - returned <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.InvalidatePoolError(f"the server dropped an idle connection: {error}") from error


def connect_alive(engine: Engine) -> Connection:
    """A connection checked with a round trip, for one held for long (a sync pass) rather than one
    statement: a pooled connection back in use within :data:`PING_AFTER_IDLE_SECONDS` is not pinged
    on checkout, and a dead one would fail the whole pass. If the server dropped it, the pool
    replaces its connections and a fresh one is made."""
    conn = engine.connect()
    try:
        conn.exec_driver_sql("SELECT 1")
        conn.rollback()
        return conn
    except exc.DBAPIError as error:
        conn.close()
        if not error.connection_invalidated:
            raise
    return engine.connect()


def make_sessionmaker(engine: Engine, writer: bool = False) -> sessionmaker[Session]:
    """Sessions on ``engine``. A writer's transactions take SQLite's write lock at BEGIN
    (BEGIN IMMEDIATE), so concurrent writers queue instead of failing on lock upgrade."""
    if writer:
        engine = engine.execution_options(sqlite_immediate=True)
    return sessionmaker(engine, expire_on_commit=False)
