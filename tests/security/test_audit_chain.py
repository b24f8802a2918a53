"""Editing or deleting an audit row directly in the database is found and named (SQLite and PostgreSQL)."""
from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from gateway.cli.main import cli
from gateway.security import audit
from gateway.security.audit import AuditEntry, chain_head, entry_hash, find_breaks, verify_chain
from gateway.security.principal import Principal

ACTOR = Principal(role="county_office", name="tester")


def fill(gateway, n: int = 6) -> None:
    with gateway.write() as session:
        for i in range(n):
            audit.record(session, ACTOR, "targets.update", "target", f"T{i}", {"fields": ["name"], "n": i})


def run_verify(settings, *extra):
    return CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance", str(settings.instance_path),
                                    "audit", "verify", *extra])


def sql(gateway, statement: str, **params) -> None:
    with gateway.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def test_an_intact_chain_verifies(gateway, settings):
    fill(gateway)
    with gateway.read() as session:
        assert verify_chain(session) is None
    result = run_verify(settings)
    assert result.exit_code == 0, result.output
    assert "审计链完整：共 6 条记录" in result.output


def test_editing_one_row_fails_verify_and_names_it(gateway, settings):
    fill(gateway)
    sql(gateway, "UPDATE audit_log SET entity_id = 'T99' WHERE id = 3")
    with gateway.read() as session:
        problem = verify_chain(session)
    assert problem.entry_id == 3 and "修改" in problem.reason
    result = run_verify(settings)
    assert result.exit_code == 1
    assert "第 3 条" in result.output and "首个问题在第 3 条" in result.output


def test_an_edit_with_a_recomputed_hash_is_still_named(gateway):
    fill(gateway)
    with gateway.write() as session:
        entry = session.get(AuditEntry, 2)
        entry.details = {"fields": ["name"], "n": 42}
        entry.hash = entry_hash(entry)  # a careful forger re-hashes the row...
    with gateway.read() as session:
        problems = find_breaks(session)
    assert [p.entry_id for p in problems] == [2]  # ...and entry 3 no longer links to it


def test_deleting_a_row_fails_verify_and_names_it(gateway, settings):
    fill(gateway)
    sql(gateway, "DELETE FROM audit_log WHERE id = 4")
    result = run_verify(settings)
    assert result.exit_code == 1
    assert "第 4 条审计记录已被删除" in result.output


def test_deleting_the_first_row_is_found(gateway):
    fill(gateway)
    sql(gateway, "DELETE FROM audit_log WHERE id = 1")
    with gateway.read() as session:
        assert verify_chain(session).entry_id == 1


def test_cutting_off_the_end_is_found_with_a_checkpoint(gateway, settings):
    fill(gateway)
    with gateway.read() as session:
        checkpoint = str(chain_head(session))
    head = CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance",
                                    str(settings.instance_path), "audit", "head"])
    assert head.output.strip() == checkpoint
    sql(gateway, "DELETE FROM audit_log WHERE id >= 5")
    assert run_verify(settings).exit_code == 0  # the chain alone cannot see a cut end...
    result = run_verify(settings, "--checkpoint", checkpoint)
    assert result.exit_code == 1  # ...the checkpoint kept elsewhere can
    assert "检查点之后的审计记录已被删除" in result.output
    assert run_verify(settings, "--checkpoint", "nonsense").exit_code == 1


def test_api_changes_append_to_the_chain(gateway, client_as):
    county = client_as("county_office")
    county.post("/api/v1/targets", json={"uscc": "91410823000000772B", "name": "甲公司", "type": "enterprise"})
    county.patch("/api/v1/targets/91410823000000772B", json={"risk_class": "D", "reason_code": "credit_reclassified"})
    with gateway.read() as session:
        entries = list(session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
        assert [e.action for e in entries][-2:] == ["targets.create", "targets.update"]
        assert entries[-1].prev_hash == entries[-2].hash
        assert entries[-1].actor_role == "county_office"
        assert verify_chain(session) is None


def test_supervisors_verify_the_chain_through_the_api(gateway, client_as):
    fill(gateway)
    supervisor = client_as("supervisor")  # its token creation is entry 7
    report = supervisor.get("/api/v1/audit/verify").json
    assert (report["intact"], report["entries"], report["problems"]) == (True, 7, [])
    sql(gateway, "UPDATE audit_log SET actor = 'someone else' WHERE id = 5")
    report = supervisor.get("/api/v1/audit/verify").json
    assert report["intact"] is False and report["problems"][0]["entry_id"] == 5
    listing = supervisor.get("/api/v1/audit", query_string={"action": "targets.update", "page_size": 2}).json
    assert listing["total"] == 6 and [e["id"] for e in listing["items"]] == [6, 5]
    assert client_as("department_head").get("/api/v1/audit/verify").status_code == 403
    assert client_as("public").get("/api/v1/audit").status_code == 401
