"""Statements (陈述申辩): the window, the answer, and how they hold back publication."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gateway.enterprise import notices, portal, statements
from gateway.enterprise.models import Statement
from gateway.errors import Conflict, Forbidden, NotFound
from gateway.results import public
from gateway.results.models import InspectionResult
from gateway.security.principal import PUBLIC

# Completed on 30 September 2026: 1–7 October are holidays, so the 5th working day is 13 October (10 October is a make-up working Saturday).
INSIDE = date(2026, 10, 9)
DUE = date(2026, 10, 13)
AFTER = date(2026, 10, 14)


def notify(world, key: str, department: str) -> str:
    with world.gateway.write() as session:
        _, code = notices.generate_notice(world.gateway, session, world.head(department), world.tasks[key],
                                          "县商务局 张科长 0391-7221234")
        return code


def reviewed(world, key: str, department: str) -> int:
    result_id = world.record(key, today=INSIDE)
    world.review(result_id, department)
    return result_id


def file(world, key: str, today: date, text: str = "加油机计量检定证书已在有效期内，附检定证书。") -> int:
    with world.gateway.write() as session:
        return portal.file_statement(world.gateway, session, world.targets[key], world.tasks[key], text, [], today).id


def test_statement_deadline_counts_working_days(world):
    assert statements.statement_deadline(world.gateway.settings, date(2026, 9, 30)) == DUE


def test_statement_window_blocks_publication_until_answered(world):
    notify(world, "oil", "commerce")
    result_id = reviewed(world, "oil", "commerce")
    # Window open, nothing filed yet: the enterprise keeps its days.
    with pytest.raises(Conflict) as held:
        world.publish(result_id, "commerce", today=INSIDE)
    assert held.value.code == "statement_window_open" and "2026-10-13" in held.value.message
    statement_id = file(world, "oil", INSIDE)
    with pytest.raises(Conflict) as unanswered:
        world.publish(result_id, "commerce", today=INSIDE)
    assert unanswered.value.code == "statement_unanswered"
    # Only the lead department answers.
    with world.gateway.write() as session, pytest.raises(Forbidden):
        statements.answer_statement(session, world.head("market"), statement_id, "不是牵头部门")
    with world.gateway.write() as session:
        statements.answer_statement(session, world.head("commerce"), statement_id, "经核实，证书有效，结果维持“未发现问题”。")
    world.publish(result_id, "commerce", today=INSIDE)
    with world.gateway.read() as session:
        shown = public.public_result(world.gateway, session, PUBLIC, result_id)
        assert shown["statement_filed"] is True
        assert "证书" not in str(shown)  # the statement's text is not public


def test_unanswered_statement_blocks_after_the_window_too(world):
    notify(world, "oil", "commerce")
    result_id = reviewed(world, "oil", "commerce")
    file(world, "oil", DUE)  # the last day still counts
    with pytest.raises(Conflict) as unanswered:
        world.publish(result_id, "commerce", today=AFTER)
    assert unanswered.value.code == "statement_unanswered"


def test_window_closed_refuses_statement_and_lets_publication_through(world):
    notify(world, "oil", "commerce")
    result_id = reviewed(world, "oil", "commerce")
    with pytest.raises(Conflict) as late:
        file(world, "oil", AFTER)
    assert late.value.code == "statement_window_closed" and "2026-10-13" in late.value.message
    world.publish(result_id, "commerce", today=AFTER)
    with world.gateway.read() as session:
        assert public.public_result(world.gateway, session, PUBLIC, result_id)["statement_filed"] is False
        assert session.scalar(select(Statement.id)) is None


def test_enterprise_never_notified_does_not_hold_publication(world):
    result_id = reviewed(world, "lab", "market")
    world.publish(result_id, "market", today=INSIDE)
    with world.gateway.read() as session:
        assert session.get(InspectionResult, result_id).status == "published"


def test_statement_needs_a_draft_and_own_task(world):
    notify(world, "oil", "commerce")
    with pytest.raises(Conflict) as no_draft:
        file(world, "oil", INSIDE)
    assert no_draft.value.code == "no_draft_result"
    reviewed(world, "oil", "commerce")
    with world.gateway.write() as session, pytest.raises(NotFound) as other:
        portal.file_statement(world.gateway, session, world.targets["lab"], world.tasks["oil"], "别家的检查", [], INSIDE)
    assert other.value.code == "not_found"
