"""Submissions from the inspector's phone: stored once, however often they are replayed, and never
over a change made meanwhile (issue 19).

The phone keeps a result it could not send and sends it when the network returns, with an
idempotency ``key`` it drew when the inspector pressed submit. The first request with that key
stores the result (record or change, as the form does) and the key beside it; a replay finds
the key and gets the same result back (``replayed``), with nothing stored again.

The phone also says which state of the result its form was based on (``base``, the
:func:`stamp` it was shown). If the result changed meanwhile (another device saved it, the lead
department returned or reviewed it), the submission is refused with ``result_conflict`` and the
stored version, so that the inspector sees both side by side and decides: nothing is
overwritten silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.errors import Conflict, Invalid
from gateway.results import service
from gateway.results.access import task_resource
from gateway.results.field_models import ResultSubmission
from gateway.results.models import Attachment, InspectionResult
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
SIGNATURE_TYPE = "image/png"


@dataclass(frozen=True)
class Submitted:
    result_id: int
    version: int
    replayed: bool


def stamp(result: InspectionResult | None) -> str:
    """The state of a task's latest result as a form was shown it: '' when there is none."""
    if result is None:
        return ""
    return f"{result.id}:{result.version}:{result.status}:{result.updated_at.isoformat(timespec='microseconds')}"


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"key": ["幂等键应为 16 至 64 位字母、数字、“-”或“_”。"]})
    return key


def _replay(session: Session, principal: Principal, task_id: int, key: str) -> Submitted | None:
    row = session.scalar(select(ResultSubmission).where(ResultSubmission.key == key))
    if row is None:
        return None
    if row.task_id != task_id:
        raise Conflict("idempotency_key_reused", "该幂等键已用于另一任务的提交。", key=["幂等键不能重复使用。"])
    authorize(principal, "results.record", **task_resource(service.get_task(session, task_id)))
    return Submitted(row.result_id, row.version, True)


def _check_base(latest: InspectionResult | None, base: str) -> None:
    if stamp(latest) == (base or ""):
        return
    message = ("该任务的检查结果在您离线期间已被修改或退回，请对照两个版本后决定。" if latest is not None
               else "该任务的检查结果已不存在，请刷新后重新填写。")
    raise Conflict("result_conflict", message, result_id=latest.id if latest else None, stamp=stamp(latest))


def _bind_signature(session: Session, task_id: int, result: InspectionResult, attachment_id: int | None) -> None:
    """The drawn signature (a PNG uploaded to the task) becomes part of the result, by its hash; a
    change sent without a new drawing keeps the one stored (a refusal has none)."""
    if result.signature_status != "signed":
        result.signature_attachment_id, result.signature_sha256 = None, ""
        return
    if not attachment_id:
        return
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.task_id != task_id or attachment.content_type != SIGNATURE_TYPE:
        raise Invalid("validation_error", "提交的数据未通过校验。",
                      {"signature.image": ["手写签名应为本任务上传的 PNG 图片。"]})
    result.signature_attachment_id, result.signature_sha256 = attachment.id, attachment.sha256


def submit(gateway: Gateway, session: Session, principal: Principal, task_id: int, key: str, base: str,
           raw: Any, *, today: date, signature_attachment_id: int | None = None) -> Submitted:
    """Store a result sent from the phone once per ``key`` (see the module's docstring)."""
    check_key(key)
    replay = _replay(session, principal, task_id, key)
    if replay is not None:
        return replay
    task = service.get_task(session, task_id)
    authorize(principal, "results.record", **task_resource(task))
    latest = service.latest_version(session, task.id)
    _check_base(latest, base)
    if latest is None:
        result = service.record_result(gateway, session, principal, task.id, raw, today=today)
    else:
        result = service.update_result(gateway, session, principal, latest.id, raw, today=today)
    _bind_signature(session, task.id, result, signature_attachment_id)
    session.add(ResultSubmission(key=key, task_id=task.id, result_id=result.id, version=result.version,
                                 submitted_by=principal.label))
    session.flush()
    audit.record(session, principal, "results.submit_offline", "inspection_result", result.id,
                 {"task_id": task.id, "version": result.version, "signature_sha256": result.signature_sha256})
    return Submitted(result.id, result.version, False)


def submit_once(gateway: Gateway, principal: Principal, task_id: int, key: str, base: str, raw: Any, *,
                today: date, signature_attachment_id: int | None = None) -> tuple[Submitted, dict[str, Any]]:
    """:func:`submit` in its own transaction, the plugins told after the commit (a first submission
    only). Two requests with one key racing each other: the loser's insert fails on the unique key
    and it answers with the winner's result."""
    try:
        with gateway.write() as session:
            done = submit(gateway, session, principal, task_id, key, base, raw, today=today,
                          signature_attachment_id=signature_attachment_id)
            result = service.get_result(session, done.result_id)
            payload = service.result_dict(gateway, session, result, today)
            matters, problems = list(result.task.matter_codes), service.problem_matters_of(result)
    except IntegrityError:
        with gateway.write() as session:
            done = _replay(session, principal, task_id, key)
            if done is None:
                raise
            payload = service.result_dict(gateway, session, service.get_result(session, done.result_id), today)
        return done, payload
    if not done.replayed:
        service.notify_stored(gateway, payload, matters, problems)
    return done, payload
