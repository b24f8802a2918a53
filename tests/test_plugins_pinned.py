"""A task keeps what its plan pinned when plugins change: the guide text of its version, and a
plain reason when the matter's plugin is gone (issue 22, bugs 3 and 4)."""
from __future__ import annotations

import dataclasses

from sqlalchemy import select

from gateway.app import create_app
from gateway.core import Gateway
from gateway.plugins import hookimpl
from gateway.tasks import sheets
from gateway.tasks.models import Task
from tests.drawdb import build_directory, complete_draw, published_plan
from tests.test_plugins_versions import changed_commerce


class VersionedGuide:
    """A lead plugin's guide text that differs from one matter version to the next."""

    @hookimpl
    def gateway_guide_text(self, matter_code, version):
        return f"按第 {version} 版程序检查 {matter_code}" if matter_code == "refined_oil" else None


def _first_task(gw: Gateway, plan_id: int) -> int:
    with gw.read() as session:
        return session.scalar(select(Task.id).where(Task.plan_id == plan_id).order_by(Task.id))


def test_the_guide_text_hook_receives_the_pinned_version(gateway, settings):
    build_directory(gateway, per_matter=4, per_department=2)
    plan_id = published_plan(gateway, matters=["refined_oil"])
    complete_draw(gateway, plan_id)
    others = ("agriculture", "emergency", "market", "environment")
    upgraded = Gateway.create(dataclasses.replace(settings, plugins=others),
                              extra_plugins=[("commerce", changed_commerce("2", "（2027 修订）")), ("guide", VersionedGuide())])
    try:
        upgraded.sync_registry()
        with upgraded.read() as session:
            guide = sheets.render_guide(session, session.get(Task, _first_task(upgraded, plan_id)), upgraded.hook)
        assert "按第 1 版程序检查 refined_oil" in guide
        assert "第 2 版" not in guide
    finally:
        upgraded.dispose()


def test_a_matter_whose_plugin_is_gone_says_why_with_its_pinned_name(gateway, settings, auth_headers):
    build_directory(gateway, per_matter=4, per_department=2)
    plan_id = published_plan(gateway, matters=["testing_bodies"])
    complete_draw(gateway, plan_id)
    task_id = _first_task(gateway, plan_id)
    with gateway.read() as session:
        leader = next(m.inspector_id for m in session.get(Task, task_id).members if m.active)
    inspector = auth_headers("inspector", inspector_id=leader)  # issued while its department is installed
    name = gateway.registry.matters["testing_bodies"].name
    app = create_app(dataclasses.replace(settings, plugins=("commerce", "agriculture", "emergency")))
    app.config["TESTING"] = True
    restricted = app.extensions["shuangsui"]
    try:
        client = app.test_client()
        data = client.get(f"/api/v1/tasks/{task_id}/checklist", headers=inspector).json
        assert data["matters"] == []
        [missing] = data["unavailable"]
        assert (missing["matter_code"], missing["matter_name"], missing["version"]) == ("testing_bodies", name, "1")
        assert "market 的插件未安装或未启用" in missing["reason"]
        page = client.get(f"/console/tasks/{task_id}/result", headers=inspector).get_data(as_text=True)
        assert f"检查表：{name}" in page and "检查表：testing_bodies" not in page
        assert "market 的插件未安装或未启用" in page
    finally:
        restricted.dispose()
