"""One import as one transaction: all-or-nothing (unless partial), audited when it writes."""
from __future__ import annotations

from typing import IO, Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.directory import eligibility
from gateway.directory.importing import staged
from gateway.directory.importing.importer import ImportReport, import_file
from gateway.directory.importing.labels import department_labels
from gateway.directory.models import Inspector
from gateway.directory.service import align_accounts
from gateway.security import audit
from gateway.security.principal import Principal


def run_import(
    gateway: Gateway,
    principal: Principal,
    kind: str,
    stream: IO[bytes],
    filename: str,
    *,
    partial: bool = False,
    allowed_departments: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
    notice: Callable[[str], None] | None = None,
    max_rows: int | None = None,
    batch_size: int | None = None,
) -> ImportReport:
    """Import and commit, or roll back everything when a row is bad and ``partial`` is off.

    Raises ``ImportFileError`` when the file itself cannot be read; ``report.committed`` says
    whether anything was written. Targets go in steps, resumable (``importing.staged``; ``notice``
    hears what the job does, ``max_rows`` lifts a CSV's row limit, ``batch_size`` rows per commit).
    """
    allowed = list(allowed_departments) if allowed_departments is not None else None
    with gateway.read() as session:
        owner = eligibility.may_change(session, principal)
    if kind == "targets":
        def audit_import(conn, report: ImportReport) -> None:
            with Session(bind=conn) as session:  # joins the applying transaction
                _audit(session, principal, kind, report, allowed)

        return staged.import_targets(gateway.engine, stream, filename, principal=principal, owner=owner, partial=partial,
                              progress=progress, notice=notice, on_apply=audit_import, batch_size=batch_size or staged.STAGE_BATCH,
                              max_rows=max_rows)
    with gateway.engine.connect() as conn:
        conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin() as tx:
            report = import_file(
                conn, kind, stream, filename, partial=partial,
                departments=department_labels(gateway.registry),
                allowed_departments=allowed, progress=progress, matters=gateway.registry.matters,
                eligibility_owner=owner,
            )
            if not report.committed:
                tx.rollback()
                return report
            with Session(bind=conn) as session:  # joins the import's transaction
                _audit(session, principal, kind, report, allowed)
    return report


def _audit(session: Session, principal: Principal, kind: str, report: ImportReport, allowed: list[str] | None) -> None:
    """The audit of a written import, with what it logs beside it (eligibility changes, moved accounts)."""
    details = {
        "created": report.created, "updated": report.updated, "rejected": report.rejected,
        "rows": report.total_rows, "departments": allowed,
    }
    if report.eligibility_change_count is not None:  # logged by the staged import itself
        details["eligibility_changes"] = report.eligibility_change_count
    elif report.eligibility_changes:
        eligibility.log_imported(session, principal, report.eligibility_changes)
        details["eligibility_changes"] = len(report.eligibility_changes)
    if kind == "inspectors":
        align_accounts(session, report.moved_inspector_ids)
        details["inspector_ids"] = _inspector_ids(session, report.written_certificates)
        details["moved_inspector_ids"] = sorted(report.moved_inspector_ids)
    audit.record(session, principal, f"{kind}.import", "import", kind, details)


def _inspector_ids(session: Session, certificates: list[str]) -> list[int]:
    """The ids of the inspectors an import created or changed (the audit names ids, never numbers)."""
    ids: list[int] = []
    for start in range(0, len(certificates), 500):
        chunk = certificates[start:start + 500]
        ids.extend(session.scalars(select(Inspector.id).where(Inspector.certificate_no.in_(chunk))))
    return sorted(ids)
