"""A plan whose department's plugin was disabled cannot be published, frozen or drawn (issue 22, bug 1)."""
from __future__ import annotations

import dataclasses
from typing import Callable, ContextManager

import pytest
from sqlalchemy.orm import Session

from gateway.core import Gateway
from gateway.draw import service as draws
from gateway.errors import Conflict
from gateway.planning import service as plans
from gateway.testing.app import synced_gateway
from tests.drawdb import COUNTY, build_directory, freeze_and_seed, plan_body, publish_filed, published_plan

# refined_oil is led by commerce with market cooperating; environment cooperates on market's matter.
WITHOUT_MARKET = ("commerce", "agriculture", "emergency")


def _without_market(settings) -> ContextManager[Gateway]:
    """The gateway started again with market supervision's plugin left out of the allow-list."""
    return synced_gateway(dataclasses.replace(settings, plugins=WITHOUT_MARKET))


def _refused(restricted: Gateway, act: Callable[[Session], object]) -> None:
    """``act`` in a transaction of ``restricted`` is refused, naming market supervision."""
    with pytest.raises(Conflict) as exc, restricted.write() as session:
        act(session)
    assert exc.value.code == "department_plugin_missing"
    assert "market" in exc.value.message and "插件未安装或未启用" in exc.value.message
    assert exc.value.details["departments"] == ["market"]


def test_publishing_refused_naming_the_department(gateway, settings):
    with gateway.write() as session:
        plan_id = plans.create_plan(session, COUNTY, plan_body(gateway, matters=["refined_oil"]), settings).id
    with _without_market(settings) as restricted:
        _refused(restricted, lambda session: publish_filed(session, COUNTY, plan_id, settings))
        with restricted.read() as session:
            assert plans.get_plan(session, plan_id).status == "draft"


def test_freezing_refused_naming_the_department(gateway, settings):
    build_directory(gateway, per_matter=4, per_department=2)
    plan_id = published_plan(gateway, matters=["refined_oil"])
    with _without_market(settings) as restricted:
        _refused(restricted, lambda session: draws.freeze(session, COUNTY, plan_id))


def test_running_refused_naming_the_department(gateway, settings):
    build_directory(gateway, per_matter=4, per_department=2)
    draw_id = freeze_and_seed(gateway, published_plan(gateway, matters=["refined_oil"]))
    with _without_market(settings) as restricted:
        _refused(restricted, lambda session: draws.run(session, COUNTY, draw_id, settings))
        with restricted.read() as session:
            assert draws.get_draw(session, draw_id).status == "seeded"
