"""The draw's stages on the database (DESIGN "The draw"; articles 13, 15, 16).

1. :func:`freeze` fixes every stratum's population and the exclusions, and publishes
   ``population_sha256`` before any seed exists.
2. :func:`commit` records each participant's commitment to their digits (commit, then reveal).
3. :func:`reveal_seed` checks the revealed digits against the commitments and fixes the seed.
4. :func:`run` selects the targets, matches the teams and creates the tasks, builds and publishes
   the public record, all in one transaction.

Each stage is recorded with who and when (in the draw and in the audit log). The pure draw modules
(:mod:`~gateway.draw.sampler`, :mod:`~gateway.draw.strata`, :mod:`~gateway.draw.teams`,
:mod:`~gateway.draw.record`) do the arithmetic; this module only reads and writes.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from array import array
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any, Iterable, Iterator, Mapping, Sequence

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from gateway.codes import keys as signing_keys
from gateway.config import Settings
from gateway.db import utcnow
from gateway.directory.models import Conflict, Inspector, Target
from gateway.draw import bulk, moves, timing
from gateway.draw import commitment as commitments_mod
from gateway.draw import frozen as frozen_mod
from gateway.draw import parts as record_parts
from gateway.draw import witnesses as witnesses_mod
from gateway.draw.collector import collector_paused
from gateway.draw.drawn import Drawn, DrawnStratum, DrawnTarget
from gateway.draw.errors import UnstaffedDraw
from gateway.draw.models import CANCELLABLE_STATUSES, Draw, DrawFrozenStratum, pack_record
from gateway.draw.population import PlanMatterInfo, plan_matters, stream_population
from gateway.draw.record import (
    EXCLUSION_REASONS,
    FORMAT_V2,
    REQUIRED_ROLES,
    ROLE_LABELS,
    Contribution,
    Participant,
    build_record,
    iso,
    opaque_inspector_id,
    ratio_text,
)
from gateway.draw.record_v2 import TASKS_PER_PART, RecordParts, strata_sha256
from gateway.draw.record_v2 import _canonical as canonical_bytes
from gateway.draw.record_v2 import members_text as members_text_of
from gateway.draw.sampler import SeedError, build_seed, sample_size
from gateway.draw.strata import Stratum
from gateway.draw.teams import Inspector as PoolInspector
from gateway.draw.teams import NoFeasibleTeam, Team, TeamMatcher, TeamRequest
from gateway.draw.verify import verify_teams
from gateway.errors import Conflict as ConflictError  # the model Conflict (of interest) has the plain name here
from gateway.errors import Invalid, NotFound
from gateway.ledger import counts as ledger_counts
from gateway.planning.filing import require_filing as require_filing_of
from gateway.planning.installed import refuse_if_plugin_missing
from gateway.planning.models import Plan
from gateway.planning.service import get_plan, local_date
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from gateway.sync.outbox import enqueue
from gateway.tasks.models import Task, TaskMember
from schemas.common import RowView, python_values
from schemas.draws import DrawSchema

STATUS_LABELS = {
    "frozen": "总体已冻结",
    "committed": "随机数承诺已记录",
    "seeded": "随机种子已确定",
    "drawn": "抽取已完成",
    "cancelled": "已取消",
    "superseded": "计划已修订，本次抽取不再执行（种子与应选结果仍公开）",
}
IN_CHUNK = 2000


def record_id(settings: Settings, draw: Draw) -> str:
    """The draw's id in its public record (also its platform record id)."""
    return f"{settings.area_code}-draw-{draw.id}"


def get_draw(session: Session, draw_id: int) -> Draw:
    draw = session.get(Draw, draw_id)
    if draw is None:
        raise NotFound.of("抽取", draw_id)
    return draw


def _stage_error(draw: Draw, wanted: str) -> ConflictError:
    if draw.status == "drawn":
        return ConflictError("draw_finished", f"抽取 {draw.id} 已完成，不能再次进行任何阶段。")
    if draw.status == "cancelled":
        return ConflictError("draw_cancelled", f"抽取 {draw.id} 已取消。")
    return ConflictError("wrong_stage",
                         f"抽取 {draw.id} 当前阶段为“{STATUS_LABELS[draw.status]}”，不能进行“{wanted}”。",
                         stage=draw.status)


# ----------------------------------------------------------------------------------------- freeze

@collector_paused()
def freeze(session: Session, principal: Principal, plan_id: int, now: datetime | None = None,
           secret: str = "", *, require_filing: bool = True) -> Draw:
    """Stage 1: fix the population of every stratum of a published plan, and list the eligibility
    changes since its publication that moved targets between strata (``secret`` keys the changes'
    opaque actor ids: pass the gateway's); with ``require_filing`` (the setting
    ``draw_requires_filing``), only of a plan filed with the justice bureau."""
    authorize(principal, "draws.run")
    plan = get_plan(session, plan_id)
    if plan.status != "published":
        message = ("计划尚未发布，不能抽取。" if plan.status == "draft"
                   else f"计划 {plan.number} 第 {plan.version} 版已被新版本取代，请对现行版本抽取。")
        raise ConflictError("plan_not_published", message, {"plan_id": [message]})
    refuse_if_plugin_missing(session, plan, "冻结抽取对象")
    require_filing_of(plan, require_filing)
    existing = session.scalar(select(Draw).where(Draw.active_plan_id == plan.id))
    if existing is not None:
        raise ConflictError("draw_exists", f"计划 {plan.number} 已有抽取（抽取 {existing.id}），同一计划只能抽取一次。",
                            draw_id=existing.id)
    open_draw = session.scalar(select(Draw).where(Draw.open_year == plan.year))
    if open_draw is not None:
        raise ConflictError(
            "draw_in_progress",
            f"{plan.year} 年度的抽取 {open_draw.id}（计划 {open_draw.plan.number}）尚未完成；同一年度的抽取须逐个进行，"
            "以保证每户每年至多两次非重点抽查。请先完成或取消该抽取。",
            draw_id=open_draw.id,
        )
    matters = plan_matters(session, plan)
    timing.restart()
    population = stream_population(session, plan, matters)
    now = now or utcnow()
    # The eligibility moves need only the strata's membership of a few targets: noted as each is built.
    moved = moves.Section(session, plan, now)
    draw = Draw(
        plan_id=plan.id, year=plan.year, status="frozen", active_plan_id=plan.id, open_year=plan.year,
        population_sha256="", legacy_strata=[],
        exclusions=[{"uscc": e.uscc, "reason": e.reason, "matter": e.matter} for e in population.exclusions],
        stats={}, key_rule=dict(plan.key_rule or {}), frozen_at=now, frozen_by=principal.label,
    )
    number = plan.number
    session.add(draw)
    try:
        session.flush()
    except IntegrityError:
        # Another request froze this plan (or another plan of the year) at the same moment.
        raise ConflictError("draw_exists", f"计划 {number} 已有抽取，或同一年度另有抽取正在进行。") from None
    # Written: the list of dicts reloads if asked for, the exclusions stay in the caps section only.
    session.expire(draw, ["exclusions"])
    population.exclusions.clear()
    # Each stratum is built, hashed, written and released in turn (draw_frozen_strata, gateway.draw.frozen).
    writer = frozen_mod.FrozenWriter(session.connection(), draw.id)
    entries = []
    for stratum, key_targets in population.strata():
        ratio = ratio_text(stratum.ratio)
        moved.see(stratum.key, stratum.population)
        digest = writer.add(stratum.key, stratum.matter, stratum.risk_class, ratio, stratum.population, key_targets)
        size = len(stratum.population)
        entries.append({"key": stratum.key, "matter": stratum.matter, "risk_class": stratum.risk_class,
                        "ratio": ratio, "population": size, "key_targets": len(key_targets),
                        "sample_size": sample_size(ratio, size), "population_sha256": digest})
        del stratum, key_targets
    draw.eligibility_changes = moved = moved.build(session, matters, secret)
    draw.population_sha256 = writer.whole
    draw.stats = {
        "strata": [{k: v for k, v in e.items() if k != "population_sha256"} for e in entries],
        "exclusions": population.stats["exclusions"],
        "candidates": population.stats["candidates"],
        # Ties one stratum to the frozen populations without the others (shuangsui.draw/2).
        "strata_sha256": strata_sha256(entries),
        **({"inspection_caps": population.caps} if population.caps is not None else {}),
    }
    timing.lap("freeze_record")
    session.flush()
    audit.record(session, principal, "draws.freeze", "draw", draw.id, {
        "plan": plan.id, "number": plan.number, "population_sha256": draw.population_sha256,
        "strata_sha256": draw.stats["strata_sha256"],
        "eligible": population.stats["eligible"], "exclusions": population.stats["exclusions"],
        "eligibility_moves": len(moved["moves"]), "eligibility_moves_sha256": moved["moves_sha256"],
    })
    return draw


# ----------------------------------------------------------------------------------------- commit

def commit(session: Session, principal: Principal, draw_id: int, commitments: list[Mapping[str, Any]],
           now: datetime | None = None, secret: str = "") -> Draw:
    """Stage 2: record every contributor's commitment, in the order the seed will join them.

    Organiser, technical operator and supervisor are distinct persons (by identity, kept only as a
    digest keyed with ``secret``), the supervisor from another unit than the organiser's; a
    witness is of a listed category (:mod:`gateway.draw.witnesses`)."""
    authorize(principal, "draws.run")
    draw = get_draw(session, draw_id)
    if draw.status != "frozen":
        raise _stage_error(draw, "记录随机数承诺")
    errors: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(commitments):
        person = (item["role"], item["name"])
        if person in seen:
            errors.setdefault(f"commitments.{index}.name", []).append("同一参与者只能作出一份承诺。")
        seen.add(person)
    roles = {item["role"] for item in commitments}
    missing = [ROLE_LABELS[r] for r in REQUIRED_ROLES if r not in roles]
    if missing:
        errors.setdefault("commitments", []).append(
            "组织人员、技术操作人员和监督人员都必须贡献随机数：缺少" + "、".join(missing) + "。"
        )
    for field, messages in witnesses_mod.participant_errors(commitments).items():
        errors.setdefault(field, []).extend(messages)
    if errors:
        raise Invalid("validation_error", "提交的数据未通过校验。", errors)
    draw.commitments = [
        {"order": order, "role": item["role"], "name": item["name"], "commitment": item["commitment"],
         **({"unit": item["unit"].strip()} if (item.get("unit") or "").strip() else {}),
         **({"category": item["category"]} if item["role"] == "witness" else {})}
        for order, item in enumerate(commitments, start=1)
    ]
    draw.identity_digests = [
        witnesses_mod.identity_digest(item["identity"], secret) if witnesses_mod.normalise_identity(item.get("identity"))
        else None for item in commitments
    ]
    draw.status = "committed"
    draw.committed_at = now or utcnow()
    draw.committed_by = principal.label
    session.flush()
    audit.record(session, principal, "draws.commit", "draw", draw.id, {"commitments": draw.commitments})
    return draw


# ------------------------------------------------------------------------------------------- seed

def reveal_seed(session: Session, principal: Principal, draw_id: int, contributions: list[Mapping[str, Any]],
                witnesses: Iterable[Mapping[str, Any]] = (), now: datetime | None = None) -> Draw:
    """Stage 3: check the revealed digits against the commitments and fix the seed."""
    authorize(principal, "draws.run")
    draw = get_draw(session, draw_id)
    if draw.status != "committed":
        raise _stage_error(draw, "揭示随机数、确定随机种子")
    witnesses = list(witnesses)
    ordered, errors = commitments_mod.check_reveal(draw.commitments or [], contributions)
    errors.update(witnesses_mod.witness_errors(witnesses))
    if not errors:
        try:
            seed = build_seed([c["digits"] for c in ordered])
        except SeedError as exc:
            errors["contributions"] = [str(exc)]
    if errors:
        raise Invalid("validation_error", "揭示的随机数未通过核对，随机种子未确定。", errors)
    participants: dict[str, list[str]] = {}
    for person in [*ordered, *({"role": "witness", "name": w["name"]} for w in witnesses)]:
        names = participants.setdefault(person["role"], [])
        if person["name"] not in names:
            names.append(person["name"])
    draw.contributions = ordered
    draw.participants = participants
    present = [{"name": c["name"], "category": c["category"]} for c in draw.commitments if c["role"] == "witness"]
    draw.witnesses = present + [{"name": w["name"], "category": w["category"]} for w in witnesses
                                if w["name"] not in {x["name"] for x in present}]
    draw.seed = seed
    draw.status = "seeded"
    draw.seeded_at = now or utcnow()
    draw.seeded_by = principal.label
    session.flush()
    audit.record(session, principal, "draws.seed", "draw", draw.id, {"seed": seed, "participants": participants})
    return draw


# -------------------------------------------------------------------------------------------- run

def required_departments(plan: Plan | PlanFacts, matters: Iterable[str], info: Mapping[str, PlanMatterInfo]) -> tuple[str, ...]:
    """Who must be on a task's team: the plan's lead department; in a joint plan also, for each of
    the task's matters, the department leading it and the departments that bring check items to it."""
    departments = [plan.lead_department]
    if plan.kind == "joint":
        involved = {plan.lead_department, *plan.cooperating_departments}
        for code in matters:
            for dept in (info[code].department, *info[code].cooperating):
                if dept in involved and dept not in departments:
                    departments.append(dept)
    return tuple(departments)


def task_lead_department(plan: Plan | PlanFacts, matters: Iterable[str], info: Mapping[str, PlanMatterInfo]) -> str:
    """The department that leads (and records) one task: the plan's lead department when it leads one
    of the task's matters, else the department leading the task's first matter."""
    matters = list(matters)
    if plan.kind == "annual" or any(info[m].department == plan.lead_department for m in matters):
        return plan.lead_department
    return info[matters[0]].department


def _year_loads(session: Session, year: int) -> dict[str, int]:
    stmt = (
        select(TaskMember.inspector_id, func.count())
        .join(Task, Task.id == TaskMember.task_id)
        .join(Plan, Plan.id == Task.plan_id)
        .where(Plan.year == year, TaskMember.active.is_(True))
        .group_by(TaskMember.inspector_id)
    )
    return {str(i): n for i, n in session.execute(stmt)}


def pool_inspectors(session: Session, departments: Iterable[str], on: date) -> list[PoolInspector]:
    rows = session.execute(
        select(Inspector.id, Inspector.certificate_no, Inspector.department_code, Inspector.active,
               Inspector.certificate_valid_until)
        .where(Inspector.department_code.in_(list(departments)))
        .order_by(Inspector.id)
    )
    return [
        PoolInspector(str(i), cert, dept, certified=valid is None or valid >= on, active=bool(active))
        for i, cert, dept, active, valid in rows
    ]


@collector_paused()
def run(session: Session, principal: Principal, draw_id: int, settings: Settings, now: datetime | None = None) -> Draw:
    """Stage 4: draw the targets, match the teams, create the tasks and publish the record.

    One transaction: if any team cannot be formed nothing is written, and the error names the
    target and the department. Only one request can pass the guarded status change, so a second
    draw of the same plan is refused as a ``Conflict`` even when both arrive at once. Stage timings go to
    :mod:`gateway.draw.timing` when the benchmark records them.
    """
    authorize(principal, "draws.run")
    now = now or utcnow()
    timing.restart()
    refuse_if_plugin_missing(session, get_draw(session, draw_id).plan, "抽取")
    draw = _take_for_run(session, principal, draw_id, now)
    inputs = _read_run_inputs(session, draw, settings, now)
    timing.lap("read")
    try:
        with bulk.working(session, settings.draw_key_checks, read_apart=True) as worker:
            timing.restart()
            outcome, selections = _draw_and_store(worker, inputs, draw_id, settings, now)
    except NoFeasibleTeam as exc:
        name = session.scalar(select(Target.name).where(Target.uscc == exc.uscc)) or ""
        message = (f"无法为检查对象 {name}（{exc.uscc}）组成检查组：部门 {exc.department} 没有可派出的执法检查人员"
                   "（需持证、在岗、未在本组且与该对象无利益冲突）。未生成任何任务，请补充执法检查人员后重新抽取。")
        raise UnstaffedDraw("no_feasible_team", message, {"teams": [message]},
                            uscc=exc.uscc, department=exc.department) from None
    timing.lap("database")
    for name, value in outcome.items():
        if name == "team_inputs":  # held as JSON text (its requests): read back from the row if needed
            session.expire(draw, [name])
        else:
            set_committed_value(draw, name, value)
    plan = draw.plan
    enqueue(session, "draw", draw.id, area_code=settings.area_code, department_code=plan.lead_department)
    audit.record(session, principal, "draws.run", "draw", draw.id, {
        "plan": plan.id, "number": plan.number, "tasks": draw.task_count, "record_sha256": draw.record_sha256,
        "selected": {s.key: s.sample_size for s in selections if s.sample_size},
    })
    timing.lap("finish")
    return draw


def _take_for_run(session: Session, principal: Principal, draw_id: int, now: datetime) -> Draw:
    """The seeded draw, marked drawn by a guarded status change that only one request passes."""
    taken = session.execute(
        update(Draw).where(Draw.id == draw_id, Draw.status == "seeded")
        .values(status="drawn", open_year=None, drawn_at=now, drawn_by=principal.label)
        .execution_options(synchronize_session=False)
    )
    draw = get_draw(session, draw_id)
    session.refresh(draw)
    if taken.rowcount != 1:
        raise _stage_error(draw, "抽取")
    return draw


@dataclass(frozen=True)
class _RunInputs:
    """What a run reads through the ORM, read before the database worker takes the connection."""

    facts: PlanFacts
    info: dict[str, PlanMatterInfo]
    seed: Any
    strata: list[dict[str, Any]]  # each frozen stratum without its population (gateway.draw.frozen.meta)
    inspectors: list[PoolInspector]
    all_conflicts: list
    loads: dict[str, int]
    public_id: str
    record_inputs: dict[str, Any]
    extras: dict[str, Any]
    frozen_sha256: str
    today: date


def _read_run_inputs(session: Session, draw: Draw, settings: Settings, now: datetime) -> _RunInputs:
    """The run's inputs. The strata's key targets come with each stratum and the exclusions (a
    province's run at 10M excludes hundreds of thousands) are read for the record's last parts:
    neither is held for the whole run."""
    plan = draw.plan
    matters = plan_matters(session, plan)
    strata_meta = frozen_mod.meta(session.connection(), draw.id)
    facts = PlanFacts(plan.id, plan.kind, plan.lead_department, tuple(plan.cooperating_departments), plan.year,
                      plan.number, plan.window_start, plan.window_end)
    today = local_date(now)
    inspectors = pool_inspectors(session, [facts.lead_department, *facts.cooperating_departments], today)
    public_id = record_id(settings, draw)
    inputs = _RunInputs(
        facts=facts,
        info={m.code: m for m in matters},
        seed=draw.seed,
        strata=strata_meta,
        inspectors=inspectors,
        all_conflicts=session.execute(
            select(Conflict.inspector_id, Target.uscc).join(Target, Target.id == Conflict.target_id)
            .where(Conflict.inspector_id.in_([int(p.id) for p in inspectors]))
        ).all(),
        loads=_year_loads(session, facts.year),
        public_id=public_id,
        record_inputs=dict(
            draw_id=public_id,
            plan=plan_record(plan, matters),
            contributions=[Contribution(c["role"], c["name"], c["digits"]) for c in draw.contributions],
            participants=[Participant(role, name) for role, names in draw.participants.items() for name in names],
            exclusions=[],  # read at the end (_read_exclusions)
            frozen_at=iso(draw.frozen_at),
            drawn_at=iso(now),
        ),
        extras={**record_extras(draw), **signing_keys.record_section(settings)},
        frozen_sha256=draw.population_sha256,
        today=today,
    )
    return inputs


@dataclass(frozen=True)
class _FrozenStratum:
    """One frozen stratum as the run draws it, with its population's hash, its key-inspection
    targets, its population unpacked (its text, and where each record chunk's members are in the
    text and in the row) and its row as read, whose compressed chunks the record's parts copy."""

    stratum: Stratum
    population_sha256: str
    key_targets: Sequence[str]
    stored: frozen_mod.StoredPopulation
    row: Any


class _PopulationChain:
    """``population_sha256`` computed again over the frozen strata as they are read, from each
    population's stored text (its canonical JSON, exactly what the hashes cover)."""

    def __init__(self) -> None:
        self.whole = hashlib.sha256(b"[")
        self.count = 0

    def add(self, key: str, ratio: str, body: bytes) -> str:
        """Hash one stratum (``body``: its population's text); return its population's own hash."""
        self.whole.update(b"," if self.count else b"")
        self.whole.update(b'{"key":' + canonical_bytes(key) + b',"population":' + body
                          + b',"ratio":' + canonical_bytes(ratio) + b"}")
        self.count += 1
        return hashlib.sha256(body).hexdigest()

    def check(self, published: str) -> None:
        self.whole.update(b"]")
        if self.whole.hexdigest() != published:
            raise RuntimeError("frozen population does not hash to the value published at freeze time")


def _frozen_strata(worker: bulk.Worker, draw_id: int, strata_meta: list[dict[str, Any]],
                   chain: _PopulationChain) -> Iterator[_FrozenStratum]:
    """The frozen strata, one at a time, hashed into ``chain``: the worker reads the next one's
    compressed row while this one is drawn (where it reads apart from its writes, every row at
    once, ahead of the lookups that follow in the same queue), and it is unpacked only when its
    turn comes, so that one population is held (and its text until its record parts are hashed).
    Each comes with its row, whose compressed chunks the record's parts copy (:class:`_StrataWriter`)."""
    def read(position: int) -> Future:
        return worker.read(_read_packed, draw_id, strata_meta[position]["position"])

    ahead = len(strata_meta) if worker.reads_apart else 1
    pending = deque(read(position) for position in range(min(ahead, len(strata_meta))))
    for position in range(len(strata_meta)):
        # The worker keeps its futures until the run ends: the row leaves its box.
        with timing.waiting("select"):
            row = pending.popleft().result().pop()
        if position + ahead < len(strata_meta):
            pending.append(read(position + ahead))
        stored = frozen_mod.unpack_population(row.population_gzip)
        stratum = Stratum(row.key, row.matter, Decimal(row.ratio), stored.population, row.risk_class)
        # A key stratum stores no list of its own: its key targets are its population (frozen.FrozenWriter).
        key_targets = (stratum.population if row.key_targets_gzip is None
                       else orjson.loads(gzip.decompress(row.key_targets_gzip)))
        digest = chain.add(stratum.key, ratio_text(stratum.ratio), stored.text)
        yield _FrozenStratum(stratum, digest, key_targets, stored, row)


def _read_packed(connection, draw_id: int, position: int) -> list:
    """One frozen stratum's row as stored (the populations compressed), in a box (see :func:`_frozen_strata`)."""
    return [connection.execute(select(*frozen_mod.META_COLUMNS, DrawFrozenStratum.population_gzip,
                                      DrawFrozenStratum.key_targets_gzip)
                               .where(DrawFrozenStratum.draw_id == draw_id, DrawFrozenStratum.position == position))
            .one()]


def _reserve_ids(connection, count: int) -> array:
    return array("q", bulk.reserve_ids(connection, "tasks", count))


def _read_exclusions(connection, draw_id: int) -> list[dict[str, Any]]:
    rows = connection.execute(select(Draw.exclusions).where(Draw.id == draw_id)).scalar_one() or []
    return [{"uscc": e["uscc"], "reason": e["reason"], "matter": e["matter"]} for e in rows]


def _draw_and_store(worker: bulk.Worker, inputs: _RunInputs, draw_id: int, settings: Settings,
                    now: datetime) -> tuple[dict[str, Any], list[DrawnStratum]]:
    """Draw the targets and match the teams while ``worker`` looks up and writes the tasks, members
    and outcome; return the outcome (the draw's new column values) and the drawn strata."""
    # No more targets can be drawn than the strata's sample sizes add up to: the ids are
    # reserved while the strata are drawn.
    reserved = worker.submit(_reserve_ids, sum(sample_size(m["ratio"], m["size"]) for m in inputs.strata))
    lookups: list[Future] = []
    strata = _StrataWriter(inputs, worker, draw_id)
    drawn = Drawn(inputs.seed)
    chain = _PopulationChain()
    for frozen in _frozen_strata(worker, draw_id, inputs.strata, chain):
        selected = drawn.select(frozen.stratum, frozen.key_targets)
        # Each stratum's drawn targets are looked up while the next strata are drawn, by index: a
        # scan of the whole targets table per stratum would cost more than the one lookup of all
        # of them at the end, but that one kept the run waiting.
        lookups.append(worker.lookup_ids(selected, probe=True))
        strata.add(frozen, selected)
        del frozen, selected
    chain.check(inputs.frozen_sha256)
    tasks = _TasksWriter(inputs, worker, draw_id, strata.parts, now)
    # While the last strata's targets are looked up, the writer, idle until the tasks start,
    # counts them in the ledger.
    tasks.count_in_ledger(drawn.joint())
    timing.lap("select")

    with timing.waiting("select"):
        target_ids = [lookup.result() for lookup in lookups]
    del lookups
    requests = tasks.write(drawn.targets(target_ids), reserved.result(), settings)
    del target_ids
    exclusions = worker.submit(_read_exclusions, draw_id)
    timing.lap("record")
    strata.parts.index_fields["exclusions"] = exclusions.result()  # once the tasks are written
    timing.lap("database")
    for number, sha256, text in strata.parts.add_exclusions():
        _store_part(worker, draw_id, record_parts.EXCLUSIONS, number, sha256, len(text), pack_record(text))
    index, whole_sha256 = strata.parts.finish()
    outcome = {
        "record_gzip": pack_record(index),
        "record_sha256": whole_sha256,
        "record_format": FORMAT_V2,
        "task_count": requests.count,
        "team_inputs": {
            "certified_on": inputs.today.isoformat(),
            "inspectors": [{"id": p.id, "certificate": p.certificate, "department": p.department,
                            "certified": p.certified, "active": p.active} for p in inputs.inspectors],
            "conflicts": [list(pair) for pair in tasks.conflicts],
            "loads": inputs.loads,
            # Written as JSON a part at a time: a province draws hundreds of thousands of tasks.
            "requests": requests.fragment(),
        },
    }
    worker.submit(_store_outcome, draw_id, outcome)
    timing.lap("record")
    return outcome, drawn.strata


class _Requests:
    """The team requests of the draw's tasks, kept as JSON text (``[[uscc, [departments]], …]``)."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.count = 0

    def add(self, requests: list[TeamRequest]) -> None:
        if requests:
            self.pieces.append(orjson.dumps([[r.uscc, list(r.departments)] for r in requests])[1:-1])
            self.count += len(requests)

    def fragment(self) -> orjson.Fragment:
        return orjson.Fragment(b"[" + b",".join(self.pieces) + b"]")


TASK_JOBS = 3
"""The database worker's jobs per tasks part: the tasks, their members, the record part."""


class _TasksWriter:
    """The tasks a record part at a time (:data:`TASKS_PER_PART`, in ticket order): their rows,
    teams (matched on from the previous part's loads), members and the record's tasks part, handed
    to the database worker and released before the next part, so that only the drawn targets' tags
    are held for the whole run. ``conflicts`` is then the declared conflicts with drawn targets.

    The tasks can start only once every stratum is drawn: their numbers follow the tickets of all
    the drawn targets."""

    def __init__(self, inputs: _RunInputs, worker: bulk.Worker, draw_id: int, parts: RecordParts,
                 now: datetime) -> None:
        self.inputs, self.worker, self.draw_id, self.now = inputs, worker, draw_id, now
        self.parts = parts
        self.conflicts: list[tuple[str, str]] = []
        self.rows_of = _TaskRows(inputs.facts, draw_id, inputs.info, now)

    def count_in_ledger(self, joint: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        """Have the database count the tasks in the ledger, given each drawn target's credit code
        and matters: one ``COPY`` of the additions, sorted by the worker (:func:`ledger_counts.add_drawn_lines`)."""
        leads = self.rows_of.leads
        lines = ledger_counts.drawn_lines(self.inputs.facts.year, self.draw_id,
                                          ((uscc, leads[matters]) for uscc, matters in joint))
        self.worker.submit(ledger_counts.add_drawn_lines, self.inputs.facts.year, lines)

    def write(self, targets: Iterator[DrawnTarget], task_ids: Sequence[int], settings: Settings) -> _Requests:
        inputs, worker, facts, info = self.inputs, self.worker, self.inputs.facts, self.inputs.info
        all_conflicts = [(str(i), uscc) for i, uscc in inputs.all_conflicts]
        # Matching looks only the drawn targets' conflicts up: the others change nothing.
        matcher = TeamMatcher(inputs.inspectors, inputs.seed, all_conflicts, inputs.loads)
        conflicted = {uscc for _, uscc in all_conflicts}
        drawn_conflicted: set[str] = set()
        needs = _Cached(lambda matters: required_departments(facts, matters, info))
        rows_of = self.rows_of
        entries_of = _TaskEntries(inputs.inspectors, inputs.public_id, settings.secret_key.encode("utf-8"))
        requests = _Requests()
        start = 0
        while chunk := list(islice(targets, TASKS_PER_PART)):
            # The tasks go in while the teams are matched, the members while the record part is built.
            task_rows = rows_of(chunk, task_ids[start:start + TASKS_PER_PART], start + 1)
            worker.insert("tasks", TASK_COLUMNS, task_rows, sort_by="target_id")
            chunk_requests = [TeamRequest(d.target.uscc, needs[d.target.matters]) for d in chunk]
            drawn_conflicted.update(r.uscc for r in chunk_requests if r.uscc in conflicted)
            teams = matcher.match(chunk_requests)
            worker.insert("task_members", MEMBER_COLUMNS, _member_rows(task_rows, teams, inputs.inspectors, self.now))
            requests.add(chunk_requests)
            timing.lap("teams")
            text = entries_of(task_rows, chunk, teams)
            self.parts.add_tasks_text(text, len(chunk), task_rows[0][1], task_rows[-1][1])
            descriptor = self.parts.tasks[-1]
            _store_part(worker, self.draw_id, record_parts.TASKS, descriptor["part"], descriptor["sha256"], len(text),
                        pack_record(text))
            start += len(chunk)
            del chunk, task_rows, chunk_requests, teams, text
            timing.lap("record")
            with timing.waiting("record"):
                worker.backlog(2 * TASK_JOBS)  # two tasks parts at most wait for the database
            timing.lap("record")
        self.conflicts = [pair for pair in all_conflicts if pair[1] in drawn_conflicted]
        return requests


class _StrataWriter:
    """The strata's record parts, each stratum's hashed into the record and handed to the database
    as it is drawn (:meth:`add`): made from its frozen text, not serialised again, and stored as
    the frozen row's compressed chunks between the text around them, compressed here. The
    database has little else to do before the tasks start."""

    def __init__(self, inputs: _RunInputs, worker: bulk.Worker, draw_id: int) -> None:
        fields = build_record(**inputs.record_inputs, selections=[], tasks=[], validate=False)
        del fields["strata"], fields["tasks"]
        fields["population_sha256"] = inputs.frozen_sha256
        fields.update(inputs.extras)
        self.parts = RecordParts(fields)
        self.worker, self.draw_id = worker, draw_id

    def add(self, frozen: _FrozenStratum, selected: Sequence[str]) -> None:
        stratum, stored = frozen.stratum, frozen.stored
        # record.stratum_entry's fields, the sequences as they are (the JSON is the same, no copies).
        entry = {"key": stratum.key, "matter": stratum.matter, "risk_class": stratum.risk_class,
                 "ratio": ratio_text(stratum.ratio), "population": stratum.population,
                 "population_sha256": frozen.population_sha256, "sample_size": len(selected), "selected": selected,
                 "key_targets": frozen.key_targets}
        text, chunks, row = memoryview(stored.text), stored.chunks, frozen.row.population_gzip

        def members_text(members: range) -> bytes | memoryview:
            place = chunks.get(members)
            return text[place[0]] if place else members_text_of(stratum.population, members)

        for number, sha256, part, texts in self.parts.add_stratum_parts(entry, members_text):
            if all(not isinstance(p, range) or p in chunks for p in part.pieces):
                packed = b"".join(pack_record(p) if isinstance(p, bytes) else row[chunks[p][1]] for p in part.pieces)
            else:  # frozen before its chunks were stored apart: compressed whole
                packed = pack_record(b"".join(texts))
            _store_part(self.worker, self.draw_id, record_parts.STRATUM, number, sha256, sum(map(len, texts)), packed)
            del texts, packed


TASK_COLUMNS = ("id", "number", "plan_id", "draw_id", "target_id", "lead_department", "matter_codes",
                "key_inspection", "window_start", "window_end", "status", "created_at")
MEMBER_COLUMNS = ("task_id", "inspector_id", "department_code", "role", "active", "added_at", "source")


class _TaskRows:
    """The tasks' rows (:data:`TASK_COLUMNS`), numbered in ticket order, a part at a time."""

    def __init__(self, facts: "PlanFacts", draw_id: int, info: Mapping[str, PlanMatterInfo], now: datetime) -> None:
        self.facts, self.draw_id, self.now = facts, draw_id, now
        self.leads = _Cached(lambda matters: task_lead_department(facts, matters, info))
        self.matter_json = _Cached(lambda matters: json.dumps(list(matters), ensure_ascii=False))

    def __call__(self, targets: list[DrawnTarget], task_ids: Sequence[int], first: int) -> list[tuple]:
        facts, leads, matter_json = self.facts, self.leads, self.matter_json
        draw_id, now = self.draw_id, self.now
        return [
            (task_id, f"{facts.number}-{n:04d}", facts.id, draw_id, d.target_id, leads[d.target.matters],
             matter_json[d.target.matters], d.key, facts.window_start, facts.window_end, "assigned", now)
            for n, task_id, d in zip(range(first, first + len(targets)), task_ids, targets)
        ]


class _TaskEntries:
    """A tasks part's text: the canonical JSON of the parts' :func:`~gateway.draw.record.task_entry`
    entries (with ``key_inspection``), written straight from pre-serialised pieces: each inspector's
    entry once per draw (one HMAC per inspector, not per member), each combination of matters once."""

    def __init__(self, inspectors: list[PoolInspector], public_id: str, key: bytes) -> None:
        self.inspector = {p.id: canonical_bytes({"department": p.department,
                                                 "id": opaque_inspector_id(public_id, p.id, key)})
                          for p in inspectors}
        self.matters = _Cached(lambda matters: canonical_bytes(list(matters)))

    def __call__(self, task_rows: list[tuple], targets: list[DrawnTarget], teams: list[Team]) -> bytes:
        # orjson.dumps of a string is its canonical JSON (no keys to sort): one call in C.
        inspector, matters, dumps = self.inspector, self.matters, orjson.dumps
        pieces = []
        for row, d, team in zip(task_rows, targets, teams):
            target = d.target
            if team.uscc != target.uscc:
                raise ValueError(f"任务 {row[1]} 的检查组属于 {team.uscc}，而检查对象是 {target.uscc}")
            pieces.append(b"".join((
                b'{"inspectors":[', b",".join([inspector[m] for m in team.members]),
                b'],"key_inspection":', b"true" if row[7] else b"false",
                b',"matters":', matters[target.matters], b',"number":', dumps(row[1]),
                b',"ticket":', dumps(target.ticket), b',"uscc":', dumps(target.uscc), b"}")))
        return b"[" + b",".join(pieces) + b"]"


def _member_rows(task_rows: list[tuple], teams: list[Team], inspectors: list[PoolInspector],
                 now: datetime) -> list[tuple]:
    """The team members' rows (:data:`MEMBER_COLUMNS`): the first member of the task's lead
    department leads the team."""
    department_of = {p.id: p.department for p in inspectors}
    rows = []
    for row, team in zip(task_rows, teams):
        lead_given = False
        task_id, lead_department = row[0], row[5]
        for member in team.members:
            department = department_of[member]
            is_lead = not lead_given and department == lead_department
            lead_given = lead_given or is_lead
            rows.append((task_id, int(member), department, "lead" if is_lead else "member", True, now, "draw"))
    return rows


def _store_part(worker: bulk.Worker, draw_id: int, kind: str, number: int, sha256: str, size: int,
                packed: bytes) -> None:
    """Have the worker insert one record part of ``size`` bytes, compressed here (the worker's
    queue is the run's bottleneck)."""
    worker.submit(record_parts.store_part, record_parts.part_row(draw_id, kind, number, sha256, size, packed))


def _store_outcome(connection, draw_id: int, outcome: dict[str, Any]) -> None:
    """Write the run's record and team inputs into the draw's row (a job of the database worker)."""
    connection.execute(update(Draw).where(Draw.id == draw_id).values(**outcome))


@dataclass(frozen=True)
class PlanFacts:
    """What the run needs of a plan, read once (ORM attribute access in a loop of 10⁵ is slow)."""

    id: int
    kind: str
    lead_department: str
    cooperating_departments: tuple[str, ...]
    year: int
    number: str
    window_start: date
    window_end: date


class _Cached(dict):
    """A function of a target's matters (a tuple; few distinct combinations), memoised: read as
    ``cached[matters]``, a dictionary lookup in C for all but the first of each combination."""

    def __init__(self, func) -> None:
        super().__init__()
        self.func = func

    def __missing__(self, matters: tuple[str, ...]) -> Any:
        value = self[matters] = self.func(matters)
        return value


def plan_record(plan: Plan, matters: list[PlanMatterInfo]) -> dict[str, Any]:
    return {
        "id": plan.id,
        "number": plan.number,
        "version": plan.version,
        "name": plan.title,
        "year": plan.year,
        "kind": plan.kind,
        "lead_department": plan.lead_department,
        "cooperating_departments": list(plan.cooperating_departments),
        "matters": [{"code": m.code, "name": m.name, "version": m.version, "department": m.department,
                     "cooperating_departments": list(m.cooperating)} for m in matters],
        "window": {"start": plan.window_start.isoformat(), "end": plan.window_end.isoformat()},
    }


def record_extras(draw: Draw) -> dict[str, Any]:
    """What the gateway adds to the format's top-level fields: the commitments with their salts
    (anyone can check each revealed contribution), the key rule and the labels of the exclusion
    reasons. (It also adds each stratum's key-inspection targets, see :func:`run`.)"""
    salts = {(c["role"], c["name"]): c["salt"] for c in draw.contributions}
    return {
        "commitments": [{**c, "salt": salts[(c["role"], c["name"])]} for c in draw.commitments],
        "committed_at": iso(draw.committed_at),
        "seeded_at": iso(draw.seeded_at),
        "key_rule": draw.key_rule,
        "witnesses": draw.witnesses or [],
        "exclusion_reasons": dict(EXCLUSION_REASONS),
        # The county's yearly caps the freeze applied, with the excluded targets' counts.
        **({"inspection_caps": draw.stats["inspection_caps"]} if "inspection_caps" in (draw.stats or {}) else {}),
        **moves.record_section(draw),
    }


# ----------------------------------------------------------------------------------------- cancel

def cancel(session: Session, principal: Principal, draw_id: int, reason: str, now: datetime | None = None) -> Draw:
    """Cancel a draw before its seed is revealed; it stays on record (public) with the reason."""
    authorize(principal, "draws.run")
    reason = (reason or "").strip()
    if not reason:
        message = "取消抽取必须说明原因，原因将随抽取一并公开。"
        raise Invalid("validation_error", message, {"reason": [message]})
    draw = get_draw(session, draw_id)
    if draw.status == "seeded":
        # Anyone can now compute the outcome: cancelling would let the office draw again with new digits.
        raise ConflictError("seed_revealed", f"抽取 {draw.id} 的随机种子已公开，任何人都能算出抽取结果，不能取消。"
                       "抽取失败时请以同一种子重新执行抽取；计划有误请修订计划，本次抽取及其应选结果仍公开。")
    if draw.status not in CANCELLABLE_STATUSES:
        raise _stage_error(draw, "取消")
    draw.status = "cancelled"
    draw.active_plan_id = None
    draw.open_year = None
    draw.cancelled_at = now or utcnow()
    draw.cancelled_by = principal.label
    draw.cancel_reason = reason
    session.flush()
    audit.record(session, principal, "draws.cancel", "draw", draw.id, {"reason": reason, "stage": draw.status})
    return draw


# ---------------------------------------------------------------------------------------- reading

class DrawView(RowView):
    """A draw as ``DrawSchema`` dumps it: its public record id, its plan, its counts, and the seed's
    contributions once the seed is revealed."""

    def __init__(self, draw: Draw, settings: Settings):
        self.row = draw
        plan = draw.plan
        revealed = draw.seed is not None
        self.record_id = record_id(settings, draw)
        self.plan = {"id": plan.id, "number": plan.number, "version": plan.version, "title": plan.title,
                     "year": plan.year, "kind": plan.kind, "lead_department": plan.lead_department}
        self.strata = draw.stats.get("strata", [])
        self.exclusions = draw.stats.get("exclusions", {})
        self.contributions = [{k: c[k] for k in ("order", "role", "name", "digits", "salt")}
                              for c in draw.contributions] if revealed and draw.contributions else None
        self.record_url = f"/api/v1/draws/{draw.id}/record" if draw.status == "drawn" else None
        self.superseded_by_plan = draw.stats.get("superseded_by_plan")
        self.would_be_selection = draw.stats.get("would_be_selection")


def draw_dict(draw: Draw, settings: Settings) -> dict[str, Any]:
    """A draw as the API shows it, with Python values (for the pages and the command line)."""
    return python_values(DrawSchema(), DrawView(draw, settings))


class PopulationView(RowView):
    """A draw's frozen populations as ``PopulationSchema`` dumps it, each exclusion with its reason's label."""

    def __init__(self, draw: Draw):
        self.row = draw
        self.draw_id = draw.id
        self.exclusions = [{**e, "reason_label": EXCLUSION_REASONS[e["reason"]]} for e in draw.exclusions]


def draws_query(args: Mapping[str, Any]):
    stmt = select(Draw)
    for name in ("plan_id", "year", "status"):
        if args.get(name):
            stmt = stmt.where(getattr(Draw, name) == args[name])
    return stmt.order_by(Draw.id.desc())


def public_record(draw: Draw) -> str:
    """The public record's whole text, exactly as published (of a version 2 record: every part
    joined, see :func:`gateway.draw.parts.whole_record_stream` to stream it instead)."""
    _require_record(draw)
    return draw.record


def _require_record(draw: Draw) -> None:
    if draw.status != "drawn" or draw.record_gzip is None:
        raise NotFound("record_not_ready", f"抽取 {draw.id} 尚未完成，还没有抽取记录（当前：{STATUS_LABELS[draw.status]}）。")


def public_record_gzip(draw: Draw) -> bytes:
    """The public record as stored: its UTF-8 text, gzip-compressed (see :func:`pack_record`); of
    a version 2 record, its index."""
    _require_record(draw)
    return draw.record_gzip


def record_index(draw: Draw) -> dict[str, Any]:
    """The record's index (version 2), or of a version 1 record everything but its strata's lists
    and its tasks (a version 1 record is loaded whole for it)."""
    _require_record(draw)
    if record_parts.is_v2(draw):
        return record_parts.index(draw)
    record = json.loads(draw.record)
    record.pop("strata"), record.pop("tasks")
    return record


def record_tasks(session: Session, draw: Draw) -> Iterable[dict[str, Any]]:
    """The record's task entries in ticket order (of a version 2 record, a part at a time)."""
    _require_record(draw)
    if record_parts.is_v2(draw):
        return record_parts.stratum_tasks(session, draw)
    return json.loads(draw.record)["tasks"]


def record_strata(session: Session, draw: Draw) -> Iterable[dict[str, Any]]:
    """The record's stratum entries in order (of a version 2 record, a part at a time)."""
    _require_record(draw)
    if record_parts.is_v2(draw):
        return record_parts.stratum_entries(session, draw)
    return json.loads(draw.record)["strata"]


# ------------------------------------------------------------------------------- internal (teams)

def drawn_teams(session: Session, draw: Draw) -> dict[str, list[TaskMember]]:
    """USCC -> the team members as drawn (before any reassignment), in pick order."""
    rows = session.execute(
        select(Target.uscc, TaskMember).join(Task, Task.id == TaskMember.task_id)
        .join(Target, Target.id == Task.target_id)
        .where(Task.plan_id == draw.plan_id, Task.draw_id == draw.id, TaskMember.source == "draw")
        .order_by(TaskMember.id)
    )
    out: dict[str, list[TaskMember]] = {}
    for uscc, member in rows:
        out.setdefault(uscc, []).append(member)
    return out


def verify_draw_teams(session: Session, draw: Draw):
    """Re-run the team matching from the inputs kept at draw time and compare with the teams as drawn."""

    inputs = draw.team_inputs or {}
    inspectors = [PoolInspector(i["id"], i["certificate"], i["department"], i["certified"], i["active"])
                  for i in inputs.get("inspectors", [])]
    requests = [TeamRequest(uscc, tuple(depts)) for uscc, depts in inputs.get("requests", [])]
    teams = drawn_teams(session, draw)
    recorded = [Team(uscc, tuple(str(m.inspector_id) for m in members)) for uscc, members in teams.items()]
    report = verify_teams(requests, inspectors, draw.seed, recorded,
                          [tuple(pair) for pair in inputs.get("conflicts", [])], inputs.get("loads", {}))
    return report, teams


@dataclass(frozen=True)
class InternalDrawView:
    """The teams as drawn, by name, as ``InternalDrawSchema`` dumps them, with the team matching re-run."""

    draw_id: int
    teams_ok: bool
    findings: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    initial_load: dict[str, Any]
    plan_title: str


def internal_view(session: Session, draw: Draw, settings: Settings) -> InternalDrawView:
    if draw.status != "drawn":
        raise NotFound("record_not_ready", f"抽取 {draw.id} 尚未完成。")

    report, teams = verify_draw_teams(session, draw)
    public_id = record_id(settings, draw)
    key = settings.secret_key.encode("utf-8")
    tasks = [{"number": task["number"], "uscc": task["uscc"],
              "inspectors": [{"inspector_id": m.inspector_id, "name": m.inspector.name,
                              "department": m.department_code, "role": m.role,
                              "opaque_id": opaque_inspector_id(public_id, str(m.inspector_id), key)}
                             for m in teams.get(task["uscc"], [])]}
             for task in record_tasks(session, draw)]
    return InternalDrawView(draw.id, report.ok,
                            [{"uscc": f.subject, "ok": f.ok, "reason": f.reason} for f in report.tasks if not f.ok],
                            tasks, (draw.team_inputs or {}).get("loads", {}), draw.plan.title)


def read_internal(gateway, principal: Principal, draw_id: int) -> InternalDrawView:
    """:func:`internal_view` for a supervisor or the office; the read of the names is audited."""
    authorize(principal, "draws.read_internal")
    with gateway.write() as session:
        draw = get_draw(session, draw_id)
        view = internal_view(session, draw, gateway.settings)
        audit.record(session, principal, "draws.read_internal", "draw", draw.id, {"fields": ["inspector names"]})
    return view


def run_and_record_failure(gateway, principal: Principal, draw_id: int) -> Draw:
    """:func:`run` in its own transaction; a draw that fails for want of a team is rolled back
    entirely, and the failed attempt is then written to the audit log on its own."""
    try:
        with gateway.write() as session:
            return run(session, principal, draw_id, gateway.settings)
    except UnstaffedDraw as exc:
        with gateway.write() as session:
            audit.record(session, principal, "draws.run_failed", "draw", draw_id,
                         {"uscc": exc.details.get("uscc"), "department": exc.details.get("department")})
        raise
