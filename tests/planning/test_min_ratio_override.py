"""A matter's minimum ratio that no rule gives is a county default (县级默认): a plan may adjust it
(本计划调整), the plan shows which is which, and the draw uses the plan's (issue 15, item 12)."""
from __future__ import annotations

import json
from datetime import date

from gateway.draw import frozen as frozen_strata
from gateway.draw import service as draws
from tests.drawdb import COUNTY, build_directory, plan_body

MATTER = "refined_oil"


def _body(gateway, **overrides):
    body = plan_body(gateway, matters=[MATTER, "testing_bodies"], lead="market", **overrides)
    return json.loads(json.dumps(body, default=str))


def test_a_plan_adjusts_a_county_default_minimum_and_shows_it_as_such(gateway, client_as):
    office = client_as("county_office")
    created = office.post("/api/v1/plans", json=_body(gateway, min_ratios={MATTER: "0.4"}))
    assert created.status_code == 201, created.json
    matters = {m["code"]: m for m in created.json["matters"]}
    assert (matters[MATTER]["min_ratio"], matters[MATTER]["min_ratio_source"], matters[MATTER]["min_ratio_label"]) == \
        ("0.4", "plan", "本计划调整")
    assert (matters["testing_bodies"]["min_ratio"], matters["testing_bodies"]["min_ratio_label"]) == ("0.05", "县级默认")
    strata = {s["key"]: s for s in created.json["strata"]}
    assert (strata[f"{MATTER}:A"]["min_ratio"], strata[f"{MATTER}:A"]["ratio"]) == ("0.4", "0.4")
    assert strata["testing_bodies:A"]["ratio"] == "0.3"
    page = office.get(f"/console/plans/{created.json['id']}").get_data(as_text=True)
    assert "本计划调整" in page and "县级默认" in page

    build_directory(gateway)
    assert office.post(f"/api/v1/plans/{created.json['id']}/publish").status_code == 200
    filing = {"filing_number": "武司行检备〔2027〕9号", "filed_on": date.today().isoformat()}
    assert office.post(f"/api/v1/plans/{created.json['id']}/filing", json=filing).status_code == 200
    with gateway.write() as session:
        draw = draws.freeze(session, COUNTY, created.json["id"])
        ratios = {s["key"]: s["ratio"] for s in list(frozen_strata.entries(session, draw.id))}
    assert (ratios[f"{MATTER}:A"], ratios[f"{MATTER}:D"], ratios["testing_bodies:A"]) == ("0.4", "1", "0.3")


def test_bad_adjustments_are_refused_naming_the_matter(gateway, client_as):
    office = client_as("county_office")
    outside = office.post("/api/v1/plans", json=_body(gateway, min_ratios={"crop_seed": "0.2"}))
    assert outside.status_code == 422
    assert "不在本计划中" in outside.json["errors"]["min_ratios.crop_seed"][0]
    too_big = office.post("/api/v1/plans", json=_body(gateway, min_ratios={MATTER: "1.5"}))
    assert too_big.status_code == 422 and "min_ratios" in too_big.json["errors"]
    assert office.get("/api/v1/plans").json["total"] == 0
