"""The result workflow: record → (returned →) reviewed → published; corrections as new versions.

"Who leads, who records, who answers" (article 5): only the task's team records
(``results.record``, scope team); only the lead department reviews (``results.review``) and
publishes (``results.publish``). Publication writes the outbox row (kind ``result``, due date =
the article 19 deadline), sets the task's status and applies the risk rules, in one transaction.

Each function takes the gateway (settings, plugins), a session and the acting principal; the
caller commits. Plugin notifications (``gateway_result_recorded``, ``gateway_violation_found``)
run after the commit through :func:`notify_stored`: a plugin that fails there cannot undo a
stored result, and is logged.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Any, Callable, Mapping

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gateway.codes import checkins
from gateway.core import Gateway
from gateway.db import utcnow, where_equal
from gateway.directory.models import Inspector, Target
from gateway.enterprise import statements as enterprise_statements
from gateway.errors import Conflict, Invalid, NotFound
from gateway.planning.models import Plan
from gateway.results import attachments as files
from gateway.results import contributions, listing, risk
from gateway.results.access import task_resource, visible_tasks
from gateway.results.checklist import task_checklists, unavailable_matters
from gateway.results.clock import compute_deadline, effective_deadline
from gateway.results.models import (
    RESULT_STATUS_LABELS,
    Attachment,
    InspectionResult,
    target_snapshot,
)
from gateway.results.validation import CleanResult, method_plan, validate_result
from gateway.results.views import ResultView, department_name
from gateway.security import audit
from gateway.security.disclosure import check_public_text
from gateway.security.policy import allows, authorize
from gateway.security.principal import Principal
from gateway.sync.outbox import enqueue
from gateway.tasks.models import Task
from schemas.common import RowView
from schemas.result_codes import RESULT_CODES

log = logging.getLogger(__name__)


# --- lookups ------------------------------------------------------------------------------------


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound.of("检查任务", task_id)
    return task


def get_result(session: Session, result_id: int, *, for_update: bool = False) -> InspectionResult:
    """One result; ``for_update`` locks its row (PostgreSQL) so that two requests changing its state
    queue instead of both succeeding (SQLite writers already queue at BEGIN IMMEDIATE)."""
    lock = {"of": InspectionResult} if for_update else None  # eager joins are outer joins: lock only this row
    result = session.get(InspectionResult, result_id, with_for_update=lock)
    if result is None:
        raise NotFound.of("检查结果", result_id)
    return result


def versions_of(session: Session, task_id: int) -> list[InspectionResult]:
    return list(
        session.scalars(select(InspectionResult).where(InspectionResult.task_id == task_id).order_by(InspectionResult.version))
    )


def latest_version(session: Session, task_id: int) -> InspectionResult | None:
    return session.scalar(
        select(InspectionResult).where(InspectionResult.task_id == task_id)
        .order_by(InspectionResult.version.desc()).limit(1)
    )


def task_is_published(session: Session, task_id: int) -> bool:
    return bool(session.scalar(
        select(func.count(InspectionResult.id)).where(
            InspectionResult.task_id == task_id, InspectionResult.status == "published"
        )
    ))


def latest_published(session: Session, task_id: int) -> InspectionResult | None:
    return session.scalar(
        select(InspectionResult).where(InspectionResult.task_id == task_id, InspectionResult.status == "published")
        .order_by(InspectionResult.version.desc()).limit(1)
    )


def in_full_scope(principal: Principal, task: Task) -> bool:
    """Whether ``principal`` reads the task's results in full (its departments, team, office,
    supervisors), rather than only as published facts."""
    return allows(principal, "results.read", **{**task_resource(task), "published": False})


def authorize_read(session: Session, principal: Principal, result: InspectionResult) -> None:
    """Read access to one version: the internal scopes, or the public for a published version."""
    authorize(principal, "results.read", **{**task_resource(result.task), "published": result.is_published})


def readable_versions(session: Session, principal: Principal, task: Task) -> list[InspectionResult]:
    """The versions of a task's result ``principal`` may read; refused if it may read none and is
    outside the task's scope."""
    readable = [v for v in versions_of(session, task.id)
                if allows(principal, "results.read", **{**task_resource(task), "published": v.is_published})]
    if not readable:
        authorize(principal, "results.read", **{**task_resource(task), "published": False})
    return readable


def results_query(principal: Principal, args: Mapping[str, Any]) -> Select:
    """Result versions ``principal`` may read, filtered by status, lead department, plan or USCC,
    newest first."""
    stmt = select(InspectionResult).join(Task, Task.id == InspectionResult.task_id).where(
        visible_tasks(principal, "results.read")
    )
    stmt = where_equal(stmt, args, {"status": InspectionResult.status, "department": Task.lead_department,
                                    "plan_id": Task.plan_id})
    if args.get("uscc"):
        stmt = stmt.join(Target, Target.id == Task.target_id).where(Target.uscc == args["uscc"].strip().upper())
    return stmt.order_by(InspectionResult.id.desc())


def attachments_of(session: Session, principal: Principal, task_id: int) -> list[Attachment]:
    """The attachments uploaded to a task, oldest first."""
    task = get_task(session, task_id)
    authorize(principal, "attachments.read", **task_resource(task))
    return list(session.scalars(select(Attachment).where(Attachment.task_id == task.id).order_by(Attachment.id)))


# --- serialisation --------------------------------------------------------------------------------


def team_department_names(gateway: Gateway, task: Task) -> list[str]:
    """The team's departments by name, lead first: how the public sees an inspection team."""
    codes = [task.lead_department]
    for member in task.team:
        if member.department_code not in codes:
            codes.append(member.department_code)
    return [department_name(gateway, c) for c in codes]


def result_dict(
    gateway: Gateway, session: Session, result: InspectionResult, today: date, *, full: bool = True
) -> dict[str, Any]:
    """A result version as the API shows it, with Python values (for pages and plugins)."""
    return result_views(gateway, session, [result], today, full=full)[0].values()


def result_views(
    gateway: Gateway, session: Session, results: list[InspectionResult], today: date, *,
    full: bool | Callable[[InspectionResult], bool] = True,
) -> list[ResultView]:
    """What ``ResultSchema`` dumps for each result; their plans and which of their tasks are
    published are read in one query each. ``full`` may say per result whether it is shown in full."""
    if not results:
        return []
    task_ids = {r.task_id for r in results}
    plans = {p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_({r.task.plan_id for r in results})))}
    published = set(session.scalars(select(InspectionResult.task_id).where(
        InspectionResult.task_id.in_(task_ids), InspectionResult.status == "published").distinct()))
    return [
        ResultView(gateway, r, today, plans.get(r.task.plan_id), r.task_id in published,
                   full=full(r) if callable(full) else full)
        for r in results
    ]


class TaskChecklistView(RowView):
    """What the team fills in for a task, as ``TaskChecklistSchema`` dumps it: each matter's merged
    checklist (as pinned by the plan), the methods, the matters unavailable, the result codes."""

    def __init__(self, gateway: Gateway, session: Session, task: Task):
        self.row = task
        self.task_id, self.task_number = task.id, task.number
        pinned = task_checklists(gateway, session, task)
        self.matters = [pinned[code].describe() for code in task.matter_codes if code in pinned]
        planned = method_plan(gateway, session, task)
        self.methods, self.off_site_matters, self.site_visit = planned.methods, list(planned.off_site), planned.site_visit
        self.unavailable = unavailable_matters(gateway, session, task)
        self.result_codes = result_code_table()


def task_checklist(gateway: Gateway, session: Session, principal: Principal, task_id: int) -> TaskChecklistView:
    task = get_task(session, task_id)
    authorize(principal, "tasks.read", **task_resource(task))
    return TaskChecklistView(gateway, session, task)


def result_code_table() -> list[dict[str, Any]]:
    return [
        {
            "code": c.code, "label": c.label, "kind": c.kind, "parent": c.parent, "exclusive": c.exclusive,
            "requires_follow_up": c.requires_follow_up, "counts_as_problem": c.kind in risk.RULES.problem_kinds,
        }
        for c in RESULT_CODES.values()
    ]


# --- attachments ---------------------------------------------------------------------------------


def upload_attachment(
    gateway: Gateway, session: Session, principal: Principal, task_id: int, filename: str, content: bytes
) -> Attachment:
    """Store a photo or PDF for a task (team members only), by its content hash."""
    task = get_task(session, task_id)
    authorize(principal, "results.record", **task_resource(task))
    return store_attachment(gateway, session, principal, task, filename, content)


def store_attachment(gateway: Gateway, session: Session, principal: Principal, task: Task, filename: str,
                     content: bytes) -> Attachment:
    """Check, store and audit one upload for ``task``; the caller has decided that ``principal`` may."""
    file_type, name = files.check_upload(filename, content)
    digest = files.store_blob(gateway.settings.instance_path, content)
    attachment = Attachment(
        task_id=task.id, sha256=digest, filename=name, content_type=file_type.content_type, size=len(content),
        uploaded_by=principal.label, uploaded_by_inspector_id=principal.inspector_id,
    )
    session.add(attachment)
    session.flush()
    audit.record(session, principal, "attachments.upload", "attachment", attachment.id,
                 {"task_id": task.id, "sha256": digest, "content_type": file_type.content_type, "size": len(content)})
    return attachment


def read_attachment(gateway: Gateway, session: Session, principal: Principal, attachment_id: int) -> tuple[Attachment, bytes]:
    """An attachment's bytes, for authorised users only (never the public: photos show people)."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound.of("附件", attachment_id)
    task = get_task(session, attachment.task_id)
    authorize(principal, "attachments.read", **task_resource(task))
    content = files.read_blob(gateway.settings.instance_path, attachment.sha256)
    audit.record(session, principal, "attachments.read", "attachment", attachment.id, {"task_id": task.id})
    return attachment, content


# --- the workflow ----------------------------------------------------------------------------------


def _apply_clean(gateway: Gateway, session: Session, result: InspectionResult, clean: CleanResult) -> None:
    checkins.require_for_result(session, session.get(Task, result.task_id), clean.methods)
    deadline = compute_deadline(gateway.settings, clean.completed_on)
    result.checklists = clean.checklists
    result.result_codes = clean.result_codes
    result.has_problems = clean.has_problems
    result.requires_follow_up = clean.requires_follow_up
    result.methods = clean.methods
    result.completed_on = clean.completed_on
    result.completed_late = clean.completed_late
    result.deadline = deadline.due
    result.deadline_provisional = deadline.provisional
    result.signature_status = clean.signature["status"]
    result.signer_name = clean.signature.get("signer_name", "").strip() if clean.signature["status"] == "signed" else ""
    result.signer_title = clean.signature.get("signer_title", "").strip() if clean.signature["status"] == "signed" else ""
    result.refusal_note = clean.signature.get("refusal_note", "").strip() if clean.signature["status"] == "refused" else ""
    if clean.signature["status"] != "signed":  # a drawn signature belongs to a signed result only
        result.signature_attachment_id, result.signature_sha256 = None, ""
    result.remarks = clean.remarks
    result.attachments = list(
        session.scalars(select(Attachment).where(Attachment.id.in_(clean.attachment_ids)).order_by(Attachment.id))
    ) if clean.attachment_ids else []


def _sync_task_status(session: Session, task: Task, latest: InspectionResult) -> None:
    """The task's status follows its latest result; a result the target signed ends the team's visit."""
    if latest.signature_status == "signed":
        checkins.record_departure(session, task, latest.id)
    if task_is_published(session, task.id):
        task.status = "published"
    else:
        task.status = "recorded" if latest.status == "returned" else latest.status


def _audit_details(result: InspectionResult, **extra: Any) -> dict[str, Any]:
    return {"task_id": result.task_id, "version": result.version, "status": result.status,
            "result_codes": list(result.result_codes), **extra}


def recorder_label(session: Session, principal: Principal) -> str:
    """Who recorded: an inspector by the name in the directory (their account may be named
    ``inspector-97``), anyone else by their account."""
    if principal.inspector_id is not None:
        inspector = session.get(Inspector, principal.inspector_id)
        if inspector is not None:
            return Principal(role=principal.role, name=inspector.name).label
    return principal.label


def _require_team(principal: Principal, task: Task) -> None:
    """Only the task's team (its lead member) records, changes or corrects its result."""
    authorize(principal, "results.record", **task_resource(task))
    contributions.require_lead_member(principal, task)


def _team_result(session: Session, principal: Principal, result_id: int) -> tuple[InspectionResult, Task]:
    """A result (locked) and its task, for the task's team to change or correct."""
    result = get_result(session, result_id, for_update=True)
    _require_team(principal, result.task)
    return result, result.task


def _save(gateway: Gateway, session: Session, principal: Principal, result: InspectionResult, clean: CleanResult,
          action: str, **details: Any) -> InspectionResult:
    """Store a new result version from its checked values, move the task on and audit ``action``."""
    _apply_clean(gateway, session, result, clean)
    session.add(result)
    session.flush()
    _sync_task_status(session, result.task, result)
    audit.record(session, principal, action, "inspection_result", result.id, _audit_details(result, **details))
    return result


def record_result(
    gateway: Gateway, session: Session, principal: Principal, task_id: int, raw: Any, *, today: date
) -> InspectionResult:
    """Record a task's first result (the team only)."""
    task = get_task(session, task_id)
    _require_team(principal, task)
    existing = latest_version(session, task.id)
    if existing is not None:
        if existing.is_published:
            raise Conflict("result_published", "该任务的检查结果已公示，如需更正请提交更正（生成新版本）。",
                           result_id=existing.id)
        raise Conflict("result_exists", "该任务已有检查结果，请修改现有结果。", result_id=existing.id)
    clean = validate_result(gateway, session, task, contributions.merge_into(session, task, raw), today=today)
    result = InspectionResult(
        task_id=task.id, version=1, status="recorded",
        recorded_by=recorder_label(session, principal), recorded_by_inspector_id=principal.inspector_id,
    )
    return _save(gateway, session, principal, result, clean, "results.record")


def update_result(
    gateway: Gateway, session: Session, principal: Principal, result_id: int, raw: Any, *, today: date
) -> InspectionResult:
    """Change a result that is recorded or was returned (the team only; never once published)."""
    result, task = _team_result(session, principal, result_id)
    if result.is_published:
        raise Conflict("result_published", "已公示的检查结果不能修改，如需更正请提交更正（生成新版本）。")
    if result.status == "reviewed":
        raise Conflict("result_reviewed", "检查结果已审核，不能再修改；如需修改请由牵头部门退回。")
    correction = result.supersedes_id is not None
    clean = validate_result(gateway, session, task, raw if correction else contributions.merge_into(session, task, raw),
                            today=today, correction=correction)
    _apply_clean(gateway, session, result, clean)
    if result.supersedes_id is not None:
        result.correction_reason = clean.reason
    result.status = "recorded"
    result.updated_at = utcnow()
    result.recorded_by = principal.label
    result.recorded_by_inspector_id = principal.inspector_id
    session.flush()
    _sync_task_status(session, task, result)
    audit.record(session, principal, "results.update", "inspection_result", result.id, _audit_details(result))
    return result


def correct_result(
    gateway: Gateway, session: Session, principal: Principal, result_id: int, raw: Any, *, today: date
) -> InspectionResult:
    """A correction of the latest published version: a new version, with a reason (the team only)."""
    base, task = _team_result(session, principal, result_id)
    if not base.is_published:
        raise Conflict("result_not_published", "该检查结果尚未公示，请直接修改，无需更正。")
    latest = latest_version(session, task.id)
    if latest.id != base.id:
        raise Conflict("correction_pending" if not latest.is_published else "result_superseded",
                       f"该任务已有第 {latest.version} 版检查结果，只能更正最新公示的版本。", result_id=latest.id)
    clean = validate_result(gateway, session, task, raw, today=today, correction=True)
    result = InspectionResult(
        task_id=task.id, version=base.version + 1, status="recorded", supersedes_id=base.id,
        correction_reason=clean.reason, recorded_by=recorder_label(session, principal), recorded_by_inspector_id=principal.inspector_id,
    )
    return _save(gateway, session, principal, result, clean, "results.correct", supersedes_id=base.id)


def public_texts(result: InspectionResult) -> dict[str, str]:
    """The free text of a result that its publication shows to everyone."""
    return {"remarks": result.remarks, "correction_reason": result.correction_reason}


def _lead_result(
    session: Session, principal: Principal, result_id: int, action: str, status: str
) -> tuple[InspectionResult, Task]:
    """A result (locked) and its task, for the lead department to review (``status`` recorded) or to
    publish (reviewed); refused in any other status."""
    result = get_result(session, result_id, for_update=True)
    authorize(principal, action, departments=[result.task.lead_department])
    if result.status != status:
        verb = "审核" if status == "recorded" else "公示"
        raise Conflict(f"result_not_{status}", f"只能{verb}“{RESULT_STATUS_LABELS[status]}”的检查结果，"
                                               f"该结果当前为“{RESULT_STATUS_LABELS[result.status]}”。")
    return result, result.task


def review_result(
    gateway: Gateway, session: Session, principal: Principal, result_id: int, approve: bool, note: str = ""
) -> InspectionResult:
    """The lead department approves a recorded result, or returns it to the team with a reason."""
    result, task = _lead_result(session, principal, result_id, "results.review", "recorded")
    if not approve and not (note or "").strip():
        raise Invalid("validation_error", "提交的数据未通过校验。", {"note": ["退回修改时必须填写退回原因。"]})
    if approve:
        check_public_text(session, public_texts(result))
    result.status = "reviewed" if approve else "returned"
    result.reviewed_by = principal.label
    result.reviewed_at = utcnow()
    result.review_note = (note or "").strip()
    session.flush()
    _sync_task_status(session, task, result)
    audit.record(session, principal, "results.review", "inspection_result", result.id,
                 _audit_details(result, approved=approve))
    return result


def publish_result(
    gateway: Gateway, session: Session, principal: Principal, result_id: int, *, today: date
) -> InspectionResult:
    """Publish a reviewed result (the lead department): outbox, task status and risk flags, at once."""
    result, task = _lead_result(session, principal, result_id, "results.publish", "reviewed")
    block = enterprise_statements.publication_block(gateway.settings, session, result, today)
    if block is not None:
        raise block
    check_public_text(session, public_texts(result))
    deadline = effective_deadline(gateway.settings, result)
    result.deadline = deadline.due
    result.deadline_provisional = deadline.provisional
    result.status = "published"
    result.public_target = target_snapshot(task.target)
    result.published_by = principal.label
    result.published_at = utcnow()
    result.published_on = today
    result.published_on_time = today <= deadline.due
    session.flush()
    task.status = "published"
    enqueue(
        session, "result", result.id, area_code=gateway.settings.area_code,
        department_code=task.lead_department, due_date=datetime.combine(deadline.due, time()),
    )
    event = risk.apply_result(session, result, principal=principal)
    audit.record(session, principal, "results.publish", "inspection_result", result.id,
                 _audit_details(result, on_time=result.published_on_time, deadline=deadline.due.isoformat()))
    if event is not None:
        audit.record(session, principal, "targets.risk_raised", "target", task.target.uscc,
                     {"risk_event_id": event.id, "from": event.risk_class_before, "to": event.risk_class_after,
                      "lists": event.lists_set, "rules": event.rules})
    listing.propose_for_result(session, principal, result)
    return result


# --- plugin notifications, after the commit ------------------------------------------------------


def store_and_notify(gateway: Gateway, principal: Principal, today: date, action) -> dict[str, Any]:
    """Run ``action(gateway, session, principal, today) -> InspectionResult`` in one write
    transaction, then, once committed, tell the plugins. Returns the stored result as a dict."""
    with gateway.write() as session:
        result = action(gateway, session, principal, today)
        payload = result_dict(gateway, session, result, today)
        matters = list(result.task.matter_codes)
        problems = problem_matters_of(result)
    notify_stored(gateway, payload, matters, problems)
    return payload


def notify_stored(gateway: Gateway, payload: Mapping[str, Any], matter_codes: list[str], problem_matters: list[str]) -> None:
    """Tell the plugins that a result was stored (and, where problems were found, about them)."""
    violation_matters = problem_matters or (matter_codes if payload.get("has_problems") else [])
    for matter_code in matter_codes:
        _call(gateway.hook.gateway_result_recorded, matter_code, payload)
    for matter_code in violation_matters:
        _call(gateway.hook.gateway_violation_found, matter_code, payload)


def _call(hook, matter_code: str, payload: Mapping[str, Any]) -> None:
    """Call every plugin's implementation on its own: one failing plugin neither undoes the stored
    result nor keeps the others from hearing about it."""
    for impl in reversed(hook.get_hookimpls()):
        try:
            impl.function(matter_code=matter_code, result=payload)
        except Exception:
            log.exception("plugin %s: hook %s failed for matter %s", impl.plugin_name, hook.name, matter_code)


def problem_matters_of(result: InspectionResult) -> list[str]:
    return [m for m, values in (result.checklists or {}).items() if any(v == "non_compliant" for v in values.values())]
