"""Check-in (扫码入企, issue 17 item 2).

On arrival the enterprise's representative scans the team's inspection code and confirms, with the
access code printed on the task's notice, that this team is present: no account. The code must be
genuine and current (the team as it stands, inside its window), and the access code must be the
task's own (:func:`gateway.enterprise.access_codes.redeem_access_code`, purpose ``check_in``: each
notice's code confirms one arrival; five wrong tries lock it; every try is audited). The team may
then add its phone's location, with the representative's consent.

**Site visits need a check-in.** A result is a *site visit* when any of the methods it records is
other than 书面检查 (written check) or 信息比对 (data comparison), e.g. 实地核查 or 抽样检验. Such a
result cannot be recorded, changed or corrected for a drawn task that has no check-in (a task that
no draw created has no inspection code, so nothing can be scanned for it and it is exempt). The
departure is recorded when the result records the target's signature.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.codes import service as codes
from gateway.codes.models import CheckIn
from gateway.db import utcnow
from gateway.enterprise.access_codes import enterprise_principal, redeem_committed
from gateway.enterprise.models import AccessCode
from gateway.errors import Conflict, Invalid
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from gateway.tasks.models import Task
from gateway.tasks.service import get_task, task_departments, task_team_ids

NON_SITE_METHODS = frozenset({"书面检查", "信息比对"})


def is_site_visit(methods: Iterable[str]) -> bool:
    """Whether a result recorded with ``methods`` was a visit to the site."""
    return any(method not in NON_SITE_METHODS for method in methods)


def check_in(gateway, code: str, access_code: str, *, remote_addr: str, today: date | None = None) -> CheckIn:
    """Confirm the arrival of the team named by the scanned ``code`` with the enterprise's
    ``access_code``. Refuses a code that is not genuine or not current (on ``today``, China's date
    by default), and an access code that is not this task's (nothing is written then, and the
    access code stays unused)."""
    with gateway.read() as session:
        status = codes.read_code(session, gateway.settings, code, today)
    if not status.genuine:
        raise Invalid("code_not_genuine", "检查码无法验证，不能确认到场：" + "；".join(status.problems),
                      {"token": status.problems})
    if not status.current:
        raise Conflict("code_not_current", "检查码已不是当前有效的检查码，不能确认到场：" + "；".join(status.not_current),
                       reasons=status.not_current)

    def record(session: Session, redeemed: AccessCode) -> CheckIn:
        if redeemed.task_id != status.task_id:
            raise Invalid("access_code_other_task", "该访问码不属于本次检查任务，请使用本次检查通知书上的访问码。",
                          {"access_code": ["该访问码不属于本次检查任务。"]})
        checkin = CheckIn(task_id=status.task_id, access_code_id=redeemed.id, arrived_at=utcnow(),
                          code_kid=status.kid, team=[member["id"] for member in status.team])
        session.add(checkin)
        session.flush()
        audit.record(session, enterprise_principal(status.uscc), "checkins.confirm", "task", status.task_id,
                     {**checkin.facts(), "remote_addr": remote_addr})
        return checkin

    return redeem_committed(gateway, status.uscc, access_code, purpose="check_in", remote_addr=remote_addr,
                            then=record)


def latest_checkin(session: Session, task_id: int) -> CheckIn | None:
    return session.scalar(select(CheckIn).where(CheckIn.task_id == task_id).order_by(CheckIn.id.desc()).limit(1))


def add_location(session: Session, principal: Principal, task_id: int, *, latitude: float, longitude: float,
                 consent: bool) -> CheckIn:
    """The team adds its phone's location to the task's latest check-in, with consent."""
    task = get_task(session, task_id)
    authorize(principal, "checkins.locate", departments=task_departments(task), team=task_team_ids(task))
    if consent is not True:
        message = "记录位置须经企业在场人员同意，请勾选“已征得同意”。"
        raise Invalid("location_consent_required", message, {"consent": [message]})
    checkin = latest_checkin(session, task.id)
    if checkin is None:
        raise Conflict("checkin_missing", "该任务还没有扫码入企记录：请先由企业在场人员扫码并输入访问码确认到场。")
    checkin.location_consent, checkin.latitude, checkin.longitude = True, latitude, longitude
    checkin.located_at = utcnow()
    session.flush()
    audit.record(session, principal, "checkins.locate", "task", task.id, {"checkin_id": checkin.id})
    return checkin


def require_for_result(session: Session, task: Task, methods: Iterable[str]) -> None:
    """Refuse a site-visit result of a drawn task whose team never checked in."""
    if task.draw_id is None or not is_site_visit(methods):
        return
    if latest_checkin(session, task.id) is None:
        message = ("实地检查须先扫码入企：请企业在场人员扫描检查码并输入检查通知书上的访问码确认到场，"
                   "再提交检查结果（仅书面检查、信息比对无需扫码入企）。")
        raise Conflict("checkin_required", message, {"methods": [message]}, task_id=task.id)


def record_departure(session: Session, task: Task, result_id: int) -> None:
    """The result records the target's signature: the team leaves (the latest open check-in)."""
    checkin = latest_checkin(session, task.id)
    if checkin is not None and checkin.departed_at is None:
        checkin.departed_at = utcnow()
        checkin.departure_result_id = result_id
        session.flush()
