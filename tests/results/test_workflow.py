"""Review and publication: recorded → (returned →) reviewed → published; published is immutable;
a correction is a new version with a reason; who may do each step; the outbox and task status."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from gateway.api.errors import status_of
from gateway.errors import DomainError
from gateway.results import public, service
from gateway.results.models import ImmutableRecordError, InspectionResult
from gateway.security.principal import PUBLIC
from gateway.sync.models import OutboxRecord
from gateway.tasks.models import Task


def _refused(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def _do(world, fn, *args, **kwargs):
    with world.gateway.write() as session:
        return fn(world.gateway, session, *args, **kwargs)


def test_only_the_lead_department_reviews_and_only_its_head_publishes(world):
    result_id = world.record("oil")
    review = service.review_result
    for outsider in (world.head("market"),      # cooperating department on the team
                     world.head("agriculture"),  # not on the task at all
                     world.inspector("c1"),      # the recorder
                     world.office, world.supervisor):
        assert status_of(_refused(lambda outsider=outsider: _do(world, review, outsider, result_id, True))) == 403
    assert status_of(_refused(lambda: _do(world, review, PUBLIC, result_id, True))) == 401

    # publishing needs a reviewed result first
    error = _refused(lambda: _do(world, service.publish_result, world.head("commerce"), result_id, today=world.today))
    assert (status_of(error), error.code) == (409, "result_not_reviewed")

    _do(world, review, world.operator("commerce"), result_id, True)   # the lead department's operator reviews
    for outsider in (world.operator("commerce"), world.head("market"), world.office):
        error = _refused(lambda outsider=outsider: _do(world, service.publish_result, outsider, result_id, today=world.today))
        assert status_of(error) == 403
    published = _do(world, service.publish_result, world.head("commerce"), result_id, today=world.today)
    assert published.status == "published"


def test_publication_queues_the_outbox_sets_the_task_and_is_on_time(world):
    result_id = world.published("oil")
    with world.gateway.read() as session:
        result = session.get(InspectionResult, result_id)
        assert (result.published_on, result.published_on_time) == (world.today, True)
        assert result.published_by.startswith("部门负责人")
        assert session.get(Task, world.tasks["oil"]).status == "published"
        rows = list(session.scalars(select(OutboxRecord)))
        assert [(r.kind, r.entity_id, r.department_code, r.due_date) for r in rows] == [
            ("result", result_id, "commerce", datetime(2026, 11, 3))
        ]
        assert rows[0].record_id == f"410823-result-{result_id}"
    # late publication is recorded as such
    late = world.record("lab", world.body("lab", completed_on="2026-09-01"), today=date(2026, 9, 2))
    world.review(late, "market")
    world.publish(late, "market", today=date(2026, 10, 20))
    with world.gateway.read() as session:
        result = session.get(InspectionResult, late)
        assert result.deadline == date(2026, 9, 29) and result.published_on_time is False


def test_a_published_result_cannot_be_edited_reviewed_or_published_again(world):
    result_id = world.published("oil")
    error = _refused(lambda: _do(world, service.update_result, world.inspector("c1"), result_id,
                                 world.body("oil", remarks="改一改"), today=world.today))
    assert (status_of(error), error.code) == (409, "result_published")
    assert status_of(_refused(lambda: _do(world, service.review_result, world.head("commerce"), result_id, True))) == 409
    assert status_of(_refused(lambda: _do(world, service.publish_result, world.head("commerce"), result_id,
                                today=world.today))) == 409
    error = _refused(lambda: world.record("oil"))
    assert error.code == "result_published"
    # whatever code path tries it, the row itself refuses to change or go
    with pytest.raises(ImmutableRecordError):
        with world.gateway.write() as session:
            session.get(InspectionResult, result_id).remarks = "偷偷改"
    with pytest.raises(ImmutableRecordError):
        with world.gateway.write() as session:
            session.delete(session.get(InspectionResult, result_id))
    with world.gateway.read() as session:
        assert session.get(InspectionResult, result_id).remarks == ""


def test_return_and_edit_before_publication(world):
    result_id = world.record("oil")
    error = _refused(lambda: _do(world, service.review_result, world.head("commerce"), result_id, False, ""))
    assert set(error.errors) == {"note"}
    _do(world, service.review_result, world.head("commerce"), result_id, False, "签字人职务未填写")
    with world.gateway.read() as session:
        assert session.get(InspectionResult, result_id).status == "returned"
        assert session.get(Task, world.tasks["oil"]).status == "recorded"
    # another department's inspector cannot edit it; the team can, and it is recorded again
    assert status_of(_refused(lambda: _do(world, service.update_result, world.inspector("a1"), result_id,
                                world.body("oil"), today=world.today))) == 403
    body = world.body("oil", signature={"status": "signed", "signer_name": "周建华", "signer_title": "法定代表人"})
    _do(world, service.update_result, world.inspector("c1"), result_id, body, today=world.today)
    with world.gateway.read() as session:
        result = session.get(InspectionResult, result_id)
        assert (result.status, result.signer_title) == ("recorded", "法定代表人")
    # an invalid edit changes nothing
    bad = world.body("oil")
    del bad["checklists"]["refined_oil"]["mkt_oil_metering"]
    error = _refused(lambda: _do(world, service.update_result, world.inspector("c1"), result_id, bad, today=world.today))
    assert set(error.errors) == {"checklists.refined_oil.mkt_oil_metering"}
    world.review(result_id, "commerce")
    error = _refused(lambda: _do(world, service.update_result, world.inspector("c1"), result_id,
                                 world.body("oil"), today=world.today))
    assert error.code == "result_reviewed"


def test_a_correction_is_a_new_version_with_a_reason_published_in_turn(world):
    first = world.published("oil")
    correction = world.body("oil", result_codes=["E"], remarks="复核发现台账缺失，已责令改正。")
    correction["checklists"]["refined_oil"]["oil_invoices_records"] = "non_compliant"
    correction["checklists"]["refined_oil"]["oil_problem_description"] = "购销台账缺少9月记录。"
    error = _refused(lambda: _do(world, service.correct_result, world.inspector("c1"), first, correction,
                                 today=world.today))
    assert set(error.errors) == {"reason"}
    assert status_of(_refused(lambda: _do(world, service.correct_result, world.head("commerce"), first,
                                {**correction, "reason": "x"}, today=world.today))) == 403
    second = _do(world, service.correct_result, world.inspector("c1"), first,
                 {**correction, "reason": "原结果漏记购销台账问题"}, today=world.today)
    assert (second.version, second.supersedes_id, second.status) == (2, first, "recorded")
    # one correction at a time, and only of the latest published version
    error = _refused(lambda: _do(world, service.correct_result, world.inspector("c1"), first,
                                 {**correction, "reason": "再改"}, today=world.today))
    assert error.code == "correction_pending"
    with world.gateway.read() as session:
        # the task stays published while its correction is processed; version 1 is untouched
        assert session.get(Task, world.tasks["oil"]).status == "published"
        assert session.get(InspectionResult, first).result_codes == ["1"]
        shown = public.public_results(world.gateway, session, PUBLIC, world.targets["oil"], 1, 10).items
        assert [r["version"] for r in shown] == [1]
    world.review(second.id, "commerce")
    world.publish(second.id, "commerce", today=date(2026, 10, 21))
    with world.gateway.read() as session:
        shown = public.public_results(world.gateway, session, PUBLIC, world.targets["oil"], 1, 10).items
        assert [(r["version"], r["result_codes"], r["correction_reason"]) for r in shown] == [
            (2, ["E"], "原结果漏记购销台账问题")
        ]
        assert [h["version"] for h in shown[0]["history"]] == [1]
        kinds = [(r.kind, r.entity_id) for r in session.scalars(select(OutboxRecord).order_by(OutboxRecord.id))]
        assert kinds == [("result", first), ("result", second.id)]


def test_reading_a_result(world):
    result_id = world.record("oil")
    with world.gateway.read() as session:
        result = session.get(InspectionResult, result_id)
        for reader in (world.inspector("m1"), world.head("commerce"), world.operator("market"), world.office,
                       world.supervisor):
            service.authorize_read(session, reader, result)
        for outsider in (world.inspector("a1"), world.head("agriculture")):
            assert status_of(_refused(lambda outsider=outsider: service.authorize_read(session, outsider, result))) == 403
        assert status_of(_refused(lambda: service.authorize_read(session, PUBLIC, result))) == 401
        shown = service.result_dict(world.gateway, session, result, world.today)
        assert shown["result_description"] == "未发现问题"
        assert shown["clock_status"] == "on_track" and shown["deadline"] == date(2026, 11, 3)
        assert shown["lead_department_name"] == "武陟县商务局"
