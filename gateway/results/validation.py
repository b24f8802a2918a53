"""Validation of a recorded result against its task: every error in one answer, each field named.

Field names in errors are dotted paths: ``checklists.refined_oil.oil_licence``,
``signature.signer_name``, ``result_codes.1``, ``methods.0``, ``completed_on``,
``attachment_ids.0``. Nothing is stored unless the whole result is valid.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.errors import Invalid
from gateway.planning.models import Plan
from gateway.plugins.contributions import NON_SITE_METHODS
from gateway.results.checklist import non_compliant_items, task_checklists
from gateway.results.models import Attachment
from gateway.results.risk import RULES
from gateway.security.disclosure import personal_data_problems
from gateway.tasks.models import Task, TaskJoin
from gateway.tasks.service import TaskMatter, task_matters
from schemas.result_codes import RESULT_CODES, check_codes, requires_follow_up
from schemas.results import CorrectionInputSchema, ResultInputSchema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleanResult:
    checklists: dict[str, dict[str, Any]]
    loaded: dict[str, dict[str, Any]]
    result_codes: list[str]
    methods: list[str]
    completed_on: date
    completed_late: bool
    signature: dict[str, str]
    remarks: str
    attachment_ids: list[int]
    reason: str
    has_problems: bool
    requires_follow_up: bool
    problem_matters: list[str]


def flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {dotted.path: [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "_schema"
            for k, v in flatten(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(errors, (list, tuple)):
        messages = [m for m in errors if isinstance(m, str)]
        if messages:
            out.setdefault(prefix or "_schema", []).extend(messages)
        for nested in (m for m in errors if not isinstance(m, str)):
            for k, v in flatten(nested, prefix).items():
                out.setdefault(k, []).extend(v)
    elif errors is not None:
        out.setdefault(prefix or "_schema", []).append(str(errors))
    return out


def _add(errors: dict[str, list[str]], path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


@dataclass(frozen=True)
class MethodPlan:
    """The methods a task's result may record, as its plan chose (issue 16 item 4, 非现场检查优先).

    For each matter of the plan that its (pinned) version marks checkable without a visit
    (``non_site_methods``): checked off site, only those methods; checked on site (the plan gave a
    ``site_visit_reasons`` entry), only its site methods. Every other matter, and a matter another
    department joined into the task (it joined a visit), offers all its methods as before."""

    methods: list[str]
    off_site: dict[str, list[str]]  # matter code -> the non-site methods it is limited to
    on_site: list[str]  # matters the plan chose to visit although checkable off site
    site_visit: bool  # whether any offered method is a site method (then a drawn task needs a check-in)


def _matter_methods(gateway: Gateway, code: str) -> list[str]:
    matter = gateway.registry.matters.get(code)
    if matter is None:
        return []
    found: list[str] = []
    for method in list(matter.methods) + [m for item in gateway.registry.check_items[code] for m in item.methods]:
        if method not in found:
            found.append(method)
    return found


def method_plan(gateway: Gateway, session: Session, task: Task, matters: list[TaskMatter] | None = None) -> MethodPlan:
    """The plan's choice of methods for ``task`` (a few small queries: the plan, the task's joins,
    its matters' pinned versions unless given as ``matters``)."""
    plan = session.get(Plan, task.plan_id)
    reasons = dict(plan.site_visit_reasons or {}) if plan is not None else {}
    joined = set(session.scalars(select(TaskJoin.matter_code).where(TaskJoin.task_id == task.id)))
    versions = {tm.code: tm.version for tm in (task_matters(session, task) if matters is None else matters)}
    out: list[str] = []
    off_site: dict[str, list[str]] = {}
    on_site: list[str] = []
    for code in task.matter_codes:
        methods = _matter_methods(gateway, code)
        version = versions.get(code)
        non_site = list(version.content.get("non_site_methods", [])) if version is not None else []
        if non_site and code not in joined:
            if code in reasons:
                on_site.append(code)
                methods = [m for m in methods if m not in NON_SITE_METHODS] or methods
            else:
                off_site[code] = non_site
                methods = non_site
        for method in methods:
            if method not in out:
                out.append(method)
    return MethodPlan(out, off_site, on_site, any(m not in NON_SITE_METHODS for m in out))


def allowed_methods(gateway: Gateway, session: Session, task: Task) -> list[str]:
    """Methods the task's result may record: those its matters name (matter level first, then the
    check items'), as the plan chose for each (:func:`method_plan`), in order."""
    return method_plan(gateway, session, task).methods


def validate_result(
    gateway: Gateway, session: Session, task: Task, raw: Any, *, today: date, correction: bool = False
) -> CleanResult:
    errors: dict[str, list[str]] = {}
    if not isinstance(raw, Mapping):
        raise Invalid("validation_error", "请求体应为 JSON 对象。", {"_schema": ["请求体应为 JSON 对象。"]})
    data = _load_input(raw, correction, errors)
    matters = task_matters(session, task)  # read once, for the checklists and the methods
    checklists, loaded_all, problem_matters = _check_checklists(gateway, session, task, raw, errors, matters)
    _check_result_codes(data.get("result_codes"), problem_matters, errors)
    planned = method_plan(gateway, session, task, matters)
    off_plan = _check_methods(data.get("methods"), planned, errors)
    completed_late = _check_completed_on(data.get("completed_on"), task, today, errors)
    attachment_ids = data.get("attachment_ids") or []
    _check_attachments(session, task, attachment_ids, errors)

    for field, messages in personal_data_problems(session, {"remarks": data.get("remarks"), "reason": data.get("reason")}).items():
        for message in messages:
            _add(errors, field, message)

    if errors:
        raise Invalid(
            "method_not_planned" if off_plan else "result_invalid", f"检查结果未通过校验（{len(errors)} 个字段有问题），未保存任何内容。", errors
        )
    codes = list(data["result_codes"])
    return CleanResult(
        checklists=checklists,
        loaded=loaded_all,
        result_codes=codes,
        methods=list(data["methods"]),
        completed_on=data["completed_on"],
        completed_late=completed_late,
        signature=dict(data["signature"]),
        remarks=data.get("remarks", ""),
        attachment_ids=list(dict.fromkeys(attachment_ids)),
        reason=data.get("reason", ""),
        has_problems=RULES.has_problems(codes),
        requires_follow_up=requires_follow_up(codes),
        problem_matters=problem_matters,
    )


def _load_input(raw: Mapping, correction: bool, errors: dict[str, list[str]]) -> dict[str, Any]:
    """The result's own fields, loaded as far as they are valid; the checklists are checked apart."""
    schema = CorrectionInputSchema() if correction else ResultInputSchema()
    try:
        return schema.load(raw)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        # the checklist values are validated below, matter by matter, with their own paths
        messages = {k: v for k, v in messages.items() if k != "checklists" or not isinstance(raw.get("checklists"), Mapping)}
        errors.update(flatten(messages))
        return exc.valid_data if isinstance(exc.valid_data, dict) else {}


def _check_checklists(
    gateway: Gateway, session: Session, task: Task, raw: Mapping, errors: dict[str, list[str]],
    matters: list[TaskMatter],
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], list[str]]:
    """Every matter of the task, every field of its merged checklist, and the plugins' rules:
    (JSON-ready values, loaded values, the matters with a 不符合 item)."""
    given = raw.get("checklists") if isinstance(raw.get("checklists"), Mapping) else {}
    for key in given:
        if key not in task.matter_codes:
            _add(errors, f"checklists.{key}", "本任务不包含该抽查事项。")
    checklists: dict[str, dict[str, Any]] = {}
    loaded_all: dict[str, dict[str, Any]] = {}
    problem_matters: list[str] = []
    pinned = task_checklists(gateway, session, task, matters)
    for matter_code in task.matter_codes:
        path = f"checklists.{matter_code}"
        if matter_code not in pinned:
            _add(errors, path, "该抽查事项的部门插件未安装，无法校验检查表。")
            continue
        values = given.get(matter_code, {})
        if not isinstance(values, Mapping):
            _add(errors, path, "检查表应为对象（检查项编码: 检查结果）。")
            continue
        loaded, schema_errors, dumped = pinned[matter_code].load(dict(values))
        refused = flatten(schema_errors, path)
        errors.update(refused)
        for extra in gateway.hook.gateway_validate_result(matter_code=matter_code, values=loaded):
            for field, messages in (extra or {}).items():
                if f"{path}.{field}" in refused:
                    continue  # the schema's message on that field says it already: one reason per field
                for message in messages:
                    _add(errors, f"{path}.{field}", message)
        loaded_all[matter_code] = loaded
        checklists[matter_code] = dumped
        if non_compliant_items(loaded):
            problem_matters.append(matter_code)
    return checklists, loaded_all, problem_matters


def _check_result_codes(codes: Any, problem_matters: list[str], errors: dict[str, list[str]]) -> None:
    """The SAMR table's combination rules, and agreement with the checklists."""
    if not isinstance(codes, list):
        return
    for problem in check_codes(codes):
        _add(errors, "result_codes" if problem.index is None else f"result_codes.{problem.index}", problem.message)
    known = [c for c in codes if c in RESULT_CODES]
    if problem_matters and known and not RULES.has_problems(known):
        _add(errors, "result_codes", "检查表中有“不符合”的检查项，检查结果代码应为发现问题的代码（如 E、A）。")


def _check_methods(methods: Any, planned: MethodPlan, errors: dict[str, list[str]]) -> bool:
    """Only methods the task's matters list as the plan chose, each once; True when a method is one
    the matters list but the plan's choice (off site / site visit) excludes."""
    if not isinstance(methods, list):
        return False
    allowed = planned.methods
    seen: set[str] = set()
    off_plan = False
    for index, method in enumerate(methods):
        if method not in allowed:
            reason = _why_not_planned(method, planned)
            off_plan = off_plan or bool(reason)
            _add(errors, f"methods.{index}", reason or
                 f"检查方式“{method}”不是本任务抽查事项规定的方式（{'、'.join(allowed)}）。")
        elif method in seen:
            _add(errors, f"methods.{index}", f"检查方式“{method}”重复。")
        seen.add(method)
    return off_plan


def _why_not_planned(method: str, planned: MethodPlan) -> str:
    """Why a method the matters know is excluded by the plan's choice ('' when the matters do not
    know it at all)."""
    allowed = "、".join(planned.methods)
    if method not in NON_SITE_METHODS and planned.off_site:
        codes = "、".join(planned.off_site)
        return (f"检查方式“{method}”须到现场，但抽查计划对事项 {codes} 选择非现场检查（"
                f"{'、'.join(dict.fromkeys(m for ms in planned.off_site.values() for m in ms))}），"
                f"本任务只能选择：{allowed}。")
    if method in NON_SITE_METHODS and planned.on_site:
        return (f"检查方式“{method}”为非现场检查，但抽查计划对事项 {'、'.join(planned.on_site)} 选择了实地检查"
                f"（理由已公开），本任务只能选择：{allowed}。")
    return ""


def _check_completed_on(completed_on: Any, task: Task, today: date, errors: dict[str, list[str]]) -> bool:
    """Not in the future, not before the task window opens; True when after the window closed."""
    if not isinstance(completed_on, date):
        return False
    if completed_on > today:
        _add(errors, "completed_on", f"检查完成日期不能晚于今天（{today.isoformat()}）。")
    if completed_on < task.window_start:
        _add(errors, "completed_on", f"检查完成日期不能早于任务检查期限的开始日（{task.window_start.isoformat()}）。")
    return completed_on > task.window_end


def _check_attachments(session: Session, task: Task, attachment_ids: list[int], errors: dict[str, list[str]]) -> None:
    """Every attachment uploaded to this task."""
    if not attachment_ids:
        return
    found = set(session.scalars(
        select(Attachment.id).where(Attachment.id.in_(attachment_ids), Attachment.task_id == task.id)
    ))
    for index, attachment_id in enumerate(attachment_ids):
        if attachment_id not in found:
            _add(errors, f"attachment_ids.{index}", f"附件 {attachment_id} 不存在或不属于本任务。")
