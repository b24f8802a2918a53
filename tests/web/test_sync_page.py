"""The sync page's resend button reaches the sync service (record ids are of any length up to 100)."""
from __future__ import annotations

from sqlalchemy import select

from gateway.sync.models import OutboxRecord


def test_resend_button_requeues_a_dead_letter(gateway, client_as):
    with gateway.write() as session:
        session.add(OutboxRecord(record_id="410823-plan-7", kind="plan", entity_id=7, state="dead",
                                 last_error="rejected", department_code="market"))
    office = client_as("county_office")
    response = office.post("/console/sync/records/410823-plan-7/resend")
    assert response.status_code == 302
    with gateway.read() as session:
        row = session.scalar(select(OutboxRecord).where(OutboxRecord.record_id == "410823-plan-7"))
        assert row.state == "pending"
    assert client_as("supervisor").post("/console/sync/records/410823-plan-7/resend").status_code == 403
