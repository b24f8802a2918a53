"""The result form is generated from the merged checklist schema: a plugin that adds a check item
makes its field appear in the form, with its label, help text and input type, and its errors
beside it, with no change to the core. Also the generic schema-to-form functions themselves."""
from __future__ import annotations

import re
from datetime import date

import pytest
from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from gateway.plugins.contributions import CheckItem, Department
from gateway.plugins.hookspecs import hookimpl
from gateway.web.forms import REQUIRED_MESSAGE, form_fields, read_form


class TinyFireBrigadePlugin:
    """A test plugin: a department that brings one check item to another department's matter."""

    def __init__(self, matter_code: str) -> None:
        self.matter_code = matter_code

    @hookimpl
    def gateway_department(self):
        return Department(code="fire", name="武陟县消防救援大队", short_name="消防")

    @hookimpl
    def gateway_check_items(self):
        return [CheckItem(
            code="fire_extinguishers", matter_code=self.matter_code, department_code="fire",
            name="灭火器配置数量（具）", content="现场清点灭火器数量。", kind="integer", methods=("实地核查",),
            help_text="按现场清点的有效灭火器数量填写。",
        )]


@pytest.fixture
def fire_world(settings):
    from gateway.app import create_app
    from gateway.core import Gateway
    from gateway.security import accounts
    from gateway.security.principal import Principal
    from gateway.tasks.models import Task
    from tests.drawdb import build_directory, complete_draw, published_plan

    probe = Gateway.create(settings)
    matter = next(iter(probe.registry.matters))
    probe.dispose()
    gateway = Gateway.create(settings, extra_plugins=[("tiny-fire-brigade", TinyFireBrigadePlugin(matter))])
    gateway.sync_registry()
    build_directory(gateway, per_matter=4, per_department=3)
    year = date.today().year
    plan_id = published_plan(gateway, year=year, matters=[matter], title="消防检查项测试计划",
                             window_start=date(year, 1, 1), window_end=date(year, 12, 31))
    complete_draw(gateway, plan_id)
    from sqlalchemy import select

    from gateway.demo.codes import confirm_arrival

    with gateway.write() as session:
        task = session.scalar(select(Task).where(Task.plan_id == plan_id).order_by(Task.id))
        recorder = next(m.inspector_id for m in task.members if m.active and m.role == "lead")
        assert "fire" in {m.department_code for m in task.members if m.active}  # the brigade is on the team
        _, token = accounts.issue_token(session, Principal(role="system", name="pytest"), "pytest", "inspector",
                                        inspector_id=recorder, days=1)
        task_id = task.id
    confirm_arrival(gateway, task_id)  # the form records a site visit: the enterprise confirmed the arrival
    app = create_app(gateway=gateway)
    app.config["TESTING"] = True
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    yield {"gateway": gateway, "client": client, "task_id": task_id, "matter": matter}
    gateway.dispose()


def test_a_plugin_check_item_appears_in_the_result_form(fire_world):
    client, matter = fire_world["client"], fire_world["matter"]
    response = client.get(f"/console/tasks/{fire_world['task_id']}/result")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    name = f"checklists.{matter}.fire_extinguishers"
    element = "f-" + name.replace(".", "-")
    assert re.search(rf'<label for="{element}">灭火器配置数量（具）', html)
    assert re.search(rf'<input type="number" id="{element}" name="{name}"[^>]*step="1"', html)
    assert "按现场清点的有效灭火器数量填写。" in html
    assert "武陟县消防救援大队" in html  # the department that brings the item is named beside it


def test_a_plugin_field_error_is_shown_beside_it(fire_world):
    from gateway.results.checklist import merged_checklist
    from gateway.results.models import InspectionResult
    from tests.results.conftest import SIGNED, sample_values

    gateway, client, matter = fire_world["gateway"], fire_world["client"], fire_world["matter"]
    values = sample_values(gateway, matter)
    described = merged_checklist(gateway.plugin_manager, gateway.registry, matter).describe()
    form = MultiDict()
    for f in described["fields"]:
        if f["code"] in values and f["code"] != "fire_extinguishers":
            value = values[f["code"]]
            form.add(f"checklists.{matter}.{f['code']}", "true" if value is True else "false" if value is False else str(value))
    form.add(f"checklists.{matter}.fire_extinguishers", "三具")
    form.add("methods", "实地核查")
    form.add("result_codes", "1")
    form.add("completed_on", date.today().isoformat())
    form.add("signature.status", "signed")
    form.add("signature.signer_name", SIGNED["signer_name"])
    url = f"/console/tasks/{fire_world['task_id']}/result"

    response = client.post(url, data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    block = html[html.index(f'id="f-checklists-{matter}-fire_extinguishers-field"'):]
    block = block[:block.index("</div>")]
    assert 'class="field has-error" id="f-checklists-' + matter + '-fire_extinguishers-field"' in html
    assert "不是有效的整数。" in block
    assert 'aria-invalid="true"' in block
    assert "三具" in block  # what was typed is kept

    form.setlist(f"checklists.{matter}.fire_extinguishers", ["3"])
    response = client.post(url, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with gateway.read() as session:
        result = session.query(InspectionResult).filter_by(task_id=fire_world["task_id"]).one()
        assert result.checklists[matter]["fire_extinguishers"] == 3


class SampleSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["a", "b"]),
                            metadata={"label": "结论", "help": "二选一", "choices": {"a": "甲", "b": "乙"}, "kind": "outcome"})
    many = fields.String(validate=validate.OneOf([str(n) for n in range(8)]), metadata={"label": "多选项"})
    flag = fields.Boolean(required=True, metadata={"label": "是否"})
    count = fields.Integer(strict=True, validate=validate.Range(min=0), metadata={"label": "数量"})
    amount = fields.Decimal(as_string=True, metadata={"label": "金额"})
    day = fields.Date(metadata={"label": "日期"})
    short = fields.String(validate=validate.Length(max=50), metadata={"label": "简述"})
    long = fields.String(validate=validate.Length(max=2000))


def test_form_fields_follow_types_and_metadata():
    generated = {f.key: f for f in form_fields(SampleSchema, prefix="x", values={"flag": True, "count": 2},
                                               errors={"x.count": ["Missing data for required field."]})}
    assert generated["outcome"].widget == "radio"
    assert generated["outcome"].choices == [("a", "甲"), ("b", "乙")]
    assert (generated["outcome"].label, generated["outcome"].help, generated["outcome"].required) == ("结论", "二选一", True)
    assert generated["many"].widget == "select" and len(generated["many"].choices) == 8
    assert generated["flag"].widget == "yesno" and generated["flag"].value == "true"
    assert generated["count"].widget == "number" and generated["count"].min == 0 and generated["count"].value == "2"
    assert generated["count"].errors == [REQUIRED_MESSAGE]
    assert generated["amount"].widget == "decimal"
    assert generated["day"].widget == "date"
    assert generated["short"].widget == "text" and generated["short"].max_length == 50
    assert generated["long"].widget == "textarea" and generated["long"].label == "long"
    assert generated["outcome"].name == "x.outcome" and generated["outcome"].id == "f-x-outcome"


def test_read_form_converts_for_the_schema():
    form = MultiDict({"x.outcome": "a", "x.flag": "false", "x.count": "7", "x.amount": "1.50", "x.short": "  ",
                      "x.day": "2026-05-01", "x.many": "nine"})
    values = read_form(SampleSchema, form, prefix="x")
    assert values == {"outcome": "a", "flag": False, "count": 7, "amount": "1.50", "day": "2026-05-01", "many": "nine"}
    errors = SampleSchema().validate(values)
    assert set(errors) == {"many"}  # only the value that is really wrong
    assert read_form(SampleSchema, MultiDict({"x.count": "seven"}), prefix="x") == {"count": "seven"}
