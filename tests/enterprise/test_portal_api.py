"""The enterprise's side through the API: the notice is not public, the portal signs in with the
access code, a recusal request lands in the reassignment flow, ratings stay anonymous."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import event, select

from gateway.enterprise import portal
from gateway.enterprise.evidence import evidence_by_task
from gateway.enterprise.models import Rating
from gateway.higher_level.models import HigherLevelInspection
from gateway.results import service
from gateway.security.audit import AuditEntry
from gateway.security.principal import Principal
from gateway.tasks.models import Reassignment, Task, TaskMember
from tests.enterprise.test_access_codes import wrong_secret
from tests.ledger.test_ledger_queries import registered

CONTACT = "武陟县商务局 张科长 0391-7221234"


@pytest.fixture
def settings(settings):
    return replace(settings, rate_limit_sign_in="")  # these tests sign in more often than a person would


def issue_notice(client_as, world, key="oil", department="commerce") -> str:
    answer = client_as("department_head", department).post(f"/api/v1/tasks/{world.tasks[key]}/notice",
                                                           json={"contact": CONTACT})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["access_code"]


def sign_in(app, uscc: str, code: str):
    client = app.test_client()
    answer = client.post("/api/v1/portal/sign-in", json={"uscc": uscc, "code": code})
    assert answer.status_code == 200, answer.get_json()
    client.environ_base["HTTP_X_CSRF_TOKEN"] = answer.get_json()["csrf_token"]
    return client, answer.get_json()


def test_notice_is_for_staff_of_the_task_and_the_enterprise_only(app, client, client_as, world):
    code = issue_notice(client_as, world)
    task_id = world.tasks["oil"]
    url = f"/api/v1/tasks/{task_id}/notice"
    assert client.get(url).status_code == 401  # the public
    assert client_as("department_head", "agriculture").get(url).status_code == 403  # not on this task
    certificate = "4108232600001"  # c1's certificate number
    staff = client_as("department_operator", "market").get(url)  # market is on the team
    assert staff.status_code == 200 and certificate in staff.get_data(as_text=True)
    assert code not in staff.get_data(as_text=True)  # the code is shown at generation only
    enterprise, _ = sign_in(app, world.targets["oil"], code)
    own = enterprise.get(f"/api/v1/portal/inspections/{task_id}/notice")
    text = own.get_data(as_text=True)
    assert own.status_code == 200 and certificate in text and "陈述" in text and "申请回避" in text and CONTACT in text
    other, _ = sign_in(app, world.targets["lab"], issue_notice(client_as, world, "lab", "market"))
    assert other.get(f"/api/v1/portal/inspections/{task_id}/notice").status_code == 404
    # Public pages and the public API never carry the certificate number.
    for path in ("/api/v1/public/results", f"/public/tasks/{task_id}", "/public"):
        assert certificate not in client.get(path).get_data(as_text=True)
    delivered = client_as("department_operator", "commerce").post(f"/api/v1/tasks/{task_id}/notice/delivery",
                                                                  json={"method": "in_person", "note": "交法定代表人"})
    assert delivered.status_code == 200
    body = delivered.get_json()
    assert body["delivery_method"] == "in_person" and body["delivered_by"] and body["delivered_at"]
    # Generating needs the lead department or the office; a cooperating department may not.
    assert client_as("department_head", "market").post(url, json={"contact": CONTACT}).status_code == 403


def test_portal_sign_in_is_one_time_and_locks_a_code_after_five_wrong_tries(app, client_as, world):
    code = issue_notice(client_as, world)
    uscc = world.targets["oil"]
    anonymous = app.test_client()
    unknown = anonymous.post("/api/v1/portal/sign-in", json={"uscc": uscc, "code": "2222-3333-4444"})
    assert unknown.status_code == 401 and "访问码不正确" in unknown.get_json()["message"]
    malformed = anonymous.post("/api/v1/portal/sign-in", json={"uscc": "12", "code": "？"})
    assert malformed.status_code == 422 and "统一社会信用代码" in malformed.get_json()["message"]
    for _ in range(4):
        assert anonymous.post("/api/v1/portal/sign-in", json={"uscc": uscc, "code": wrong_secret(code)}).status_code == 401
    locked = anonymous.post("/api/v1/portal/sign-in", json={"uscc": uscc, "code": code.replace("-", "")[:4] + "-2345-6789"})
    assert locked.status_code == 403 and locked.get_json()["code"] == "access_code_locked"
    assert anonymous.post("/api/v1/portal/sign-in", json={"uscc": uscc, "code": code}).status_code == 403
    # A new notice gives a new code; it signs in once and hands out the next one.
    fresh = issue_notice(client_as, world)
    enterprise, body = sign_in(app, uscc, fresh)
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", body["next_code"])
    again = app.test_client().post("/api/v1/portal/sign-in", json={"uscc": uscc, "code": fresh})
    assert again.status_code == 401 and again.get_json()["code"] == "access_code_used"
    sign_in(app, uscc, body["next_code"])
    # The portal session is not a staff session.
    assert enterprise.get("/api/v1/tasks").status_code == 403
    assert enterprise.get("/api/v1/portal/inspections").status_code == 200
    with world.gateway.read() as session:
        actions = list(session.scalars(select(AuditEntry.action)))
    assert actions.count("enterprise.sign_in") == 2 and actions.count("enterprise.access_code.lock") == 1
    assert actions.count("enterprise.access_code.refuse") >= 8


def test_recusal_request_lands_in_reassignment(app, client_as, world):
    enterprise, signed = sign_in(app, world.targets["oil"], issue_notice(client_as, world))
    inspections = enterprise.get("/api/v1/portal/inspections").get_json()
    assert [i["task_id"] for i in inspections] == [world.tasks["oil"]]
    notice_url = inspections[0]["notice"]["printable_url"]
    assert enterprise.get(notice_url).status_code == 200 and inspections[0]["notice"]["contact"] == CONTACT
    member = next(m for m in inspections[0]["team"] if m["name"] == world.names["c1"])
    asked = enterprise.post(f"/api/v1/portal/inspections/{world.tasks['oil']}/recusals",
                            json={"member_id": member["member_id"], "reason": "该检查人员系我公司股东的近亲属。"})
    assert asked.status_code == 201, asked.get_json()
    # A change through the portal session needs its CSRF token.
    del enterprise.environ_base["HTTP_X_CSRF_TOKEN"]
    refused = enterprise.post(f"/api/v1/portal/inspections/{world.tasks['oil']}/recusals",
                              json={"member_id": member["member_id"], "reason": "再次申请"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "csrf_failed"
    listed = client_as("department_head", "commerce").get(f"/api/v1/tasks/{world.tasks['oil']}/reassignments").get_json()
    assert len(listed) == 1
    assert listed[0]["status"] == "requested" and listed[0]["reason_code"] == "conflict_of_interest"
    assert "近亲属" in listed[0]["reason"] and listed[0]["inspector_id"] == world.inspectors["c1"]
    with world.gateway.read() as session:
        item = session.scalar(select(Reassignment))
        assert item.requested_by.startswith("检查对象企业")
    # Someone not in the team cannot be named.
    wrong = enterprise.post(f"/api/v1/portal/inspections/{world.tasks['oil']}/recusals",
                            json={"member_id": 99999, "reason": "无"}, headers={"X-CSRF-Token": signed["csrf_token"]})
    assert wrong.status_code == 422


def rated_tasks(world, count: int) -> list[int]:
    """``count`` more market-led tasks (copies of the lab task for new targets), each with a recorded result."""
    ids = []
    with world.gateway.write() as session:
        lab = session.get(Task, world.tasks["lab"])
        for n in range(count):
            target = type(lab.target)(uscc=f"91410823MA{n:07d}X"[:17] + "X", name=f"测试检测{n}号", type="enterprise",
                                      township="木城街道", business_scope="检验检测服务", risk_class="B")
            session.add(target)
            session.flush()
            task = Task(number=f"{lab.number}-{n}", plan_id=lab.plan_id, target_id=target.id, lead_department="market",
                        matter_codes=list(lab.matter_codes), window_start=lab.window_start, window_end=lab.window_end)
            for member in lab.members:
                task.members.append(TaskMember(inspector_id=member.inspector_id, department_code=member.department_code,
                                               role=member.role))
            session.add(task)
            session.flush()
            ids.append(task.id)
    for task_id in ids:
        with world.gateway.write() as session:
            service.record_result(world.gateway, session, world.inspector("m2"), task_id, world.body("lab"),
                                  today=world.today)
    return ids


def test_ratings_are_anonymous_to_the_department(app, client, client_as, world):
    task_ids = rated_tasks(world, 5)
    marker = "评价标记-仅县双随机办可见"
    head = client_as("department_head", "market")
    for n, task_id in enumerate(task_ids):
        with world.gateway.write() as session:
            uscc = session.get(Task, task_id).target.uscc
            portal.rate(session, uscc, task_id, 5 - (n % 2), f"{marker}{n}")
        summary = head.get("/api/v1/ratings/summary").get_json()
        assert [s["department_code"] for s in summary] == ["market"]
        assert summary[0]["count"] == n + 1
        if n < 4:
            assert summary[0]["shown"] is False and summary[0]["average"] is None and summary[0]["scores"] is None
    assert summary[0]["shown"] is True and summary[0]["average"] == pytest.approx(4.6)
    assert summary[0]["scores"] == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 3}
    assert head.get("/api/v1/ratings").status_code == 403
    office = client_as("county_office").get("/api/v1/ratings").get_json()
    assert office["total"] == 5 and {r["comment"] for r in office["items"]} == {f"{marker}{n}" for n in range(5)}
    # No other page or API gives the department a single rating: every GET route it may call, with
    # every id the world holds, and the comments never show.
    with world.gateway.read() as session:
        ids = {str(i) for i in [*task_ids, *world.tasks.values(), *session.scalars(select(Rating.id))]}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        paths = {re.sub(r"<[^>]+>", i, rule.rule) for i in ids} if rule.arguments else {rule.rule}
        for path in paths:
            for caller in (head, client_as("department_operator", "market"), client):
                assert marker.encode() not in caller.get(path).get_data(), path
    # One rating per inspection, and only after it took place.
    with world.gateway.write() as session, pytest.raises(Exception) as twice:
        portal.rate(session, session.get(Task, task_ids[0]).target.uscc, task_ids[0], 3, "")
    assert twice.value.code == "already_rated"
    with world.gateway.write() as session, pytest.raises(Exception) as early:
        portal.rate(session, world.targets["seed"], world.tasks["seed"], 3, "")
    assert early.value.code == "not_inspected_yet"


def test_department_aggregates_move_in_batches_so_no_single_rating_shows(client_as, world):
    task_ids = rated_tasks(world, 12)
    head, office = client_as("department_head", "market"), client_as("county_office")
    seen = []
    for n, task_id in enumerate(task_ids):
        with world.gateway.write() as session:
            portal.rate(session, session.get(Task, task_id).target.uscc, task_id, SCORES_IN_TURN[n], "")
        (mine,) = head.get("/api/v1/ratings/summary").get_json()
        assert mine["count"] == n + 1 and mine["covered"] == (n + 1) // 5 * 5
        seen.append(mine["scores"] or {})
        # the office sees every rating at once
        (everything,) = [s for s in office.get("/api/v1/ratings/summary").get_json() if s["department_code"] == "market"]
        if n >= 4:
            assert everything["covered"] == n + 1 and sum(everything["scores"].values()) == n + 1
            assert everything["average"] == pytest.approx(sum(SCORES_IN_TURN[:n + 1]) / (n + 1), abs=0.01)
    # two consecutive aggregates differ by nothing or by a whole batch, never by one rating
    for before, after in zip(seen, seen[1:]):
        moved = sum(abs(after.get(k, 0) - before.get(k, 0)) for k in {*before, *after})
        assert moved in (0, 5), (before, after)
    assert seen[9] == {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2} and seen[11] == seen[9]
    assert seen[4] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}


SCORES_IN_TURN = (1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 5, 1)


def test_console_generates_the_notice_records_delivery_and_answers_a_statement(app, client_as, world):
    head = client_as("department_head", "commerce")
    task_id = world.tasks["oil"]
    printed = head.post(f"/console/tasks/{task_id}/notice", data={"contact": CONTACT})
    text = printed.get_data(as_text=True)
    assert printed.status_code == 200 and "检查通知书" in text and CONTACT in text
    code = re.search(r"访问码：([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})", text).group(1)
    assert head.post(f"/console/tasks/{task_id}/notice/delivery", data={"method": "post", "note": "EMS"}).status_code == 302
    page = head.get(f"/console/tasks/{task_id}").get_data(as_text=True)
    assert "邮寄送达" in page and "查看通知书" in page
    # The code printed on the notice signs the enterprise in.
    enterprise, _ = sign_in(app, world.targets["oil"], code)
    assert enterprise.get("/portal/inspections").status_code == 200
    # A cooperating department sees the task but may not generate its notice.
    market = client_as("department_head", "market").get(f"/console/tasks/{task_id}").get_data(as_text=True)
    assert "生成检查通知书" not in market and "查看通知书" in market


def _count_queries(gateway, action) -> int:
    executed = []

    def count(*_args):
        executed.append(1)

    event.listen(gateway.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(gateway.engine, "before_cursor_execute", count)
    return len(executed)


def _overview_queries(world, uscc: str) -> tuple[int, list]:
    shown = []

    def run():
        with world.gateway.read() as session:
            shown.extend(portal.overview(world.gateway, session, uscc, world.today))

    return _count_queries(world.gateway, run), shown


def test_portal_lists_every_inspection_of_the_ledger_with_its_channel(app, client_as, world):
    uscc, oil = world.targets["oil"], world.tasks["oil"]
    year = world.window[0].year
    before, _ = _overview_queries(world, uscc)
    with world.gateway.write() as session:
        session.add(HigherLevelInspection(record_key="portal-h1", uscc=uscc, authority="焦作市商务局", level="city",
                                          department_code="", inspected_on=date(year, 2, 3), year=year,
                                          reference="焦商检〔2026〕7号"))
        for n, channel in enumerate(("special", "complaint", "routine")):
            session.add(registered(uscc, "market", channel, date(year, 3, 1 + n), reference=f"武市监{channel}{n}"))
        # a registered visit joined into the drawn task is the task, not a second line
        session.add(registered(uscc, "commerce", "special", world.window[0], joint_task_id=oil, reference="joined"))
        session.add(registered(world.targets["lab"], "market", "case", date(year, 3, 9), reference="another-firm"))
    after, shown = _overview_queries(world, uscc)
    assert after == before  # a fixed number of queries, whatever the ledger holds
    lines = [e for e in shown if e["read_only"]]
    assert sorted((e["channel"], e["channel_label"], e["reference"]) for e in lines) == [
        ("complaint", "投诉举报核查", "武市监complaint1"), ("higher_level", "上级部门检查", "焦商检〔2026〕7号"),
        ("routine", "日常巡查", "武市监routine2"), ("special", "专项检查", "武市监special0")]
    assert all(e["task_id"] is None and not (e["can_rate"] or e["can_file_statement"]) for e in lines)
    tasks = [e for e in shown if not e["read_only"]]
    assert [(e["task_id"], e["channel_label"]) for e in tasks] == [(oil, "双随机抽查")]
    assert [e["inspected_on"] for e in shown] == sorted((e["inspected_on"] for e in shown), reverse=True)
    # the API and the page show them, the task keeping its links
    enterprise, _ = sign_in(app, uscc, issue_notice(client_as, world))
    listed = enterprise.get("/api/v1/portal/inspections").get_json()
    assert {e["channel"] for e in listed} == {"drawn", "higher_level", "special", "complaint", "routine"}
    page = enterprise.get("/portal/inspections").get_data(as_text=True)
    assert "焦商检〔2026〕7号" in page and "上级部门检查" in page and "投诉举报核查" in page
    assert f"/portal/inspections/{oil}/notice" in page and "another-firm" not in page


def test_rectification_evidence_shows_on_the_follow_up_pages_for_staff_who_may_read_it(client_as, world):
    from tests.results.test_attachments import PNG
    from tests.results.test_followups_and_risk import _problem_body

    result_id = world.published("oil", _problem_body(world))
    uscc, task_id = world.targets["oil"], world.tasks["oil"]
    with world.gateway.write() as session:
        upload = portal.upload_file(world.gateway, session, uscc, task_id, "整改后的台账.png", PNG)
        portal.add_evidence(session, uscc, task_id, upload.id, "已建立购销台账")
        attachment_id = upload.id
    link = f"/console/attachments/{attachment_id}"
    lead = client_as("department_head", "commerce")
    listed = lead.get("/console/followups").get_data(as_text=True)
    assert "企业整改材料" in listed and "整改后的台账.png" in listed and link in listed
    view = lead.get(f"/console/results/{result_id}").get_data(as_text=True)
    assert "企业上传的整改材料" in view and "已建立购销台账" in view and link in view
    opened = lead.get(link)
    assert opened.status_code == 200 and opened.data == PNG
    # a department outside the task sees neither the file nor its name
    for path in ("/console/followups", f"/console/results/{result_id}"):
        other = client_as("department_head", "agriculture").get(path)
        assert other.status_code in (200, 403, 404) and "整改后的台账.png" not in other.get_data(as_text=True), path
    # a role that reads results but not their files (the system) gets no evidence; the office does
    with world.gateway.read() as session:
        task = session.get(Task, task_id)
        system = Principal(role="system", name="系统")
        assert evidence_by_task(session, system, [task]) == {}
        (item,) = evidence_by_task(session, world.office, [task])[task_id]
        assert (item["attachment_id"], item["filename"], item["note"]) == (attachment_id, "整改后的台账.png", "已建立购销台账")


def test_the_portal_pages_recusal_form_asks_the_same_and_names_a_missing_member(app, client_as, world):
    enterprise, _signed = sign_in(app, world.targets["oil"], issue_notice(client_as, world))
    page_url = f"/portal/inspections/{world.tasks['oil']}/recusal"
    unchosen = enterprise.post(page_url, data={"member_id": "", "reason": "近亲属"})
    assert unchosen.status_code == 302
    with world.gateway.read() as session:
        assert session.scalar(select(Reassignment)) is None
    member = next(m for m in enterprise.get("/api/v1/portal/inspections").get_json()[0]["team"]
                  if m["name"] == world.names["c1"])
    asked = enterprise.post(page_url, data={"member_id": str(member["member_id"]), "reason": "该检查人员系我公司股东的近亲属。"})
    assert asked.status_code == 302 and asked.headers["Location"].endswith(f"#task-{world.tasks['oil']}")
    with world.gateway.read() as session:
        item = session.scalar(select(Reassignment))
        assert item.inspector_id == world.inspectors["c1"] and "近亲属" in item.reason
