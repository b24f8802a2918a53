"""The sync worker: claim due outbox rows with a lease, push them in signed batches, record the
platform's answer per record, and keep retries in the rows.

How nothing is lost and nothing is published twice
--------------------------------------------------
* A row is claimed in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers on
  several machines take disjoint rows; SQLite allows one worker, see :meth:`Worker.register`). The
  claim writes the lease (owner, expiry), the attempt, the payload snapshot (built once from the
  published entity) and the batch's ``Idempotency-Key`` into the rows, then commits; the HTTP
  request runs outside any transaction.
* A worker killed at any moment leaves its rows ``in_flight`` with a lease that expires; any worker
  then claims them again. Because the batch key stays in the rows until the platform answers, the
  same rows are resent as the same batch, byte for byte, under the same key: the platform replays its
  first answer. Record ids are the platform's de-duplication key besides, so even a batch composed
  differently comes back ``duplicate`` for what was already stored, and ``duplicate`` counts as
  delivered.
* Timeouts, dropped connections, 429, 5xx and 401 leave the batch together, its key kept, due again
  after an exponential full-jitter backoff (or the platform's ``Retry-After``, capped). Nothing is
  ever given up for being unreachable: the deadline alert (``gateway.sync.status``) tells operators.
* A record the platform rejects goes to the dead-letter state with the platform's field errors; the
  other records of its batch are delivered as usual.
* Finishing a batch only touches rows this worker still holds (lease owner and state checked under
  the row lock): a worker that lost its lease to another cannot overwrite that worker's outcome.
"""
from __future__ import annotations

import hashlib
import logging
import os
import random
import secrets
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterator

from sqlalchemy import (
    Connection,
    DateTime,
    Integer,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, psycopg
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, aliased

from gateway.core import Gateway
from gateway.db import committing, connect_alive, dumps_json, utcnow
from gateway.security import audit
from gateway.security.principal import SYSTEM
from gateway.sync import client as platform
from gateway.sync.backoff import Backoff
from gateway.sync.client import PlatformClient, PushAnswer, batch_body
from gateway.sync.models import RECORD_KINDS, OutboxRecord, SyncWorker
from gateway.sync.records import PLATFORM_KINDS, BuildError, build_many
from gateway.sync.status import deadline_alert
from schemas.platform import MAX_BATCH_RECORDS

log = logging.getLogger("gateway.sync")

OUTBOX = OutboxRecord.__table__
# A wholly delivered batch finished in one statement (PostgreSQL): only the rows still held. The
# rows' ids and the platform's results go as two JSON texts, paired by position, and the receipts
# are built by the server (a hundred receipts as a text array would be quoted element by element,
# character by character, by the driver; built as dicts and serialised here, they were a fifth of
# a worker's CPU). One row comes back: how many rows were finished, and how many of them were
# duplicates.
FINISH_DELIVERED = text(
    "WITH done AS (UPDATE outbox SET state = 'delivered', "
    "receipt = json_build_object('receipt', v.result -> 'receipt', 'outcome', v.result -> 'outcome', "
    "'batch_id', CAST(:batch_id AS JSON), 'received_at', CAST(:received_at AS JSON), 'replayed', :replayed), "
    "last_outcome = v.result ->> 'outcome', delivered_at = :now, last_error = '', field_errors = NULL, "
    "lease_owner = NULL, lease_expires_at = NULL, batch_key = NULL "
    "FROM ROWS FROM (json_array_elements_text(CAST(:ids AS JSON)), json_array_elements(CAST(:results AS JSON))) "
    "AS v(id, result) "
    "WHERE outbox.id = CAST(v.id AS INTEGER) AND outbox.lease_owner = :owner AND outbox.state = 'in_flight' "
    "RETURNING v.result ->> 'outcome' AS outcome) "
    "SELECT count(*), count(*) FILTER (WHERE outcome = 'duplicate') FROM done"
).bindparams(bindparam("now", type_=DateTime()))
DELIVERED = ("accepted", "duplicate")


def _due(kind, as_of):
    """Rows of ``kind`` due as of ``as_of``: pending and due, or in flight under an expired lease."""
    return and_(
        OutboxRecord.kind == kind,
        or_(
            and_(OutboxRecord.state == "pending", OutboxRecord.next_attempt_at <= as_of),
            and_(OutboxRecord.state == "in_flight", OutboxRecord.lease_expires_at <= as_of),
        ),
    )


def _head_of_its_batch():
    """A row that carries no batch key, or the first (lowest id) waiting row of its batch.

    A batch that never got its answer is claimed only through its first row: the worker that
    locks that row takes the whole batch, and the other workers pass over its other rows, so
    two workers never split a batch between them (a split would send two smaller batches)."""
    other = aliased(OutboxRecord)
    return or_(
        OutboxRecord.batch_key.is_(None),
        ~exists().where(other.batch_key == OutboxRecord.batch_key, other.id < OutboxRecord.id,
                        other.state.in_(("pending", "in_flight"))),
    )


def _claim_select(where, limit=None):
    """The claim's SELECT: the rows' plain values, in id order, locked, skipping locked rows."""
    stmt = (
        select(OutboxRecord.id, OutboxRecord.record_id, OutboxRecord.entity_id, OutboxRecord.payload,
               OutboxRecord.generation, OutboxRecord.batch_key, OutboxRecord.attempts)
        .where(where)
        .order_by(OutboxRecord.id)
        .with_for_update(skip_locked=True, of=OutboxRecord)
    )
    return stmt if limit is None else stmt.limit(limit)


class DriverStatement:
    """A Core statement built once and, on PostgreSQL, compiled once and run on the driver's own
    cursor as a prepared statement: for the claim's two statements SQLAlchemy's execution layer
    (parameters, result rows) cost about as much of the worker's CPU as psycopg's work.
    ``names``: the statement's parameters given at each run; its other bound values are constants.
    On SQLite the statement runs through SQLAlchemy."""

    def __init__(self, statement, *names: str):
        self.statement = statement
        expanded = statement.compile(dialect=psycopg.dialect()).construct_expanded_state(dict.fromkeys(names))
        self.sql = expanded.statement
        self.constants = {key: value for key, value in expanded.parameters.items() if key not in names}

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[tuple]:
        if conn.dialect.name != "postgresql":
            result = conn.execute(self.statement, params)
            return [tuple(row) for row in result] if result.returns_rows else []
        driver = conn.connection.driver_connection
        try:
            with driver.cursor() as cursor:
                cursor.execute(self.sql, {**self.constants, **params}, prepare=True)
                return cursor.fetchall() if cursor.description is not None else []
        except conn.dialect.loaded_dbapi.Error as error:
            # As SQLAlchemy's own execution would: a lost connection is invalidated (the pool makes
            # a new one) and the error raised as SQLAlchemy's, which the worker's loop retries.
            lost = conn.dialect.is_disconnect(error, driver, None)
            if lost:
                conn.invalidate(error)
            raise DBAPIError.instance(self.sql, params, error, conn.dialect.loaded_dbapi.Error,
                                      connection_invalidated=lost, dialect=conn.dialect) from error


def id_array(ids: list[int]) -> str:
    """PostgreSQL's text form of an integer array: psycopg dumping a list of ints looks at every
    element to choose the array's type, which cost as much as the statement it was for."""
    return "{" + ",".join(map(str, ids)) + "}"


# Every claim's first SELECT, built once (building it, with its aliased subquery, cost more of the
# worker's CPU than running it): parameters kind, as_of, after (ids above it only) and limit.
CLAIM_FIRST = DriverStatement(
    _claim_select(and_(_due(bindparam("kind"), bindparam("as_of", type_=DateTime())),
                       OutboxRecord.id > bindparam("after", type_=Integer()), _head_of_its_batch()),
                  limit=bindparam("limit", type_=Integer())),
    "kind", "as_of", "after", "limit")
# The claim's lease on rows whose payload was already built: the ids as one array parameter on
# PostgreSQL, in its text form (:func:`id_array`; no hundred values rendered into the statement
# and parsed each time), a list on SQLite.
_LEASE_VALUES = dict(state="in_flight", attempts=OUTBOX.c.attempts + 1, lease_owner=bindparam("owner"),
                     lease_expires_at=bindparam("expires", type_=DateTime()),
                     last_attempt_at=bindparam("now", type_=DateTime()), batch_key=bindparam("key"))
_LEASE_NAMES = ("ids", "owner", "expires", "now", "key")
LEASE = {
    "postgresql": DriverStatement(
        update(OUTBOX).where(OUTBOX.c.id == any_(cast(bindparam("ids", type_=Text()), ARRAY(Integer))))
        .values(**_LEASE_VALUES), *_LEASE_NAMES),
    "sqlite": DriverStatement(
        update(OUTBOX).where(OUTBOX.c.id.in_(bindparam("ids", expanding=True))).values(**_LEASE_VALUES), *_LEASE_NAMES),
}


def _rows_update():
    """An UPDATE of outbox rows by id. The worker holds no ORM objects of them, so the session has
    nothing to synchronise: no RETURNING of the ids (or SELECT beforehand) to do that."""
    return update(OutboxRecord).execution_options(synchronize_session=False)


class SingleWorkerError(RuntimeError):
    """A second worker on SQLite, or a worker whose registration another process took over."""


@dataclass
class Tally:
    """What one batch, pass or worker did."""

    batches: int = 0
    claimed: int = 0
    delivered: int = 0
    duplicates: int = 0
    dead: int = 0
    retried: int = 0
    lost_leases: int = 0
    replayed: int = 0

    def add(self, other: "Tally") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class Batch:
    kind: str
    key: str
    body: bytes
    ids: list[int]
    record_ids: list[str]
    resend: bool = False
    dead_on_claim: int = 0


@dataclass
class _Claimed:
    """A row as the claim reads it (plain values: the claim's transaction is over when we send)."""

    id: int
    record_id: str
    entity_id: int
    payload: dict[str, Any] | None
    generation: int
    batch_key: str | None
    attempts: int


def batch_key(area_code: str, kind: str, body: bytes, generations: list[int]) -> str:
    """The Idempotency-Key of a batch: a digest of its exact bytes and its rows' generations.

    The same rows with the same content give the same key (so a lost answer is replayed), and an
    operator's deliberate resend (a new generation) gives a new key (so it is processed afresh)."""
    digest = hashlib.sha256(body + b"\n" + ",".join(map(str, generations)).encode()).hexdigest()
    return f"{area_code}-{kind}-{digest[:40]}"


def _by_columns(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Parameter sets grouped by their keys (an executemany needs the same columns in each)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Worker:
    """One sync worker process (or, in tests, one object standing for it)."""

    def __init__(
        self,
        gateway: Gateway,
        client: PlatformClient | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        name: str | None = None,
        batch_size: int | None = None,
        today: Callable[[], date] | None = None,
    ):
        self.gateway = gateway
        self.settings = settings = gateway.settings
        self.client = client or PlatformClient.from_settings(settings)
        self.clock = clock
        self.rng = rng or random.Random()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.name = name or f"{self.host}:{self.pid}:{secrets.token_hex(3)}"
        self.batch_size = max(1, min(batch_size or settings.sync_batch_size, MAX_BATCH_RECORDS))
        self.max_body_bytes = settings.sync_max_body_bytes
        self.lease = timedelta(seconds=settings.sync_lease_seconds)
        self.backoff = Backoff(settings.sync_backoff_base, settings.sync_backoff_max, settings.sync_retry_after_max)
        self.today = today
        self.stop_event = threading.Event()
        self.registered = False
        self.totals = Tally()
        self._last_heartbeat: datetime | None = None
        self._last_alert: tuple[str, str] | None = None
        self._last_alert_at: datetime | None = None
        self._sending: ThreadPoolExecutor | None = None
        self._finishing: ThreadPoolExecutor | None = None
        # Until when the platform's rate limit (a 429's Retry-After) asked us to send nothing.
        self.paused_until: datetime | None = None
        request_time = settings.sync_connect_timeout + settings.sync_read_timeout
        if settings.sync_lease_seconds < 2 * request_time:
            raise ValueError(
                f"同步租约（sync_lease_seconds={settings.sync_lease_seconds}）应至少为连接与读取超时之和的两倍"
                f"（{2 * request_time:g} 秒）：领取的批次可能要等上一批的应答，再发送自己的请求。"
            )

    @property
    def is_sqlite(self) -> bool:
        return self.gateway.engine.dialect.name == "sqlite"

    # --- registration: the SQLite single-worker lock and the list of live workers -------------------

    def register(self) -> None:
        """Record this worker as alive. On SQLite, refuse if another live worker is registered."""
        now = self.clock()
        with self.gateway.write() as session:
            for other in session.scalars(select(SyncWorker).where(SyncWorker.name != self.name)):
                stale = other.expires_at <= now or (other.host == self.host and not pid_alive(other.pid))
                if stale:
                    session.delete(other)
                elif self.is_sqlite:
                    raise SingleWorkerError(
                        f"已有同步进程在运行（主机 {other.host}，进程号 {other.pid}，最近心跳 "
                        f"{other.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC）。SQLite 数据库只允许一个同步进程，"
                        "请勿重复启动；如需多个同步进程并行，请改用 PostgreSQL。"
                    )
            session.flush()
            session.add(SyncWorker(name=self.name, host=self.host, pid=self.pid, started_at=now,
                                   heartbeat_at=now, expires_at=now + self.lease))
        self.registered = True
        self._last_heartbeat = now
        log.info("同步进程 %s 已启动（%s，每批最多 %d 条）", self.name,
                 "SQLite 单进程" if self.is_sqlite else "PostgreSQL", self.batch_size)

    def heartbeat(self, force: bool = False) -> None:
        """Renew this worker's registration (at most every quarter lease unless ``force``)."""
        if not self.registered:
            return
        now = self.clock()
        if not force and self._last_heartbeat is not None and now - self._last_heartbeat < self.lease / 4:
            return
        values = dict(heartbeat_at=now, expires_at=now + self.lease, **self._counters())
        with self.gateway.write() as session:
            updated = session.execute(
                update(SyncWorker).where(SyncWorker.name == self.name).values(**values)
            ).rowcount
            if not updated:
                if self.is_sqlite:
                    self.registered = False
                    raise SingleWorkerError(
                        f"同步进程 {self.name} 的登记已被另一同步进程接管（心跳中断超过租约 "
                        f"{self.settings.sync_lease_seconds} 秒），本进程退出。"
                    )
                session.add(SyncWorker(name=self.name, host=self.host, pid=self.pid, started_at=now, **values))
        self._last_heartbeat = now

    def unregister(self) -> None:
        if not self.registered:
            return
        with self.gateway.write() as session:
            session.execute(delete(SyncWorker).where(SyncWorker.name == self.name))
        self.registered = False
        log.info("同步进程 %s 已停止：%s", self.name, self._summary(self.totals))

    def _counters(self) -> dict[str, int]:
        return {"batches": self.totals.batches, "delivered": self.totals.delivered,
                "dead": self.totals.dead, "retries": self.totals.retried}

    # --- claiming ----------------------------------------------------------------------------------

    def _among(self, ids):
        """``outbox.id`` is one of ``ids``: one array parameter on PostgreSQL (no hundred bound values
        rendered into the statement and parsed by the server at each execution)."""
        if self.is_sqlite:
            return OutboxRecord.id.in_(ids)
        return OutboxRecord.id == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))

    def _select(self, session: Session, where, limit: int | None = None) -> list[_Claimed]:
        return [_Claimed(*row) for row in session.execute(_claim_select(where, limit))]

    @contextmanager
    def _transaction(self, connection: Connection | None) -> Iterator[Session]:
        """A write transaction on ``connection`` (held for a pass, see :meth:`run_pass`), or on a
        connection of the pool."""
        if connection is None:
            with self.gateway.write() as session:
                yield session
            return
        with committing(Session(bind=connection, expire_on_commit=False)) as session:
            yield session

    def claim(self, kind: str, as_of: datetime, connection: Connection | None = None, after: int = 0) -> Batch | None:
        """Claim the next batch of ``kind`` due as of ``as_of`` (the pass's start), or None.

        One SELECT takes the due rows (batches waiting for a resend first, whole); the common case is
        that SELECT, one UPDATE and the commit (on ``connection`` when given). ``after``: look first
        at rows with a greater id (where the pass's last claim ended), then, if none is due there, at
        all of them. Each claim of a pass would otherwise walk again past every row the pass already
        delivered: their old versions stay in the waiting rows' index until no transaction on the
        server is older than them, so on a busy server a pass's claims cost quadratically."""
        now = self.clock()
        with self._transaction(connection) as session:
            # The common path runs prebuilt Core statements on the session's connection: no ORM layer.
            conn = session.connection()
            first: list[_Claimed] = []
            for start in ((after, 0) if after else (0,)):
                first = [_Claimed(*row) for row in CLAIM_FIRST.rows(
                    conn, {"kind": kind, "as_of": as_of, "after": start, "limit": self.batch_size})]
                if first:
                    break
            if not first:
                return None
            rows: list[_Claimed] | None = None
            # A batch that waits for its resend goes before fresh rows (which wait for the next claim).
            head = next((r for r in first if r.batch_key), None)
            key = head.batch_key if head else None
            candidates = first
            if head is not None and key:
                # A batch that never got its answer: resend it whole, as it was, under its key.
                due = _due(kind, as_of)
                group = [head, *self._select(session, and_(due, OutboxRecord.batch_key == key,
                                                           OutboxRecord.id != head.id))]
                total = session.scalar(select(func.count()).select_from(OutboxRecord)
                                       .where(OutboxRecord.batch_key == key))
                body = batch_body([r.payload for r in group]) if all(r.payload for r in group) else b""
                if len(group) == total and body and \
                        batch_key(self.settings.area_code, kind, body, [r.generation for r in group]) == key:
                    rows = group
                else:
                    # Part of it is elsewhere (another worker holds it): send ours in a new batch.
                    session.execute(_rows_update().where(self._among([r.id for r in group]))
                                    .values(batch_key=None))
                    key = None
                    candidates = self._select(session, and_(due, OutboxRecord.batch_key.is_(None)),
                                              limit=self.batch_size)
            dead = 0
            built: dict[int, dict[str, Any]] = {}
            if rows is None:
                rows, dead, built, whole = self._fresh_batch(session, kind, candidates, now)
                if not rows:
                    return Batch(kind, "", b"", [], [], dead_on_claim=dead) if dead else None
                body = whole if whole is not None else batch_body([r.payload for r in rows])
                key = batch_key(self.settings.area_code, kind, body, [r.generation for r in rows])
                resend = False
            else:
                resend = True
            leased = dict(state="in_flight", lease_owner=self.name, lease_expires_at=now + self.lease,
                          last_attempt_at=now, batch_key=key)
            # Rows whose payload was just built get it with their lease (one statement each); every
            # payload built is kept, also of rows left for the next batch: built once, sent as is.
            chosen = {r.id for r in rows}
            snapshots = [{"b_id": r.id, "payload": built[r.id], "attempts": r.attempts + 1, **leased}
                         for r in rows if r.id in built]
            snapshots += [{"b_id": row_id, "payload": payload} for row_id, payload in built.items()
                          if row_id not in chosen]
            for group in _by_columns(snapshots):
                session.execute(update(OUTBOX).where(OUTBOX.c.id == bindparam("b_id")), group)
            others = [r.id for r in rows if r.id not in built]
            if others:
                LEASE[conn.dialect.name].rows(conn, {
                    "ids": others if self.is_sqlite else id_array(others), "owner": self.name,
                    "expires": leased["lease_expires_at"], "now": now, "key": key})
        return Batch(kind, key, body, [r.id for r in rows], [r.record_id for r in rows], resend=resend,
                     dead_on_claim=dead)

    def _fresh_batch(self, session: Session, kind: str, candidates: list[_Claimed],
                     now: datetime) -> tuple[list[_Claimed], int, dict[int, dict[str, Any]], bytes | None]:
        """Build payloads where missing and keep the records that fit one body; dead-letter the
        rows whose entity cannot be built. Returns the batch, the dead count, the payloads built
        (row id -> payload), which the caller stores, and the batch's body when every candidate fit
        (the usual case: the body is then made once)."""
        chosen: list[_Claimed] = []
        dead = 0
        empty = len(batch_body([]))
        missing = {row.entity_id: row.record_id for row in candidates if row.payload is None}
        built = build_many(session, kind, missing, self.settings) if missing else {}
        snapshots: dict[int, dict[str, Any]] = {}
        ready: list[_Claimed] = []
        for row in candidates:
            if row.payload is None:
                payload = built[row.entity_id]
                if isinstance(payload, BuildError):
                    self._dead_letter(session, row.id, row.record_id, kind, "build_failed", payload.message,
                                      payload.as_field_errors(), now)
                    dead += 1
                    continue
                row.payload = payload
                snapshots[row.id] = payload
            ready.append(row)
        whole = batch_body([r.payload for r in ready])
        if len(whole) <= self.max_body_bytes:
            return ready, dead, snapshots, whole  # the usual case: everything fits, no record is measured alone
        size = empty
        for row in ready:
            record_size = len(batch_body([row.payload])) - empty + 1  # its bytes and a comma
            if empty + record_size - 1 > self.max_body_bytes:
                message = (f"单条记录 {record_size - 1} 字节，超过每批 {self.max_body_bytes} 字节的上限，无法推送。")
                self._dead_letter(session, row.id, row.record_id, kind, "record_too_large", message,
                                  [{"field": None, "code": "record_too_large", "message": message}], now)
                dead += 1
                continue
            if chosen and size + record_size > self.max_body_bytes:
                break
            chosen.append(row)
            size += record_size
        return chosen, dead, snapshots, None

    # --- sending and finishing ------------------------------------------------------------------

    def send(self, batch: Batch) -> PushAnswer:
        # A batch claimed while the answer before it was a 429 waits out the platform's Retry-After
        # first (a short one: a long one would outlast the lease), rather than spend a request on
        # another 429.
        wait = self.paused_for()
        if 0 < wait <= self.lease.total_seconds() / 4:
            self.stop_event.wait(wait)
        answer = self.client.push(PLATFORM_KINDS[batch.kind], batch.body, batch.key)
        if answer.http_status == 429:
            pause = self.backoff.delay(1, answer.retry_after if answer.retry_after is not None else 1.0)
            self.paused_until = self.clock() + timedelta(seconds=pause)
        return answer

    def paused_for(self) -> float:
        """Seconds the platform's last 429 asked this worker to wait still (0: none)."""
        if self.paused_until is None:
            return 0.0
        return max(0.0, (self.paused_until - self.clock()).total_seconds())

    def finish(self, batch: Batch, answer: PushAnswer, connection: Connection | None = None) -> Tally:
        """Record the platform's answer in the rows this worker still holds. ``connection``: an
        autocommit connection (PostgreSQL) for the usual answer, a wholly delivered batch, whose one
        statement is then its own transaction: a single round trip."""
        tally = Tally(batches=1, claimed=len(batch.ids))
        now = self.clock()
        delivered = not self.is_sqlite and self._all_delivered(batch, answer)
        if delivered and connection is not None:
            self._finish_delivered(connection, batch, answer, now, tally)
            connection.commit()  # autocommit: ends SQLAlchemy's transaction, sends nothing
            return tally
        with self.gateway.write() as session:
            if delivered:
                self._finish_delivered(session, batch, answer, now, tally)
                return tally
            held = set(session.scalars(
                select(OutboxRecord.id).where(
                    self._among(batch.ids), OutboxRecord.lease_owner == self.name,
                    OutboxRecord.state == "in_flight",
                ).with_for_update()
            ))
            tally.lost_leases = len(batch.ids) - len(held)
            if tally.lost_leases:
                log.warning("批次 %s：%d 条记录的租约已被其他同步进程接管，本进程不再记录其结果",
                            batch.key, tally.lost_leases)
            if not held:
                return tally
            if answer.status == platform.OK:
                self._apply_outcomes(session, batch, answer, held, now, tally)
            elif answer.status == platform.TRANSIENT:
                self._schedule_retry(session, batch, answer, held, now, tally)
            elif answer.status in (platform.TOO_LARGE, platform.KEY_REUSED):
                self._rebatch(session, batch, answer, held, now, tally)
            else:
                self._refused(session, batch, answer, held, now, tally)
        return tally

    @staticmethod
    def _receipt(body: dict[str, Any], outcome: dict[str, Any], replayed: bool) -> dict[str, Any]:
        return {"receipt": outcome.get("receipt"), "outcome": outcome.get("outcome"), "batch_id": body.get("batch_id"),
                "received_at": body.get("received_at"), "replayed": replayed}

    @staticmethod
    def _all_delivered(batch: Batch, answer: PushAnswer) -> bool:
        """Whether every record of the batch was accepted or a duplicate (the usual answer), each
        result in the batch's order."""
        if answer.status != platform.OK:
            return False
        results = answer.body.get("results", [])
        if len(results) != len(batch.ids):
            return False
        for index, (record_id, outcome) in enumerate(zip(batch.record_ids, results)):
            if type(outcome) is not dict or outcome.get("index") != index or \
                    outcome.get("id") not in (record_id, None) or outcome.get("outcome") not in DELIVERED:
                return False
        return True

    def _finish_delivered(self, session: Session | Connection, batch: Batch, answer: PushAnswer,
                          now: datetime, tally: Tally) -> None:
        """PostgreSQL: a wholly delivered batch finished in one statement. The rows' locks are
        taken by the UPDATE itself and owner and state re-checked under them (READ COMMITTED
        re-evaluates the WHERE of a row another transaction changed meanwhile), so a row whose
        lease another worker took over is left alone, as in the general path. Each receipt is what
        :meth:`_receipt` makes, built by the server."""
        body = answer.body
        held, duplicates = session.execute(FINISH_DELIVERED, {
            "ids": dumps_json(batch.ids), "results": dumps_json(body["results"]), "now": now, "owner": self.name,
            "batch_id": dumps_json(body.get("batch_id")), "received_at": dumps_json(body.get("received_at")),
            "replayed": answer.replayed}).one()
        tally.lost_leases = len(batch.ids) - held
        if tally.lost_leases:
            log.warning("批次 %s：%d 条记录的租约已被其他同步进程接管，本进程不再记录其结果",
                        batch.key, tally.lost_leases)
        tally.delivered = held
        tally.duplicates = duplicates
        if answer.replayed and held:
            tally.replayed += 1

    def _apply_outcomes(self, session: Session, batch: Batch, answer: PushAnswer, held: set[int],
                        now: datetime, tally: Tally) -> None:
        body = answer.body
        by_index = {r.get("index"): r for r in body.get("results", []) if isinstance(r, dict)}
        delivered, missing = [], []
        if answer.replayed:
            tally.replayed += 1
        for index, (row_id, record_id) in enumerate(zip(batch.ids, batch.record_ids)):
            if row_id not in held:
                continue
            outcome = by_index.get(index)
            if outcome is None or outcome.get("id") not in (record_id, None):
                missing.append(row_id)
                continue
            kind_of = outcome.get("outcome")
            if kind_of in DELIVERED:
                receipt = self._receipt(body, outcome, answer.replayed)
                delivered.append({"b_id": row_id, "state": "delivered", "receipt": receipt, "delivered_at": now,
                                  "last_error": "", "field_errors": None, "last_outcome": kind_of,
                                  "lease_owner": None, "lease_expires_at": None, "batch_key": None})
                if kind_of == "duplicate":
                    tally.duplicates += 1
            elif kind_of == "rejected":
                errors = [e for e in outcome.get("errors", []) if isinstance(e, dict)]
                summary = "；".join(f"{e.get('field') or '记录'}：{e.get('message')}" for e in errors)
                self._dead_letter(session, row_id, record_id, batch.kind, "rejected",
                                  f"平台拒收：{summary or outcome.get('message', '')}", errors, now)
                tally.dead += 1
            elif kind_of == "conflict":
                message = (f"平台已有同一记录标识但内容不同的记录（回执 {outcome.get('receipt')}），"
                           "本记录未入库；请核对两份内容。")
                self._dead_letter(session, row_id, record_id, batch.kind, "conflict", message,
                                  [{"field": None, "code": outcome.get("code", "record_conflict"), "message": message}],
                                  now, receipt={"receipt": outcome.get("receipt"), "outcome": "conflict",
                                                "batch_id": body.get("batch_id")})
                tally.dead += 1
            else:
                missing.append(row_id)
        if delivered:
            session.execute(update(OUTBOX).where(OUTBOX.c.id == bindparam("b_id")), delivered)
            tally.delivered += len(delivered)
        if missing:
            failure = PushAnswer(platform.TRANSIENT, 200, "invalid_answer", "平台应答缺少部分记录的结果")
            self._schedule_retry(session, batch, failure, set(missing), now, tally, keep_key=False)

    def _schedule_retry(self, session: Session, batch: Batch, answer: PushAnswer, held: set[int],
                        now: datetime, tally: Tally, keep_key: bool = True) -> None:
        attempts = max(session.scalars(select(OutboxRecord.attempts).where(self._among(held))), default=1)
        delay = self.backoff.delay(attempts, answer.retry_after, self.rng)
        values = dict(state="pending", next_attempt_at=now + timedelta(seconds=delay), lease_owner=None,
                      lease_expires_at=None, last_error=answer.describe(), last_outcome=answer.outcome_label)
        if not keep_key:
            values["batch_key"] = None
        session.execute(_rows_update().where(self._among(held)).values(**values))
        tally.retried += len(held)
        log.warning("批次 %s（%s，%d 条）推送失败：%s；第 %d 次尝试，%.1f 秒后重试",
                    batch.key, batch.kind, len(held), answer.describe(), attempts, delay)

    def _rebatch(self, session: Session, batch: Batch, answer: PushAnswer, held: set[int],
                 now: datetime, tally: Tally) -> None:
        if answer.status == platform.TOO_LARGE:
            if len(batch.ids) == 1:
                self._refused(session, batch, answer, held, now, tally)
                return
            limit = answer.body.get("max_records")
            smaller = len(batch.ids) // 2
            if isinstance(limit, int) and 0 < limit < len(batch.ids):
                smaller = limit
            if answer.code == "payload_too_large" and isinstance(answer.body.get("max_bytes"), int):
                self.max_body_bytes = min(self.max_body_bytes, answer.body["max_bytes"] - 1024)
            self.batch_size = max(1, min(self.batch_size, smaller))
            log.warning("平台拒收过大的批次（%s）：每批改为最多 %d 条", answer.code, self.batch_size)
            values: dict[str, Any] = dict(batch_key=None)
        else:
            # Our key names another body at the platform: a new generation gives a new key.
            values = dict(batch_key=None, generation=OutboxRecord.generation + 1)
        session.execute(_rows_update().where(self._among(held)).values(
            state="pending", next_attempt_at=now, lease_owner=None, lease_expires_at=None,
            last_error=answer.describe(), last_outcome=answer.outcome_label, **values))
        tally.retried += len(held)

    def _refused(self, session: Session, batch: Batch, answer: PushAnswer, held: set[int],
                 now: datetime, tally: Tally) -> None:
        """The platform refused the whole batch: nothing was processed, and resending the same will
        not help. Every record goes to dead letters with the platform's reason."""
        errors = [{"field": None, "code": answer.code or f"http_{answer.http_status}", "message": answer.message}]
        for row_id, record_id in zip(batch.ids, batch.record_ids):
            if row_id in held:
                self._dead_letter(session, row_id, record_id, batch.kind, f"http_{answer.http_status}",
                                  f"平台拒收整批：{answer.describe()}", errors, now)
                tally.dead += 1

    def _dead_letter(self, session: Session, row_id: int, record_id: str, kind: str, outcome: str,
                     message: str, errors: list[dict[str, Any]], now: datetime,
                     receipt: dict[str, Any] | None = None) -> None:
        session.execute(_rows_update().where(OutboxRecord.id == row_id).values(
            state="dead", last_error=message, field_errors={"errors": errors}, last_outcome=outcome,
            lease_owner=None, lease_expires_at=None, batch_key=None, last_attempt_at=now, receipt=receipt,
        ))
        audit.record(session, SYSTEM, "sync.dead_letter", "outbox", record_id,
                     {"kind": kind, "outcome": outcome, "codes": sorted({str(e.get("code")) for e in errors})})
        log.error("记录 %s 转入死信：%s", record_id, message)

    # --- passes and the loop --------------------------------------------------------------------

    def process(self, kind: str, as_of: datetime) -> Tally | None:
        """Claim, send and finish one batch of ``kind``; None when nothing of it is due."""
        batch = self.claim(kind, as_of)
        if batch is None:
            return None
        if not batch.ids:
            return Tally(dead=batch.dead_on_claim)
        answer = self.send(batch)
        tally = self.finish(batch, answer)
        tally.dead += batch.dead_on_claim
        log.debug("批次 %s：%s", batch.key, tally.as_dict())
        return tally

    def run_pass(self) -> Tally:
        """Send everything that is due now, kind by kind; each row at most once per pass.

        Pipelined: while one batch is on the wire (a sender thread), the next is claimed and queued
        for the sender, which sends it as soon as the answer comes, and, on PostgreSQL, the previous
        one's answer is recorded by a finisher thread on its own connection, so claiming, sending
        and recording overlap (on SQLite, which has one writer, the main thread
        records the answer between two claims). At most three batches are held at once (one being
        recorded, one on the wire, one claimed); a claimed batch waits at most one request for the
        sender, which is why the lease must outlast two requests (checked at start-up).

        On PostgreSQL the claims and the finishes each go through one connection held for the pass
        (the finishes' in autocommit): no pool checkout, with its liveness ping, per transaction, and
        a wholly delivered batch is recorded in one round trip. A database that went away fails the
        pass; the next one connects afresh."""
        as_of = self.clock()
        tally = Tally()
        sender = self._sender()
        finisher = None if self.is_sqlite else self._finisher()
        finishing: list[Future[Tally]] = []
        claiming: Connection | None = None
        finishing_on: Connection | None = None

        def record(batch: Batch, answer: Future[PushAnswer]) -> None:
            if finisher is None:
                tally.add(self.finish(batch, answer.result()))
            else:
                finishing.append(finisher.submit(self.finish, batch, answer.result(), finishing_on))

        def drain(keep: int) -> None:
            """Collect recorded answers until at most ``keep`` are still being recorded."""
            while len(finishing) > keep:
                tally.add(finishing.pop(0).result())

        try:
            if finisher is not None:
                claiming = connect_alive(self.gateway.engine)
                finishing_on = connect_alive(self.gateway.engine).execution_options(isolation_level="AUTOCOMMIT")
            for kind in RECORD_KINDS:
                on_the_wire: tuple[Batch, Future[PushAnswer]] | None = None
                after = 0
                while not self.stop_event.is_set():
                    # Rate limited: claim nothing more in this pass; the rows wait in the outbox
                    # (not held under a lease) until the platform's Retry-After has passed.
                    batch = self.claim(kind, as_of, claiming, after) if not self.paused_for() else None
                    # Handed to the sender at once: it goes out as soon as the request before it is
                    # answered, from the sender's own thread (after a 429 it first waits out the pause).
                    queued = sender.submit(self.send, batch) if batch is not None and batch.ids else None
                    answered = on_the_wire is not None
                    if on_the_wire is not None:
                        record(*on_the_wire)
                        on_the_wire = None
                    drain(keep=1 if batch is not None else 0)
                    if batch is None:
                        if answered:
                            continue  # the answer may have put rows back in this pass (a split batch)
                        break
                    tally.dead += batch.dead_on_claim
                    if queued is not None:
                        after = max(batch.ids)
                        on_the_wire = (batch, queued)
                    self.heartbeat()
                if on_the_wire is not None:
                    record(*on_the_wire)
                drain(keep=0)
        finally:
            # Stopping, or the database failing: what was answered is still recorded if it can be.
            for future in finishing:
                try:
                    tally.add(future.result())
                except DBAPIError:
                    pass
            for connection in (claiming, finishing_on):
                if connection is not None:
                    connection.close()
        self.totals.add(tally)
        return tally

    def _sender(self) -> ThreadPoolExecutor:
        if self._sending is None:
            self._sending = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-send")
        return self._sending

    def _finisher(self) -> ThreadPoolExecutor:
        if self._finishing is None:
            self._finishing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-finish")
        return self._finishing

    def next_due_in(self) -> float | None:
        """Seconds until the next row falls due (None: nothing is waiting)."""
        with self.gateway.read() as session:
            pending = session.scalar(select(func.min(OutboxRecord.next_attempt_at))
                                     .where(OutboxRecord.state == "pending"))
            leased = session.scalar(select(func.min(OutboxRecord.lease_expires_at))
                                    .where(OutboxRecord.state == "in_flight"))
        moments = [m for m in (pending, leased) if m is not None]
        if not moments:
            return None
        return max(0.0, (min(moments) - self.clock()).total_seconds())

    def run(self, once: bool = False, max_passes: int | None = None) -> Tally:
        """Register, then pass after pass until stopped (``once``: a single pass); what this run did."""
        self.register()
        passes = 0
        done = Tally()
        try:
            self.check_deadlines()
            while not self.stop_event.is_set():
                try:
                    tally = self.run_pass()
                    done.add(tally)
                    passes += 1
                    if tally.batches or tally.dead:
                        log.info("本轮推送：%s", self._summary(tally))
                    if once or (max_passes is not None and passes >= max_passes):
                        break
                    self.heartbeat()
                    self.check_deadlines()
                    idle = tally.batches == 0 and tally.dead == 0
                    wait = self.next_due_in() if idle else None
                except DBAPIError as error:
                    if once or not (error.connection_invalidated or isinstance(error, OperationalError)):
                        raise
                    # The database went away (a restart, a failover) or is locked: the rows we held
                    # keep their leases and their keys; try again shortly, for as long as it takes.
                    log.error("数据库暂不可用（%s），%.0f 秒后重试", type(error.orig).__name__,
                              self.settings.sync_poll_seconds)
                    self.stop_event.wait(self.settings.sync_poll_seconds)
                    continue
                if idle:
                    poll = self.settings.sync_poll_seconds
                    if self.paused_for():
                        wait = self.paused_for() if wait is None else max(wait, self.paused_for())
                    self.stop_event.wait(poll if wait is None else min(max(wait, 0.05), poll))
        finally:
            for pool in (self._sending, self._finishing):
                if pool is not None:
                    pool.shutdown(wait=True)
            self._sending = self._finishing = None
            try:
                self.unregister()
            except DBAPIError as error:
                log.error("注销同步进程失败（%s）：登记将在租约到期后失效", type(error.orig).__name__)
        return done

    def stop(self) -> None:
        """Ask the loop to stop after the batch in hand (SIGTERM handler)."""
        self.stop_event.set()

    # --- the publication deadline alert ---------------------------------------------------------------

    def check_deadlines(self, every: timedelta = timedelta(minutes=10)) -> str | None:
        """Log the alert line when the oldest undelivered record nears its deadline (at most every
        ``every``, and whenever the alert changes)."""

        now = self.clock()
        with self.gateway.read() as session:
            alert = deadline_alert(session, self.settings, today=self.today() if self.today else None)
        if alert is None:
            self._last_alert = None
            return None
        signature = (alert["record_id"], alert["status"])
        if signature != self._last_alert or self._last_alert_at is None or now - self._last_alert_at >= every:
            log.warning("%s", alert["message"])
            self._last_alert, self._last_alert_at = signature, now
        return alert["message"]

    @staticmethod
    def _summary(tally: Tally) -> str:
        return (f"{tally.batches} 批，送达 {tally.delivered} 条（其中重复确认 {tally.duplicates} 条），"
                f"死信 {tally.dead} 条，待重试 {tally.retried} 条次")
