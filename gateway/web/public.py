"""The public pages (article 21): search by USCC or name, a target's published results and
dispositions, published plans and draw records with how to verify them, the matter list.

Everything comes from ``gateway.results.public`` and the draw service's public views, which
never carry inspectors' names, phones or certificate numbers.
"""
from __future__ import annotations

from pathlib import Path

from flask import Response, abort, redirect, render_template, request, send_file, url_for

from gateway.api.caching import cache_publicly
from gateway.api.pagination import Page
from gateway.api.session import db, get_gateway
from gateway.draw import parts
from gateway.draw import service as draw_service
from gateway.draw.api import index_text_of, part_response
from gateway.draw.record import EXCLUSION_REASONS
from gateway.errors import Invalid, NotFound
from gateway.ledger.annual import annual_release, release_files
from gateway.results import public as public_service
from gateway.results.clock import china_today
from gateway.security.policy import authorize, permission
from gateway.security.principal import current_principal
from gateway.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE
from gateway.web.base import make_blueprint, page_number
from gateway.web.draw import draw_view, target_names

bp = cache_publicly(make_blueprint("web_public"))
SEARCH_PAGE_SIZE = 20
SEARCH_RESULTS = 10  # the search page's related published results
# The home page's latest results and plans (the query-count test varies them).
HOME_RESULTS = HOME_PLANS = 5
DRAW_PAGE_SIZE = 50
# The stand-alone verifier (standard library only) that the verify pages offer for download.
VERIFY_SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_draw.py"


@bp.route("/")
@permission("catalogue.read")
def home():
    q = (request.args.get("q") or "").strip()
    if q:
        return redirect(url_for("web_public.search", q=q))
    gateway, session, principal = get_gateway(), db(), current_principal()
    recent = public_service.latest_result_summaries(gateway, session, principal, HOME_RESULTS)
    plans = public_service.public_plans(gateway, session, principal, None, 1, HOME_PLANS, count=False).items
    return render_template("public/home.html", recent=recent, plans=plans,
                           matter_count=len(gateway.registry.matters),
                           department_count=len(gateway.registry.departments))


@bp.route("/search")
@permission("results.read")
def search():
    q = (request.args.get("q") or "").strip()
    gateway, session, principal = get_gateway(), db(), current_principal()
    error = None
    targets = Page([], 0, 1, SEARCH_PAGE_SIZE)
    results: list = []
    if q:
        try:
            targets = public_service.search_targets(session, principal, q, page_number(), SEARCH_PAGE_SIZE,
                                                    related=SEARCH_RESULTS)
            results = public_service.found_results(gateway, session, principal, q, targets, SEARCH_RESULTS)
        except Invalid as exc:
            error = "；".join(m for messages in (exc.errors or {}).values() for m in messages) or exc.message
    else:
        error = "请输入统一社会信用代码或名称。" if "q" in request.args else None
    return render_template("public/search.html", q=q, error=error, targets=targets, results=results)


@bp.route("/targets/<string:uscc>")
@permission("results.read")
def target(uscc: str):
    view = public_service.public_target(get_gateway(), db(), current_principal(), uscc, summaries=True)
    return render_template("public/target.html", target=view)


@bp.route("/results/<int:result_id>")
@permission("results.read")
def result(result_id: int):
    view = public_service.public_result(get_gateway(), db(), current_principal(), result_id)
    return render_template("public/result.html", result=view)


@bp.route("/matters")
@permission("catalogue.read")
def matters():
    items = public_service.public_matters(get_gateway(), current_principal())
    return render_template("public/matters.html", matters=items)


@bp.route("/plans")
@permission("plans.read")
def plans():
    year = request.args.get("year", type=int)
    plans = public_service.public_plans(get_gateway(), db(), current_principal(), year, page_number(), 20)
    return render_template("public/plans.html", plans=plans, year=year)


@bp.route("/plans/<int:plan_id>")
@permission("plans.read")
def plan(plan_id: int):
    gateway, session, principal = get_gateway(), db(), current_principal()
    view = public_service.public_plan(gateway, session, principal, plan_id)
    tasks = public_service.public_plan_tasks(gateway, session, principal, plan_id, page_number(), 50)
    return render_template("public/plan.html", plan=view, tasks=tasks, draws=_plan_draws(plan_id))


def _plan_draws(plan_id: int) -> list[dict]:
    settings = get_gateway().settings
    authorize(current_principal(), "draws.read", published=True)
    return [draw_service.draw_dict(d, settings) for d in db().scalars(draw_service.draws_query({"plan_id": plan_id}))]


@bp.route("/draws/<int:draw_id>")
@permission("draws.read")
def draw(draw_id: int):
    authorize(current_principal(), "draws.read", published=True)
    row = draw_service.get_draw(db(), draw_id)
    # The names of the drawn targets only: the page never carries the whole population's names
    # (at province scale that is millions); an enterprise not drawn finds itself by its credit code.
    drawn = row.status == "drawn" and row.record_gzip is not None
    names = target_names(sorted({t["uscc"] for t in draw_service.record_tasks(db(), row)})) if drawn else {}
    q, found = (request.args.get("q") or "").strip(), {}

    def pick(tasks: list[dict]) -> list[dict]:
        """The page's tasks: those matching the search (number, name or credit code), a page at a time."""
        code = "".join(q.split()).upper()
        hits = [t for t in tasks if not q or q in t["number"] or code == t["uscc"] or q in names.get(t["uscc"], "")]
        found["page"] = Page(hits[(page_number() - 1) * DRAW_PAGE_SIZE:page_number() * DRAW_PAGE_SIZE], len(hits),
                             page_number(), DRAW_PAGE_SIZE)
        return found["page"].items

    view = draw_view(row, pick)
    labels = {s["key"]: f"{s['matter_name']} · {s['risk_class'] + ' 类' if s['risk_class'] else '重点抽查对象'}"
              for s in view["strata"]}
    exclusion_labels = {"reasons": EXCLUSION_REASONS, "matters": {s["matter"]: s["matter_name"] for s in view["strata"]}}
    return render_template("public/draw.html", **view, population_names=names, strata_labels=labels,
                           exclusion_labels=exclusion_labels, task_page=found.get("page"), q=q)


@bp.route("/draws/<int:draw_id>/record.json")
@permission("draws.read")
def draw_record_index(draw_id: int):
    """The index of the draw's record (shuangsui.draw/2): small, with each part's SHA-256."""
    authorize(current_principal(), "draws.read", published=True)
    row = draw_service.get_draw(db(), draw_id)
    return part_response(row, index_text_of(row), "index")


@bp.route("/draws/<int:draw_id>/record/strata/<int:number>.json")
@permission("draws.read")
def draw_record_stratum(draw_id: int, number: int):
    """One stratum's part of the draw's record, to verify that stratum alone."""
    authorize(current_principal(), "draws.read", published=True)
    row = draw_service.get_draw(db(), draw_id)
    index_text_of(row)
    return part_response(row, parts.part_text(db(), row, parts.STRATUM, number), f"stratum-{number}")


@bp.route("/verify_draw.py")
@permission("draws.read")
def verify_script():
    if not VERIFY_SCRIPT.is_file():
        raise NotFound.of("验证脚本", "verify_draw.py")
    return send_file(VERIFY_SCRIPT, mimetype="text/x-python", as_attachment=True, download_name="verify_draw.py")


@bp.route("/annual")
@permission("annual.read")
def annual_latest():
    """The latest release: the previous year's, public from 1 January (due by 31 January)."""
    return redirect(url_for("web_public.annual", year=china_today().year - 1))


@bp.route("/annual/<int:year>")
@permission("annual.read")
def annual(year: int):
    release = annual_release(db(), year, china_today())
    return render_template("public/annual.html", release=release, files=sorted(release_files(release)))


@bp.route("/annual/<int:year>/<string(maxlength=8):fmt>")
@permission("annual.read")
def annual_file(year: int, fmt: str):
    """The release as a file: the same bytes as ``shuangsui results annual-release --year Y`` writes."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    files = release_files(annual_release(db(), year, china_today()))
    name = f"annual-release-{year}.{fmt}"
    response = Response(files[name], mimetype=CSV_MIMETYPE if fmt == "csv" else XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/verify")
@permission("catalogue.read")
def verify():
    return render_template("public/verify.html")
