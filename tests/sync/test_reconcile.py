"""Reconciliation: the platform's holdings (signed list endpoints) against what was published."""
from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import delete, select

from gateway.cli.main import cli
from gateway.sync.client import PlatformClient
from gateway.sync.models import OutboxRecord
from gateway.sync.reconcile import content_sha256, reconcile
from tests.drawdb import published_plan


def run(gateway, **kwargs):
    client = PlatformClient.from_settings(gateway.settings)
    try:
        return reconcile(gateway, client, **kwargs)
    finally:
        client.close()


def problems(report) -> dict[str, str]:
    return {d.record_id: (d.problem, d.action) for d in report.differences}


def row(gateway, record_id):
    with gateway.read() as session:
        found = session.scalar(select(OutboxRecord).where(OutboxRecord.record_id == record_id))
        session.expunge_all()
        return found


def test_in_step_then_a_platform_that_lost_records_gets_them_again(gateway, platform, make_worker):
    ids = [f"410823-plan-{published_plan(gateway)}" for _ in range(3)]
    make_worker().run(once=True)
    report = run(gateway)
    assert report.differences == [] and report.checked["plan"] == {
        "published": 3, "outbox": 3, "delivered": 3, "platform": 3}
    # The platform's digest of our payload is the one we compute.
    held = {r["id"]: r for r in platform.session().get(platform.url("/api/v1/plans")).json()["items"]}
    assert held[ids[0]]["content_sha256"] == content_sha256("plan", row(gateway, ids[0]).payload)

    platform.control.reset()  # the platform lost everything
    dry = run(gateway, dry_run=True)
    assert problems(dry) == {i: ("missing_on_platform", "reported") for i in ids}
    assert row(gateway, ids[0]).state == "delivered"
    report = run(gateway)
    assert problems(report) == {i: ("missing_on_platform", "requeued") for i in ids}
    assert {row(gateway, i).state for i in ids} == {"pending"}
    assert make_worker().run(once=True).delivered == 3
    assert run(gateway).differences == []
    assert all(r["accepted"] == 1 for r in platform.control.received()["records"])


def test_unrecorded_deliveries_missing_rows_and_foreign_records(gateway, platform, make_worker, clock):
    first = f"410823-plan-{published_plan(gateway)}"
    platform.control.set_faults({"drops": {"rate": 1.0, "phase": "after"}})
    make_worker().run(once=True)  # stored on the platform, answer lost
    platform.control.clear_faults()
    assert row(gateway, first).state == "pending"

    second_id = published_plan(gateway)
    second = f"410823-plan-{second_id}"
    with gateway.write() as session:  # a row lost locally
        session.execute(delete(OutboxRecord).where(OutboxRecord.record_id == second))
    foreign = dict(row(gateway, first).payload, id="somebody-else-1")
    platform.session().post(platform.url("/api/v1/plans/batch"), json={"records": [foreign]}).raise_for_status()

    report = run(gateway)
    assert problems(report) == {
        first: ("delivered_unrecorded", "marked_delivered"),
        second: ("not_enqueued", "enqueued"),
        "somebody-else-1": ("unknown_on_platform", "reported"),
    }
    delivered = row(gateway, first)
    assert delivered.state == "delivered" and delivered.receipt["outcome"] == "reconciled"
    assert row(gateway, second).state == "pending"
    assert make_worker().run(once=True).delivered == 1
    received = {r["id"]: r for r in platform.control.received()["records"]}
    assert received[first]["received"] == 1 and received[second]["accepted"] == 1


def test_reconcile_from_the_command_line(gateway, platform, make_worker):
    published_plan(gateway)
    make_worker().run(once=True)
    platform.control.reset()
    env = {"SHUANGSUI_DATABASE_URL": gateway.settings.database_url,
           "SHUANGSUI_INSTANCE_PATH": str(gateway.settings.instance_path),
           "SHUANGSUI_PLATFORM_URL": platform.base_url, "SHUANGSUI_PLATFORM_ACCESS_KEY": platform.access_key,
           "SHUANGSUI_PLATFORM_SECRET": platform.secret}
    answer = CliRunner().invoke(cli, ["sync", "reconcile", "--json", "--kind", "plan"], env=env)
    assert answer.exit_code == 0, answer.output
    data = json.loads(answer.output)
    assert data["problems"] == {"missing_on_platform": 1}
    assert data["differences"][0]["action_label"] == "已重新排队推送"
    text = CliRunner().invoke(cli, ["sync", "reconcile", "--dry-run"], env=env).output
    assert "平台持有 0" in text
