"""Targets imported at province scale (issue 20): staged in committed batches, checked in SQL, applied at once.

1. The file's SHA-256 names an import job (``import_jobs``). A re-run of a file whose job is
   unfinished (same kind, hash and mode) resumes it: rows up to ``staged_through`` are not parsed
   again, and a job already staged goes straight to step 4. One run of a file at a time: the
   run holds the file's lock throughout (``importing.jobs``); a second run is refused naming the job.
2. Stage (the validation pass, streaming): each row is parsed and checked as always
   (``importer.parse_row``: field, row and reason); good rows go to the job's staging table
   (PostgreSQL: an UNLOGGED table filled by COPY; SQLite: ``executemany``), in batches each
   committed with the job's checkpoint, counts and first errors.
3. Check, in SQL over the staged rows: a USCC the file has twice; a change of an existing target's
   eligibility fields without a reason code, or by someone who does not own them.
4. Apply, in one transaction: the eligibility log (``INSERT … SELECT``), one ``INSERT … SELECT …
   ON CONFLICT (uscc) DO UPDATE`` into ``targets`` (set-based, so triggers on targets fire as for
   any insert), the caller's audit, the job marked done and the stage dropped.

All-or-nothing still holds: with a bad row and no ``partial``, nothing reaches ``targets`` (the job
is marked refused and its stage dropped). Memory stays flat: one batch of rows and at most
``MAX_LISTED_ERRORS`` errors are held; duplicates and eligibility are found by the database.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import IO, Callable

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from gateway.db import utcnow
from gateway.directory.importing.columns import TARGET_COLUMNS
from gateway.directory.importing.importer import (
    MAX_LISTED_ERRORS,
    ImportFileError,
    ImportReport,
    RowError,
    header_mapping,
    parse_row,
)
from gateway.directory.importing.jobs import exclusive, stage_name
from gateway.directory.importing.tabular import TabularError, detect_format, iter_records
from gateway.directory.models import ELIGIBILITY_FIELDS, ImportJob, Target, join_licences
from gateway.security.principal import Principal

STAGE_BATCH = 50_000
# The columns of a target a file may set (plus ``active``, true on insert), in stage order.
STORED = [c.key for c in TARGET_COLUMNS if c.stored] + ["active"]
BOOLEAN_FIELDS = ("active", "abnormal_list", "serious_violation_list")
# Listings of refused rows can be as long as the file: read them through a server-side cursor.
STREAM = {"stream_results": True, "max_row_buffer": 10_000}
Notice = Callable[[str], None]


def file_sha256(stream: IO[bytes]) -> str:
    start = stream.tell()
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(start)
    return digest.hexdigest()


def _q(name: str) -> str:
    return '"' + name + '"'


def stage_table(job_id: int, dialect: str) -> Table:
    """The job's staging table: a row number, the target's columns and the reason code."""
    target = Target.__table__.c
    return Table(
        stage_name(job_id), MetaData(),
        Column("row_number", Integer), *(Column(c, target[c].type) for c in STORED), Column("reason_code", String(32)),
        prefixes=["UNLOGGED"] if dialect == "postgresql" else [],
    )


def import_targets(
    engine: Engine,
    stream: IO[bytes],
    filename: str,
    *,
    principal: Principal,
    owner: bool,
    partial: bool = False,
    progress: Callable[[int], None] | None = None,
    notice: Notice | None = None,
    on_apply: Callable[[Connection, ImportReport], None] | None = None,
    batch_size: int = STAGE_BATCH,
    max_rows: int | None = None,
) -> ImportReport:
    """Import a targets file in steps (see the module); returns the report, ``committed`` saying
    whether targets were written. ``on_apply(conn, report)`` runs inside the applying transaction
    (the audit). Raises ``ImportFileError`` when the file itself cannot be read, ``Conflict``
    (``import_running``) while another run imports the same file."""
    say = notice or (lambda _message: None)
    try:
        fmt = detect_format(filename)
    except TabularError as exc:
        raise ImportFileError(str(exc)) from None
    digest = file_sha256(stream)
    with exclusive(engine, digest):  # one run per file at a time (``jobs``)
        return _run(engine, stream, fmt, digest, filename, principal=principal, owner=owner, partial=partial,
                    progress=progress, say=say, on_apply=on_apply, batch_size=batch_size, max_rows=max_rows)


def _run(engine: Engine, stream: IO[bytes], fmt: str, digest: str, filename: str, *, principal: Principal,
         owner: bool, partial: bool, progress: Callable[[int], None] | None, say: Notice,
         on_apply: Callable[[Connection, ImportReport], None] | None, batch_size: int,
         max_rows: int | None) -> ImportReport:
    job = _open_job(engine, digest, filename, partial, principal, say, batch_size)
    report = ImportReport(kind="targets", total_rows=job.total_rows, rejected=job.rejected,
                          error_count=job.error_count, errors=[RowError(**e) for e in job.errors])
    try:
        rows = iter_records(stream, fmt, max_rows)
        mapping = header_mapping(rows, TARGET_COLUMNS)
        present = [c.key for c in mapping.values() if c.stored]
        stage = stage_table(job.id, engine.dialect.name)
        if job.status == "staging":
            _stage(engine, job, stage, rows, mapping, report, batch_size, progress)
            say(f"校验完成：共 {report.total_rows} 行，正在检查重复和抽取资格变更并写入名录……")
    except (TabularError, ImportFileError) as exc:
        _close(engine, job.id, stage_table(job.id, engine.dialect.name), "refused", report)
        raise ImportFileError(str(exc)) from None
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin() as tx:
            if conn.dialect.name == "postgresql":  # the planner's row counts for the joins below
                conn.exec_driver_sql(f"ANALYZE {_q(stage.name)}")
            _check(conn, stage, present, owner, report)
            report.errors.sort(key=lambda e: e.row)
            if report.rejected and not partial:
                tx.rollback()
                _close(engine, job.id, stage, "refused", report)
                return report
            _log_eligibility(conn, stage, present, principal, report)
            report.created, report.updated = _apply(conn, stage, present)
            report.imported = report.created + report.updated
            report.committed = True
            if on_apply is not None:
                on_apply(conn, report)
            _finish_job(conn, job.id, stage, "done", report)
    if progress is not None:
        progress(report.total_rows)
    return report


def _open_job(engine: Engine, digest: str, filename: str, partial: bool, principal: Principal, say: Notice,
              batch_size: int) -> ImportJob:
    """The unfinished job of this file to resume, or a new one with its staging table."""
    with engine.begin() as conn:
        row = conn.execute(select(ImportJob).where(
            ImportJob.kind == "targets", ImportJob.file_sha256 == digest, ImportJob.partial == partial,
            ImportJob.status.in_(("staging", "staged"))).order_by(ImportJob.id.desc()).limit(1)).first()
        if row is not None:
            job = ImportJob(**row._mapping)
            if job.status == "staged":
                say(f"继续未完成的导入（任务 {job.id}，文件 SHA-256 {digest[:12]}）：全部 {job.total_rows} 行"
                    "已校验并暂存，直接写入名录。")
            else:
                say(f"继续未完成的导入（任务 {job.id}，文件 SHA-256 {digest[:12]}）：前 {job.total_rows} 行"
                    f"已校验并暂存，从文件第 {job.staged_through + 1} 行继续。")
            return job
        now = utcnow()
        values = dict(kind="targets", file_sha256=digest, filename=filename[:300], partial=partial, status="staging",
                      staged_through=0, total_rows=0, rejected=0, error_count=0, errors=[],
                      actor=principal.label[:200], created_at=now, updated_at=now)
        job_id = conn.execute(insert(ImportJob).values(**values)).inserted_primary_key[0]
        stage_table(job_id, conn.dialect.name).create(conn)
    say(f"导入任务 {job_id}：逐批校验并暂存（每 {batch_size} 行提交一次），全部通过后一次写入名录；"
        "如被中断，重新运行同一命令即从中断处继续。")
    return ImportJob(id=job_id, **values)


def _stage(engine: Engine, job: ImportJob, stage: Table, rows, mapping, report: ImportReport, batch_size: int,
           progress: Callable[[int], None] | None) -> None:
    """Parse and check every row after the checkpoint; stage the good ones, a committed batch at a time."""
    defaults = {c.key: c.default for c in TARGET_COLUMNS}
    defaults["active"] = True
    pending = ((n, cells) for n, cells in rows if n > job.staged_through and any(cells))
    last_row, done = job.staged_through, False
    while not done:
        sink = (_CopySink if engine.dialect.name == "postgresql" else _ListSink)(engine, stage)
        try:
            read = 0
            for row_number, cells in pending:
                report.total_rows += 1
                read += 1
                last_row = row_number
                values = parse_row(row_number, cells, mapping, report)
                if values is None:
                    report.rejected += 1
                else:
                    record = {**defaults, **values}
                    record["licences"] = join_licences(record["licences"])
                    sink.write((row_number, *(record[c] for c in STORED), record["reason_code"]))
                if read >= batch_size:
                    break
            else:
                done = True
            sink.commit(update(ImportJob).where(ImportJob.id == job.id).values(
                status="staged" if done else "staging", staged_through=last_row, **_counts(report)))
        finally:
            sink.close()
        if progress is not None and not done:
            progress(report.total_rows)


class _CopySink:
    """PostgreSQL: a batch goes to the stage through COPY while the next rows are parsed (the server
    works on one core while Python parses on the other); the commit ends the COPY and notes the job."""

    def __init__(self, engine: Engine, stage: Table):
        self.conn = engine.connect()
        self.tx = self.conn.begin()
        names = ", ".join(_q(c.name) for c in stage.columns)
        self.cursor = self.conn.connection.dbapi_connection.cursor()
        self.copy = self.cursor.copy(f"COPY {_q(stage.name)} ({names}) FROM STDIN")
        self.write = self.copy.__enter__().write_row

    def commit(self, job_update) -> None:
        copy, self.copy = self.copy, None
        copy.__exit__(None, None, None)
        self.conn.execute(job_update)
        self.tx.commit()

    def close(self) -> None:
        if self.copy is not None:  # an exception: abandon the COPY, roll back the batch
            try:
                self.copy.__exit__(RuntimeError, RuntimeError("import interrupted"), None)
            except Exception:  # noqa: BLE001  (the batch is rolled back either way)
                pass
        self.cursor.close()
        self.conn.close()


class _ListSink:
    """SQLite: a batch is held, then written with executemany in a short write transaction."""

    def __init__(self, engine: Engine, stage: Table):
        self.engine, self.stage, self.rows = engine, stage, []
        self.write = self.rows.append

    def commit(self, job_update) -> None:
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                if self.rows:
                    names = ", ".join(_q(c.name) for c in self.stage.columns)
                    marks = ", ".join("?" for _ in self.stage.columns)
                    conn.exec_driver_sql(f"INSERT INTO {_q(self.stage.name)} ({names}) VALUES ({marks})", self.rows)
                conn.execute(job_update)

    def close(self) -> None:
        self.rows.clear()


def _counts(report: ImportReport) -> dict:
    return dict(total_rows=report.total_rows, rejected=report.rejected, error_count=report.error_count,
                errors=[asdict(e) for e in report.errors[:MAX_LISTED_ERRORS]], updated_at=utcnow())


def _close(engine: Engine, job_id: int, stage: Table, status: str, report: ImportReport) -> None:
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            _finish_job(conn, job_id, stage, status, report)


def _finish_job(conn: Connection, job_id: int, stage: Table, status: str, report: ImportReport) -> None:
    conn.execute(update(ImportJob).where(ImportJob.id == job_id).values(status=status, **_counts(report)))
    stage.drop(conn, checkfirst=True)


def _check(conn: Connection, stage: Table, present: list[str], owner: bool, report: ImportReport) -> None:
    """Refuse, and unstage, the later rows of a USCC seen twice and the eligibility changes not allowed."""
    s = _q(stage.name)
    dups = (f"SELECT s.row_number, d.first FROM {s} s JOIN (SELECT uscc, min(row_number) AS first FROM {s} "
            "GROUP BY uscc HAVING count(*) > 1) d ON d.uscc = s.uscc WHERE s.row_number > d.first")
    found = 0
    for row_number, first in conn.exec_driver_sql(dups + " ORDER BY s.row_number", execution_options=STREAM):
        report.add_error(RowError(row_number, "uscc", f"与第 {first} 行重复。"))
        found += 1
    if found:
        report.rejected += found
        conn.exec_driver_sql(f"DELETE FROM {s} WHERE row_number IN (SELECT row_number FROM ({dups}) x)")
    watched = [f for f in ELIGIBILITY_FIELDS if f in present]
    if not watched:
        return
    changed = " OR ".join(f"t.{f} <> s.{f}" for f in watched)
    refused = f"({changed})" + ("" if not owner else " AND s.reason_code IS NULL")
    listing = (f"SELECT s.row_number, s.uscc, s.reason_code, {', '.join(f't.{f}, s.{f}' for f in watched)} "
               f"FROM {s} s JOIN targets t ON t.uscc = s.uscc WHERE {changed} ORDER BY s.row_number")
    bad = 0
    for row_number, uscc, reason, *pairs in conn.exec_driver_sql(listing, execution_options=STREAM):
        fields = [(f, _value(f, pairs[2 * i]), _value(f, pairs[2 * i + 1])) for i, f in enumerate(watched)]
        fields = [(f, was, now) for f, was, now in fields if was != now]
        if not owner:
            bad += 1
            report.add_error(RowError(row_number, fields[0][0], "登记状态、在册、信用风险分类与名录属登记机关或县双随机办的"
                                      "主数据，本行会改变它们，未导入；请提出变更提议。"))
        elif reason is None:
            bad += 1
            report.add_error(RowError(row_number, "reason_code", "本行改变了检查对象的抽取资格（"
                                      + "、".join(f for f, _, _ in fields) + "），须填写“变更原因”。"))
        elif len(report.eligibility_changes) < MAX_LISTED_ERRORS:
            report.eligibility_changes += [(uscc, f, was, now, reason) for f, was, now in fields]
    if bad:
        report.rejected += bad
        conn.exec_driver_sql(f"DELETE FROM {s} WHERE row_number IN "
                             f"(SELECT s.row_number FROM {s} s JOIN targets t ON t.uscc = s.uscc WHERE {refused})")


def _value(field: str, value: object) -> object:
    return bool(value) if field in BOOLEAN_FIELDS else value


def _log_eligibility(conn: Connection, stage: Table, present: list[str], principal: Principal,
                     report: ImportReport) -> None:
    """The eligibility log of every change the apply is about to make (set-based; old values read first)."""
    report.eligibility_change_count = 0
    for f in (f for f in ELIGIBILITY_FIELDS if f in present):
        as_text = (lambda c: f"CASE WHEN {c} THEN 'true' ELSE 'false' END") if f in BOOLEAN_FIELDS else (lambda c: c)
        sql = text(
            "INSERT INTO target_eligibility_changes (target_id, uscc, field, old_value, new_value, reason_code, source, "
            "actor, actor_role, actor_department, changed_at) "
            f"SELECT t.id, s.uscc, :field, {as_text('t.' + f)}, {as_text('s.' + f)}, s.reason_code, 'import', "
            f":actor, :role, :department, :at FROM {_q(stage.name)} s JOIN targets t ON t.uscc = s.uscc "
            f"WHERE t.{f} <> s.{f}"
        ).bindparams(bindparam("at", type_=DateTime()))
        result = conn.execute(sql, {"field": f, "actor": principal.label, "role": principal.role,
                                    "department": principal.department_code or "", "at": utcnow()})
        report.eligibility_change_count += result.rowcount


def _apply(conn: Connection, stage: Table, present: list[str]) -> tuple[int, int]:
    """Write the staged rows into targets; (created, updated).

    PostgreSQL: an UPDATE … FROM of the targets the file names, then a plain INSERT … SELECT of the
    others (a speculative ON CONFLICT insertion costs about twice as much per row). A target another
    writer creates meanwhile makes the insert fail on the unique USCC and the transaction roll back;
    the job stays staged and a re-run applies it. SQLite (one writer at a time): one upsert."""
    s = _q(stage.name)
    cols = ", ".join(_q(c) for c in STORED)
    changed = [c for c in present if c != "uscc"]
    now = {"now": utcnow()}
    if conn.dialect.name == "postgresql":
        sets = ", ".join([f"{_q(c)} = s.{_q(c)}" for c in changed] + ["updated_at = :now"])
        updated = conn.execute(_at_now(f"UPDATE targets AS t SET {sets} FROM {s} s WHERE t.uscc = s.uscc"), now).rowcount
        created = conn.execute(_at_now(
            f"INSERT INTO targets ({cols}, created_at, updated_at) SELECT {cols}, :now, :now FROM {s} s "
            "WHERE NOT EXISTS (SELECT 1 FROM targets t WHERE t.uscc = s.uscc)"), now).rowcount
        return created, updated
    updates = ", ".join([f"{_q(c)} = excluded.{_q(c)}" for c in changed] + ["updated_at = excluded.updated_at"])
    total, created = conn.exec_driver_sql(
        f"SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM targets t WHERE t.uscc = s.uscc)) "
        f"FROM {s} s").one()
    conn.execute(_at_now(f"INSERT INTO targets ({cols}, created_at, updated_at) SELECT {cols}, :now, :now FROM {s} "
                         f"WHERE true ON CONFLICT (uscc) DO UPDATE SET {updates}"), now)
    return created, total - created


def _at_now(sql: str):
    return text(sql).bindparams(bindparam("now", type_=DateTime()))
