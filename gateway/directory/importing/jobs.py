"""Import jobs (``import_jobs``) held by one run at a time, listed, and abandoned ones pruned.

One run per file: an import of a file holds the file's lock from before it looks for a job to
resume until it ends, so a second run of the same file (another process, another machine, or an
upload while the command line runs) is refused with the running job named, instead of staging the
same rows twice. The lock dies with its holder, with nothing to expire or clean:

* PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection of its own, kept
  in autocommit so no transaction stays open for the import's length; the server releases it when
  the process or its connection dies.
* SQLite: ``flock`` on a small file beside the database (``<database>.import-<sha>.lock``); the
  kernel releases it when the process dies. A SQLite database is used from one machine.

Abandoned jobs (interrupted and never run again) keep their staging table until
:func:`prune` drops it and marks the job ``abandoned``; a job whose lock is held is never pruned.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

from sqlalchemy import inspect, select, update
from sqlalchemy.engine import Engine

from gateway.db import utcnow
from gateway.directory.models import ImportJob
from gateway.errors import Conflict

UNFINISHED = ("staging", "staged")


def stage_name(job_id: int) -> str:
    return f"import_job_{job_id}_rows"


@contextlib.contextmanager
def exclusive(engine: Engine, digest: str) -> Iterator[None]:
    """Hold the import lock of the file whose SHA-256 is ``digest``; ``Conflict`` (409,
    ``import_running``) naming the running job when another run holds it."""
    with _held(engine, digest) as got:
        if not got:
            raise Conflict("import_running", running_message(engine, digest))
        yield


@contextlib.contextmanager
def _held(engine: Engine, digest: str) -> Iterator[bool]:
    """Try the lock without waiting; yields whether it is held, releases it on exit."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, digest) as got:
            yield got
    else:
        with _file_lock(engine, digest) as got:
            yield got


def _lock_key(digest: str) -> int:
    return int.from_bytes(hashlib.sha256(b"shuangsui.import:" + digest.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def _advisory(engine: Engine, digest: str) -> Iterator[bool]:
    key = _lock_key(digest)
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    got = False
    try:
        got = bool(conn.exec_driver_sql("SELECT pg_try_advisory_lock(%(k)s)", {"k": key}).scalar())
        yield got
    finally:
        try:
            if got:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(%(k)s)", {"k": key})
        except Exception:  # noqa: BLE001  (the connection is gone, and the lock with it)
            conn.invalidate()
        conn.close()


@contextlib.contextmanager
def _file_lock(engine: Engine, digest: str) -> Iterator[bool]:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield True  # a private in-memory database: no other process can reach it
        return
    path = f"{os.path.abspath(database)}.import-{digest[:16]}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            yield False
            return
        try:  # the holder before us may have removed the file between our open and our lock
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


def running_message(engine: Engine, digest: str) -> str:
    """The refusal of a second run of a file, naming the job the first run works on."""
    with engine.connect() as conn:
        job = conn.execute(select(ImportJob).where(ImportJob.file_sha256 == digest, ImportJob.status.in_(UNFINISHED))
                           .order_by(ImportJob.id.desc()).limit(1)).first()
    if job is None:
        return (f"同一文件（SHA-256 {digest[:12]}）正在由另一个导入进程处理，不能同时导入两次；"
                "请等待其结束后再运行。")
    return (f"该文件正在由导入任务 {job.id} 导入（文件 {job.filename}，{job.actor or '未知操作人'} 于 "
            f"{job.created_at:%Y-%m-%d %H:%M:%S} UTC 开始，已校验 {job.total_rows} 行，最近进展 "
            f"{job.updated_at:%Y-%m-%d %H:%M:%S} UTC），同一文件不能同时导入两次。请等待该任务结束；"
            "如其进程已退出，重新运行同一命令即从中断处继续。")


@dataclass
class JobLine:
    id: int
    status: str
    filename: str
    file_sha256: str
    total_rows: int
    rejected: int
    actor: str
    created_at: datetime
    updated_at: datetime
    stage_rows: int | None  # rows in its staging table; None: no staging table


def list_jobs(engine: Engine, limit: int = 50) -> list[JobLine]:
    """The latest jobs, newest first, with their staging tables' row counts."""
    with engine.connect() as conn:
        rows = conn.execute(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)).all()
        tables = set(inspect(conn).get_table_names())
        lines = []
        for r in rows:
            name = stage_name(r.id)
            count = conn.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar_one() if name in tables else None
            lines.append(JobLine(r.id, r.status, r.filename, r.file_sha256, r.total_rows, r.rejected, r.actor,
                                 r.created_at, r.updated_at, count))
    return lines


def prune(engine: Engine, older_than: timedelta) -> tuple[list[int], list[int]]:
    """Drop the staging tables of unfinished jobs untouched for ``older_than`` and mark them
    ``abandoned``; a job whose file is being imported right now is skipped. ``(pruned, skipped)``."""
    cutoff = utcnow() - older_than
    with engine.connect() as conn:
        candidates = conn.execute(select(ImportJob.id, ImportJob.file_sha256).where(
            ImportJob.status.in_(UNFINISHED), ImportJob.updated_at < cutoff).order_by(ImportJob.id)).all()
    pruned, skipped = [], []
    for job_id, digest in candidates:
        with _held(engine, digest) as got:
            if not got:
                skipped.append(job_id)
                continue
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{stage_name(job_id)}"')
                conn.execute(update(ImportJob).where(ImportJob.id == job_id, ImportJob.status.in_(UNFINISHED))
                             .values(status="abandoned", updated_at=utcnow()))
            pruned.append(job_id)
    return pruned, skipped
