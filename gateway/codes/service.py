"""Inspection codes (检查码) of tasks: issuing them, and what a scan shows (issue 17, item 1).

A task's code is the signed token of :mod:`gateway.codes.token` for the task *as it stands*: its
window, its team after any reassignment, its departments. The same state always gives the same
token (Ed25519 signatures are deterministic and ``issued_at`` is the time of the last change), so
the sheet printed yesterday and the phone today show the same code until the team changes. A
scanned code is *genuine* when its signature and draw proof hold, and *current* when, besides,
its task still exists as drawn, its facts are those of the task now, and today is inside its window.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from gateway.codes import keys, token
from gateway.config import Settings
from gateway.directory.models import Department
from gateway.draw.models import Draw
from gateway.draw.record import opaque_inspector_id
from gateway.draw.sampler import smallest_entries, ticket
from gateway.draw.service import iso, record_id, record_strata
from gateway.errors import Conflict, Invalid
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from gateway.tasks.service import get_task, task_departments, task_team_ids
from schemas.common import CHINA_TZ

CODE_PATH = "/code/"
COMPARED = ("uscc", "plan", "draw", "fingerprint", "window", "departments", "team")
CHANGED_LABELS = {
    "uscc": "检查对象与任务不符",
    "plan": "抽查计划与任务不符",
    "draw": "抽取编号与任务不符",
    "fingerprint": "抽取记录指纹与公开记录不符",
    "window": "检查时间窗口已变更",
    "departments": "检查部门已变更",
    "team": "检查组成员已调整（此码签发后有人员被调换）",
}

# record_sha256 -> ({stratum key: cut}, {uscc: [stratum keys it was drawn from]}), a few draws.
_PROOFS: OrderedDict[str, tuple[dict[str, str], dict[str, list[str]]]] = OrderedDict()
_PROOFS_KEPT = 4


def draw_proofs(draw: Draw) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Every stratum's cut and the strata each drawn target came from, read from the public record
    (computed once per record: one pass over each stratum's population)."""
    found = _PROOFS.get(draw.record_sha256 or "")
    if found is None:
        cuts, strata_of = {}, {}
        # One stratum at a time: a version 2 record's parts are read and released in turn.
        for entry in record_strata(object_session(draw), draw):
            size = entry["sample_size"]
            cuts[entry["key"]] = token.stratum_cut(smallest_entries(entry["population"], draw.seed, size + 1), size)
            for uscc in entry["selected"]:
                strata_of.setdefault(uscc, []).append(entry["key"])
        found = _PROOFS[draw.record_sha256] = (cuts, strata_of)
        while len(_PROOFS) > _PROOFS_KEPT:
            _PROOFS.popitem(last=False)
    return found


def _drawn(session: Session, task: Task) -> Draw:
    draw = session.get(Draw, task.draw_id) if task.draw_id is not None else None
    if draw is None or draw.status != "drawn" or draw.record_sha256 is None:
        raise Conflict("task_not_drawn", f"任务 {task.number} 不是由已完成的抽取生成的，没有检查码。")
    return draw


def task_claims(session: Session, settings: Settings, task: Task) -> dict[str, Any]:
    """The facts a task's code signs, as the task stands now."""
    draw = _drawn(session, task)
    cuts, strata_of = draw_proofs(draw)
    public_id = record_id(settings, draw)
    secret = settings.secret_key.encode("utf-8")
    team = [m for m in task.members if m.active]
    changes = [draw.drawn_at] + [m.added_at for m in task.members] + [m.removed_at for m in task.members]
    uscc = task.target.uscc
    return {
        "task": task.number,
        "uscc": uscc,
        "plan": draw.plan.number,
        "draw": public_id,
        "fingerprint": draw.record_sha256,
        "window": [task.window_start.isoformat(), task.window_end.isoformat()],
        "departments": task_departments(task),
        "team": [opaque_inspector_id(public_id, str(m.inspector_id), secret) for m in team],
        "seed": draw.seed,
        "ticket": ticket(uscc, draw.seed),
        "cuts": {key: cuts[key] for key in strata_of.get(uscc, [])},
        "issued_at": iso(max(moment for moment in changes if moment is not None)),
    }


def issue(session: Session, settings: Settings, task: Task) -> str:
    """The task's inspection code (token), signed with the county's active key."""
    kid, private_key = keys.signing_key(settings)
    return token.sign(task_claims(session, settings, task), private_key, kid)


def code_url(base_url: str, code: str) -> str:
    """The address a code's QR holds: the public scan page of the gateway at ``base_url``."""
    return base_url.rstrip("/") + CODE_PATH + code


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as inline SVG (no XML declaration, scalable)."""
    return segno.make(url, error="l", micro=False).svg_inline(scale=2, border=2, omitsize=True)


def code_block(session: Session, settings: Settings, task: Task, base_url: str) -> dict[str, str] | None:
    """The code as the task sheet and the team's phone show it (QR, address, key), or None for a
    task no draw created."""
    try:
        code = issue(session, settings, task)
    except Conflict:
        return None
    url = code_url(base_url or settings.public_base_url, code)
    return {"token": code, "url": url, "svg": qr_svg(url), "kid": token.parse(code)[0]["kid"]}


@dataclass
class TaskCode:
    task_id: int
    task_number: str
    token: str
    kid: str
    url: str


def read_task_code(session: Session, settings: Settings, principal: Principal, task_id: int,
                   base_url: str) -> TaskCode:
    """A task's code for those who may read the task (its team shows it on the phone)."""
    task = get_task(session, task_id)
    authorize(principal, "codes.read_task", departments=task_departments(task), team=task_team_ids(task))
    code = issue(session, settings, task)
    return TaskCode(task.id, task.number, code, token.parse(code)[0]["kid"],
                    code_url(base_url or settings.public_base_url, code))


# ------------------------------------------------------------------------------------- the scan

@dataclass
class CodeStatus:
    """What the public scan page and ``GET /inspection-codes/status`` show."""

    genuine: bool
    current: bool
    problems: list[str]
    not_current: list[str]
    kid: str
    key_status: str
    task_number: str
    uscc: str
    target_name: str
    plan_number: str
    plan_title: str
    draw_id: str
    record_url: str | None
    window_start: date | None
    window_end: date | None
    departments: list[dict[str, str]]
    team: list[dict[str, Any]]
    stratum_cuts: dict[str, str]
    ticket: str
    task_id: int | None = None


def read_code(session: Session, settings: Settings, code: str, today: date | None = None) -> CodeStatus:
    """Verify a scanned ``code`` and compare it with its task as it stands (public: no personal data)."""
    try:
        check = token.verify(code, keys.published_keys(settings))
    except token.CodeError as exc:
        raise Invalid("code_malformed", str(exc), {"token": [str(exc)]}) from None
    claims = check.claims
    today = today or datetime.now(CHINA_TZ).date()
    task = session.scalar(select(Task).where(Task.number == str(claims.get("task", ""))))
    not_current, current_claims, draw = _compare(session, settings, task, claims)
    start, end = _window(claims.get("window"))
    if check.ok and start and end and not not_current:
        if today < start:
            not_current.append(f"检查时间窗口尚未开始（{start.isoformat()} 起）。")
        elif today > end:
            not_current.append(f"检查时间窗口已结束（{end.isoformat()} 止）。")
    cuts = claims.get("cuts") if isinstance(claims.get("cuts"), dict) else {}
    departments = (current_claims or claims).get("departments")
    names = dict(session.execute(select(Department.code, Department.name)).all())
    return CodeStatus(
        genuine=check.ok, current=check.ok and not not_current, problems=check.problems, not_current=not_current,
        kid=check.kid, key_status=check.key_status, task_number=str(claims.get("task", "")),
        uscc=str(claims.get("uscc", "")), target_name=task.target.name if task is not None else "",
        plan_number=str(claims.get("plan", "")), plan_title=draw.plan.title if draw is not None else "",
        draw_id=str(claims.get("draw", "")),
        record_url=f"/api/v1/draws/{draw.id}/record" if draw is not None else None,
        window_start=start, window_end=end,
        departments=[{"code": str(c), "name": names.get(c, str(c))}
                     for c in (departments if isinstance(departments, list) else []) if isinstance(c, (str, int))],
        team=_team(task, current_claims, names, today),
        stratum_cuts={str(k): str(v) for k, v in cuts.items()}, ticket=str(claims.get("ticket", "")),
        task_id=task.id if task is not None else None,
    )


def _window(value: Any) -> tuple[date | None, date | None]:
    """The code's window as dates; (None, None) when a forged code holds something else."""
    try:
        return date.fromisoformat(value[0]), date.fromisoformat(value[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return None, None


def _compare(session: Session, settings: Settings, task: Task | None, claims: dict[str, Any]):
    """Why the code's facts are no longer the task's (empty when they are), the task's claims now,
    and its draw."""
    if task is None:
        return ["检查码所述任务不存在。"], None, None
    try:
        current = task_claims(session, settings, task)
    except Conflict as exc:
        return [exc.message], None, None
    changed = [CHANGED_LABELS[name] + "。" for name in COMPARED if claims.get(name) != current[name]]
    return changed, current, session.get(Draw, task.draw_id)


def _team(task: Task | None, current: dict[str, Any] | None, names: dict[str, str], today: date) -> list[dict[str, Any]]:
    """The team as it stands: opaque id, department, certificate validity (never the number)."""
    if task is None or current is None:
        return []
    members = [m for m in task.members if m.active]
    return [{"id": opaque, "department": m.department_code, "department_name": names.get(m.department_code, ""),
             "role": m.role,
             "certificate_valid": m.inspector.certificate_valid_until is None
             or m.inspector.certificate_valid_until >= today}
            for opaque, m in zip(current["team"], members)]
