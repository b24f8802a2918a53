"""Importing registered inspections from CSV or XLSX: the directory importer's file reading and
cell checks (:mod:`gateway.directory.importing`), then the registration rules of
:mod:`gateway.ledger.service` for every row, with the file's earlier rows counted toward the caps.
Any bad row refuses the whole file: every error names its row and field, and nothing is written;
with ``partial`` (as the directory import's ``--partial``) the valid rows are registered and the
rejected ones reported by row, field and reason. The caps of a later row count only the earlier
rows that were accepted."""
from __future__ import annotations

from datetime import date
from typing import IO, Mapping

from sqlalchemy.orm import Session

from gateway.directory.importing.columns import REGISTRATION_COLUMNS
from gateway.directory.importing.importer import ImportFileError, ImportReport, RowError, header_mapping, parse_row
from gateway.directory.importing.tabular import TabularError, detect_format, iter_records
from gateway.ledger.service import RegistrationChecks, cleaned, insert
from gateway.security.policy import allows, authorize
from gateway.security.principal import Principal

KIND = "registered_inspections"


def _read_rows(stream: IO[bytes], filename: str, report: ImportReport, departments: Mapping[str, str],
               principal: Principal) -> list[tuple[int, dict]]:
    """The file's rows that pass the cell checks, their department resolved and allowed."""
    try:
        rows = iter_records(stream, detect_format(filename))
        mapping = header_mapping(rows, REGISTRATION_COLUMNS)
        parsed = []
        for row_number, cells in rows:
            if not any(cells):
                continue
            report.total_rows += 1
            values = parse_row(row_number, cells, mapping, report)
            if values is None:
                continue
            label = values["department_code"]
            code = departments.get(label)
            if code is None:
                report.add_error(RowError(row_number, "department_code", f"部门“{label}”不存在或其插件未安装。", label))
            elif not allows(principal, "ledger.register", departments=[code]):
                report.add_error(RowError(row_number, "department_code", f"无权登记部门“{label}”的检查。", label))
            else:
                parsed.append((row_number, cleaned({**values, "department_code": code})))
    except TabularError as exc:
        raise ImportFileError(str(exc)) from None
    return parsed


def import_registrations(session: Session, principal: Principal, stream: IO[bytes], filename: str, *,
                         departments: Mapping[str, str], today: date | None = None,
                         partial: bool = False) -> ImportReport:
    """Check every row and, only when all pass, register them all (``report.committed``); with
    ``partial``, register the rows that pass and report the others.

    ``departments`` maps every accepted department label (code, name, short name) to its code.
    Raises ``ImportFileError`` when the file itself cannot be read.
    """
    authorize(principal, "ledger.register", departments=sorted(set(departments.values())))
    report = ImportReport(kind=KIND)
    parsed = _read_rows(stream, filename, report, departments, principal)
    checks = RegistrationChecks(session, [data for _, data in parsed], today or date.today())
    accepted = []
    for row_number, data in parsed:
        check, error = checks.error(data)
        if error is not None:
            for field, message in (error.errors or {"_row": error.message}).items():
                report.add_error(RowError(row_number, field, message, None))
            continue
        checks.accept(data, check)
        accepted.append((data, check))
    report.rejected = report.total_rows - len(accepted)
    report.errors.sort(key=lambda error: error.row)  # the cell checks' and the rules' errors, row by row
    if (report.error_count and not partial) or (not accepted and not partial):
        return report
    if accepted:
        insert(session, principal, accepted, "import")
    report.created = report.imported = len(accepted)
    report.committed = True
    return report
