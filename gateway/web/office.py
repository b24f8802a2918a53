"""The console's home: the article 30 dashboard (statistics per department and plan, with
charts), the joint matter list as the plugins contribute it, and the sync status of published
records."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from gateway.api.session import db, get_gateway
from gateway.ledger.frequency import most_inspected
from gateway.ledger.service import over_cap_registrations
from gateway.plugins.contributions import COUNTY_DEFAULTABLE
from gateway.plugins.describe import describe_plugins
from gateway.results.clock import china_today
from gateway.results.stats import supervision_stats
from gateway.security.policy import allows, permission, visible_departments
from gateway.security.principal import current_principal
from gateway.sync import service as sync_service
from gateway.sync.models import KIND_LABELS, OUTBOX_STATES, STATE_LABELS
from gateway.sync.status import sync_status
from gateway.web import charts
from gateway.web.base import make_blueprint, run_action

bp = make_blueprint("web_office", "/console")


@bp.route("")
@bp.route("/")
@permission("auth.self")
def dashboard():
    gateway, session, principal = get_gateway(), db(), current_principal()
    if not allows(principal, "stats.read", departments=[principal.department_code or ""]):
        return redirect(url_for("web_tasks.my_tasks"))  # an inspector's home is their tasks
    today = china_today()
    year = request.args.get("year", type=int) or today.year
    stats = supervision_stats(gateway, session, principal, as_of=today, year=year)
    rows, totals = stats.departments, stats.totals
    caps, frequent = most_inspected(session, year, gateway.settings.high_frequency_inspections)
    return render_template(
        "office/dashboard.html", stats=stats, year=year, totals=totals,
        completion=charts.completion_chart(rows), on_time=charts.on_time_chart(rows),
        problems=charts.problems_chart(rows), overdue=charts.overdue_chart(rows),
        legend=charts.legend, percent=charts.percent_text,
        can_draw=allows(principal, "draws.run"), can_plan=allows(principal, "plans.write"),
        caps=caps, frequent=frequent, high_frequency=gateway.settings.high_frequency_inspections,
        over_cap=len(over_cap_registrations(session, year)) if allows(principal, "ledger.read") else None,
    )


@bp.route("/matters")
@permission("catalogue.read")
def matters():
    gateway = get_gateway()
    catalogue = describe_plugins(gateway.registry)
    departments = {d["code"]: d for d in catalogue["departments"]}
    type_labels = {"enterprise": "企业", "individual_business": "个体工商户", "farmer_cooperative": "农民专业合作社",
                   "other_unit": "其他单位"}
    return render_template("office/matters.html", catalogue=catalogue, departments=departments,
                           type_labels=type_labels, default_labels=COUNTY_DEFAULTABLE)


@bp.route("/sync")
@permission("sync.read")
def sync():
    """The records published to the provincial platform and where each stands (``gateway.sync.status``)."""
    principal = current_principal()
    departments = visible_departments(principal, "sync.read")
    data = sync_status(db(), get_gateway().settings, departments=departments)
    return render_template("office/sync.html", data=data, states=OUTBOX_STATES, state_labels=STATE_LABELS,
                           kind_labels=KIND_LABELS, can_operate=allows(principal, "sync.operate"))


@bp.route("/sync/records/<string(maxlength=100):record_id>/resend", methods=["POST"])
@permission("sync.operate")
def resend(record_id: str):
    gateway = get_gateway()

    def act():
        with gateway.write() as session:
            sync_service.resend(session, current_principal(), record_id, gateway.settings,
                                rebuild=request.form.get("rebuild") == "1")

    run_action(act, f"记录 {record_id} 已重新排队推送。")
    return redirect(url_for("web_office.sync"))
