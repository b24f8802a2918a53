"""Results: the inspector's result form (generated from each matter's merged checklist schema),
review and publication by the lead department, follow-up dispositions, and the article 19
overdue / due-soon lists.

Every rule is in ``gateway.results`` (service, followups, clock); this module reads forms, calls
the services with the request's principal and shows their field errors beside the fields.
"""
from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import and_, false, func, or_, select, true

from gateway.api.session import db, get_gateway
from gateway.directory import eligibility
from gateway.enterprise.evidence import evidence_by_task
from gateway.errors import DomainError, Invalid
from gateway.results import contributions, followups, listing
from gateway.results import service as results
from gateway.results.access import task_resource, visible_tasks
from gateway.results.checklist import MergedChecklist, task_checklists
from gateway.results.clock import china_today, deadline_lists
from gateway.results.models import LISTING_STATUS_LABELS, RESULT_STATUS_LABELS, Attachment, InspectionResult
from gateway.security.policy import ANY, OWN_DEPARTMENT, allows, authorize, permission, scope_of
from gateway.security.principal import current_principal
from gateway.tasks.models import Task
from gateway.web.base import errors_of, flat_errors, make_blueprint, paged, refusal_status, run_action
from gateway.web.forms import errors_by_name, form_fields, read_form
from gateway.web.proposals import decide_proposal, status_tab
from schemas.common import python_values
from schemas.results import DeadlineListSchema

bp = make_blueprint("web_results", "/console")

SIGNATURE_OPTIONS = (("signed", "检查对象已签字确认"), ("refused", "检查对象拒绝签字"))
EMPTY_LIST_MESSAGES = {
    "result_codes": "请至少选择一个检查结果代码。",
    "methods": "请至少选择一种检查方式。",
}
FIXED_LABELS = {
    "result_codes": "检查结果代码", "methods": "检查方式", "completed_on": "检查完成日期",
    "signature.status": "检查对象签字情况", "signature.signer_name": "签字人姓名",
    "signature.signer_title": "签字人职务", "signature.refusal_note": "拒签情况说明",
    "remarks": "备注", "attachments": "现场照片和材料", "reason": "更正原因",
}


# --------------------------------------------------------------------------------- result form

def _input_name(path: str) -> str:
    """A service error path (``result_codes.1``, ``signature``) as the form input it belongs to."""
    parts = path.split(".")
    if parts[0] in ("result_codes", "methods"):
        return parts[0]
    if parts[0] == "attachment_ids":
        return "attachments"
    if path == "signature":
        return "signature.status"
    return path


def form_errors(errors: dict[str, list[str]], form=None) -> dict[str, list[str]]:
    """Service errors keyed by the form's inputs; an empty checkbox group gets one plain message."""
    out: dict[str, list[str]] = {}
    for path, messages in errors_by_name(errors).items():
        name = _input_name(path)
        if name in EMPTY_LIST_MESSAGES and form is not None and not [v for v in form.getlist(name) if v]:
            messages = [EMPTY_LIST_MESSAGES[name]]
        for message in messages:
            if message not in out.get(name, []):
                out.setdefault(name, []).append(message)
    return out


def _matter_forms(pinned: dict[str, MergedChecklist], task: Task, values: dict[str, dict[str, Any]],
                  errors: dict[str, list[str]], unavailable: list[dict[str, Any]]):
    blocks = []
    missing = {m["matter_code"]: m for m in unavailable}
    for code in task.matter_codes:
        if code not in pinned:
            blocks.append({"code": code, "name": missing[code]["matter_name"], "missing": missing[code]["reason"],
                           "fields": [], "errors": errors.get(f"checklists.{code}", [])})
            continue
        checklist = pinned[code]
        blocks.append({
            "code": code,
            "name": checklist.matter_name,
            "lead": checklist.lead_department,
            "missing": False,
            "fields": form_fields(checklist.schema_class, prefix=f"checklists.{code}", values=values.get(code, {}),
                                  errors=errors),
            "errors": errors.get(f"checklists.{code}", []),
        })
    return blocks


def _posted_values(task: Task) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for code in task.matter_codes:
        prefix = f"checklists.{code}."
        out[code] = {k[len(prefix):]: v for k, v in request.form.items() if k.startswith(prefix)}
    return out


def _raw_result(pinned: dict[str, MergedChecklist], task: Task, attachment_ids: list[int], form=None) -> dict[str, Any]:
    """The result the form (``request.form``, or the same fields sent by the phone's page) describes."""
    form = request.form if form is None else form
    checklists = {}
    for code in task.matter_codes:
        if code in pinned:
            checklists[code] = read_form(pinned[code].schema_class, form, prefix=f"checklists.{code}")
        else:
            checklists[code] = {}
    signature: dict[str, Any] = {}
    for key in ("status", "signer_name", "signer_title", "refusal_note"):
        value = (form.get(f"signature.{key}") or "").strip()
        if value:
            signature[key] = value
    raw: dict[str, Any] = {
        "checklists": checklists,
        "result_codes": [c for c in form.getlist("result_codes") if c],
        "methods": [m for m in form.getlist("methods") if m],
        "signature": signature,
        "remarks": (form.get("remarks") or "").strip(),
        "attachment_ids": attachment_ids,
    }
    completed = (form.get("completed_on") or "").strip()
    if completed:
        raw["completed_on"] = completed
    if "reason" in form:
        raw["reason"] = (form.get("reason") or "").strip()
    return raw


def _state_from_result(result: InspectionResult) -> dict[str, Any]:
    return {
        "values": dict(result.checklists or {}),
        "result_codes": list(result.result_codes or []),
        "methods": list(result.methods or []),
        "completed_on": result.completed_on.isoformat() if result.completed_on else "",
        "signature": {"status": result.signature_status, "signer_name": result.signer_name,
                      "signer_title": result.signer_title, "refusal_note": result.refusal_note},
        "remarks": result.remarks or "",
        "attachment_ids": [a.id for a in result.attachments],
        "reason": result.correction_reason or "",
    }


def _state_from_form(task: Task, attachment_ids: list[int]) -> dict[str, Any]:
    return {
        "values": _posted_values(task),
        "result_codes": request.form.getlist("result_codes"),
        "methods": request.form.getlist("methods"),
        "completed_on": request.form.get("completed_on") or "",
        "signature": {k: request.form.get(f"signature.{k}") or "" for k in ("status", "signer_name", "signer_title", "refusal_note")},
        "remarks": request.form.get("remarks") or "",
        "attachment_ids": attachment_ids,
        "reason": request.form.get("reason") or "",
    }


@bp.route("/tasks/<int:task_id>/result", methods=["GET", "POST"])
@permission("results.record")
def result_form(task_id: int):
    gateway, principal, today = get_gateway(), current_principal(), china_today()
    session = db()
    task = results.get_task(session, task_id)
    authorize(principal, "results.record", **task_resource(task))
    if contributions.team_department(principal, task) not in (None, task.lead_department):
        return redirect(url_for("web_results.contribution_form", task_id=task.id))  # article 5
    latest = results.latest_version(session, task.id)
    correcting = latest is not None and latest.is_published and request.values.get("correct") == "1"
    if latest is not None and latest.status in ("reviewed", "published") and not correcting:
        flash(f"该任务的检查结果{RESULT_STATUS_LABELS[latest.status]}，不能再修改。" +
              ("如需更正，请提交更正（生成新版本）。" if latest.is_published else ""), "info")
        return redirect(url_for("web_results.result_view", result_id=latest.id))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        attachment_ids = [int(x) for x in request.form.getlist("attachment_ids") if x.isdigit()]
        upload_errors = []
        for upload in request.files.getlist("photos"):
            if not upload or not upload.filename:
                continue
            try:
                with gateway.write() as write:
                    attachment = results.upload_attachment(gateway, write, principal, task.id, upload.filename, upload.read())
                    attachment_ids.append(attachment.id)
            except DomainError as exc:
                refusal_status(exc)
                upload_errors.extend(m for ms in errors_of(exc).values() for m in ms)
        raw = _raw_result(task_checklists(gateway, session, task), task, attachment_ids)
        try:
            if upload_errors:
                raise Invalid("validation_error", "上传的文件未通过校验。", {"attachments": upload_errors})
            stored = _store(gateway, principal, today, task.id, latest, raw, correcting)
        except DomainError as exc:
            status = refusal_status(exc)
            errors = form_errors(errors_of(exc), request.form)
            state = _state_from_form(task, attachment_ids)
            return _render_form(gateway, session, task, latest, state, errors, correcting), status
        flash(f"检查结果已提交（第 {stored} 版），等待牵头部门审核。", "success")
        return redirect(url_for("web_tasks.detail", task_id=task.id))
    if latest is not None:
        state = _state_from_result(latest)
        if correcting:
            state["reason"] = ""
    else:
        saved: dict[str, dict[str, Any]] = {}
        for row in contributions.contributions_of(session, task):   # the cooperating members' items
            for code, values in row.checklists.items():
                saved.setdefault(code, {}).update(values)
        state = {"values": saved, "result_codes": [], "methods": [], "completed_on": today.isoformat(),
                 "signature": {}, "remarks": "", "attachment_ids": [], "reason": ""}
    return _render_form(gateway, session, task, latest, state, errors, correcting)


@bp.route("/tasks/<int:task_id>/contribution", methods=["GET", "POST"])
@permission("results.record")
def contribution_form(task_id: int):
    """A cooperating member's form: its own department's check items only (article 5)."""
    gateway, principal, session = get_gateway(), current_principal(), db()
    task = results.get_task(session, task_id)
    authorize(principal, "results.record", **task_resource(task))
    department = contributions.team_department(principal, task)
    pinned = task_checklists(gateway, session, task)
    own = {code: {i.code for i in cl.items if i.department_code == department} for code, cl in pinned.items()}
    own = {code: items for code, items in own.items() if items}
    values = next((c.checklists for c in contributions.contributions_of(session, task)
                   if c.department_code == department), {})
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        given = {code: {k: v for k, v in read_form(pinned[code].schema_class, request.form,
                                                    prefix=f"checklists.{code}").items() if k in items}
                 for code, items in own.items()}

        def save():
            with gateway.write() as write:
                contributions.save_contribution(gateway, write, principal, task.id, given)

        _, error = run_action(save, "本部门检查项已保存，由牵头部门的检查人员提交完整结果。")
        if error is None:
            return redirect(url_for("web_tasks.detail", task_id=task.id))
        status, errors, values = refusal_status(error), errors_by_name(errors_of(error)), _posted_values(task)
    blocks = [{"code": code, "name": pinned[code].matter_name,
               "fields": [f for f in form_fields(pinned[code].schema_class, prefix=f"checklists.{code}",
                                                 values=values.get(code, {}), errors=errors) if f.key in items]}
              for code, items in own.items()]
    return render_template("results/contribution.html", task=task, blocks=blocks,
                           department=gateway.registry.departments.get(department or "")), status


def _store(gateway, principal, today: date, task_id: int, latest, raw, correcting: bool) -> int:
    """Record, change or correct, in one transaction; then tell the plugins (as the API does)."""
    with gateway.write() as session:
        if correcting:
            result = results.correct_result(gateway, session, principal, latest.id, raw, today=today)
        elif latest is not None:
            if latest.supersedes_id is None:
                raw.pop("reason", None)
            result = results.update_result(gateway, session, principal, latest.id, raw, today=today)
        else:
            raw.pop("reason", None)
            result = results.record_result(gateway, session, principal, task_id, raw, today=today)
        payload = results.result_dict(gateway, session, result, today)
        matters = list(result.task.matter_codes)
        problems = results.problem_matters_of(result)
        version = result.version
    results.notify_stored(gateway, payload, matters, problems)
    return version


def _render_form(gateway, session, task: Task, latest, state: dict[str, Any], errors: dict[str, list[str]],
                 correcting: bool):
    checklist = results.task_checklist(gateway, session, current_principal(), task.id)
    blocks = _matter_forms(task_checklists(gateway, session, task), task, state["values"], errors,
                           checklist.unavailable)
    labels = dict(FIXED_LABELS)
    for block in blocks:
        for f in block["fields"]:
            labels[f.name] = f.label

    attachments = list(session.scalars(select(Attachment).where(Attachment.task_id == task.id).order_by(Attachment.id)))
    ordered_errors = {k: errors[k] for k in _error_order(blocks) if k in errors}
    ordered_errors.update({k: v for k, v in errors.items() if k not in ordered_errors})
    return render_template(
        "results/form.html", task=task, checklist=checklist, blocks=blocks, state=state, errors=ordered_errors,
        labels=labels, attachments=attachments, latest=latest, correcting=correcting,
        signature_options=SIGNATURE_OPTIONS, departments={c: d.name for c, d in gateway.registry.departments.items()},
    )


def _error_order(blocks) -> list[str]:
    names = []
    for block in blocks:
        names.append(f"checklists.{block['code']}")
        names.extend(f.name for f in block["fields"])
    return names + list(FIXED_LABELS)


# ------------------------------------------------------------------------------ one result (staff)

def _checklist_rows(pinned: dict[str, MergedChecklist], result: dict[str, Any]) -> list[dict[str, Any]]:
    """The recorded checklist with labels, matter by matter."""
    out = []
    for matter in result["matters"]:
        code = matter["code"]
        values = (result["checklists"] or {}).get(code, {})
        rows = []
        if code in pinned:
            described = pinned[code].describe()
            for f in described["fields"]:
                value = values.get(f["code"])
                label = f["choices"].get(value, value) if f["choices"] and value is not None else value
                if value is True:
                    label = "是"
                elif value is False:
                    label = "否"
                rows.append({"label": f["label"], "value": "" if label is None else label, "raw": value,
                             "department": f["department_code"]})
        else:
            rows = [{"label": k, "value": v, "raw": v, "department": ""} for k, v in values.items()]
        out.append({"code": code, "name": matter["name"], "rows": rows})
    return out


@bp.route("/results/<int:result_id>")
@permission("results.read")
def result_view(result_id: int):
    return _result_page(result_id)


def _result_page(result_id: int, errors: dict | None = None, status: int = 200):
    """The result with what the signed-in user may do to it; ``errors`` are the review form's."""
    gateway, session, principal = get_gateway(), db(), current_principal()
    row = results.get_result(session, result_id)
    results.authorize_read(session, principal, row)
    task = row.task
    # Outside its departments and team, a role reads a published result as published facts: no official named.
    data = results.result_dict(gateway, session, row, china_today(), full=results.in_full_scope(principal, task))
    lead = [task.lead_department]
    dispositions = [followups.disposition_dict(gateway, d) for d in followups.dispositions_of_task(session, task.id)]
    resource = task_resource(task)
    latest = results.latest_version(session, task.id)
    return render_template(
        "results/view.html", result=data, checklist=_checklist_rows(task_checklists(gateway, session, task), data), dispositions=dispositions,
        can_review=row.status == "recorded" and allows(principal, "results.review", departments=lead),
        can_publish=row.status == "reviewed" and allows(principal, "results.publish", departments=lead),
        can_record=allows(principal, "results.record", **resource),
        is_latest=latest is not None and latest.id == row.id,
        can_dispose=(row.is_published and row.has_problems and latest is not None and latest.id == row.id
                     and allows(principal, "followups.write", **resource)
                     and principal.department_code in resource["departments"]),
        disposition_kinds=followups.disposition_kinds(),
        can_publish_disposition={d["id"]: allows(principal, "followups.publish", departments=[d["department_code"]])
                                 for d in dispositions},
        can_delete_disposition={d["id"]: allows(principal, "followups.write", departments=[d["department_code"]])
                                for d in dispositions},
        errors=errors or {}, disposition_form={},
        evidence=evidence_by_task(session, principal, [task]).get(task.id, []),
    ), status


@bp.route("/results/<int:result_id>/review", methods=["POST"])
@permission("results.review")
def review(result_id: int):
    gateway, principal = get_gateway(), current_principal()
    approve = request.form.get("decision") == "approve"
    note = (request.form.get("note") or "").strip()

    try:
        with gateway.write() as session:
            results.review_result(gateway, session, principal, result_id, approve, note)
    except DomainError as exc:
        status, errors = refusal_status(exc), flat_errors(exc.errors)
        if errors:  # about the form: beside its field
            return _result_page(result_id, errors, status)
        flash(exc.message, "error")  # about the result's state: one banner
        return redirect(url_for("web_results.result_view", result_id=result_id))
    flash("审核通过，可以公示。" if approve else "已退回检查组修改。", "success")
    return redirect(url_for("web_results.result_view", result_id=result_id))


@bp.route("/results/<int:result_id>/publish", methods=["POST"])
@permission("results.publish")
def publish(result_id: int):
    gateway, principal, today = get_gateway(), current_principal(), china_today()

    def act():
        with gateway.write() as session:
            result = results.publish_result(gateway, session, principal, result_id, today=today)
            return result.published_on_time

    on_time, error = run_action(act)
    if error is None:
        flash("检查结果已公示，并已列入向国家企业信用信息公示系统（河南）推送的队列。" +
              ("" if on_time else "注意：已超过 20 个工作日的公示期限，记为逾期公示。"), "success")
    return redirect(url_for("web_results.result_view", result_id=result_id))


@bp.route("/attachments/<int:attachment_id>")
@permission("attachments.read")
def attachment(attachment_id: int):
    gateway, principal = get_gateway(), current_principal()
    with gateway.write() as session:  # the read is audited
        row, content = results.read_attachment(gateway, session, principal, attachment_id)
        mimetype, name = row.content_type, row.filename
    response = send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=False, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ----------------------------------------------------------------------------- review and publish

REVIEW_STATUSES = (("recorded", "待审核"), ("reviewed", "待公示"), ("returned", "已退回"), ("published", "已公示"),
                   ("others", "其他部门牵头（只读）"))
# A tab's results are the ones the user may act on: review a recorded one, publish a reviewed one.
REVIEW_ACTIONS = {"recorded": "results.review", "reviewed": "results.publish"}


def _can_act(principal, action: str):
    """SQL: the result's task is one whose lead department ``principal`` may do ``action`` for."""
    scope = scope_of(principal, action)
    if scope == ANY:
        return true()
    if scope == OWN_DEPARTMENT:
        return Task.lead_department == (principal.department_code or "")
    return false()


def _review_clause(principal, status: str):
    """The results on the tab ``status``: the waiting ones the user can act on, or (``others``)
    the waiting ones only to be read."""
    if status in REVIEW_ACTIONS:
        return and_(InspectionResult.status == status, _can_act(principal, REVIEW_ACTIONS[status]))
    if status == "others":
        return or_(*(and_(InspectionResult.status == s, ~_can_act(principal, a)) for s, a in REVIEW_ACTIONS.items()))
    return InspectionResult.status == status


@bp.route("/review")
@permission("results.read")
def review_list():
    gateway, session, principal = get_gateway(), db(), current_principal()
    status = status_tab(dict(REVIEW_STATUSES), "recorded")
    visible = select(InspectionResult).join(Task, Task.id == InspectionResult.task_id).where(
        visible_tasks(principal, "results.read"))
    stmt = visible.where(_review_clause(principal, status)).order_by(InspectionResult.id.desc())
    today = china_today()
    page = paged(session, stmt, lambda r: results.result_dict(gateway, session, r, today))
    counts = {value: session.scalar(select(func.count()).select_from(
        visible.where(_review_clause(principal, value)).subquery())) or 0 for value, _ in REVIEW_STATUSES}
    return render_template("results/review_list.html", page=page, status=status, statuses=REVIEW_STATUSES,
                           counts=counts, read_only=status == "others")


# ------------------------------------------------------------------------------------ follow-ups

@bp.route("/followups", endpoint="followups")
@permission("results.read")
def followups_list():
    gateway, session, principal = get_gateway(), db(), current_principal()
    today = china_today()
    stmt = (select(InspectionResult).join(Task, Task.id == InspectionResult.task_id)
            .where(visible_tasks(principal, "results.read"), InspectionResult.status == "published",
                   InspectionResult.has_problems.is_(True))
            .order_by(InspectionResult.published_on.desc(), InspectionResult.id.desc()))

    page = paged(session, stmt)
    evidence = evidence_by_task(session, principal, [r.task for r in page.items])

    def entry(result: InspectionResult) -> dict[str, Any]:
        data = results.result_dict(gateway, session, result, today)
        data["dispositions"] = [followups.disposition_dict(gateway, d)
                                for d in followups.dispositions_of_task(session, result.task_id)]
        data["evidence"] = evidence.get(result.task_id, [])
        return data

    page = page.map(entry)
    return render_template("results/followups.html", page=page)


@bp.route("/results/<int:result_id>/dispositions", methods=["POST"])
@permission("followups.write")
def record_disposition(result_id: int):
    gateway, principal, today = get_gateway(), current_principal(), china_today()
    body = {k: (request.form.get(k) or "").strip() for k in
            ("kind", "decision_number", "receiving_authority", "decided_on", "description", "correction_reason")}
    body = {k: v for k, v in body.items() if v}
    supersedes = request.form.get("supersedes_id", type=int)
    if supersedes:
        body["supersedes_id"] = supersedes

    def record() -> str:
        with gateway.write() as session:
            row = followups.record_disposition(gateway, session, principal, result_id, body, today=today)
            if allows(principal, "followups.publish", departments=[row.department_code]):
                return "后续处置已录入，请核对后点击“公示后续处置”。"
            return "后续处置已录入，待部门负责人公示。"

    message, error = run_action(record)
    if error is None:
        flash(message, "success")
    return redirect(url_for("web_results.result_view", result_id=result_id, _anchor="dispositions"))


@bp.route("/dispositions/<int:disposition_id>/<string:action>", methods=["POST"])
@permission("followups.write")
def disposition_action(disposition_id: int, action: str):
    gateway, principal, today = get_gateway(), current_principal(), china_today()
    result_id = request.form.get("result_id", type=int)

    def act():
        with gateway.write() as session:
            if action == "publish":
                followups.publish_disposition(gateway, session, principal, disposition_id, today=today)
            elif action == "delete":
                followups.delete_disposition(session, principal, disposition_id)
            else:
                abort(404)

    run_action(act, "后续处置已公示。" if action == "publish" else "后续处置已撤回。")
    if result_id:
        return redirect(url_for("web_results.result_view", result_id=result_id, _anchor="dispositions"))
    return redirect(url_for("web_results.followups"))


# ----------------------------------------------------------------------------- list membership

@bp.route("/listing")
@permission("listing.read")
def listing_proposals():
    """Proposals to list a target (article 24), and market supervision's head's decision on each."""
    principal = current_principal()
    status = status_tab(LISTING_STATUS_LABELS)
    page = paged(db(), listing.proposals_query(principal, {"status": status}), listing.ListingView)
    can_decide = allows(principal, "listing.decide", departments=eligibility.owner_departments(db()))
    return render_template("results/listing.html", page=page, status=status, statuses=LISTING_STATUS_LABELS,
                           can_decide=can_decide)


@bp.route("/listing/<int:proposal_id>/decision", methods=["POST"])
@permission("listing.decide")
def decide_listing(proposal_id: int):
    decide_proposal(listing.decide, proposal_id, "已决定列入经营异常名录，公示页随之显示。", "已决定不列入。")
    return redirect(url_for("web_results.listing_proposals"))


# ------------------------------------------------------------------------------ the article 19 clock

@bp.route("/deadlines")
@permission("results.read")
def deadlines():
    gateway, principal = get_gateway(), current_principal()
    soon = request.args.get("soon_days", default=3, type=int)
    soon = max(0, min(soon or 0, 20))
    lists = deadline_lists(gateway.settings, gateway.registry, db(), principal, today=china_today(), soon_days=soon)
    return render_template("results/deadlines.html", data=python_values(DeadlineListSchema(), lists))
