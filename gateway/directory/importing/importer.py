"""Validate an import file row by row and upsert it, all-or-nothing unless told otherwise."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import IO, Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection

from gateway.db import utcnow
from gateway.directory.importing.bulk import Upserter
from gateway.directory.importing.columns import (
    INSPECTION_COLUMNS,
    INSPECTOR_COLUMNS,
    TARGET_COLUMNS,
    CellError,
    Column,
    map_headers,
)
from gateway.directory.importing.tabular import TabularError, detect_format, iter_records
from gateway.directory.models import ELIGIBILITY_FIELDS, Inspector, Target, join_licences
from gateway.higher_level.models import HigherLevelInspection
from gateway.ledger import counts as ledger_counts
from schemas.validators import CHARS_MESSAGE, has_bad_chars

MAX_LISTED_ERRORS = 1000
KINDS = {
    "targets": ("targets", "uscc", TARGET_COLUMNS),
    "inspectors": ("inspectors", "certificate_no", INSPECTOR_COLUMNS),
    # Higher-level inspections (gateway.higher_level), keyed by a record key derived per row.
    "inspections": ("higher_level_inspections", "record_key", INSPECTION_COLUMNS),
}


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str
    value: str | None = None


@dataclass
class ImportReport:
    kind: str
    total_rows: int = 0
    imported: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    committed: bool = False
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    # Inspectors only, for the audit: the certificate numbers written (personal, never in as_dict)
    # and the ids of existing inspectors the file moves to another department.
    written_certificates: list[str] = field(default_factory=list, repr=False)
    moved_inspector_ids: list[int] = field(default_factory=list)
    # Targets only, for the eligibility log: (uscc, field, old, new, reason code) of every changed
    # eligibility field of an existing target.
    eligibility_changes: list[tuple] = field(default_factory=list, repr=False)
    # Targets imported in steps (importing.staged): the changes it logged itself, of which
    # ``eligibility_changes`` lists the first MAX_LISTED_ERRORS; None when the caller logs them.
    eligibility_change_count: int | None = None

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(error)

    def as_dict(self) -> dict:
        data = asdict(self)
        del data["written_certificates"], data["moved_inspector_ids"], data["eligibility_changes"]
        data["errors"] = [asdict(e) for e in self.errors]
        return data


class ImportFileError(ValueError):
    """The file cannot be imported at all (format, encoding, headers)."""


def import_file(
    conn: Connection,
    kind: str,
    stream: IO[bytes],
    filename: str,
    *,
    partial: bool = False,
    departments: dict[str, str] | None = None,
    allowed_departments: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
    matters: Iterable[str] | None = None,
    eligibility_owner: bool = True,
) -> ImportReport:
    """Import ``stream`` into ``kind`` ("targets", "inspectors" or "inspections") on ``conn``'s open
    transaction. ``matters`` lists the known matter codes (checked in inspection records).

    Returns the report; ``report.committed`` says whether the caller should commit (no errors,
    or ``partial``). ``departments`` maps every accepted department label (code, name, short
    name) to its code; ``allowed_departments`` limits which codes this caller may write.
    A target row that changes an existing target's eligibility fields needs a reason code, and
    ``eligibility_owner`` (the registration authority or the county office; else the row is
    refused); the changes are listed in ``report.eligibility_changes`` for the log.
    """
    if kind not in KINDS:
        raise ImportFileError(f"未知的导入类型 {kind}。")
    table, key, columns = KINDS[kind]
    try:
        fmt = detect_format(filename)
        rows = iter_records(stream, fmt)
        mapping = header_mapping(rows, columns)
        report = ImportReport(kind=kind)
        present = [c.key for c in mapping.values() if c.stored]
        # Columns with no cell in the file take their defaults on insert and stay as they are on update.
        constants = {"active": True} if kind == "targets" else {"source": "import"} if kind == "inspections" else {}
        derived = ["record_key", "year"] if kind == "inspections" else []
        written = [c.key for c in columns if c.stored] + derived + list(constants) + ["created_at", "updated_at"]
        upserter = UPSERTERS.get(kind, Upserter)(conn, table, key, written, present + [d for d in derived if d != key] + ["updated_at"])
        known_matters = set(matters) if matters is not None else None
        defaults = {c.key: c.default for c in columns}
        allowed = set(allowed_departments) if allowed_departments is not None else None
        seen: dict[str, int] = {}
        existing = _existing_inspectors(conn) if kind == "inspectors" else {}
        watched = [f for f in ELIGIBILITY_FIELDS if f in present] if kind == "targets" else []
        standing = _existing_eligibility(conn, watched) if watched else {}
        now = utcnow()
        # sqlite3's datetime adapter would format the same stamp once per row.
        stamp = now.isoformat(" ") if conn.dialect.name == "sqlite" else now
        for row_number, cells in rows:
            if not any(cells):
                continue
            report.total_rows += 1
            values = _checked_row(kind, row_number, parse_row(row_number, cells, mapping, report), report,
                                  departments or {}, allowed, existing, known_matters)
            if values is not None:
                first = seen.setdefault(values[key], row_number)
                if first != row_number:
                    report.add_error(RowError(row_number, key, f"与第 {first} 行重复。"))
                    values = None
            if values is None:
                report.rejected += 1
                continue
            record = {**defaults, **constants, **values}
            if watched and not _eligibility_row(row_number, record, standing, watched, eligibility_owner, report):
                report.rejected += 1
                continue
            _prepare(kind, record, existing, report)
            upserter.add(tuple(record[c] for c in written[:-2]) + (stamp, stamp))
            if progress is not None and report.total_rows % 10_000 == 0:
                progress(report.total_rows)
    except TabularError as exc:
        raise ImportFileError(str(exc)) from None
    if report.rejected and not partial:
        report.committed = False
        return report
    report.created, report.updated = upserter.finish()
    report.imported = report.created + report.updated
    report.committed = True
    if progress is not None:
        progress(report.total_rows)
    return report


class _InspectionUpserter(Upserter):
    """The higher-level records' upserter: notes the (year, USCC) of every record a batch writes and
    of the record it replaces, and at the end recounts them in the ledger's maintained counts (the
    import writes behind the ORM, whose flush would have done it)."""

    def __init__(self, conn: Connection, table: str, key: str, columns: list[str], update: list[str]) -> None:
        super().__init__(conn, table, key, columns, update)
        self.at = {c: columns.index(c) for c in ("record_key", "year", "uscc")}
        self.touched: dict[int, set[str]] = {}

    def flush(self) -> None:
        found = [(row[self.at["year"]], row[self.at["uscc"]]) for row in self.pending]
        keys = [row[self.at["record_key"]] for row in self.pending]
        for start in range(0, len(keys), 500):
            found += self.conn.execute(select(HigherLevelInspection.year, HigherLevelInspection.uscc).where(
                HigherLevelInspection.record_key.in_(keys[start:start + 500]))).all()
        for year, uscc in found:
            self.touched.setdefault(year, set()).add(uscc)
        super().flush()

    def finish(self) -> tuple[int, int]:
        written = super().finish()
        for year, usccs in sorted(self.touched.items()):
            ledger_counts.refresh(self.conn, year, usccs)
        return written


UPSERTERS = {"inspections": _InspectionUpserter}
"""The kinds whose upserts need more than :class:`Upserter`."""


def _prepare(kind: str, record: dict, existing: dict, report: ImportReport) -> None:
    """A checked row made ready to write: licences joined; an inspector's moves noted for the audit."""
    if kind == "targets":
        record["licences"] = join_licences(record["licences"])
    elif kind == "inspectors":
        report.written_certificates.append(record["certificate_no"])
        known = existing.get(record["certificate_no"])
        if known is not None and known[1] != record["department_code"]:
            report.moved_inspector_ids.append(known[0])


def _checked_row(kind: str, row_number: int, values: dict | None, report: ImportReport, departments: dict[str, str],
                 allowed: set[str] | None, existing: dict, known_matters: set[str] | None) -> dict | None:
    """A parsed row after its kind's own checks (department, takeover, inspection details); None if refused."""
    if values is not None and kind == "inspectors":
        values = _resolve_department(row_number, values, departments, allowed, report)
    if values is not None and kind == "inspectors":
        values = _check_takeover(row_number, values, existing, allowed, report)
    if values is not None and kind == "inspections":
        values = _complete_inspection(row_number, values, departments, known_matters, report)
    return values


def header_mapping(rows: Iterator[tuple[int, list[str]]], columns) -> dict[int, Column]:
    """The file's first row read as the header: column index -> the column it names."""
    _number, header = next(rows, (0, None))
    if header is None:
        raise ImportFileError("文件为空：第 1 行应为表头。")
    mapping, problems = map_headers(header, columns)
    if problems:
        raise ImportFileError("表头有误（第 1 行）：" + " ".join(problems))
    return mapping


def parse_row(row_number: int, cells: list[str], mapping: dict[int, Column], report: ImportReport) -> dict | None:
    values: dict[str, object] = {}
    ok = True
    clean = not has_bad_chars("".join(cells))  # one scan for the whole row: a bad character is one character
    for index, column in mapping.items():
        raw = cells[index] if index < len(cells) else ""
        if not clean and has_bad_chars(raw):
            report.add_error(RowError(row_number, column.key, f"“{column.headers[0]}”：{CHARS_MESSAGE}"))
            ok = False
            continue
        if not raw:
            if column.required:
                report.add_error(RowError(row_number, column.key, f"“{column.headers[0]}”为必填项。"))
                ok = False
            continue
        try:
            values[column.key] = column.parse(raw)
        except CellError as exc:
            shown = None if column.personal else raw[:100]
            report.add_error(RowError(row_number, column.key, f"“{column.headers[0]}”：{exc}", shown))
            ok = False
    return values if ok else None


def _complete_inspection(row_number, values, departments, matters, report) -> dict | None:
    """Resolve the department label, check the matter code, derive the record key and the year."""
    ok = True
    label = values.get("department_code") or ""
    if label:
        code = departments.get(label)
        if code is None:
            report.add_error(RowError(row_number, "department_code", f"部门“{label}”不存在或其插件未安装。", label))
            ok = False
        else:
            values["department_code"] = code
    matter = values.get("matter_code") or ""
    if matter and matters is not None and matter not in matters:
        report.add_error(RowError(row_number, "matter_code", f"抽查事项“{matter}”不存在或其插件未安装。", matter))
        ok = False
    if not ok:
        return None
    values["year"] = values["inspected_on"].year
    values["record_key"] = inspection_key(values)
    return values


def inspection_key(values: dict) -> str:
    """Stable key of a higher-level inspection: the authority's own reference when given, else its facts."""
    if values.get("reference"):
        raw = f"ref|{values['authority']}|{values['reference']}"
    else:
        raw = f"row|{values['uscc']}|{values['authority']}|{values['inspected_on']}|{values.get('matter_code', '')}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _existing_eligibility(conn: Connection, watched: list[str]) -> dict[str, tuple]:
    """{USCC: its values of the ``watched`` eligibility fields} of the directory as it stands."""
    rows = conn.execute(select(Target.uscc, *(Target.__table__.c[f] for f in watched)))
    return {uscc: tuple(values) for uscc, *values in rows}


def _eligibility_row(row_number: int, record: dict, standing: dict[str, tuple], watched: list[str], owner: bool,
                     report: ImportReport) -> bool:
    """Whether a target row may be written: a change of an existing target's eligibility fields
    needs a reason code and the owner; the changes go to the report for the log."""
    old = standing.get(record["uscc"])
    if old is None:
        return True  # a new target: its first registration, not a change
    changed = [(f, was, record[f]) for f, was in zip(watched, old) if was != record[f]]
    if not changed:
        return True
    if not owner:
        report.add_error(RowError(row_number, changed[0][0], "登记状态、在册、信用风险分类与名录属登记机关或县双随机办的"
                                  "主数据，本行会改变它们，未导入；请提出变更提议。"))
        return False
    if not record.get("reason_code"):
        report.add_error(RowError(row_number, "reason_code", "本行改变了检查对象的抽取资格（"
                                  + "、".join(f for f, _, _ in changed) + "），须填写“变更原因”。"))
        return False
    report.eligibility_changes += [(record["uscc"], f, was, now, record["reason_code"]) for f, was, now in changed]
    return True


def _existing_inspectors(conn: Connection) -> dict[str, tuple[int, str]]:
    """{certificate number: (id, department)} of the directory as it stands (a county's few thousand)."""
    rows = conn.execute(select(Inspector.certificate_no, Inspector.id, Inspector.department_code))
    return {cert: (inspector_id, dept) for cert, inspector_id, dept in rows}


TAKEOVER_MESSAGE = "“执法证号”：该执法证号已登记在另一名执法检查人员名下，本行未导入。"


def _check_takeover(row_number, values, existing, allowed, report) -> dict | None:
    """A row may not change an inspector of a department the importer may not write. The message
    says no more than the duplicate rule does: neither the department nor the person."""
    known = existing.get(values["certificate_no"])
    if allowed is not None and known is not None and known[1] not in allowed:
        report.add_error(RowError(row_number, "certificate_no", TAKEOVER_MESSAGE))
        return None
    return values


def _resolve_department(row_number, values, departments, allowed, report) -> dict | None:
    label = values["department_code"]
    code = departments.get(label)
    if code is None:
        report.add_error(RowError(row_number, "department_code", f"部门“{label}”不存在或其插件未安装。", label))
        return None
    if allowed is not None and code not in allowed:
        report.add_error(RowError(row_number, "department_code", f"无权导入部门“{label}”的执法检查人员。", label))
        return None
    values["department_code"] = code
    return values
