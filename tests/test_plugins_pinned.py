"""A task keeps what its plan pinned when plugins change: the guide text of its version, and a
plain reason when the matter's plugin is gone (issue 22, bugs 3 and 4)."""
from __future__ import annotations

import dataclasses

from sqlalchemy import select

from gateway.app import create_app
from gateway.core import Gateway
from gateway.directory.matters import content_sha256
from gateway.directory.models import MatterVersion
from gateway.planning.models import Plan
from gateway.plugins import hookimpl
from gateway.results.checklist import task_checklists
from gateway.tasks import sheets
from gateway.tasks.models import Task
from tests.drawdb import build_directory, complete_draw, published_plan
from tests.test_plugins_versions import changed_commerce


class VersionedGuide:
    """A lead plugin's guide text that differs from one matter version to the next."""

    @hookimpl
    def gateway_guide_text(self, matter_code, version):
        return f"按第 {version} 版程序检查 {matter_code}" if matter_code == "refined_oil" else None


class RevisedGuide:
    """An upgraded lead plugin's guide text that, like the real plugins, ignores the version."""

    @hookimpl
    def gateway_guide_text(self, matter_code):
        return "2027 年修订后的检查指引" if matter_code == "refined_oil" else None


def _first_task(gw: Gateway, plan_id: int) -> int:
    with gw.read() as session:
        return session.scalar(select(Task.id).where(Task.plan_id == plan_id).order_by(Task.id))


def _upgraded(settings, guide) -> Gateway:
    """The gateway after commerce raised refined_oil to version 3 with new wording and guide text."""
    others = ("agriculture", "emergency", "market", "environment")
    upgraded = Gateway.create(dataclasses.replace(settings, plugins=others),
                              extra_plugins=[("guide", guide), ("commerce", changed_commerce("3", "（2027 修订）"))])
    upgraded.sync_registry()
    return upgraded


def _render(gw: Gateway, task_id: int, render) -> str:
    with gw.read() as session:
        return render(session, session.get(Task, task_id), gw.hook)


def test_sheet_and_guide_follow_the_pinned_version_not_the_upgraded_plugin(gateway, settings):
    build_directory(gateway, per_matter=4, per_department=2)
    plan_id = published_plan(gateway, matters=["refined_oil"])
    complete_draw(gateway, plan_id)
    pinned = gateway.registry.matters["refined_oil"]
    pinned_text = gateway.registry.guide_texts["refined_oil"]
    upgraded = _upgraded(settings, RevisedGuide())
    try:
        assert upgraded.registry.guide_texts["refined_oil"] == "2027 年修订后的检查指引"
        task_id = _first_task(upgraded, plan_id)
        guide = _render(upgraded, task_id, sheets.render_guide)
        sheet = _render(upgraded, task_id, sheets.render_task_sheet)
    finally:
        upgraded.dispose()
    assert pinned_text.splitlines()[1] in guide
    assert "2027 年修订后的检查指引" not in guide
    assert f"第 {pinned.version} 版" in guide and "第 3 版" not in guide
    for page in (guide, sheet):
        assert pinned.name in page and f"{pinned.name}（2027 修订）" not in page


def test_a_version_stored_before_guide_texts_were_pinned_asks_the_hook_with_its_version(gateway, settings):
    build_directory(gateway, per_matter=4, per_department=2)
    plan_id = published_plan(gateway, matters=["refined_oil"])
    complete_draw(gateway, plan_id)
    with gateway.write() as session:
        row = session.scalar(select(MatterVersion).where(MatterVersion.code == "refined_oil"))
        row.content = {k: v for k, v in row.content.items() if k != "guide_text"}
        version = row.version
    upgraded = _upgraded(settings, VersionedGuide())
    try:
        guide = _render(upgraded, _first_task(upgraded, plan_id), sheets.render_guide)
    finally:
        upgraded.dispose()
    assert f"按第 {version} 版程序检查 refined_oil" in guide
    assert "第 3 版程序" not in guide


def test_a_version_stored_before_guide_texts_were_pinned_is_not_a_changed_matter(gateway):
    with gateway.write() as session:
        row = session.scalar(select(MatterVersion).where(MatterVersion.code == "refined_oil"))
        row.content = {k: v for k, v in row.content.items() if k != "guide_text"}
        row.content_sha256 = content_sha256(row.content)
    gateway.sync_registry()  # no PluginError: the plugin did not change, the gateway began pinning
    with gateway.read() as session:
        rows = session.scalars(select(MatterVersion).where(MatterVersion.code == "refined_oil")
                               .order_by(MatterVersion.id)).all()
        assert [(r.version, r.current, "guide_text" in r.content) for r in rows] == [
            (gateway.registry.matters["refined_oil"].version, False, False),
            (gateway.registry.matters["refined_oil"].version, True, True),
        ]


def test_an_annual_plan_sheet_lists_the_cooperating_items_the_checklist_requires(gateway, client_as):
    build_directory(gateway, per_matter=4, per_department=2)
    plan_id = published_plan(gateway, kind="annual", matters=["refined_oil"])
    complete_draw(gateway, plan_id)
    task_id = _first_task(gateway, plan_id)
    with gateway.read() as session:
        task = session.get(Task, task_id)
        assert session.get(Plan, plan_id).cooperating_departments == []
        [checklist] = task_checklists(gateway, session, task).values()
        sheet = sheets.render_task_sheet(session, task, gateway.hook)
        guide = sheets.render_guide(session, task, gateway.hook)
    cooperating = [i for i in checklist.items if i.department_code == "market"]
    assert cooperating and all(i.required or i.kind == "text" for i in cooperating)
    for page in (sheet, guide):  # every check item; the form's own fields are not check items (#23)
        assert all(i.name in page for i in checklist.items if i.kind != "text")
        assert "武陟县市场监督管理局" in page


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
        assert (missing["matter_code"], missing["matter_name"], missing["version"]) == ("testing_bodies", name, gateway.registry.matters["testing_bodies"].version)
        assert "market 的插件未安装或未启用" in missing["reason"]
        page = client.get(f"/console/tasks/{task_id}/result", headers=inspector).get_data(as_text=True)
        assert f"检查表：{name}" in page and "检查表：testing_bodies" not in page
        assert "market 的插件未安装或未启用" in page
    finally:
        restricted.dispose()


def test_the_guide_marks_the_plugins_additions_and_the_countys_defaults(gateway, client_as):
    build_directory(gateway, per_matter=4, per_department=2)
    plan_id = published_plan(gateway, matters=["refined_oil"])
    complete_draw(gateway, plan_id)
    guide = _render(gateway, _first_task(gateway, plan_id), sheets.render_guide)
    matter = gateway.registry.matters["refined_oil"]
    assert matter.appendix_text in guide
    assert "油品升级情况" in guide and "油品升级情况<span class=\"small\">（清单外补充）</span>" not in guide
    assert "<td>经营类别" not in guide  # a field of the form, not a check item (#23)
    seed_plan = published_plan(gateway, matters=["crop_seed"], title="种子抽查计划")
    complete_draw(gateway, seed_plan)
    seed_guide = _render(gateway, _first_task(gateway, seed_plan), sheets.render_guide)
    assert "种子生产经营许可<span class=\"small\">（清单外补充）</span>" in seed_guide
    assert "最低抽查比例、抽查频次、检查对象条件为本县设定的默认值，并非法律法规规定" in guide
