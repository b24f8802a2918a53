"""What every page shares: the blueprint factory with HTML error pages, navigation per role,
template filters, form-error helpers and pagination."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, g, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from gateway.api.errors import error_body, status_of
from gateway.api.pagination import Page, fetch_page
from gateway.api.session import get_gateway
from gateway.errors import DomainError, Forbidden, Unauthenticated
from gateway.security.principal import ROLE_LABELS, current_principal
from gateway.security.web import csrf_token
from schemas.common import CHINA_TZ

log = logging.getLogger(__name__)

SITE_NAME = "武陟县“双随机、一公开”跨部门联合抽查平台"
PAGE_SIZE = 20

# The static files of every web page (CSS, vanilla JS) live with this blueprint.
bp = Blueprint("web", __name__, static_folder="static", static_url_path="/assets", template_folder="templates")


# ------------------------------------------------------------------------------------ blueprints

CONSOLE_PREFIX = "/console"


def make_blueprint(name: str, url_prefix: str = "") -> Blueprint:
    """A web blueprint whose errors are HTML pages (the API keeps its JSON errors).

    Every page under ``/console`` is for signed-in staff: an anonymous visitor is sent to sign-in
    before the view runs, whatever the view's action would let the public read. The public reaches
    published things through the public pages only."""
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix or None)
    blueprint.register_error_handler(DomainError, _domain_error_page)
    blueprint.register_error_handler(HTTPException, _http_error_page)
    blueprint.register_error_handler(Exception, _unexpected_error_page)
    if (url_prefix or "").startswith(CONSOLE_PREFIX):
        blueprint.before_request(_staff_only)
    return blueprint


def _staff_only():
    if current_principal().is_public:
        return sign_in_redirect()
    return None


def sign_in_redirect():
    """To the sign-in page, coming back here afterwards (with a notice when a session just ended)."""
    ended = {"ended": 1} if g.get("clear_session_cookie") else {}
    return redirect(url_for("web_auth.sign_in", next=local_path(request.full_path), **ended))


def _domain_error_page(exc: DomainError):
    if isinstance(exc, Unauthenticated):
        # A session cookie that no longer opens a session: signed out elsewhere, expired or idle.
        return sign_in_redirect()
    status = status_of(exc)
    return render_template("error.html", status=status, message=exc.message,
                           errors=flat_errors(exc.errors)), status


def _http_error_page(exc: HTTPException):
    status = exc.code or 500
    messages = {404: "页面不存在，或您要找的记录不存在。", 405: "不支持该操作。",
                413: "上传的文件过大。", 400: "请求格式不正确。"}
    return render_template("error.html", status=status, message=messages.get(status, exc.name),
                           errors={}), status


def not_found_page(exc):
    """A URL that matches no route: an HTML page for people, the API's JSON error under /api/."""


    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error_body("not_found", "请求的资源不存在。")), 404
    return render_template("error.html", status=404, message="页面不存在，或您要找的记录不存在。", errors={}), 404


def _unexpected_error_page(exc: Exception):

    if isinstance(exc, IntegrityError):
        return render_template("error.html", status=409, message="与现有数据冲突（可能是并发提交），请刷新后重试。",
                               errors={}), 409
    log.exception("unhandled error on a web page")
    return render_template("error.html", status=500, message="服务器内部错误，请稍后重试或联系系统管理员。",
                           errors={}), 500


bp.register_error_handler(DomainError, _domain_error_page)
bp.register_error_handler(HTTPException, _http_error_page)


def local_path(path: str) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    parts = urlsplit(path or "")
    if parts.scheme or parts.netloc or not (path or "").startswith("/") or path.startswith("//"):
        return "/"
    return path.rstrip("?") or "/"


def safe_next(default: str = "/") -> str:
    value = request.values.get("next") or ""
    return local_path(value) if value else default


# ------------------------------------------------------------------------------------ navigation

@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: tuple[str, ...]
    match: str = ""  # endpoint prefix that marks the item current

    def visible_to(self, role: str) -> bool:
        return role in self.roles


OFFICE = ("county_office",)
DEPARTMENT = ("department_operator", "department_head")
STAFF = ("county_office", "supervisor", "department_operator", "department_head")

NAV: tuple[NavItem, ...] = (
    NavItem("web_public.home", "公开查询", ("public",), "web_public.home"),
    NavItem("web_public.matters", "抽查事项清单", ("public",), "web_public.matter"),
    NavItem("web_public.plans", "抽查计划与抽取记录", ("public",), "web_public.plan"),
    NavItem("web_public.annual_latest", "年度检查数据", ("public",), "web_public.annual"),
    NavItem("web_ledger_public.public_caps", "检查次数上限", ("public",), "web_ledger_public."),
    NavItem("web_office.dashboard", "工作台", STAFF, "web_office.dashboard"),
    NavItem("web_tasks.my_tasks", "我的任务", ("inspector",), "web_tasks.my"),
    NavItem("web_plans.index", "抽查计划", STAFF, "web_plans."),
    NavItem("web_draw.index", "抽取", ("county_office", "supervisor"), "web_draw."),
    NavItem("web_tasks.index", "检查任务", STAFF, "web_tasks.index"),
    NavItem("web_tasks.reassignments", "人员调整", ("county_office", "department_operator", "department_head",
                                                  "supervisor"), "web_tasks.reassign"),
    NavItem("web_results.review_list", "结果审核与公示", DEPARTMENT + ("county_office", "supervisor"),
            "web_results.review"),
    NavItem("web_results.followups", "后续处置", DEPARTMENT + ("county_office", "supervisor"), "web_results.followup"),
    NavItem("web_results.listing_proposals", "名录提请", DEPARTMENT + ("county_office", "supervisor"),
            "web_results.listing"),
    NavItem("web_results.deadlines", "逾期提醒", STAFF, "web_results.deadlines"),
    NavItem("web_office.matters", "事项清单", STAFF + ("inspector",), "web_office.matters"),
    NavItem("web_directory.targets", "名录", STAFF, "web_directory."),
    NavItem("web_ledger.index", "检查台账", STAFF, "web_ledger."),  # 重复检查预警 is reached from it
    NavItem("web_office.sync", "同步状态", STAFF, "web_office.sync"),
    NavItem("web_accounts.accounts", "账号与令牌", OFFICE, "web_accounts."),
)


def nav_items() -> list[dict[str, Any]]:
    principal = current_principal()
    endpoint = request.endpoint or ""
    out = []
    for item in NAV:
        if item.visible_to(principal.role):
            out.append({"url": url_for(item.endpoint), "label": item.label,
                        "current": bool(item.match) and endpoint.startswith(item.match)})
    return out


def home_for(role: str) -> str:
    if role == "public":
        return url_for("web_public.home")
    if role == "inspector":
        return url_for("web_tasks.my_tasks")
    return url_for("web_office.dashboard")


# ---------------------------------------------------------------------------------- template help

def install_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        cn_date=cn_date, cn_datetime=cn_datetime, percent=percent, ratio=ratio_percent, dept=department_name,
        yes_no=yes_no,
    )
    app.jinja_env.globals.update(SITE_NAME=SITE_NAME, page_url=page_url)
    app.context_processor(_context)


def _context() -> dict[str, Any]:
    if request.path.startswith("/api/"):
        return {}
    principal = current_principal()
    dept = department_name(principal.department_code) if principal.department_code else ""
    return {
        "principal": principal,
        "role_label": ROLE_LABELS.get(principal.role, principal.role),
        "department_label": dept,
        "nav": nav_items(),
        "home_url": home_for(principal.role),
    }


def cn_date(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CHINA_TZ)


def cn_datetime(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    return cn_date(value)


def percent(part: Any, whole: Any) -> str:
    try:
        part, whole = float(part or 0), float(whole or 0)
    except (TypeError, ValueError):
        return "—"
    if not whole:
        return "—"
    return f"{part / whole * 100:.0f}%"


def ratio_percent(value: Any) -> str:
    """A sampling ratio such as "0.05" as "5%"."""
    try:
        number = Decimal(str(value)) * 100
    except (InvalidOperation, ValueError):
        return str(value)
    text = format(number.normalize(), "f")
    return text + "%"


def yes_no(value: Any) -> str:
    return "是" if value else "否"


def department_name(code: str | None) -> str:
    if not code:
        return ""
    dept = get_gateway().registry.departments.get(code)
    return dept.name if dept else code


def department_choices() -> list[tuple[str, str]]:
    return [(code, d.name) for code, d in get_gateway().registry.departments.items()]


# ----------------------------------------------------------------------------------- form errors

def flat_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """A domain error's ``errors`` (nested or dotted) as {dotted.path: [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flat_errors(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(errors, (list, tuple)):
        for item in errors:
            if isinstance(item, str):
                out.setdefault(prefix or "_schema", []).append(item)
            else:
                for k, v in flat_errors(item, prefix).items():
                    out.setdefault(k, []).extend(v)
    elif errors is not None:
        out.setdefault(prefix or "_schema", []).append(str(errors))
    return out


def errors_of(exc: DomainError) -> dict[str, list[str]]:
    errors = flat_errors(exc.errors)
    if not errors:
        errors = {"_schema": [exc.message]}
    return errors


def refusal_status(exc: DomainError) -> int:
    """The status of a page that shows a service's refusal beside the form. A refusal of the caller
    rather than of the input is raised on: the blueprint shows sign-in or the refusal page."""
    if isinstance(exc, (Unauthenticated, Forbidden)):
        raise exc
    return status_of(exc)


def input_refusal_status(exc: DomainError) -> int:
    """The status of a public form whose credential is its own input (an access code): every
    refusal, a wrong code's included, is shown beside the form, never as a sign-in redirect."""
    return status_of(exc)
def refusal_json(exc: DomainError, **extra: Any):
    """A service's refusal as the API words it, for a page's script (with ``extra`` facts beside)."""
    return jsonify({**exc.to_dict(), **extra}), status_of(exc)


def run_action(action: Callable[[], Any], success: str | None = None) -> tuple[Any, DomainError | None]:
    """Run a service call; on a domain error flash its message and return it instead of raising
    (except a refusal of the caller, see :func:`refusal_status`)."""
    try:
        value = action()
    except DomainError as exc:
        refusal_status(exc)
        shown = [exc.message]
        for messages in flat_errors(exc.errors).values():
            for message in messages:
                if message not in shown:
                    shown.append(message)
        for message in shown:
            flash(message, "error")
        return None, exc
    if success:
        flash(success, "success")
    return value, None


# ------------------------------------------------------------------------------------ pagination

def page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        return 1


def page_url(number: int) -> str:
    args = request.args.to_dict()
    args["page"] = str(number)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def paged(session, stmt, transform: Callable[[Any], Any] = lambda x: x, page_size: int = PAGE_SIZE) -> Page:
    return fetch_page(session, stmt, page_number(), page_size).map(transform)


def form_list(name: str) -> list[str]:
    return [v for v in request.form.getlist(name) if v.strip()]


def as_markup(text: str) -> Markup:
    return Markup(text)


def pairs(items: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"value": value, "label": label} for value, label in items]


@bp.app_template_global()
def csrf_field() -> Markup:

    return Markup('<input type="hidden" name="csrf_token" value="%s">') % csrf_token()


def signed_in() -> bool:
    return not current_principal().is_public


def remember(key: str, value: Any) -> None:
    g.setdefault("web_state", {})[key] = value
