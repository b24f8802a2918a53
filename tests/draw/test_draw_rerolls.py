"""Re-rolls (issue 15, item 2): once the seed is revealed nobody can draw again with new digits."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from gateway.directory.models import Inspector
from gateway.draw import frozen as frozen_strata
from gateway.draw import service as draws
from gateway.draw.models import Draw
from gateway.draw.population import strata_from_json
from gateway.draw.strata import draw_targets
from gateway.errors import DomainError
from gateway.planning import service as plans
from tests.drawdb import COUNTY, YEAR, build_directory, freeze_and_seed, publish_filed, published_plan


@pytest.fixture
def directory(gateway):
    return build_directory(gateway, per_matter=6, per_department=3)


def test_a_revealed_draw_cannot_be_cancelled(gateway, directory):
    draw_id = freeze_and_seed(gateway, published_plan(gateway))
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.cancel(session, COUNTY, draw_id, "结果不理想")
    assert caught.value.code == "seed_revealed"
    with gateway.read() as session:
        draw = session.get(Draw, draw_id)
        assert (draw.status, draw.active_plan_id, draw.open_year) == ("seeded", draw.plan_id, YEAR)


def test_a_failed_run_is_retried_with_the_same_seed_and_gives_the_seeds_selection(gateway, directory):
    draw_id = freeze_and_seed(gateway, published_plan(gateway))
    crop = gateway.registry.matters["crop_seed"].department_code
    with gateway.write() as session:
        for inspector in session.scalars(select(Inspector).where(Inspector.department_code == crop)):
            inspector.active = False
        seed = session.get(Draw, draw_id).seed
    with pytest.raises(DomainError) as failed:
        draws.run_and_record_failure(gateway, COUNTY, draw_id)
    assert failed.value.code == "no_feasible_team"
    with pytest.raises(DomainError) as refused, gateway.write() as session:
        draws.cancel(session, COUNTY, draw_id, "检查人员不足")
    assert refused.value.code == "seed_revealed"
    with gateway.write() as session:
        for inspector in session.scalars(select(Inspector).where(Inspector.department_code == crop)):
            inspector.active = True
    draws.run_and_record_failure(gateway, COUNTY, draw_id)
    with gateway.read() as session:
        draw = session.get(Draw, draw_id)
        expected, _ = draw_targets(strata_from_json(list(frozen_strata.entries(session, draw.id))), seed)
        assert draw.seed == seed and draw.status == "drawn"
        record = json.loads(draw.record)
        assert {s["key"]: s["selected"] for s in record["strata"]} == {s.key: list(s.selected) for s in expected}


def test_cancelling_before_the_reveal_needs_a_reason_that_the_public_sees(gateway, directory, client_as, client):
    plan_id = published_plan(gateway)
    office = client_as("county_office")
    draw = office.post("/api/v1/draws", json={"plan_id": plan_id}).get_json()
    blank = office.post(f"/api/v1/draws/{draw['id']}/cancel", json={"reason": "   "})
    assert blank.status_code == 422 and "reason" in blank.get_json()["errors"]
    assert client.get(f"/api/v1/draws/{draw['id']}").get_json()["status"] == "frozen"
    done = office.post(f"/api/v1/draws/{draw['id']}/cancel", json={"reason": "监督人员未到场"})
    assert done.status_code == 200
    public = client.get(f"/api/v1/draws/{draw['id']}").get_json()
    assert (public["status"], public["cancel_reason"]) == ("cancelled", "监督人员未到场")


def test_a_wrong_plan_gets_a_new_version_and_the_revealed_draw_stays_public(gateway, directory, client):
    plan_id = published_plan(gateway)
    draw_id = freeze_and_seed(gateway, plan_id)
    with gateway.write() as session:
        amended = plans.amend_plan(session, COUNTY, plan_id, {"reason": "抽查比例有误", "ratios": {
            "A": "0.4", "B": "0.4", "C": "0.5", "D": "1"}})
        publish_filed(session, COUNTY, amended.id, gateway.settings)
        amended_id = amended.id
    public = client.get(f"/api/v1/draws/{draw_id}").get_json()
    assert public["status"] == "superseded" and public["superseded_by_plan"] == amended_id
    with gateway.read() as session:
        draw = session.get(Draw, draw_id)
        seed = draw.seed
        expected, _ = draw_targets(strata_from_json(list(frozen_strata.entries(session, draw.id))), seed)
    assert public["seed"] == seed and public["contributions"]
    assert public["would_be_selection"] == {s.key: list(s.selected) for s in expected}
    assert any(public["would_be_selection"].values())
    with pytest.raises(DomainError), gateway.write() as session:
        draws.run(session, COUNTY, draw_id, gateway.settings)
    with gateway.write() as session:  # the new version is drawn afresh; the year is free again
        fresh = draws.freeze(session, COUNTY, amended_id)
        assert (fresh.plan_id, fresh.seed) == (amended_id, None)


def test_a_draw_before_the_reveal_still_blocks_amendment(gateway, directory):
    plan_id = published_plan(gateway)
    with gateway.write() as session:
        draws.freeze(session, COUNTY, plan_id)
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        plans.amend_plan(session, COUNTY, plan_id, {"reason": "再改"})
    assert caught.value.code == "plan_in_draw"
