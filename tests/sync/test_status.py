"""What operators see: counts, the oldest waiting record, dead letters with the platform's reasons,
live workers, and the article 19 deadline alert in the status and in the worker's log."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli.main import cli
from gateway.results.deadline import add_working_days
from gateway.sync.models import OutboxRecord
from gateway.sync.status import deadline_alert, format_status, sync_status
from tests.drawdb import published_plan
from tests.sync.world import build_results_world


def due_date_of(gateway, record_id: str):
    with gateway.read() as session:
        return session.scalar(select(OutboxRecord.due_date).where(OutboxRecord.record_id == record_id)).date()


def test_counts_oldest_waiting_record_dead_letters_and_workers(gateway, platform, make_worker, clock):
    world = build_results_world(gateway, 4, bad_uscc_every=4)
    world.publish(world.task_ids[:3])
    published_plan(gateway)
    worker = make_worker()
    assert worker.run(once=True).delivered == 4
    world.publish(world.task_ids[3:])  # the bad USCC, still waiting
    with gateway.read() as session:
        report = sync_status(session, gateway.settings, now=clock.now)
    assert report["counts"] == {"pending": 1, "in_flight": 0, "delivered": 4, "dead": 0}
    assert report["by_kind"]["result"]["delivered"] == 3 and report["by_kind"]["plan"]["delivered"] == 1
    oldest = report["oldest_pending"]
    assert oldest["record_id"] == f"410823-result-{world.result_ids[-1]}" and oldest["attempts"] == 0
    assert 0 < oldest["age_seconds"] <= 120
    assert report["alert"] is None and report["workers"] == []

    worker.register()
    worker.run_pass()
    with gateway.read() as session:
        report = sync_status(session, gateway.settings, now=clock.now)
    worker.unregister()
    assert report["counts"]["dead"] == 1 and report["dead_letter_total"] == 1
    [letter] = report["dead_letters"]
    assert letter["errors"] == [{"field": "uscc", "code": "invalid_uscc", "message": "统一社会信用代码校验位不正确"}]
    assert [w["name"] for w in report["workers"]] == [worker.name]
    text = format_status(report)
    assert "死信：1 条" in text and "invalid_uscc" in text and "统一社会信用代码校验位不正确" in text


def test_the_deadline_alert_when_the_oldest_record_nears_or_passes_its_deadline(
        gateway, platform, make_worker, caplog):
    world = build_results_world(gateway, 1)
    [result_id] = world.publish()
    record_id = f"410823-result-{result_id}"
    due = due_date_of(gateway, record_id)
    assert due == add_working_days(world.completed_on, 20).due
    settings = gateway.settings
    with gateway.read() as session:
        assert deadline_alert(session, settings, today=world.today) is None
        soon = deadline_alert(session, settings, today=due - timedelta(days=1))
        late = deadline_alert(session, settings, today=due + timedelta(days=14))
        report = sync_status(session, settings, today=due)
    assert soon["status"] == "due_soon" and soon["record_id"] == record_id and 0 <= soon["working_days_left"] <= 1
    assert "告警" in soon["message"] and record_id in soon["message"] and due.isoformat() in soon["message"]
    assert late["status"] == "overdue" and late["working_days_left"] < 0 and "已过" in late["message"]
    assert report["alert"] == report["deadline"]["message"] and report["deadline"]["working_days_left"] == 0

    # The worker logs the alert line while the record waits (the platform is down).
    platform.control.set_faults({"errors": {"rates": {"503": 1.0}}})
    caplog.set_level(logging.WARNING, logger="gateway.sync")
    make_worker(today=lambda: due).run(once=True)
    alerts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("告警")]
    assert alerts and record_id in alerts[0] and "仅剩 0 个工作日" in alerts[0]
    # A delivered record raises no alert.
    platform.control.clear_faults()
    with gateway.write() as session:
        session.execute(OutboxRecord.__table__.update().values(next_attempt_at=world.today.replace(year=2000)))
    make_worker().run(once=True)
    with gateway.read() as session:
        assert deadline_alert(session, settings, today=due + timedelta(days=30)) is None


def test_department_roles_see_their_own_records_only(gateway, platform, client_as):
    world = build_results_world(gateway, 2)
    world.publish()
    own = client_as("department_operator", department=world.lead).get("/api/v1/sync/status").json
    other = client_as("department_operator", department="agriculture").get("/api/v1/sync/status").json
    office = client_as("county_office").get("/api/v1/sync/status").json
    assert own["counts"]["pending"] == 2 and office["counts"]["pending"] == 2
    assert other["counts"]["pending"] == 0 and other["oldest_pending"] is None
    assert client_as("supervisor").get("/api/v1/sync/dead-letters").status_code == 200
    assert client_as("inspector", inspector_id=world.team[0]).get("/api/v1/sync/status").status_code == 403


def test_status_and_run_from_the_command_line(gateway, platform):
    published_plan(gateway)
    runner = CliRunner()
    env = {
        "SHUANGSUI_DATABASE_URL": gateway.settings.database_url,
        "SHUANGSUI_INSTANCE_PATH": str(gateway.settings.instance_path),
        "SHUANGSUI_PLATFORM_URL": platform.base_url,
        "SHUANGSUI_PLATFORM_ACCESS_KEY": platform.access_key,
        "SHUANGSUI_PLATFORM_SECRET": platform.secret,
    }
    waiting = runner.invoke(cli, ["sync", "status", "--json"], env=env)
    assert waiting.exit_code == 0, waiting.output
    assert json.loads(waiting.output)["counts"]["pending"] == 1
    ran = runner.invoke(cli, ["sync", "run", "--once"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "送达 1 条" in ran.output
    text = runner.invoke(cli, ["sync", "status"], env=env).output
    assert "已送达 1" in text and "死信：0 条" in text
    unconfigured = runner.invoke(cli, ["sync", "run", "--once"], env={**env, "SHUANGSUI_PLATFORM_URL": ""})
    assert unconfigured.exit_code == 1 and "SHUANGSUI_PLATFORM_URL" in unconfigured.output
    missing = runner.invoke(cli, ["sync", "resend", "410823-plan-999"], env=env)
    assert missing.exit_code == 1 and "不存在" in missing.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_second_worker_on_sqlite_is_refused_in_chinese(gateway, platform, make_worker):
    running = make_worker()
    running.register()
    env = {"SHUANGSUI_DATABASE_URL": gateway.settings.database_url,
           "SHUANGSUI_INSTANCE_PATH": str(gateway.settings.instance_path),
           "SHUANGSUI_PLATFORM_URL": platform.base_url, "SHUANGSUI_PLATFORM_ACCESS_KEY": platform.access_key,
           "SHUANGSUI_PLATFORM_SECRET": platform.secret}
    refused = CliRunner().invoke(cli, ["sync", "run", "--once"], env=env)
    assert refused.exit_code == 1
    assert "已有同步进程在运行" in refused.output and "SQLite 数据库只允许一个同步进程" in refused.output
    running.unregister()
