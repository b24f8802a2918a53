"""The enterprise portal's rules (Chinese, phone-first, no staff account; docs/enterprise.md).

The enterprise signs in with its USCC and an access code from a notice (one-time: the sign-in hands
out the next code). It then sees every inspection of it in the ledger, whatever its channel (drawn
tasks, higher-level inspections, inspections registered outside the draw), and acts on its own
tasks only: a statement
(陈述申辩) on a draft result within the window, a recusal request (申请回避) that enters the article 14
reassignment flow, one rating per inspection once it has taken place, and rectification evidence
(整改材料) for the follow-up of a result that found problems. Each action is audited with the
enterprise as actor. A task of another enterprise answers as if it did not exist.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.directory.models import Target
from gateway.enterprise import access_codes, sessions
from gateway.enterprise.models import AccessCode, Notice, Rating, RectificationEvidence, RecusalRequest, Statement
from gateway.enterprise.statements import DRAFT_STATUSES, statement_deadline
from gateway.errors import Conflict, Invalid, NotFound
from gateway.ledger.channels import channel_label
from gateway.ledger.queries import LedgerEntry, ledger_entries
from gateway.planning.models import Plan
from gateway.results.models import Attachment, InspectionResult
from gateway.results.service import store_attachment
from gateway.security import audit
from gateway.tasks import reassign
from gateway.tasks.models import Task
from gateway.tasks.service import department_names

MAX_STATEMENT_FILES = 5


@dataclass(frozen=True)
class PortalSignIn:
    uscc: str
    cookie: str
    csrf_token: str
    expires_at: datetime
    next_code: str


def sign_in(gateway: Gateway, uscc: str, code: str, remote_addr: str) -> PortalSignIn:
    """Redeem ``code`` for a portal session (refusals counted and audited, see access_codes) and
    hand out the next code, shown once."""

    def open_portal(session: Session, row: AccessCode) -> PortalSignIn:
        cookie, portal = sessions.open_session(session, row)
        next_code = access_codes.issue_successor(session, row, valid_days=gateway.settings.access_code_days)
        audit.record(session, access_codes.enterprise_principal(row.uscc), "enterprise.sign_in", "enterprise",
                     row.uscc, {"remote_addr": remote_addr, "access_code_id": row.id, "session_id": portal.id})
        return PortalSignIn(row.uscc, cookie, portal.csrf_token, portal.expires_at, next_code)

    return access_codes.redeem_committed(gateway, uscc, code, purpose="sign_in", remote_addr=remote_addr,
                                         then=open_portal)


def sign_out(session: Session, uscc: str, cookie: str) -> None:
    sessions.close_session(session, cookie)
    audit.record(session, access_codes.enterprise_principal(uscc), "enterprise.sign_out", "enterprise", uscc, {})


# --- what the enterprise sees ------------------------------------------------------------------------

def enterprise_inspections(session: Session, uscc: str) -> tuple[list[Task], list[LedgerEntry]]:
    """Every inspection of the enterprise in the ledger (drawn, higher-level, registered), across
    departments: its tasks (drawn, or a registered visit joined into one), to act on, and the other
    entries, read-only lines. Two queries for the ledger, one for the tasks."""
    entries = ledger_entries(session, uscc=uscc)
    task_ids = {e.task_id for e in entries if e.task_id is not None}
    tasks = list(session.scalars(select(Task).join(Target, Target.id == Task.target_id)
                                 .where(Target.uscc == uscc, Task.id.in_(task_ids)))) if task_ids else []
    return tasks, [e for e in entries if e.task_id is None]


def own_task(session: Session, uscc: str, task_id: int, *, for_update: bool = False) -> Task:
    task = session.get(Task, task_id, with_for_update={"of": Task} if for_update else None)
    if task is None or task.target.uscc != uscc:
        raise NotFound.of("检查任务", task_id)
    return task


def overview(gateway: Gateway, session: Session, uscc: str, today: date) -> list[dict[str, Any]]:
    """The enterprise's inspections, newest first: each task with its notice, its latest result
    (draft or published), its statements, its recusal requests, its rating and what it may do now;
    each other ledger entry (higher-level, registered outside the draw) as a read-only line. Every
    entry names its channel. A fixed number of queries, whatever the number of inspections."""
    tasks, lines = enterprise_inspections(session, uscc)
    ids = [t.id for t in tasks]
    notices = {n.task_id: n for n in _rows(session, Notice, ids)}
    ratings = {r.task_id: r for r in _rows(session, Rating, ids)}
    grouped: dict[str, dict[int, list]] = {}
    for model in (Statement, RecusalRequest, RectificationEvidence):
        grouped[model.__tablename__] = defaultdict(list)
        for row in _rows(session, model, ids):
            grouped[model.__tablename__][row.task_id].append(row)
    results: dict[int, InspectionResult] = {}
    for result in _rows(session, InspectionResult, ids):
        if result.task_id not in results or result.version > results[result.task_id].version:
            results[result.task_id] = result
    plans = {p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_({t.plan_id for t in tasks})))} if tasks else {}
    names = department_names(session)
    entries = [_task_entry(gateway, t, plans.get(t.plan_id), names, notices.get(t.id), results.get(t.id),
                           {k: v[t.id] for k, v in grouped.items()}, ratings.get(t.id), today) for t in tasks]
    entries += [_ledger_line(line, names) for line in lines]
    return sorted(entries, key=lambda e: (e["inspected_on"], e["task_id"] or 0, e["reference"]), reverse=True)


def _ledger_line(entry: LedgerEntry, names: dict[str, str]) -> dict[str, Any]:
    """An inspection outside the enterprise's tasks, shown read-only (nothing to act on)."""
    department = names.get(entry.department_code, entry.department_code)
    return {
        "task_id": None, "task_number": "", "plan_number": "", "plan_title": "",
        "channel": entry.channel, "channel_label": channel_label(entry.channel), "read_only": True,
        "inspected_on": entry.on, "reference": entry.reference,
        "lead_department": department, "departments": [department] if department else [],
        "window_start": entry.on, "window_end": entry.on, "status": "", "team": [], "notice": None,
        "draft_result": None, "published_result": None, "statement_due": None, "can_file_statement": False,
        "statements": [], "recusal_requests": [], "can_request_recusal": False, "rating": None, "can_rate": False,
        "rectification_evidence": [], "can_upload_evidence": False,
    }


def _rows(session: Session, model, task_ids: list[int]) -> list:
    if not task_ids:
        return []
    return list(session.scalars(select(model).where(model.task_id.in_(task_ids)).order_by(model.id)))


def _task_entry(gateway: Gateway, task: Task, plan: Plan | None, names: dict[str, str], notice: Notice | None,
                result: InspectionResult | None, related: dict[str, list], rating: Rating | None,
                today: date) -> dict[str, Any]:
    draft = result if result is not None and result.status in DRAFT_STATUSES else None
    due = statement_deadline(gateway.settings, draft.completed_on) if draft is not None else None
    published = result if result is not None and result.status == "published" else None
    return {
        "task_id": task.id, "task_number": task.number,
        "channel": "drawn", "channel_label": channel_label("drawn"), "read_only": False,
        "inspected_on": task.window_start, "reference": task.number,
        "plan_number": plan.number if plan else "", "plan_title": plan.title if plan else "",
        "lead_department": names.get(task.lead_department, task.lead_department),
        "departments": sorted({names.get(m.department_code, m.department_code) for m in task.team}),
        "window_start": task.window_start, "window_end": task.window_end, "status": task.status,
        "team": [{"member_id": m.id, "name": m.inspector.name,
                  "department": names.get(m.department_code, m.department_code)} for m in task.team],
        "notice": notice,
        "draft_result": draft, "published_result": published,
        "statement_due": due, "can_file_statement": draft is not None and today <= due,
        "statements": related["enterprise_statements"],
        "recusal_requests": related["enterprise_recusal_requests"],
        "can_request_recusal": task.status == "assigned",
        "rating": rating, "can_rate": result is not None and rating is None,
        "rectification_evidence": related["enterprise_rectification_evidence"],
        "can_upload_evidence": published is not None and published.has_problems,
    }


# --- what the enterprise does ------------------------------------------------------------------------

def upload_file(gateway: Gateway, session: Session, uscc: str, task_id: int, filename: str, content: bytes) -> Attachment:
    """A photo or PDF the enterprise uploads for its task, to attach to a statement or as rectification evidence."""
    task = own_task(session, uscc, task_id)
    return store_attachment(gateway, session, access_codes.enterprise_principal(uscc), task, filename, content)


def _own_uploads(session: Session, uscc: str, task: Task, attachment_ids: list[int], field: str) -> list[Attachment]:
    """The enterprise's own uploads to ``task`` named by ``attachment_ids`` (nothing else may be attached)."""
    label = access_codes.enterprise_principal(uscc).label
    ids = list(dict.fromkeys(attachment_ids))
    found = {a.id: a for a in session.scalars(select(Attachment).where(
        Attachment.id.in_(ids), Attachment.task_id == task.id, Attachment.uploaded_by == label))} if ids else {}
    missing = [i for i in ids if i not in found]
    if missing:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {field: [f"文件 {'、'.join(map(str, missing))} 不是你单位为本次检查上传的文件。"]})
    return [found[i] for i in ids]


def file_statement(gateway: Gateway, session: Session, uscc: str, task_id: int, text: str,
                   attachment_ids: list[int], today: date) -> Statement:
    """A statement (陈述申辩) with evidence on the task's draft result, inside the window."""
    task = own_task(session, uscc, task_id, for_update=True)
    draft = session.scalar(select(InspectionResult).where(InspectionResult.task_id == task.id,
                                                          InspectionResult.status.in_(DRAFT_STATUSES))
                           .order_by(InspectionResult.version.desc()).limit(1))
    if draft is None:
        raise Conflict("no_draft_result", "该检查尚无待公示的检查结果，暂不能提交陈述申辩。")
    due = statement_deadline(gateway.settings, draft.completed_on)
    if today > due:
        raise Conflict("statement_window_closed",
                       f"陈述申辩期限已于 {due.isoformat()} 届满（检查完成后 {gateway.settings.statement_working_days} 个工作日）。")
    if not (text or "").strip():
        raise Invalid("validation_error", "提交的数据未通过校验。", {"text": ["请填写陈述申辩的内容。"]})
    if len(attachment_ids) > MAX_STATEMENT_FILES:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"attachment_ids": [f"证据材料最多 {MAX_STATEMENT_FILES} 个文件。"]})
    actor = access_codes.enterprise_principal(uscc)
    attachments = _own_uploads(session, uscc, task, attachment_ids, "attachment_ids")
    statement = Statement(task_id=task.id, result_id=draft.id, uscc=uscc, text=text.strip(),
                          attachment_ids=[a.id for a in attachments])
    session.add(statement)
    session.flush()
    audit.record(session, actor, "enterprise.statement.file", "task", task.id,
                 {"statement_id": statement.id, "result_id": draft.id, "attachments": statement.attachment_ids})
    return statement


def request_recusal(session: Session, uscc: str, task_id: int, member_id: int, reason: str) -> RecusalRequest:
    """Ask that a team member step aside: an article 14 reassignment request (conflict of interest)
    that the member's department head decides as any other."""
    task = own_task(session, uscc, task_id, for_update=True)
    member = next((m for m in task.team if m.id == member_id), None)
    if member is None:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"member_id": [f"检查人员 {member_id} 不在任务 {task.number} 的检查组中。"]})
    if not (reason or "").strip():
        raise Invalid("validation_error", "提交的数据未通过校验。", {"reason": ["请说明申请回避的理由。"]})
    actor = access_codes.enterprise_principal(uscc)
    item = reassign.open_request(session, actor, task, member, "conflict_of_interest",
                                 f"检查对象申请回避：{reason.strip()}")
    request = RecusalRequest(task_id=task.id, member_id=member.id, reason=reason.strip(), reassignment_id=item.id)
    session.add(request)
    session.flush()
    audit.record(session, actor, "enterprise.recusal.request", "task", task.id,
                 {"recusal_id": request.id, "reassignment": item.id})
    return request


def rate(session: Session, uscc: str, task_id: int, score: int, comment: str) -> Rating:
    """One rating per inspection, once it took place (a result was recorded)."""
    task = own_task(session, uscc, task_id, for_update=True)
    if score not in (1, 2, 3, 4, 5):
        raise Invalid("validation_error", "提交的数据未通过校验。", {"score": ["评分应为 1 至 5 的整数。"]})
    if session.scalar(select(InspectionResult.id).where(InspectionResult.task_id == task.id).limit(1)) is None:
        raise Conflict("not_inspected_yet", "检查结束后才能评价本次检查。")
    if session.scalar(select(Rating.id).where(Rating.task_id == task.id)) is not None:
        raise Conflict("already_rated", "本次检查已经评价过，每次检查只能评价一次。")
    rating = Rating(task_id=task.id, department_code=task.lead_department, score=score, comment=(comment or "").strip())
    session.add(rating)
    session.flush()
    # Neither the score nor the comment goes into the audit log: the department reads aggregates only.
    audit.record(session, access_codes.enterprise_principal(uscc), "enterprise.rate", "task", task.id,
                 {"rating_id": rating.id})
    return rating


def add_evidence(session: Session, uscc: str, task_id: int, attachment_id: int, note: str) -> RectificationEvidence:
    """Rectification evidence for the follow-up of a published result that found problems."""
    task = own_task(session, uscc, task_id, for_update=True)
    found = session.scalar(select(InspectionResult.id).where(
        InspectionResult.task_id == task.id, InspectionResult.status == "published",
        InspectionResult.has_problems.is_(True)).limit(1))
    if found is None:
        raise Conflict("no_problems_found", "只有公示的检查结果发现问题时，才需要上传整改材料。")
    actor = access_codes.enterprise_principal(uscc)
    attachment = _own_uploads(session, uscc, task, [attachment_id], "attachment_id")[0]
    evidence = RectificationEvidence(task_id=task.id, attachment_id=attachment.id, note=(note or "").strip())
    session.add(evidence)
    session.flush()
    audit.record(session, actor, "enterprise.rectification.upload", "task", task.id,
                 {"evidence_id": evidence.id, "attachment_id": attachment.id})
    return evidence
