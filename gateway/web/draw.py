"""The draw in public (article 16): a page made for the projector, stage by stage.

1. Freeze: the populations and ``population_sha256`` are shown before any seed exists.
2. Commit: each participant in turn types their digits (hidden); the page computes the commitment
   ``SHA-256(salt|digits)`` in the browser (``static/js/draw.js``) and only the commitment is sent.
3. Reveal: the digits and salts are shown and checked against the commitments; the seed appears.
4. Run: the selection and the teams appear; the record can be printed, signed off and verified.

Every stage is a call to ``gateway.draw.service``; this module only reads forms and renders.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import object_session

from gateway.api.pagination import Page
from gateway.api.session import db, get_gateway
from gateway.directory.eligibility import value_label
from gateway.directory.models import Target
from gateway.draw import service
from gateway.draw.record import EXCLUSION_REASONS
from gateway.errors import DomainError
from gateway.planning import service as plans
from gateway.security.policy import allows, authorize, permission, scope_of
from gateway.security.principal import current_principal
from gateway.web.base import errors_of, make_blueprint, page_number, refusal_status, run_action
from schemas.draws import WITNESS_CATEGORIES

bp = make_blueprint("web_draw", "/console/draws")

STAGES = (("frozen", "冻结抽查对象范围"), ("committed", "随机数承诺"), ("seeded", "揭示随机数、确定种子"),
          ("drawn", "抽取对象、匹配检查组"))
ROLE_OPTIONS = (("organiser", "组织人员"), ("operator", "技术操作人员"), ("supervisor", "监督人员"),
                ("witness", "见证人"))
ROLE_LABELS = dict(ROLE_OPTIONS)
DEFAULT_ROLES = ("organiser", "operator", "supervisor", "witness", "witness")
SHOWN_TASKS = 300
PROJECTOR_PAGE_SIZE = 100  # tasks per page on the projector (every page reachable)


# ---------------------------------------------------------------------------------------- views

def draw_view(row, pick: Callable[[list[dict]], list[dict]] | None = None) -> dict[str, Any]:
    """Everything the projector, the public draw page and the printed record show; ``pick``
    chooses the record's tasks listed (default: the first :data:`SHOWN_TASKS`)."""
    gateway = get_gateway()
    registry = gateway.registry
    data = service.draw_dict(row, gateway.settings)
    order = [s for s, _ in STAGES]
    position = order.index(row.status) if row.status in order else -1
    stages = []
    for index, (status, label) in enumerate(STAGES):
        state = "done" if index <= position else "current" if index == position + 1 else ""
        stages.append({"status": status, "label": label, "state": state})
    matter_names = {code: m.name for code, m in registry.matters.items()}
    strata = [{**s, "matter_name": matter_names.get(s["matter"], s["matter"])} for s in data["strata"]]
    exclusions = [{"reason": k, "label": EXCLUSION_REASONS.get(k, k), "count": v} for k, v in (data["exclusions"] or {}).items()]
    drawn = row.status == "drawn" and row.record_gzip is not None
    # The tasks come from the record a part at a time; the strata's lists are never read here.
    record = service.record_index(row) if drawn else None
    all_tasks = list(service.record_tasks(object_session(row), row)) if drawn else []
    tasks, selected_total = [], 0
    if record is not None:
        listed = pick(all_tasks) if pick else all_tasks[:SHOWN_TASKS]
        names = target_names([t["uscc"] for t in listed])
        departments = {code: d.name for code, d in registry.departments.items()}
        for entry in listed:
            tasks.append({
                "number": entry["number"], "uscc": entry["uscc"], "name": names.get(entry["uscc"], ""),
                "matters": [matter_names.get(m, m) for m in entry["matters"]],
                "key_inspection": entry.get("key_inspection", False),
                "inspectors": [{"department": departments.get(i["department"], i["department"]), "id": i["id"]}
                               for i in entry["inspectors"]],
            })
        selected_total = sum(s.get("sample_size", 0) for s in data["strata"])
    return {
        "draw": data, "stages": stages, "strata": strata, "exclusions": exclusions, "record": record,
        "moves": moves_view(row.eligibility_changes, matter_names),
        "tasks": tasks, "task_total": len(all_tasks), "selected_total": selected_total,
        "shown_tasks": SHOWN_TASKS, "role_labels": ROLE_LABELS,
        "population_total": sum(s.get("population", 0) for s in data["strata"]),
        "sample_total": sum(s.get("sample_size", 0) for s in data["strata"]),
    }


def moves_view(section: dict[str, Any] | None, matter_names: dict[str, str]) -> dict[str, Any] | None:
    """The record's ``eligibility_changes`` section in Chinese: who moved between which strata
    before the freeze, and why (None for draws frozen before the section existed)."""
    if section is None:
        return None

    def stratum(key: str) -> str:
        matter, _, group = key.rpartition(":")
        return f"{matter_names.get(matter, matter)} · " + ("重点抽查对象" if group == "key" else f"{group} 类")

    labels, reasons = section["fields"], section["reasons"]
    names = target_names([m["uscc"] for m in section["moves"]])
    return {"window": section["window"], "sha256": section["moves_sha256"], "moves": [{
        "uscc": m["uscc"], "name": names.get(m["uscc"], ""),
        "moved_out": [stratum(k) for k in m["moved_out"]], "moved_in": [stratum(k) for k in m["moved_in"]],
        "changes": [{**c, "field": labels.get(c["field"], c["field"]), "reason": reasons.get(c["reason"], c["reason"]),
                     "old": value_label(c["field"], c["old"]), "new": value_label(c["field"], c["new"])}
                    for c in m["changes"]],
    } for m in section["moves"]]}


def target_names(usccs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for start in range(0, len(usccs), 500):
        chunk = usccs[start:start + 500]
        out.update({uscc: name for uscc, name in db().execute(select(Target.uscc, Target.name).where(Target.uscc.in_(chunk)))})
    return out


@bp.route("")
@permission("draws.read")
def index():
    principal = current_principal()
    authorize(principal, "draws.read", published=True)
    session = db()
    draws = [service.draw_dict(d, get_gateway().settings) for d in session.scalars(service.draws_query({}).limit(100))]
    drawable = []
    if allows(principal, "draws.run"):
        for plan in session.scalars(plans.plans_query(principal, {"status": "published"})):
            summary = plans.plan_dict(session, plan)
            if summary["draw"] is None or summary["draw"]["status"] == "cancelled":
                drawable.append(summary)
    return render_template("draw/index.html", draws=draws, drawable=drawable,
                           can_run=allows(principal, "draws.run"))


@bp.route("/freeze", methods=["POST"])
@permission("draws.run")
def freeze():
    plan_id = request.form.get("plan_id", type=int)
    gateway = get_gateway()

    def act():
        with gateway.write() as session:
            return service.freeze(session, current_principal(), plan_id or 0, secret=gateway.settings.secret_key,
                                  require_filing=gateway.settings.draw_requires_filing).id

    draw_id, error = run_action(act, "抽查对象范围已冻结，population_sha256 已公开。")
    if error is not None:
        return redirect(url_for("web_draw.index"))
    return redirect(url_for("web_draw.projector", draw_id=draw_id))


@bp.route("/<int:draw_id>")
@permission("draws.read")
def projector(draw_id: int, errors: dict | None = None, form: dict | None = None, status: int = 200):
    principal = current_principal()
    authorize(principal, "draws.read", published=True)
    row = service.get_draw(db(), draw_id)
    q, found = (request.args.get("q") or "").strip(), {}

    def pick(tasks: list[dict]) -> list[dict]:
        """A page of the tasks (every one reachable, not only the first few hundred), those matching
        the search (number, credit code or name) when there is one, as the public draw page does."""
        hits = tasks
        if q:
            code = "".join(q.split()).upper()
            names = target_names(sorted({t["uscc"] for t in tasks}))
            hits = [t for t in tasks if q in t["number"] or code == t["uscc"] or q in names.get(t["uscc"], "")]
        number = page_number() if request.method == "GET" else 1
        found["page"] = Page(hits[(number - 1) * PROJECTOR_PAGE_SIZE:number * PROJECTOR_PAGE_SIZE], len(hits),
                             number, PROJECTOR_PAGE_SIZE)
        return found["page"].items

    view = draw_view(row, pick)
    return render_template(
        "draw/projector.html", **view, errors=errors or {}, form=form or {}, task_page=found.get("page"), q=q,
        can_run=allows(principal, "draws.run"), can_internal=allows(principal, "draws.read_internal"),
        task_links=scope_of(principal, "tasks.read") is not None, role_options=ROLE_OPTIONS, default_roles=DEFAULT_ROLES, witness_categories=WITNESS_CATEGORIES,
    ), status


@bp.route("/<int:draw_id>/commitments", methods=["POST"])
@permission("draws.run")
def commit(draw_id: int):
    roles = request.form.getlist("role")
    names = request.form.getlist("name")
    values = request.form.getlist("commitment")
    units, identities, categories = (_padded(request.form.getlist(f), len(roles)) for f in ("unit", "identity", "category"))
    rows, errors = [], {}
    for index, (role, name, value) in enumerate(zip(roles, names, values)):
        name, value = name.strip(), value.strip().lower()
        if not name and not value:
            continue  # an unused optional row
        if not name:
            errors.setdefault(f"name-{index}", []).append("请填写参与人姓名。")
        if role not in ROLE_LABELS:
            errors.setdefault(f"role-{index}", []).append("请选择参与人角色。")
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            errors.setdefault(f"commitment-{index}", []).append("承诺值应为 64 位十六进制：请先输入随机数字，页面会自动计算。")
        rows.append({"role": role, "name": name, "commitment": value, "index": index, "unit": units[index].strip(),
                     "identity": identities[index].strip(), "category": categories[index]})
    # The identity is never sent back to the page.
    form = {"rows": [{"role": r, "name": n, "commitment": c, "unit": u, "category": k}
                     for r, n, c, u, k in zip(roles, names, values, units, categories)]}
    if errors:
        return projector(draw_id, errors=errors, form=form, status=422)
    gateway = get_gateway()
    try:
        with gateway.write() as session:
            service.commit(session, current_principal(), draw_id,
                           [{k: r[k] for k in ("role", "name", "commitment", "unit", "identity", "category")} for r in rows],
                           secret=gateway.settings.secret_key)
    except DomainError as exc:
        status = refusal_status(exc)
        return projector(draw_id, errors=_index_errors(errors_of(exc), rows, "commitments"), form=form, status=status)
    return redirect(url_for("web_draw.projector", draw_id=draw_id, _anchor="stage"))


def _padded(values: list[str], length: int) -> list[str]:
    return [*values, *[""] * (length - len(values))]


def _witness_lines(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Lines like ``钱七（新闻媒体代表）``: each names a witness and one listed category."""
    witnesses, problems = [], []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        found = [c for c in WITNESS_CATEGORIES if c in line]
        name = line
        for category in found:
            name = name.replace(f"（{category}）", "").replace(f"({category})", "").replace(category, "")
        name = name.strip(" ，,、：:")[:100]
        if len(found) != 1 or not name:
            problems.append(f"“{line[:40]}”：请写成 姓名（类别），类别为" + "、".join(WITNESS_CATEGORIES) + "之一。")
        else:
            witnesses.append({"name": name, "category": found[0]})
    return witnesses, problems


def _index_errors(errors: dict[str, list[str]], rows: list[dict], prefix: str,
                  inputs: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Service errors keyed ``commitments.2.name`` -> the form row's ``name-<index>``; with
    ``inputs``, an error on another field of the row goes to the first input."""
    out: dict[str, list[str]] = {}
    for path, messages in errors.items():
        parts = path.split(".")
        if len(parts) == 3 and parts[0] == prefix and parts[1].isdigit() and int(parts[1]) < len(rows):
            field = parts[2] if not inputs or parts[2] in inputs else inputs[0]
            out.setdefault(f"{field}-{rows[int(parts[1])]['index']}", []).extend(messages)
        else:
            out.setdefault("_schema", []).extend(messages)
    return out


@bp.route("/<int:draw_id>/seed", methods=["POST"])
@permission("draws.run")
def seed(draw_id: int):
    row = service.get_draw(db(), draw_id)
    reveals, rows = [], []
    for promised in row.commitments or []:
        order = promised["order"]
        digits = (request.form.get(f"digits-{order}") or "").strip()
        salt = (request.form.get(f"salt-{order}") or "").strip()
        reveals.append({"role": promised["role"], "name": promised["name"], "digits": digits, "salt": salt})
        rows.append({"index": order})
    errors: dict[str, list[str]] = {}
    for item, r in zip(reveals, rows):
        if not item["digits"].isdigit():
            errors.setdefault(f"digits-{r['index']}", []).append("请输入该参与人此前承诺的随机数字（只含数字 0–9）。")
        if not item["salt"]:
            errors.setdefault(f"salt-{r['index']}", []).append("请输入承诺时使用的盐值。")
    witnesses, problems = _witness_lines(request.form.get("witnesses") or "")
    if problems:
        errors["witnesses"] = problems
    form = {"reveals": {r["index"]: item for item, r in zip(reveals, rows)}, "witnesses": request.form.get("witnesses", "")}
    if errors:
        return projector(draw_id, errors=errors, form=form, status=422)
    gateway = get_gateway()
    try:
        with gateway.write() as session:
            service.reveal_seed(session, current_principal(), draw_id, reveals, witnesses)
    except DomainError as exc:
        status = refusal_status(exc)
        errors = _index_errors(errors_of(exc), rows, "contributions", ("digits", "salt"))
        return projector(draw_id, errors=errors, form=form, status=status)
    return redirect(url_for("web_draw.projector", draw_id=draw_id, _anchor="stage"))


@bp.route("/<int:draw_id>/run", methods=["POST"])
@permission("draws.run")
def run(draw_id: int):
    gateway = get_gateway()
    _, error = run_action(lambda: service.run_and_record_failure(gateway, current_principal(), draw_id),
                          "抽取完成：检查任务已生成，抽取记录已公开。")
    return redirect(url_for("web_draw.projector", draw_id=draw_id, _anchor="stage" if error else "result"))


@bp.route("/<int:draw_id>/cancel", methods=["POST"])
@permission("draws.run")
def cancel(draw_id: int):
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        return projector(draw_id, errors={"reason": ["取消抽取必须说明原因。"]}, status=422)
    gateway = get_gateway()

    def act():
        with gateway.write() as session:
            service.cancel(session, current_principal(), draw_id, reason)

    run_action(act, "抽取已取消，取消原因已记录并公开。")
    return redirect(url_for("web_draw.projector", draw_id=draw_id))


@bp.route("/<int:draw_id>/print")
@permission("draws.read")
def printable(draw_id: int):
    authorize(current_principal(), "draws.read", published=True)
    row = service.get_draw(db(), draw_id)
    return render_template("draw/print.html", **draw_view(row))


@bp.route("/<int:draw_id>/teams")
@permission("draws.read_internal")
def teams(draw_id: int):
    """The teams by name (office, supervisors), with the team matching re-run; the read is audited."""
    gateway = get_gateway()
    data = service.read_internal(gateway, current_principal(), draw_id)
    names = target_names([t["uscc"] for t in data.tasks])
    return render_template("draw/teams.html", data=data, names=names, draw_id=draw_id, plan_title=data.plan_title,
                           departments={c: d.name for c, d in gateway.registry.departments.items()})
