"""Enterprise access codes: one-time, rotating, five wrong tries lock that code only, all audited."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.enterprise import access_codes
from gateway.enterprise.models import AccessCode
from gateway.errors import Forbidden, Invalid, Unauthenticated
from gateway.planning.models import Plan
from gateway.security.audit import AuditEntry, verify_chain
from gateway.tasks.models import Task


def issue(world, key: str) -> str:
    with world.gateway.write() as session:
        return access_codes.issue_access_code(session, session.get(Task, world.tasks[key]), actor=world.office)


def redeem(world, uscc: str, code: str, purpose: str = "sign_in") -> AccessCode:
    return access_codes.redeem_committed(world.gateway, uscc, code, purpose=purpose, remote_addr="203.0.113.9",
                                         then=lambda session, row: row.id)


def second_task_of(world, key: str) -> int:
    """Another task for the same enterprise, in a second plan (another department's inspection)."""
    with world.gateway.write() as session:
        task = session.get(Task, world.tasks[key])
        plan = session.get(Plan, task.plan_id)
        other = Plan(number=plan.number + "-2", version=1, year=plan.year, kind="annual", title=plan.title + "（二）",
                     lead_department="market", status="published", window_start=plan.window_start,
                     window_end=plan.window_end, ratios=plan.ratios, frequency=plan.frequency)
        session.add(other)
        session.flush()
        copy = Task(number=task.number + "-2", plan_id=other.id, target_id=task.target_id, lead_department="market",
                    matter_codes=list(task.matter_codes), window_start=task.window_start, window_end=task.window_end)
        session.add(copy)
        session.flush()
        return copy.id


def wrong_secret(code: str) -> str:
    """The same locator with another secret."""
    last = code[-1]
    return code[:-1] + ("2" if last != "2" else "3")


def test_code_is_stored_hashed_and_signs_in_once(world):
    code = issue(world, "oil")
    uscc = world.targets["oil"]
    with world.gateway.read() as session:
        row = session.scalar(select(AccessCode))
        assert code.replace("-", "") not in (row.code_hash, row.locator)
        assert row.code_hash == access_codes.code_hash(uscc, code.replace("-", ""))
    assert redeem(world, uscc, code.lower().replace("-", " "))
    with pytest.raises(Unauthenticated) as used:
        redeem(world, uscc, code)
    assert used.value.code == "access_code_used" and "只能登录一次" in used.value.message
    # Check-in may still use the code once.
    assert redeem(world, uscc, code, purpose="check_in")
    with pytest.raises(Unauthenticated):
        redeem(world, uscc, code, purpose="check_in")


def test_five_wrong_tries_lock_that_code_only_and_are_audited(world):
    oil_code = issue(world, "oil")
    uscc = world.targets["oil"]
    world.tasks["oil2"] = second_task_of(world, "oil")
    second = issue(world, "oil2")
    for attempt in range(1, 5):
        with pytest.raises(Unauthenticated) as wrong:
            redeem(world, uscc, wrong_secret(oil_code))
        assert wrong.value.details["attempts_left"] == 5 - attempt
    with pytest.raises(Forbidden) as locked:
        redeem(world, uscc, wrong_secret(oil_code))
    assert locked.value.code == "access_code_locked" and "锁定" in locked.value.message
    # Locked: even the right code is refused now.
    with pytest.raises(Forbidden):
        redeem(world, uscc, oil_code)
    # The enterprise's other code still works.
    assert redeem(world, uscc, second)
    with world.gateway.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        refusals = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "enterprise.access_code.refuse")))
        assert actions.count("enterprise.access_code.lock") == 1
        assert len(refusals) == 6 and all(e.details["remote_addr"] == "203.0.113.9" for e in refusals)
        assert actions.count("enterprise.access_code.redeem") == 1
        assert verify_chain(session) is None
        rows = {r.id: r for r in session.scalars(select(AccessCode))}
        assert sum(1 for r in rows.values() if r.locked_at is not None) == 1


def test_unknown_expired_and_superseded_codes_are_refused_clearly(world):
    uscc = world.targets["oil"]
    first = issue(world, "oil")
    with pytest.raises(Unauthenticated) as unknown:
        redeem(world, uscc, "2222-3333-4444")
    assert unknown.value.code == "access_code_unknown" and "访问码不正确" in unknown.value.message
    with pytest.raises(Invalid) as malformed:
        redeem(world, uscc, "not a code")
    assert "格式不正确" in malformed.value.message
    with pytest.raises(Invalid):
        redeem(world, "123", first)
    second = issue(world, "oil")  # a notice sent again: the first code stops working
    with pytest.raises(Unauthenticated) as superseded:
        redeem(world, uscc, first)
    assert superseded.value.code == "access_code_superseded"
    with world.gateway.write() as session:
        row = session.scalar(select(AccessCode).where(AccessCode.superseded_at.is_(None)))
        row.expires_at = row.issued_at - timedelta(days=1)
    with pytest.raises(Unauthenticated) as expired:
        redeem(world, uscc, second)
    assert expired.value.code == "access_code_expired" and "过期" in expired.value.message


def test_successor_after_sign_in_works_once(world):
    uscc = world.targets["lab"]
    code = issue(world, "lab")

    def sign_in(session, row):
        return access_codes.issue_successor(session, row)

    successor = access_codes.redeem_committed(world.gateway, uscc, code, purpose="sign_in", remote_addr="-",
                                              then=sign_in)
    assert successor != code
    assert redeem(world, uscc, successor)
    with world.gateway.read() as session:
        rows = list(session.scalars(select(AccessCode).order_by(AccessCode.id)))
        assert rows[1].rotated_from_id == rows[0].id
