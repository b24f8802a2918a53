"""The enterprise portal's pages (企业服务), phone-first, in Chinese, with no staff account.

The enterprise signs in with its USCC and an access code; the pages then show its inspections and
let it act on them (gateway.enterprise.portal holds the rules). The portal session is its own
cookie (gateway.enterprise.sessions); forms carry its CSRF token like every other form.
"""
from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from gateway.api.session import get_gateway
from gateway.enterprise import notices, portal, sessions
from gateway.enterprise.api import set_portal_cookie
from gateway.errors import DomainError, Invalid
from gateway.results.clock import china_today
from gateway.security import web
from gateway.security.principal import current_principal
from gateway.tasks.api import printable_html
from gateway.web.base import flat_errors, input_refusal_status, make_blueprint, run_action

bp = make_blueprint("web_portal", "/portal")
SCORE_LABELS = {5: "5 分 · 非常满意", 4: "4 分 · 满意", 3: "3 分 · 一般", 2: "2 分 · 不满意", 1: "1 分 · 非常不满意"}


def _uscc() -> str | None:
    principal = current_principal()
    return principal.name if principal.role == "enterprise" else None


@bp.route("/", methods=["GET", "POST"])
def sign_in():
    if request.method == "GET" and _uscc():
        return redirect(url_for("web_portal.inspections"))
    form = {"uscc": request.form.get("uscc", "").strip(), "code": ""}
    if request.method == "GET":
        return render_template("portal/sign_in.html", form=form, error=None, errors={})
    try:
        web.limit_sign_in()
        result = portal.sign_in(get_gateway(), form["uscc"], request.form.get("code", ""), web.client_address())
    except DomainError as exc:
        return render_template("portal/sign_in.html", form=form, error=exc.message,
                               errors=flat_errors(exc.errors)), input_refusal_status(exc)
    response = make_response(render_template("portal/next_code.html", result=result))
    set_portal_cookie(response, result.cookie, result.expires_at)
    return response


@bp.post("/sign-out")
def sign_out():
    uscc = _uscc()
    if uscc:
        with get_gateway().write() as session:
            portal.sign_out(session, uscc, request.cookies.get(sessions.PORTAL_COOKIE, ""))
    response = redirect(url_for("web_portal.sign_in"))
    response.delete_cookie(sessions.PORTAL_COOKIE, path="/", httponly=True, samesite="Lax")
    return response


@bp.get("/inspections")
def inspections():
    uscc = _uscc()
    if not uscc:
        return redirect(url_for("web_portal.sign_in"))
    gateway = get_gateway()
    with gateway.read() as session:
        entries = portal.overview(gateway, session, uscc, china_today())
        return render_template("portal/inspections.html", uscc=uscc, entries=entries, scores=SCORE_LABELS)


@bp.get("/inspections/<int:task_id>/notice")
def notice(task_id: int):
    uscc = _uscc()
    if not uscc:
        return redirect(url_for("web_portal.sign_in"))
    gateway = get_gateway()
    with gateway.write() as session:
        task = portal.own_task(session, uscc, task_id)
        return printable_html(notices.read_notice(gateway, session, current_principal(), task))


def _act(task_id: int, action, success: str):
    uscc = _uscc()
    if not uscc:
        return redirect(url_for("web_portal.sign_in"))
    gateway = get_gateway()

    def run():
        with gateway.write() as session:
            return action(gateway, session, uscc)

    run_action(run, success)
    return redirect(url_for("web_portal.inspections") + f"#task-{task_id}")


def _uploads(gateway, session, uscc: str, task_id: int) -> list[int]:
    ids = []
    for upload in request.files.getlist("file"):
        if upload and upload.filename:
            ids.append(portal.upload_file(gateway, session, uscc, task_id, upload.filename, upload.read()).id)
    return ids


@bp.post("/inspections/<int:task_id>/statement")
def statement(task_id: int):
    def action(gateway, session, uscc):
        ids = _uploads(gateway, session, uscc, task_id)
        return portal.file_statement(gateway, session, uscc, task_id, request.form.get("text", ""), ids, china_today())

    return _act(task_id, action, "陈述申辩已提交，牵头部门将在公示前答复。")


@bp.post("/inspections/<int:task_id>/recusal")
def recusal(task_id: int):
    return _act(task_id, lambda _gateway, session, uscc: portal.request_recusal(
        session, uscc, task_id, *_choice_and_text("member_id", "reason")), "回避申请已提交，由该检查人员所在部门负责人审批。")


@bp.post("/inspections/<int:task_id>/rating")
def rating(task_id: int):
    return _act(task_id, lambda _gateway, session, uscc: portal.rate(
        session, uscc, task_id, *_choice_and_text("score", "comment")), "感谢您的评价。")


@bp.post("/inspections/<int:task_id>/evidence")
def evidence(task_id: int):
    def action(gateway, session, uscc):
        ids = _uploads(gateway, session, uscc, task_id)
        if not ids:
            raise Invalid("validation_error", "提交的数据未通过校验。", {"file": ["请选择要上传的整改材料。"]})
        return [portal.add_evidence(session, uscc, task_id, i, request.form.get("note", "")) for i in ids]

    return _act(task_id, action, "整改材料已上传。")


def _choice_and_text(choice: str, text: str) -> tuple[int, str]:
    """The form's chosen number ``choice`` (refused when none is chosen) and its free ``text``."""
    try:
        number = int(request.form.get(choice) or "")
    except ValueError:
        raise Invalid("validation_error", "提交的数据未通过校验。", {choice: ["请选择一项。"]}) from None
    return number, request.form.get(text, "")
