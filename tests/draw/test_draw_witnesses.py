"""Witnesses (issue 15, item 3; article 16): organiser, technical operator and supervisor are
different persons, the supervisor from outside the organising office, witnesses of listed kinds."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gateway.cli.main import cli
from gateway.draw import service as draws
from gateway.draw.models import Draw
from gateway.draw.witnesses import participant_errors
from gateway.errors import DomainError
from tests.drawdb import COUNTY, REVEALS, build_directory, commitments_for, published_plan

ID = "410822199001010011"


@pytest.fixture
def frozen(gateway):
    build_directory(gateway, per_matter=3, per_department=2)
    with gateway.write() as session:
        return draws.freeze(session, COUNTY, published_plan(gateway)).id


def _commit(gateway, draw_id, commitments):
    with pytest.raises(DomainError) as caught, gateway.write() as session:
        draws.commit(session, COUNTY, draw_id, commitments, secret=gateway.settings.secret_key)
    with gateway.read() as session:
        assert session.get(Draw, draw_id).status == "frozen"
    return caught.value


def test_one_person_cannot_hold_two_roles_even_under_two_names(gateway, frozen):
    people = commitments_for()
    people[0].update(identity=ID)
    people[2].update(identity=" 41082219900101001 1 ", unit="县纪委监委")  # same ID, spaced
    error = _commit(gateway, frozen, people)
    assert error.code == "validation_error" and "同一人" in error.errors["commitments.2.identity"][0]


def test_the_three_roles_need_an_identity_and_a_unit(gateway, frozen):
    people = commitments_for()
    del people[1]["identity"]
    del people[2]["unit"]
    error = _commit(gateway, frozen, people)
    assert set(error.errors) == {"commitments.1.identity", "commitments.2.unit"}


def test_the_supervisor_comes_from_outside_the_organising_office(gateway, frozen):
    people = commitments_for()
    people[2]["unit"] = people[0]["unit"]
    error = _commit(gateway, frozen, people)
    assert "承办机构以外" in error.errors["commitments.2.unit"][0]


def test_witness_categories_are_a_closed_list(gateway, frozen, client_as):
    people = commitments_for()
    people[3]["category"] = "热心群众"
    assert "commitments.3.category" in _commit(gateway, frozen, people).errors
    office = client_as("county_office")
    answer = office.post(f"/api/v1/draws/{frozen}/commitments", json={"commitments": people})
    assert answer.status_code == 422
    with gateway.write() as session:
        draws.commit(session, COUNTY, frozen, commitments_for(), secret=gateway.settings.secret_key)
    bad = office.post(f"/api/v1/draws/{frozen}/seed",
                      json={"contributions": REVEALS, "witnesses": [{"name": "钱七", "category": "路人"}]})
    assert bad.status_code == 422 and "witnesses" in json.dumps(bad.get_json()["errors"])


def test_identities_are_never_published_and_units_and_categories_are(gateway, frozen, client, settings):
    people = commitments_for()
    with gateway.write() as session:
        draws.commit(session, COUNTY, frozen, people, secret=gateway.settings.secret_key)
        draws.reveal_seed(session, COUNTY, frozen, REVEALS, [{"name": "钱七", "category": "新闻媒体代表"}])
        digests = session.get(Draw, frozen).identity_digests
    draws.run_and_record_failure(gateway, COUNTY, frozen)
    assert len(digests) == 4 and digests[3] is None and len(set(digests[:3])) == 3
    public = client.get(f"/api/v1/draws/{frozen}").get_data(as_text=True)
    record = client.get(f"/api/v1/draws/{frozen}/record").get_data(as_text=True)
    for text in (public, record):
        assert all(p["identity"] not in text for p in people[:3]) and not any(d in text for d in digests[:3])
        assert "县纪委监委派驻组" in text and "新闻媒体代表" in text and "市场主体代表" in text
    assert json.loads(record)["witnesses"][1] == {"name": "钱七", "category": "新闻媒体代表"}


def test_cli_and_projector_page_take_units_identities_and_categories(gateway, frozen, settings, client_as):
    runner = CliRunner()
    hexes = [c["commitment"] for c in commitments_for()]
    same_person = runner.invoke(cli, ["--database-url", settings.database_url, "--instance", str(settings.instance_path),
                                      "draw", "commit", str(frozen),
                                      "--commitment", f"organiser:张三:{hexes[0]}:县双随机办:{ID}",
                                      "--commitment", f"operator:李四:{hexes[1]}:县政务服务中心:{ID}",
                                      "--commitment", f"supervisor:王五:{hexes[2]}:县纪委监委:X2"],
                                catch_exceptions=False)
    assert same_person.exit_code == 1 and "同一人" in same_person.output
    page = client_as("county_office")
    token = page.get(f"/console/draws/{frozen}").get_data(as_text=True)
    assert 'name="identity"' in token and "新闻媒体代表" in token
    people = commitments_for()
    form = {key: [p.get(key, "") for p in people] for key in ("role", "name", "commitment", "unit", "identity", "category")}
    form["unit"][2] = form["unit"][0]
    answer = page.post(f"/console/draws/{frozen}/commitments", data=form)
    assert answer.status_code == 422 and "承办机构以外" in answer.get_data(as_text=True)
    assert people[0]["identity"] not in answer.get_data(as_text=True)


def test_participant_rules_are_pure():
    people = [{"role": "organiser", "unit": "办", "identity": "a"}, {"role": "operator", "unit": "中心", "identity": "b"},
              {"role": "supervisor", "unit": "纪委", "identity": "c"}, {"role": "witness", "category": "行业协会代表"}]
    assert participant_errors(people) == {}
    assert set(participant_errors([*people, {"role": "witness", "category": "市场主体代表", "identity": "A"}])) == {
        "commitments.4.identity"}
