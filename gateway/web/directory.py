"""One list, two directories (articles 9, 10): search the targets and inspectors, and import
them from CSV or Excel with the per-row error report on the page.

Searches use ``gateway.directory.queries``; listings of inspectors are masked (phone and
certificate numbers) and limited to the departments the principal may read. Imports run the
directory part's own import (the same code as ``POST /api/v1/imports/<kind>``).
"""
from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, url_for

from gateway.api.session import db, get_gateway
from gateway.directory import eligibility, service
from gateway.directory.importing.columns import INSPECTOR_COLUMNS, TARGET_COLUMNS
from gateway.directory.importing.importer import ImportFileError
from gateway.directory.importing.run import run_import
from gateway.directory.models import ELIGIBILITY_REASONS
from gateway.directory.queries import inspector_search, target_search
from gateway.security.policy import allows, authorize, permission, scope_of, visible_departments
from gateway.security.principal import current_principal
from gateway.spreadsheets import CSV_MIMETYPE, to_csv
from gateway.web.base import department_choices, make_blueprint, paged, run_action
from gateway.web.proposals import decide_proposal, status_tab

bp = make_blueprint("web_directory", "/console/directory")

TYPE_LABELS = {"enterprise": "企业", "individual_business": "个体工商户", "farmer_cooperative": "农民专业合作社",
               "other_unit": "其他单位"}
RISK_OPTIONS = (("A", "A 类（低）"), ("B", "B 类"), ("C", "C 类"), ("D", "D 类（高）"))
LIST_OPTIONS = (("abnormal", "经营异常名录"), ("serious_violation", "严重违法失信名单"))
KINDS = {"targets": ("检查对象", TARGET_COLUMNS, "targets.write"),
         "inspectors": ("执法检查人员", INSPECTOR_COLUMNS, "directory.write")}


@bp.route("/targets")
@permission("targets.read")
def targets():
    args = {k: (request.args.get(k) or "").strip() for k in ("q", "township", "type", "risk_class", "list")}
    args = {k: v for k, v in args.items() if v}
    session = db()
    page = paged(session, target_search(args), service.target_dict)
    return render_template("directory/targets.html", page=page, args=args, type_labels=TYPE_LABELS,
                           risk_options=RISK_OPTIONS, list_options=LIST_OPTIONS,
                           can_import=allows(current_principal(), "targets.write"))


@bp.route("/inspectors")
@permission("directory.read")
def inspectors():
    principal = current_principal()
    departments = visible_departments(principal, "directory.read")
    args = {k: (request.args.get(k) or "").strip() for k in ("q", "department")}
    args = {k: v for k, v in args.items() if v}
    page = paged(db(), inspector_search(args, departments=departments), lambda i: service.inspector_dict(i, masked=True))
    choices = [c for c in department_choices() if departments is None or c[0] in departments]
    return render_template("directory/inspectors.html", page=page, args=args, departments=choices,
                           can_import=allows_any_write(principal))


def allows_any_write(principal) -> bool:

    return scope_of(principal, "directory.write") is not None


@bp.route("/import", methods=["GET", "POST"])
@permission("directory.read")
def import_page():
    principal = current_principal()
    kinds = [(k, label) for k, (label, _, action) in KINDS.items() if _may_import(principal, k)]
    if not kinds:
        authorize(principal, "targets.write")  # raises the refusal
    kind = request.values.get("kind") or kinds[0][0]
    if kind not in dict(kinds):
        abort(404)
    report, error, rows = None, None, []
    if request.method == "POST":
        label, columns, action = KINDS[kind]
        if kind == "targets":
            authorize(principal, "targets.write")
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = "请选择要导入的 CSV 或 XLSX 文件。"
        else:
            allowed = visible_departments(principal, "directory.write") if kind == "inspectors" else None
            try:
                result = run_import(get_gateway(), principal, kind, upload.stream, upload.filename,
                                    partial=request.form.get("partial") == "1", allowed_departments=allowed)
            except ImportFileError as exc:
                error = str(exc)
            else:
                report = result.as_dict()
                if not result.committed:
                    error = f"共 {result.error_count} 处错误，未导入任何数据。"
        if report:
            headers = {c.key: c.headers[0] for c in columns}
            rows = [{**e, "label": headers.get(e["field"], e["field"])} for e in report["errors"]]
    return render_template("directory/import.html", kinds=kinds, kind=kind, report=report, error=error,
                           rows=rows), (422 if error else 200)


def _may_import(principal, kind: str) -> bool:
    action = KINDS[kind][2]
    if kind == "targets":
        return allows(principal, action)
    return allows_any_write(principal)


@bp.route("/import/<string:kind>-template.csv")
@permission("directory.read")
def import_template(kind: str):
    """An empty file with the Chinese headers the import accepts (UTF-8 with BOM, for Excel)."""
    if kind not in KINDS:
        abort(404)
    response = Response(to_csv([c.headers[0] for c in KINDS[kind][1]], []), mimetype=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response


# ------------------------------------------------------------------ eligibility changes (article 15)

@bp.route("/eligibility")
@permission("targets.read")
def eligibility_proposals():
    """Other departments' proposals to change a target's eligibility, and the owner's decisions."""
    principal = current_principal()
    status = status_tab(eligibility.PROPOSAL_STATUS_LABELS)
    session = db()
    page = paged(session, eligibility.proposals_query({"status": status}), eligibility.ProposalView)
    return render_template(
        "directory/eligibility.html", page=page, status=status, statuses=eligibility.PROPOSAL_STATUS_LABELS,
        can_decide=eligibility.may_change(session, principal), can_propose=allows(principal, "targets.write"),
        fields=eligibility.FIELD_LABELS, reasons=ELIGIBILITY_REASONS, owner=eligibility.registration_authority(session))


@bp.route("/eligibility/proposals", methods=["POST"])
@permission("targets.write")
def propose_eligibility():
    gateway, principal = get_gateway(), current_principal()
    form = {k: (request.form.get(k) or "").strip() for k in ("uscc", "field", "value", "reason_code", "note")}

    def act():
        with gateway.write() as session:
            eligibility.propose(session, principal, service.get_target(session, form["uscc"]), form)

    run_action(act, "已提出变更提议，待登记机关或县双随机办决定。")
    return redirect(url_for("web_directory.eligibility_proposals"))


@bp.route("/eligibility/<int:proposal_id>/decision", methods=["POST"])
@permission("targets.eligibility")
def decide_eligibility(proposal_id: int):
    decide_proposal(eligibility.decide, proposal_id, "已采纳，检查对象随之变更并记入变更日志。", "已决定不采纳。")
    return redirect(url_for("web_directory.eligibility_proposals", status="pending"))
