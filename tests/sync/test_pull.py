"""Pull: other authorities' inspections of a plan's targets, from the platform's public reads, into
the higher-level inspections the draw's freeze excludes."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from gateway.directory.models import Department, Target
from gateway.draw import service as draws
from gateway.higher_level.models import HigherLevelInspection
from gateway.sync.client import PlatformClient
from gateway.sync.pull import department_lines, match_department, plan_scope_usccs, pull_plan
from tests.drawdb import COUNTY, build_directory, published_plan

THIS_YEAR = date.today().year


def inspection(record_id, uscc, authority, level, completed_on):
    return {
        "id": record_id, "plan_number": "HA-PROV-01", "plan_name": "河南省抽查计划", "task_number": f"T-{record_id}",
        "task_name": "专项检查", "inspection_type": "department_random", "authority": authority,
        "authority_level": level, "completed_on": completed_on.isoformat(), "result_codes": ["1"],
        "remarks": None, "uscc": uscc, "target_name": "被检查单位",
    }


def test_authorities_are_matched_to_the_county_department_of_their_line(gateway):
    with gateway.read() as session:
        lines = department_lines(list(session.scalars(select(Department))), gateway.settings.county_name)
    assert match_department("河南省市场监督管理局", lines) == "market"
    assert match_department("国家市场监督管理总局", lines) == "market"
    assert match_department("焦作市商务局", lines) == "commerce"
    assert match_department("河南省商务厅", lines) == "commerce"
    assert match_department("河南省生态环境厅", lines) == "environment"
    assert match_department("河南省应急管理厅", lines) == "emergency"
    assert match_department("国家税务总局", lines) == ""


def test_pulled_higher_level_inspections_exclude_targets_from_the_draw(gateway, platform):
    directory = build_directory(gateway, per_matter=6)
    plan_id = published_plan(gateway, year=THIS_YEAR)
    oil = directory["targets"]["refined_oil"]
    lead = gateway.registry.matters["refined_oil"].department_code
    lead_name = gateway.registry.departments[lead].name.replace("武陟县", "焦作市")
    this_year = date(THIS_YEAR, 1, 1)
    platform.control.seed_inspections([
        inspection("prov-1", oil[0], "河南省市场监督管理局", "province", this_year),
        inspection("city-1", oil[1], lead_name, "city", this_year),
        inspection("county-1", oil[2], "武陟县商务局", "county", this_year),
        inspection("old-1", oil[3], lead_name, "city", date(THIS_YEAR - 1, 6, 1)),
        inspection("nat-1", oil[4], "国家税务总局", "national", this_year),
    ])
    factory = lambda: PlatformClient.from_settings(gateway.settings)  # noqa: E731
    report = pull_plan(gateway, plan_id, client_factory=factory, concurrency=2)
    with gateway.read() as session:
        from gateway.planning.models import Plan

        assert report.targets == len(plan_scope_usccs(session, session.get(Plan, plan_id))) >= len(oil)
        rows = {r.uscc: r for r in session.scalars(select(HigherLevelInspection))}
        session.expunge_all()
    assert (report.higher_level, report.county_level, report.created, report.updated, report.failed) == (
        3, 1, 4, 0, [])
    assert report.unmapped_authorities == ["国家税务总局"]
    assert set(rows) == {oil[0], oil[1], oil[2], oil[4]}
    assert (rows[oil[2]].level, rows[oil[2]].reference, rows[oil[2]].source) == ("county", "county-1", "platform")
    assert (rows[oil[0]].department_code, rows[oil[0]].level) == ("market", "province")
    assert (rows[oil[1]].department_code, rows[oil[1]].reference, rows[oil[1]].source) == (lead, "city-1", "platform")
    assert rows[oil[4]].department_code == "" and rows[oil[4]].year == THIS_YEAR

    again = pull_plan(gateway, plan_id, client_factory=factory)
    assert (again.created, again.updated) == (0, 0)

    with gateway.write() as session:
        draw = draws.freeze(session, COUNTY, plan_id)
        excluded = {e["uscc"] for e in draw.exclusions if e["reason"] == "higher_level_inspected"}
    # The city inspection of the oil line and the unmapped national one exclude their targets from
    # the oil matter; a provincial market-supervision inspection does not touch a matter commerce leads.
    assert oil[1] in excluded and oil[4] in excluded
    assert oil[0] not in excluded and oil[2] not in excluded and oil[3] not in excluded


def test_county_inspections_outside_the_gateway_count_toward_the_yearly_cap(gateway, platform):
    directory = build_directory(gateway, per_matter=6)
    plan_id = published_plan(gateway, year=THIS_YEAR)
    oil = directory["targets"]["refined_oil"]
    capped, under = oil[1], oil[5]
    with gateway.write() as session:   # neither is a key target, which the cap would not bind
        for target in session.scalars(select(Target).where(Target.uscc.in_([capped, under]))):
            target.risk_class, target.abnormal_list, target.serious_violation_list = "B", False, False
    this_year = date(THIS_YEAR, 3, 1)
    own = f"{gateway.settings.area_code}-result-9"   # the gateway's own published result: its task counts already
    platform.control.seed_inspections([
        inspection("county-a", capped, "武陟县商务局", "county", this_year),
        inspection("county-b", capped, "武陟县市场监督管理局", "county", this_year),
        inspection("county-c", under, "武陟县商务局", "county", this_year),
        inspection(own, under, "武陟县商务局", "county", this_year),
    ])
    report = pull_plan(gateway, plan_id, client_factory=lambda: PlatformClient.from_settings(gateway.settings))
    assert (report.county_level, report.higher_level) == (3, 0)
    with gateway.write() as session:
        draw = draws.freeze(session, COUNTY, plan_id)
        reasons = {(e["uscc"], e["reason"]) for e in draw.exclusions}
    assert (capped, "cap_reached") in reasons
    assert not {(under, "cap_reached"), (capped, "higher_level_inspected"), (under, "higher_level_inspected")} & reasons
