"""Plans (articles 11, 12): annual and joint, draft -> published, amended only by a new version.

A plan pins every matter to the matter version that is current when the matter is added (article 8).
Its strata are matter × credit-risk class, each with ratio ``max(plan ratio, matter minimum)``.
Publication makes a plan immutable; publishing after 31 March of its year is allowed and recorded
as late (article 11). An amendment is a new draft version with a reason; publishing it supersedes
the version it amends.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.db import utcnow, where_equal
from gateway.directory.models import RISK_CLASSES, Department, MatterVersion
from gateway.directory.queries import contains
from gateway.draw.eligibility import KEY_STRATUM, KeyRule
from gateway.draw.models import CANCELLABLE_STATUSES, Draw
from gateway.draw.superseding import supersede_seeded
from gateway.errors import Conflict, Forbidden, Invalid, NotFound
from gateway.planning import numbering
from gateway.planning.installed import refuse_if_plugin_missing
from gateway.planning.models import Plan, PlanMatter, min_ratio_of
from gateway.security import audit
from gateway.security.disclosure import check_public_text, personal_data_problems
from gateway.security.policy import ANY, PUBLISHED, allows, authorize, scope_of
from gateway.security.principal import Principal
from gateway.sync.outbox import enqueue
from schemas.common import CHINA_TZ, RowView, python_values
from schemas.planning import MIN_RATIO_SOURCES, PlanSchema

PUBLICATION_DEADLINE = (3, 31)  # article 11: by the end of March
EDITABLE_FIELDS = ("title", "scope", "ratios", "key_rule", "min_ratios", "frequency", "window_start", "window_end",
                   "description", "site_visit_reasons")
DEFAULT_KEY_RULE = KeyRule().as_dict()


def local_date(moment: datetime) -> date:
    """The date in China (UTC+8) of a naive UTC ``moment``."""
    return moment.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ).date()


def invalid(errors: dict[str, list[str]]) -> Invalid:
    return Invalid("validation_error", "提交的数据未通过校验。", errors)


# ---------------------------------------------------------------------------------------- reading

def get_plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound.of("抽查计划", plan_id)
    return plan


def read_plan(session: Session, principal: Principal, plan_id: int) -> Plan:
    """The plan, for someone who may read it; a draft is "not found" to anyone who may not see it
    (the public, inspectors), exactly like a missing id, so that drafts cannot be counted."""
    plan = session.get(Plan, plan_id)
    if plan is None or not allows(principal, "plans.read", departments=plan_departments(plan),
                                  published=plan.status != "draft"):
        raise NotFound.of("抽查计划", plan_id)
    return plan


def plan_departments(plan: Plan) -> list[str]:
    return [plan.lead_department, *plan.cooperating_departments]


def plans_query(principal: Principal, args: Mapping[str, Any]):
    stmt = select(Plan)
    if scope_of(principal, "plans.read") == PUBLISHED:
        stmt = stmt.where(Plan.status != "draft")
    stmt = where_equal(stmt, args, {"year": Plan.year, "kind": Plan.kind, "status": Plan.status})
    if args.get("department"):
        dept = args["department"]
        stmt = stmt.where(or_(Plan.lead_department == dept,
                              contains(cast(Plan.cooperating_departments, String), f'"{dept}"')))
    return stmt.order_by(Plan.year.desc(), Plan.number, Plan.version)


def plan_dict(session: Session, plan: Plan, warnings: list[str] | None = None) -> dict[str, Any]:
    """A plan as the API shows it, with Python values (for the pages and the command line)."""
    return python_values(PlanSchema(), plan_views(session, [plan], warnings)[0])


def plan_views(session: Session, plans: list[Plan], warnings: list[str] | None = None) -> list[PlanView]:
    """What ``PlanSchema`` dumps for each plan; matter versions, department names, amendments and
    draws are read in one query each for all of them."""

    if not plans:
        return []
    ids = [p.id for p in plans]
    versions = {v.id: v for v in session.scalars(
        select(MatterVersion).where(MatterVersion.id.in_({m.matter_version_id for p in plans for m in p.matters}))
    )}
    names = dict(session.execute(select(Department.code, Department.name).where(
        Department.code.in_({c for p in plans for c in plan_departments(p)}))).all())
    superseded_by = dict(session.execute(
        select(Plan.amends_id, func.min(Plan.id)).where(Plan.amends_id.in_(ids), Plan.status != "draft")
        .group_by(Plan.amends_id)
    ).all())
    draws: dict[int, Any] = {}
    for draw in session.scalars(select(Draw).where(Draw.plan_id.in_(ids)).order_by(Draw.id.desc())):
        draws.setdefault(draw.plan_id, draw)
    return [PlanView(p, versions, names, superseded_by.get(p.id), draws.get(p.id), warnings) for p in plans]


class PlanView(RowView):
    """A plan as ``PlanSchema`` dumps it: its departments by name, its matters as pinned, the
    strata it implies, the plan that supersedes it and its draw."""

    def __init__(self, plan: Plan, versions: Mapping[int, MatterVersion], names: Mapping[str, str],
                 superseded_by: int | None, draw: Any, warnings: list[str] | None):
        self.row = plan
        reasons = dict(plan.site_visit_reasons or {})
        self.matters = [_matter_entry(pm, versions[pm.matter_version_id], plan.min_ratios or {}, reasons)
                        for pm in plan.matters]
        self.min_ratios = dict(plan.min_ratios or {})
        self.site_visit_reasons = reasons
        self.filing = None if plan.filed_on is None else {
            "filing_number": plan.filing_number, "filed_on": plan.filed_on, "filed_by": plan.filed_by,
            "filed_at": plan.filed_at}
        self.departments = {code: names.get(code, code) for code in plan_departments(plan)}
        self.scope = _scope(plan.scope)
        self.ratios = dict(plan.ratios)
        self.key_rule = {**DEFAULT_KEY_RULE, **(plan.key_rule or {})}
        self.strata = strata_preview(plan.ratios, self.matters, KeyRule.from_dict(self.key_rule))
        self.superseded_by_id = superseded_by
        self.draw = {"id": draw.id, "status": draw.status, "population_sha256": draw.population_sha256} if draw else None
        self.warnings = warnings or []


def _matter_entry(pm: PlanMatter, version: MatterVersion, adjusted: Mapping[str, str],
                  reasons: Mapping[str, str]) -> dict[str, Any]:
    content = version.content
    minimum, source = min_ratio_of(content, adjusted, pm.matter_code)
    non_site = list(content.get("non_site_methods", []))
    return {
        "code": pm.matter_code,
        "name": version.name,
        "field": content.get("field", ""),
        "version": version.version,
        "matter_version_id": version.id,
        "department": pm.department_code,
        "cooperating_departments": list(content.get("cooperating_departments", [])),
        "min_ratio": _text(minimum),
        "min_ratio_source": source,
        "min_ratio_label": MIN_RATIO_SOURCES[source],
        "non_site_methods": non_site,
        "site_visit": not non_site or pm.matter_code in reasons,
        "site_visit_reason": reasons.get(pm.matter_code, ""),
    }


def strata_preview(ratios: Mapping[str, str], matters: list[dict[str, Any]], key_rule: KeyRule) -> list[dict[str, str]]:
    """Every stratum (matter × risk class) with its ratio: the larger of the plan's and the minimum;
    then the matter's key stratum (article 15/28), never drawn at a lower ratio than the others."""
    out = []
    for matter in matters:
        minimum = Decimal(matter["min_ratio"])
        ordinary = []
        for risk_class in RISK_CLASSES:
            plan_ratio = Decimal(ratios[risk_class])
            ordinary.append(max(plan_ratio, minimum))
            out.append(_preview_entry(matter, risk_class, risk_class, plan_ratio, minimum, ordinary[-1]))
        plan_ratio = key_rule.ratio(matter["code"])
        out.append(_preview_entry(matter, KEY_STRATUM, "", plan_ratio, minimum, max(plan_ratio, *ordinary)))
    return out


def _preview_entry(matter: Mapping[str, Any], suffix: str, risk_class: str, plan_ratio: Decimal,
                   minimum: Decimal, ratio: Decimal) -> dict[str, str]:
    return {"key": f"{matter['code']}:{suffix}", "matter": matter["code"], "risk_class": risk_class,
            "plan_ratio": _text(plan_ratio), "min_ratio": _text(minimum), "ratio": _text(ratio)}


def _key_ratio_errors(key_rule: Mapping[str, Any], ratios: Mapping[str, Any],
                      minimums: Mapping[str, Decimal]) -> dict[str, list[str]]:
    """A key ratio names one of the plan's matters and is not below its ordinary strata's ratios."""
    errors: dict[str, list[str]] = {}
    for code, ratio in dict(key_rule.get("ratios") or {}).items():
        field = f"key_rule.ratios.{code}"
        if code not in minimums:
            errors[field] = [f"重点抽查比例所指事项 {code} 不在本计划中。"]
            continue
        ordinary = max(minimums[code], *(Decimal(str(ratios[rc])) for rc in RISK_CLASSES))
        if Decimal(str(ratio)) < ordinary:
            errors[field] = [f"事项 {code} 的重点抽查比例不能低于其普通分层的抽查比例 {_text(ordinary)}。"]
    return errors


def _min_ratio_errors(adjusted: Mapping[str, Any], plan_matters: Mapping[str, PlanMatter],
                      versions: Mapping[str, MatterVersion]) -> dict[str, list[str]]:
    """A plan adjusts only the minimum ratio of one of its matters whose minimum is a county default."""
    errors: dict[str, list[str]] = {}
    for code in adjusted:
        field = f"min_ratios.{code}"
        if code not in plan_matters:
            errors[field] = [f"调整最低抽查比例的事项 {code} 不在本计划中。"]
        elif "min_ratio" not in versions[code].content.get("county_defaults", ()):
            errors[field] = [f"事项 {code} 的最低抽查比例由规定给出，不是县级默认值，不能按计划调整。"]
    return errors


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _scope(scope: Mapping[str, Any] | None) -> dict[str, list[str]]:
    scope = scope or {}
    return {k: list(scope.get(k, [])) for k in ("townships", "target_types", "levels")}


# ---------------------------------------------------------------------------------------- writing

def authorize_plan_write(principal: Principal, kind: str, lead_department: str) -> None:
    """Who may write a plan: its lead department (``plans.write``); a joint plan spans departments,
    so it needs ``plans.write`` over every department — the county office's (article 11)."""
    authorize(principal, "plans.write", departments=[lead_department])
    if kind == "joint" and scope_of(principal, "plans.write") != ANY:
        raise Forbidden("joint_plan_county_office", "跨部门联合抽查计划由县双随机办制定、发布和修订；"
                        "部门负责人只能制定本部门的年度抽查计划。")


def create_plan(session: Session, principal: Principal, data: Mapping[str, Any], settings: Settings) -> Plan:
    authorize_plan_write(principal, data.get("kind", ""), data["lead_department"])
    values = _validated(session, dict(data))
    plan = Plan(
        number=plan_number(session, values["kind"], values["year"], values["lead_department"], settings),
        version=1,
        year=values["year"],
        kind=values["kind"],
        title=values["title"],
        lead_department=values["lead_department"],
        cooperating_departments=values["cooperating_departments"],
        status="draft",
        created_by=principal.label,
        **{k: values[k] for k in EDITABLE_FIELDS if k != "title"},
    )
    plan.matters = values["plan_matters"]
    session.add(plan)
    session.flush()
    audit.record(session, principal, "plans.create", "plan", plan.id,
                 {"number": plan.number, "kind": plan.kind, "year": plan.year})
    return plan


def plan_number(session: Session, kind: str, year: int, lead_department: str, settings: Settings) -> str:
    """The next number of the plan's series: 武陟联抽〔2026〕3号 (joint), 武陟商抽〔2026〕1号 (annual)."""
    if kind == "joint":
        mark = numbering.JOINT_MARK
    else:
        lead = session.get(Department, lead_department)
        mark = numbering.department_mark(lead.short_name, lead.name, settings.county_name, lead.level)
    prefix = numbering.number_prefix(settings.county_name, mark)
    return numbering.format_number(prefix, year, _next_serial(session, prefix, year))


def _next_serial(session: Session, prefix: str, year: int) -> int:
    numbers = session.scalars(
        select(Plan.number).where(Plan.year == year, Plan.number.like(f"{prefix}%")).distinct()
    )
    serials = [s for n in numbers if (s := numbering.serial_of(n, prefix, year)) is not None]
    return max(serials, default=0) + 1


def update_plan(session: Session, principal: Principal, plan_id: int, data: Mapping[str, Any],
                settings: Settings | None = None) -> Plan:
    plan = get_plan(session, plan_id)
    authorize_plan_write(principal, plan.kind, plan.lead_department)
    authorize_plan_write(principal, data.get("kind", plan.kind), data.get("lead_department", plan.lead_department))
    if plan.status != "draft":
        raise Conflict("plan_immutable", "已发布的计划不能修改；如需调整，请以新版本修订并说明理由。")
    values = _validated(session, {**_plan_values(plan), **data})
    renumber = any(values[k] != getattr(plan, k) for k in ("kind", "year", "lead_department"))
    _apply(plan, values, kinds=("kind", "year", "lead_department"))
    if renumber:  # a draft that changes kind, year or lead takes the next number of its new series
        plan.number = plan_number(session, plan.kind, plan.year, plan.lead_department, settings or Settings())
    session.flush()
    audit.record(session, principal, "plans.update", "plan", plan.id, {"fields": sorted(data)})
    return plan


def _plan_values(plan: Plan) -> dict[str, Any]:
    values = {k: getattr(plan, k) for k in EDITABLE_FIELDS}
    values["min_ratios"] = dict(plan.min_ratios or {})
    values.update({
        "kind": plan.kind, "year": plan.year, "lead_department": plan.lead_department,
        "matters": [m.matter_code for m in plan.matters],
        "cooperating_departments": list(plan.cooperating_departments),
        "_pinned": {m.matter_code: m.matter_version_id for m in plan.matters},
    })
    return values


def _apply(plan: Plan, values: Mapping[str, Any], kinds: tuple[str, ...] = ()) -> None:
    for name in (*EDITABLE_FIELDS, *kinds, "cooperating_departments"):
        setattr(plan, name, values[name])
    # Keep the rows of matters that stay (plan_id, matter_code is unique), add the new ones.
    current = {m.matter_code: m for m in plan.matters}
    rows = []
    for wanted in values["plan_matters"]:
        row = current.get(wanted.matter_code)
        if row is None:
            row = wanted
        else:
            row.matter_version_id = wanted.matter_version_id
            row.department_code = wanted.department_code
        rows.append(row)
    plan.matters = rows


def _validated(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """Check a whole plan (after merging changes) and resolve its matters; raise ``Invalid`` naming fields."""
    errors: dict[str, list[str]] = {}
    departments = {d.code: d for d in session.scalars(select(Department).where(Department.installed.is_(True)))}
    lead = data["lead_department"]
    if lead not in departments:
        errors.setdefault("lead_department", []).append(f"部门 {lead} 不存在或其插件未安装。")
    current = {v.code: v for v in session.scalars(select(MatterVersion).where(MatterVersion.current.is_(True)))}
    pinned: dict[str, int] = data.get("_pinned", {})
    pinned_rows = {v.id: v for v in session.scalars(select(MatterVersion).where(MatterVersion.id.in_(list(pinned.values()))))} if pinned else {}
    plan_matters: list[PlanMatter] = []
    minimums: dict[str, Decimal] = {}
    involved: list[str] = [lead]
    related: set[str] = set()  # departments leading or cooperating on the plan's matters
    for code in data["matters"]:
        version = pinned_rows.get(pinned.get(code)) if code in pinned else current.get(code)
        if version is None:
            errors.setdefault("matters", []).append(f"抽查事项 {code} 不存在或其插件未安装。")
            continue
        plan_matters.append(PlanMatter(matter_code=code, matter_version_id=version.id,
                                       department_code=version.department_code))
        minimums[code], _source = min_ratio_of(version.content, data.get("min_ratios") or {}, code)
        for dept in (version.department_code, *version.content.get("cooperating_departments", [])):
            related.add(dept)
            if dept not in involved:
                involved.append(dept)
    if data["kind"] == "annual":
        if data.get("cooperating_departments"):
            errors.setdefault("cooperating_departments", []).append("年度抽查计划由一个部门实施，不能有配合部门。")
        for pm in plan_matters:
            if pm.department_code != lead:
                errors.setdefault("matters", []).append(
                    f"年度抽查计划只能包含牵头部门自己的事项：{pm.matter_code} 由 {pm.department_code} 牵头。"
                )
        cooperating: list[str] = []
    else:
        for dept in data.get("cooperating_departments", []):
            if dept not in departments:
                errors.setdefault("cooperating_departments", []).append(f"部门 {dept} 不存在或其插件未安装。")
            elif dept not in involved:
                involved.append(dept)
        if plan_matters and lead in departments and lead not in related:
            errors.setdefault("lead_department", []).append(
                "联合抽查计划的牵头部门应牵头或配合计划中的至少一个抽查事项。"
            )
        cooperating = [d for d in involved if d != lead]
        if plan_matters and not cooperating:
            errors.setdefault("matters", []).append("联合抽查计划至少应涉及两个部门（牵头部门和配合部门）。")
    year = data["year"]
    for name in ("window_start", "window_end"):
        if data[name].year != year:
            errors.setdefault(name, []).append(f"检查时间应在计划年度 {year} 年内。")
    if data["window_end"] < data["window_start"]:
        errors.setdefault("window_end", []).append("检查结束日期不能早于开始日期。")
    for field, messages in personal_data_problems(session, {f: data.get(f) for f in ("title", "description")}).items():
        errors.setdefault(field, []).extend(messages)
    errors.update(_min_ratio_errors(data.get("min_ratios") or {}, {pm.matter_code: pm for pm in plan_matters},
                                    {**current, **{v.code: v for v in pinned_rows.values()}}))
    ratios = data["ratios"]
    missing = [rc for rc in RISK_CLASSES if rc not in ratios]
    if missing:
        errors.setdefault("ratios", []).append("应为每个信用风险分类设定抽查比例：缺少 " + "、".join(missing))
    else:
        errors.update(_key_ratio_errors(data.get("key_rule") or {}, ratios, minimums))
    errors.update(_site_visit_errors(data.get("site_visit_reasons") or {}, plan_matters, current, pinned_rows))
    if errors:
        raise invalid(errors)
    values = dict(data)
    values["plan_matters"] = plan_matters
    values["cooperating_departments"] = cooperating
    values["ratios"] = {rc: str(ratios[rc]) for rc in RISK_CLASSES}
    values["scope"] = _scope(data.get("scope"))
    values["key_rule"] = {**DEFAULT_KEY_RULE, **dict(data.get("key_rule") or {})}
    values["min_ratios"] = {code: str(ratio) for code, ratio in dict(data.get("min_ratios") or {}).items()}
    values.setdefault("description", "")
    values["site_visit_reasons"] = {k: v.strip() for k, v in dict(data.get("site_visit_reasons") or {}).items()}
    return values


def _site_visit_errors(reasons: Mapping[str, str], plan_matters: list[PlanMatter],
                       current: Mapping[str, MatterVersion], pinned: Mapping[int, MatterVersion]) -> dict[str, list[str]]:
    """A site-visit reason names one of the plan's matters that its plugin marks as checkable by
    written check or data comparison (a matter that needs a visit needs no reason), and says why."""
    versions = {pm.matter_code: pinned.get(pm.matter_version_id) or current.get(pm.matter_code) for pm in plan_matters}
    errors: dict[str, list[str]] = {}
    for code, reason in reasons.items():
        field = f"site_visit_reasons.{code}"
        version = versions.get(code)
        if version is None:
            errors[field] = [f"事项 {code} 不在本计划中。"]
        elif not version.content.get("non_site_methods"):
            errors[field] = [f"事项 {code} 须实地核查，无需说明理由。"]
        elif not str(reason).strip():
            errors[field] = ["选择实地核查的，应说明理由。"]
    return errors


def publish_plan(
    session: Session, principal: Principal, plan_id: int, settings: Settings, now: datetime | None = None
) -> tuple[Plan, list[str]]:
    """Publish a draft; returns the plan and warnings (late publication)."""
    plan = get_plan(session, plan_id)
    authorize_plan_write(principal, plan.kind, plan.lead_department)
    if plan.status != "draft":
        raise Conflict("plan_not_draft", f"计划 {plan.number}（第 {plan.version} 版）已发布，不能再次发布。")
    refuse_if_plugin_missing(session, plan, "发布")
    now = now or utcnow()
    warnings = []
    if plan.amends_id is not None:
        previous = get_plan(session, plan.amends_id)
        if previous.status != "published":
            raise Conflict("plan_superseded", f"被修订的第 {previous.version} 版已被其他版本取代，本修订稿不能发布。")
        _refuse_if_drawn(session, previous)
        previous.status = "superseded"
        supersede_seeded(session, principal, previous, plan)
        plan.published_late = previous.published_late
    else:
        deadline = date(plan.year, *PUBLICATION_DEADLINE)
        plan.published_late = local_date(now) > deadline
        if plan.published_late:
            warnings.append(
                f"计划于 {local_date(now).isoformat()} 发布，晚于 {plan.year} 年 3 月 31 日，已记录为逾期发布（第十一条）。"
            )
    check_public_text(session, {"title": plan.title, "description": plan.description, "amend_reason": plan.amend_reason,
                                **{f"site_visit_reasons.{k}": v for k, v in (plan.site_visit_reasons or {}).items()}})
    plan.status = "published"
    plan.published_at = now
    plan.published_by = principal.label
    session.flush()
    enqueue(session, "plan", plan.id, area_code=settings.area_code, department_code=plan.lead_department)
    audit.record(session, principal, "plans.publish", "plan", plan.id,
                 {"number": plan.number, "version": plan.version, "late": plan.published_late,
                  "supersedes": plan.amends_id})
    return plan, warnings


def _refuse_if_drawn(session: Session, plan: Plan) -> None:
    draw = session.scalar(select(Draw).where(Draw.active_plan_id == plan.id, Draw.status.in_(CANCELLABLE_STATUSES)))
    if draw is not None:
        # Once the seed is revealed the draw cannot be cancelled, so the plan may be amended; the
        # earlier draw and its would-be selection stay public.
        raise Conflict(
            "plan_in_draw",
            f"计划 {plan.number}（第 {plan.version} 版）已进入抽取程序（抽取 {draw.id}，状态 {draw.status}），不能修订；"
            "随机种子公开前的抽取可先说明理由取消。",
        )


def amend_plan(session: Session, principal: Principal, plan_id: int, data: Mapping[str, Any]) -> Plan:
    """Start a new version of a published plan: a draft with the reason and the changes."""
    plan = get_plan(session, plan_id)
    authorize_plan_write(principal, plan.kind, plan.lead_department)
    if plan.status != "published":
        raise Conflict("plan_not_published", "只能修订现行有效（已发布且未被取代）的计划。")
    _refuse_if_drawn(session, plan)
    pending = session.scalar(select(Plan.id).where(Plan.amends_id == plan.id, Plan.status == "draft"))
    if pending is not None:
        raise Conflict("amendment_pending", f"该计划已有待发布的修订稿（计划 {pending}），请先完成或修改该修订稿。")
    changes = {k: v for k, v in data.items() if k != "reason"}
    check_public_text(session, {"reason": data["reason"]})
    values = _validated(session, {**_plan_values(plan), **changes})
    version = session.scalar(select(func.max(Plan.version)).where(Plan.number == plan.number)) + 1
    amended = Plan(
        number=plan.number, version=version, year=plan.year, kind=plan.kind, title=values["title"],
        lead_department=plan.lead_department, cooperating_departments=values["cooperating_departments"],
        status="draft", amends_id=plan.id, amend_reason=data["reason"], created_by=principal.label,
        **{k: values[k] for k in EDITABLE_FIELDS if k != "title"},
    )
    amended.matters = [PlanMatter(matter_code=m.matter_code, matter_version_id=m.matter_version_id,
                                  department_code=m.department_code) for m in values["plan_matters"]]
    session.add(amended)
    session.flush()
    audit.record(session, principal, "plans.amend", "plan", amended.id,
                 {"number": plan.number, "version": version, "amends": plan.id, "reason": data["reason"]})
    return amended
