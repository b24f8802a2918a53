"""The public query (article 21): free, without logging in, by USCC or by name.

Only what is published: matter lists, published plans, the drawn tasks, published result versions
and published dispositions. Inspectors appear only as their departments (article 5; DESIGN.md
"Data, roles and privacy"): no names, phones, certificate numbers, opaque ids, nor who recorded,
reviewed or published; nor the target's signer, the checklist's free text or the attachments.
Every function authorizes the caller for ``published`` resources, so the permission table stays
the one place that decides.
"""
from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any, Iterable

from sqlalchemy import String, bindparam, cast, exists, func, null, select, union_all
from sqlalchemy.orm import Session, defaultload, joinedload, lazyload

from gateway.api.pagination import FoundPages, Page, fetch_page
from gateway.core import Gateway
from gateway.directory.models import Target
from gateway.directory.queries import name_texts, target_match
from gateway.directory.search import name_contains_shape, name_parameters, name_search_shape, uscc_shaped
from gateway.draw.models import Draw
from gateway.enterprise.statements import statements_filed
from gateway.errors import Invalid, NotFound
from gateway.planning.models import Plan
from gateway.plugins.contributions import COUNTY_DEFAULTABLE
from gateway.results import risk
from gateway.results.models import Disposition, InspectionResult
from gateway.results.service import team_department_names
from gateway.results.views import DispositionView, department_name, matter_refs
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from schemas.common import RowView, python_values
from schemas.platform import ENTITY_TYPES
from schemas.result_codes import describe
from schemas.results import PublicDispositionSchema, PublicPlanSchema, PublicResultSchema

PUBLIC_PLAN_STATUSES = ("published", "superseded")
PLAN_KIND_LABELS = {"annual": "年度抽查计划", "joint": "跨部门联合抽查计划"}
PLAN_STATUS_LABELS = {"published": "已公布", "superseded": "已被新版本替代"}
INSPECTION_TYPE_LABELS = {True: "跨部门联合双随机抽查", False: "部门双随机抽查"}
TARGET_TYPE_LABELS = {**ENTITY_TYPES, "other_unit": ENTITY_TYPES.get("other", "其他单位")}


@cache
def _schema(schema_class: type) -> Any:
    """One instance of a public schema for every row and request: ``python_values`` only reads its
    fields, and building a marshmallow schema (copying its fields) per row was a per-row cost of the
    public pages (issue 20)."""
    return schema_class()


# --- matters ------------------------------------------------------------------------------------


def public_matters(gateway: Gateway, principal: Principal) -> list[dict[str, Any]]:
    authorize(principal, "catalogue.read")
    registry = gateway.registry
    out = []
    for code, matter in registry.matters.items():
        out.append({
            "code": code,
            "field": matter.field,
            "name": matter.name,
            "version": matter.version,
            "lead_department_name": department_name(gateway, matter.department_code),
            "cooperating_department_names": [department_name(gateway, d) for d in registry.cooperating_departments(code)],
            "legal_basis": list(matter.legal_basis),
            "min_ratio": str(matter.min_ratio),
            "frequency": matter.frequency,
            "methods": list(matter.methods),
            "target_description": matter.target_description,
            "county_defaults": [COUNTY_DEFAULTABLE[n] for n in matter.county_defaults],
            "check_items": [
                {
                    "code": item.code, "name": item.name, "content": item.content,
                    "beyond_appendix": item.beyond_appendix,
                    "department_name": department_name(gateway, item.department_code),
                    "legal_basis": list(item.legal_basis), "methods": list(item.methods),
                }
                for item in registry.check_items[code]
            ],
        })
    return out


# --- plans and drawn tasks ------------------------------------------------------------------------


def _plan_dicts(gateway: Gateway, session: Session, plans: list[Plan]) -> list[dict[str, Any]]:
    """Public plans, with each plan's task count and draws read in two small queries for all of them."""
    counts, draws = plan_task_counts(session, [p.id for p in plans])
    return [python_values(_schema(PublicPlanSchema), PublicPlanView(gateway, p, counts[p.id], sorted(draws[p.id]))) for p in plans]


def plan_task_counts(session: Session, plan_ids: list[int]) -> tuple[dict[int, int], dict[int, set[int]]]:
    """How many tasks each plan has, and the draws that made them, without counting its tasks (tens
    of thousands at province scale, on every home page: issue 20). A draw inserts its tasks once and
    records how many (``Draw.task_count``); a drawn draw is never cancelled and no task is deleted or
    moved to another plan. So a plan has its drawn draws' tasks plus those made outside a draw
    (``draw_id`` NULL), which the partial index ``ix_tasks_plan_undrawn`` holds and nothing else."""
    counts: dict[int, int] = defaultdict(int)
    draws: dict[int, set[int]] = defaultdict(set)
    if plan_ids:
        drawn = select(Draw.plan_id, Draw.id, Draw.task_count).where(
            Draw.plan_id.in_(plan_ids), Draw.status == "drawn", Draw.task_count > 0)
        undrawn = select(Task.plan_id, null(), func.count()).where(
            Task.plan_id.in_(plan_ids), Task.draw_id.is_(None)).group_by(Task.plan_id)
        for plan_id, draw_id, n in session.execute(union_all(drawn, undrawn)):
            counts[plan_id] += n
            if draw_id is not None:
                draws[plan_id].add(draw_id)
    return counts, draws


class PublicPlanView(RowView):
    """A published plan as ``PublicPlanSchema`` dumps it: labels and names, how many tasks it drew,
    and links to its draws' public records."""

    def __init__(self, gateway: Gateway, plan: Plan, task_count: int, draw_ids: list[int]):
        self.row = plan
        self.kind_label = PLAN_KIND_LABELS.get(plan.kind, plan.kind)
        self.lead_department_name = department_name(gateway, plan.lead_department)
        reasons = plan.site_visit_reasons or {}
        self.matters = []
        for m in plan.matters:
            matter = gateway.registry.matters.get(m.matter_code)
            non_site = list(matter.non_site_methods) if matter else []
            self.matters.append({
                "code": m.matter_code, "name": matter.name if matter else m.matter_code,
                "department_name": department_name(gateway, m.department_code), "non_site_methods": non_site,
                "site_visit": not non_site or m.matter_code in reasons,
                "site_visit_reason": reasons.get(m.matter_code, "")})
        self.filing = {"filing_number": plan.filing_number, "filed_on": plan.filed_on} if plan.filed_on else None
        self.ratios = dict(plan.ratios or {})
        self.task_count = task_count
        self.draw_ids = draw_ids
        self.links = {
            "tasks": f"/api/v1/public/plans/{plan.id}/tasks",
            # the draw's own public endpoints: its summary and the verifiable shuangsui.draw/1 record
            "draws": [f"/api/v1/draws/{d}" for d in draw_ids],
            "draw_records": [f"/api/v1/draws/{d}/record" for d in draw_ids],
        }


def public_plans(gateway: Gateway, session: Session, principal: Principal, year: int | None, page: int, page_size: int,
                 count: bool = True):
    """Published plans, newest first; ``count=False`` for a page that shows no total (the home page)."""
    authorize(principal, "plans.read", published=True)
    stmt = select(Plan).where(Plan.status.in_(PUBLIC_PLAN_STATUSES))
    if year:
        stmt = stmt.where(Plan.year == year)
    found = fetch_page(session, stmt.order_by(Plan.year.desc(), Plan.id.desc()), page, page_size, count)
    return found.map_batch(lambda plans: _plan_dicts(gateway, session, plans))


def _public_plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None or plan.status not in PUBLIC_PLAN_STATUSES:
        raise NotFound.of("抽查计划", plan_id)
    return plan


def public_plan(gateway: Gateway, session: Session, principal: Principal, plan_id: int) -> dict[str, Any]:
    authorize(principal, "plans.read", published=True)
    return _plan_dicts(gateway, session, [_public_plan(session, plan_id)])[0]


def public_plan_tasks(gateway: Gateway, session: Session, principal: Principal, plan_id: int, page: int, page_size: int):
    """The drawn tasks of a published plan: target, matters, the team's departments (not its people)."""
    authorize(principal, "draws.read", published=True)
    plan = _public_plan(session, plan_id)
    stmt = select(Task).where(Task.plan_id == plan.id).order_by(Task.number)
    found = fetch_page(session, stmt, page, page_size)
    published = _latest_published(session, [t.id for t in found.items])

    return found.map(lambda task: PublicPlanTaskView(gateway, task, published.get(task.id)))


class PublicPlanTaskView(RowView):
    """A drawn task of a published plan as ``PublicPlanTaskSchema`` dumps it: the team's
    departments, never its people, and the published result if there is one."""

    def __init__(self, gateway: Gateway, task: Task, result: InspectionResult | None):
        self.row = task
        self.task_number = task.number
        self.matters = matter_refs(gateway, task.matter_codes)
        self.departments = team_department_names(gateway, task)
        self.result_id = result.id if result else None


# --- results and dispositions ---------------------------------------------------------------------


def _published_versions(session: Session, task_ids: Iterable[int]) -> dict[int, list[InspectionResult]]:
    """The published versions of each task, oldest first, in one query."""
    versions: dict[int, list[InspectionResult]] = defaultdict(list)
    ids = set(task_ids)
    if ids:
        for result in session.scalars(
            select(InspectionResult).where(InspectionResult.task_id.in_(ids), InspectionResult.status == "published")
            .order_by(InspectionResult.version).options(lazyload("*"))  # only the versions' own columns are shown
        ):
            versions[result.task_id].append(result)
    return versions


def _latest_published(session: Session, task_ids: Iterable[int]) -> dict[int, InspectionResult]:
    return {task_id: versions[-1] for task_id, versions in _published_versions(session, task_ids).items()}


def public_disposition_dict(gateway: Gateway, disposition: Disposition) -> dict[str, Any]:
    """A published disposition as the public sees it, with Python values."""
    return python_values(_schema(PublicDispositionSchema), DispositionView(gateway, disposition))


def public_result_dicts(gateway: Gateway, session: Session, results: list[InspectionResult]) -> list[dict[str, Any]]:
    """Published results as the public sees them; plans, earlier versions and dispositions are read
    in one query each for all the results."""
    if not results:
        return []
    task_ids = {r.task_id for r in results}
    # A result shows its plan's number, title, year and kind, not the plan's matters.
    plans = {p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_({r.task.plan_id for r in results}))
                                              .options(lazyload(Plan.matters)))}
    versions = _published_versions(session, task_ids)
    dispositions: dict[int, list[Disposition]] = defaultdict(list)
    # Their results and tasks are the ones just read: no second round of their collections.
    quiet = joinedload(Disposition.result)
    for d in session.scalars(select(Disposition).where(Disposition.task_id.in_(task_ids), Disposition.status == "published")
                             .options(quiet.lazyload(InspectionResult.attachments),
                                      quiet.joinedload(InspectionResult.task).lazyload(Task.members))
                             .order_by(Disposition.id)):
        dispositions[d.task_id].append(d)
    with_statements = statements_filed(session, task_ids)
    return [
        python_values(_schema(PublicResultSchema), PublicResultView(
            gateway, r, plans.get(r.task.plan_id), [e for e in versions[r.task_id] if e.version < r.version],
            dispositions[r.task_id], r.task_id in with_statements))
        for r in results
    ]


class PublicResultSummary(RowView):
    """A published result as the lists of results show it (the home page, the search page): the
    target as published, the matters, the result, the authority and the dates. A list of them is
    one statement (:func:`_summaries`); its team, versions, dispositions and statements are for
    its own page (:class:`PublicResultView`)."""

    def __init__(self, gateway: Gateway, result: InspectionResult):
        self.row = result
        task = result.task
        self.target = result.target_as_published()
        self.matters = matter_refs(gateway, task.matter_codes)
        self.authority = department_name(gateway, task.lead_department)
        self.result_description = describe(result.result_codes)


class PublicResultView(PublicResultSummary):
    """A published result as ``PublicResultSchema`` dumps it: the inspection's facts, its team by
    departments, its earlier published versions and its published dispositions."""

    def __init__(self, gateway: Gateway, result: InspectionResult, plan: Plan | None,
                 earlier: list[InspectionResult], dispositions: list[Disposition], statement_filed: bool = False):
        super().__init__(gateway, result)
        self.statement_filed = statement_filed
        self.task_number = result.task.number
        self.plan = plan or {}
        self.departments = team_department_names(gateway, result.task)
        self.inspection_type = INSPECTION_TYPE_LABELS[len(self.departments) > 1 or (plan is not None and plan.kind == "joint")]
        self.history = [
            {"result_id": r.id, "version": r.version, "published_on": r.published_on, "correction_reason": r.correction_reason}
            for r in earlier
        ]
        self.dispositions = [DispositionView(gateway, d) for d in dispositions]


# Built once: an alias copies every column of the table, which cost a few milliseconds of every
# public request that lists results (issue 20).
_LATER = InspectionResult.__table__.alias("later")


def _current(stmt):
    """``stmt`` (over ``inspection_results``) kept to the published versions that no later published
    version of the same task replaces."""
    return stmt.where(
        InspectionResult.status == "published",
        ~exists(
            select(_LATER.c.id).where(
                _LATER.c.task_id == InspectionResult.task_id,
                _LATER.c.status == "published",
                _LATER.c.version > InspectionResult.version,
            )
        ),
    )


def _current_published_results(with_target: bool = True):
    """The current published versions (:func:`_current`); joined with their tasks and targets when a
    condition needs them (``with_target``)."""
    # The public never sees a result's attachments: not loaded (a query fewer per page).
    stmt = select(InspectionResult).options(lazyload(InspectionResult.attachments))
    if with_target:
        stmt = stmt.join(Task, Task.id == InspectionResult.task_id).join(Target, Target.id == Task.target_id)
    return _current(stmt)


def _latest_first(stmt):
    return stmt.order_by(InspectionResult.published_on.desc(), InspectionResult.id.desc())


# A summary reads the result with its task and target (joined by default), and nothing else.
_SUMMARY_LOADS = (lazyload(InspectionResult.attachments), defaultload(InspectionResult.task).lazyload(Task.members))


def _summaries(gateway: Gateway, session: Session, stmt) -> list[PublicResultSummary]:
    return [PublicResultSummary(gateway, r) for r in session.scalars(stmt.options(*_SUMMARY_LOADS))]


def latest_result_summaries(gateway: Gateway, session: Session, principal: Principal, size: int) -> list[PublicResultSummary]:
    """The latest ``size`` current published results (the home page)."""
    authorize(principal, "results.read", published=True)
    return _summaries(gateway, session, _latest_first(_current_published_results(with_target=False)).limit(size))


def public_results(
    gateway: Gateway, session: Session, principal: Principal, q: str | None, page: int, page_size: int,
    plan_id: int | None = None, count: bool = True,
):
    """The current published results, latest first, of the targets ``q`` finds (all without it);
    ``count=False`` for a page that shows no total (the home page, the search page's results)."""
    authorize(principal, "results.read", published=True)
    stmt = _current_published_results(with_target=bool(q or plan_id))
    if q:
        stmt = stmt.where(target_match(q))
    if plan_id:
        stmt = stmt.where(Task.plan_id == plan_id)
    found = fetch_page(session, _latest_first(stmt), page, page_size, count)
    return found.map_batch(lambda results: public_result_dicts(gateway, session, results))


def public_result(gateway: Gateway, session: Session, principal: Principal, result_id: int) -> dict[str, Any]:
    result = session.get(InspectionResult, result_id)
    if result is None or not result.is_published:
        raise NotFound.of("检查结果", result_id)
    authorize(principal, "results.read", published=True)
    return public_result_dicts(gateway, session, [result])[0]


def public_dispositions(gateway: Gateway, session: Session, principal: Principal, q: str | None, page: int, page_size: int):
    authorize(principal, "results.read", published=True)
    stmt = (
        select(Disposition).join(Target, Target.id == Disposition.target_id)
        .where(Disposition.status == "published")
    )
    if q:
        stmt = stmt.where(target_match(q))
    found = fetch_page(session, stmt.order_by(Disposition.published_on.desc(), Disposition.id.desc()), page, page_size)
    return found.map(lambda d: public_disposition_dict(gateway, d))


# --- targets -------------------------------------------------------------------------------------


def search_targets(session: Session, principal: Principal, q: str | None, page: int, page_size: int, related: int = 0):
    """Targets by USCC or name, with how many published results each has (the public's entry point).
    With ``related`` and a name, each hit also carries ``related_results``: the ids (text,
    comma-separated, in no order) of the latest ``related`` current published results of all the
    targets found, which :func:`found_results` shows beside the page. Not for a credit code: it finds
    one target at most, whose ``published_results`` says whether there are any, by a statement of
    its own (:func:`_target_by_code`; planning the larger one cost more than the lookup itself)."""
    authorize(principal, "results.read", published=True)
    if not q or len(q.strip()) < 2:
        raise Invalid("validation_error", "提交的数据未通过校验。", {"q": ["请输入统一社会信用代码或至少两个字的名称。"]})
    code = uscc_shaped(q)
    if code:
        rows = session.execute(_target_by_code(), {"uscc": code}).all()
        return Page([PublicTargetHit(row) for row in rows] if page == 1 else [], len(rows), page, page_size)
    texts = name_texts(q)
    found = _name_search(name_search_shape(texts), related).fetch(session, name_parameters(texts), page, page_size)
    return found.map(PublicTargetHit)


@cache
def _name_search(shape: tuple[bool, ...], related: int) -> FoundPages:
    """The public's name search for texts of ``shape``, built once per shape (building it anew
    cost each search about a millisecond of Python). The targets are found once (the index, then each
    candidate read from the table), by a CTE that the page, its total and the related results all
    read. Only the columns a hit shows, and the published results of the page's targets counted."""
    found = select(Target.id, Target.uscc, Target.name, Target.township).where(name_contains_shape(shape)).cte("found")

    def shown(page):
        columns = [page.c.id, page.c.uscc, page.c.name, page.c.township,
                   _published_count(page.c.id).label("published_results")]
        if related:
            columns.append(_related_result_ids(found, related).label("related_results"))
        return columns

    return FoundPages.of(found, ("name", "id"), shown)


@cache
def _target_by_code():
    """The one target a credit code finds (``uscc``, a bound parameter), as a search hit. Built once:
    building the statement took as long as running it (the public's most frequent search)."""
    return select(Target.id, Target.uscc, Target.name, Target.township,
                  _published_count().label("published_results")).where(Target.uscc == bindparam("uscc"))


def _published_count(target_id=Target.id):
    """SQL: how many published result versions the target ``target_id`` (a column of the enclosing
    statement) has."""
    return (select(func.count(InspectionResult.id)).join(Task, Task.id == InspectionResult.task_id)
            .where(Task.target_id == target_id, InspectionResult.status == "published").scalar_subquery())


def _related_result_ids(found, size: int):
    """SQL: the ids of the latest ``size`` current published results of the targets in ``found`` (a
    CTE with their ``id``), as text joined by commas; evaluated once per statement."""
    latest = _latest_first(_current(select(InspectionResult.id).join(Task, Task.id == InspectionResult.task_id))
                           .where(Task.target_id.in_(select(found.c.id)))).limit(size).subquery()
    return select(func.aggregate_strings(cast(latest.c.id, String), ",")).scalar_subquery()


def found_results(gateway: Gateway, session: Session, principal: Principal, q: str, found,
                  size: int) -> list[PublicResultSummary]:
    """The latest ``size`` current published results of the targets ``q`` finds, beside ``found``
    (a page of :func:`search_targets` with ``related=size``), as summaries. Most searches have none
    (most targets are never drawn): when every target found is on the page and none has a
    published result there is nothing to read, and a name search's statement found their ids
    (``related_results``), so the targets are not searched again. Otherwise (a credit code, a page
    past the last one) they are."""
    if found.total <= len(found.items) and not any(hit.published_results for hit in found.items):
        return []
    authorize(principal, "results.read", published=True)
    if not found.items or not hasattr(found.items[0], "related_results"):
        stmt = _current_published_results().where(target_match(q))
    else:
        ids = [int(i) for i in (found.items[0].related_results or "").split(",") if i]
        if not ids:
            return []
        stmt = _current_published_results(with_target=False).where(InspectionResult.id.in_(ids))
    return _summaries(gateway, session, _latest_first(stmt).limit(size))


class PublicTargetHit(RowView):
    """A target found by the public search (its id, USCC, name and township), with how many
    published results it has (``published_results``)."""

    def __init__(self, row):
        self.row = row


@cache
def _target_page_row():
    """The target a credit code (``uscc``, a bound parameter) names, with how many published results
    and dispositions it has: most targets have neither, and their page then takes one statement.
    Built once, as :func:`_target_by_code`."""
    disposed = (select(func.count(Disposition.id))
                .where(Disposition.target_id == Target.id, Disposition.status == "published").scalar_subquery())
    return select(Target, _published_count(), disposed).where(Target.uscc == bindparam("uscc"))


def public_target(gateway: Gateway, session: Session, principal: Principal, uscc: str,
                  summaries: bool = False) -> PublicTargetView:
    """The target ``uscc`` names, with its current published results (as :class:`PublicResultSummary`
    with ``summaries``: what the target's page lists) and its published dispositions."""
    authorize(principal, "results.read", published=True)
    row = session.execute(_target_page_row(), {"uscc": uscc.strip().upper()}).first()
    if row is None:
        raise NotFound.of("检查对象", uscc)
    target, published, disposed = row
    results = []
    if published:  # most targets have none: their page builds no statement for results
        stmt = (_current_published_results().where(Task.target_id == target.id)
                .order_by(InspectionResult.completed_on.desc(), InspectionResult.id.desc()))
        results = (_summaries(gateway, session, stmt) if summaries
                   else public_result_dicts(gateway, session, list(session.scalars(stmt))))
    # What a public disposition shows needs neither the result's attachments nor the task's team.
    quiet = joinedload(Disposition.result)
    dispositions = session.scalars(
        select(Disposition).where(Disposition.target_id == target.id, Disposition.status == "published")
        .options(quiet.lazyload(InspectionResult.attachments), quiet.joinedload(InspectionResult.task).lazyload(Task.members))
        .order_by(Disposition.id)
    ) if disposed else []
    return PublicTargetView(target, results, [public_disposition_dict(gateway, d) for d in dispositions])


class PublicTargetView(RowView):
    """A target as ``PublicTargetSchema`` dumps it: its lists, published results (dicts; for its page,
    summaries) and dispositions."""

    def __init__(self, target: Target, results: list, dispositions: list[dict[str, Any]]):
        self.row = target
        self.type_label = TARGET_TYPE_LABELS.get(target.type, target.type)
        self.lists = risk.list_labels(target)
        self.results = results
        self.dispositions = dispositions
