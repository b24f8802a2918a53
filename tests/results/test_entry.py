"""Result entry: the merged checklist, every invalid field named at once, nothing half-stored,
article 18's signature or refusal, codes from the SAMR table, methods, dates, plugin hooks."""
from __future__ import annotations

from datetime import date

import pytest
from marshmallow import fields, validate
from sqlalchemy import func, select

from gateway.api.errors import status_of
from gateway.core import Gateway
from gateway.errors import DomainError
from gateway.plugins import CheckItem, Department, hookimpl
from gateway.results import service
from gateway.results.checklist import ChecklistError, merged_checklist
from gateway.results.models import InspectionResult
from gateway.security.audit import AuditEntry
from gateway.tasks.models import Task
from schemas.checklist import BaseChecklistSchema


def _record(world, task_key, body, principal=None, today=None):
    principal = principal or world.inspector({"oil": "c1", "lab": "m2", "seed": "a1"}[task_key])
    with world.gateway.write() as session:
        return service.record_result(world.gateway, session, principal, world.tasks[task_key], body,
                                     today=today or world.today)


def _refused(world, task_key, body, **kw) -> DomainError:
    with pytest.raises(DomainError) as caught:
        _record(world, task_key, body, **kw)
    return caught.value


def _counts(world):
    with world.gateway.read() as session:
        return (session.scalar(select(func.count(InspectionResult.id))),
                session.scalar(select(func.count(AuditEntry.id))))


# --- the merged checklist ------------------------------------------------------------------------


def test_merged_checklist_has_lead_schema_then_cooperating_items(tmp_path):
    gateway = _gateway_with(tmp_path, None)
    checklist = merged_checklist(gateway.plugin_manager, gateway.registry, "refined_oil")
    described = checklist.describe()
    codes = [f["code"] for f in described["fields"]]
    # the commerce plugin's schema declares its nine items; market's four are merged in after them
    assert codes[:9] == ["oil_licence", "oil_operating_conditions", "oil_certificate_transfer",
                         "oil_unlicensed_construction", "oil_invoices_records", "oil_internal_rules",
                         "oil_fuel_upgrade", "oil_business_type", "oil_problem_description"]
    assert set(codes[9:]) == {"mkt_oil_registration", "mkt_oil_publicity", "mkt_oil_quality", "mkt_oil_metering"}
    by_code = {f["code"]: f for f in described["fields"]}
    assert by_code["mkt_oil_quality"]["department_code"] == "market"
    assert by_code["mkt_oil_quality"]["required"] is True
    assert by_code["oil_problem_description"]["required"] is False
    assert by_code["oil_business_type"]["choices"] == {"零售": "零售", "批发": "批发", "仓储": "仓储"}
    assert issubclass(checklist.schema_class, BaseChecklistSchema)
    gateway.dispose()


class TaxPlugin:
    """A cooperating department whose plugin gives its own marshmallow field for its item."""

    @hookimpl
    def gateway_department(self):
        return Department(code="tax", name="国家税务总局武陟县税务局", level="county")

    @hookimpl
    def gateway_check_items(self):
        return [CheckItem(code="tax_invoice_count", matter_code="refined_oil", department_code="tax",
                          name="抽查发票份数", kind="integer")]

    @hookimpl
    def gateway_checklist_fields(self, matter_code):
        if matter_code == "refined_oil":
            return {"tax_invoice_count": fields.Integer(required=True, strict=True, validate=validate.Range(min=5),
                                                        metadata={"label": "抽查发票份数（不少于5份）"})}
        return None


class GreedyPlugin(TaxPlugin):
    """Gives a field for an item another department brings: refused."""

    @hookimpl
    def gateway_checklist_fields(self, matter_code):
        return {"mkt_oil_quality": fields.String()} if matter_code == "refined_oil" else None


def _gateway_with(tmp_path, plugin):
    """The installed plugins (plus ``plugin``) without a database: checklists need none."""
    from gateway.config import Settings

    settings = Settings(instance_path=tmp_path, database_url="sqlite://", secret_key="x")
    return Gateway.create(settings, extra_plugins=[("tax", plugin)] if plugin else [])


def test_a_cooperating_plugins_own_field_replaces_the_derived_one(tmp_path):
    gateway = _gateway_with(tmp_path, TaxPlugin())
    checklist = merged_checklist(gateway.plugin_manager, gateway.registry, "refined_oil")
    values = {**dict.fromkeys([i.code for i in checklist.items if i.kind == "outcome"], "compliant"),
              "oil_business_type": "零售", "tax_invoice_count": 2}
    _, errors, _ = checklist.load(values)
    # the derived field would accept 2 (Range min=0); the tax plugin's own field wants at least 5
    assert list(errors) == ["tax_invoice_count"]
    loaded, errors, dumped = checklist.load({**values, "tax_invoice_count": 8})
    assert errors == {} and dumped["tax_invoice_count"] == 8
    gateway.dispose()


def test_a_plugin_cannot_give_fields_for_another_departments_item(tmp_path):
    gateway = _gateway_with(tmp_path, GreedyPlugin())
    with pytest.raises(ChecklistError, match="mkt_oil_quality"):
        merged_checklist(gateway.plugin_manager, gateway.registry, "refined_oil")
    gateway.dispose()


# --- recording -------------------------------------------------------------------------------------


def _pin_an_older_refined_oil(world) -> list[str]:
    """As if the commerce plugin changed the matter after the plan was published: the plan's
    pinned version has one item the installed plugin dropped and lacks one it added. Returns the
    pinned version's item codes."""
    from gateway.directory.matters import content_sha256
    from gateway.directory.models import MatterVersion
    from gateway.planning.models import PlanMatter

    with world.gateway.write() as session:
        pinned = session.scalars(select(PlanMatter).where(PlanMatter.matter_code == "refined_oil")).one()
        current = session.get(MatterVersion, pinned.matter_version_id)
        content = dict(current.content, version="2024-01")
        items = [dict(item) for item in content["check_items"] if item["code"] != "oil_fuel_upgrade"]
        items.append(dict(items[0], code="oil_old_storage_rule", name="储油设施旧规检查", kind="outcome",
                          choices=[], required=True))
        content["check_items"] = items
        older = MatterVersion(code="refined_oil", version="2024-01", department_code=current.department_code,
                              name=current.name, content_sha256=content_sha256(content), content=content, current=False)
        session.add(older)
        session.flush()
        pinned.matter_version_id = older.id
        return [item["code"] for item in items]


def test_a_task_is_checked_against_the_matter_version_its_plan_pinned(world):
    pinned_items = _pin_an_older_refined_oil(world)
    with world.gateway.read() as session:
        described = service.task_checklist(world.gateway, session, world.head("commerce"), world.tasks["oil"])
    [matter] = described.matters
    assert [f["code"] for f in matter["fields"]] == pinned_items
    assert "oil_old_storage_rule" in pinned_items and "oil_fuel_upgrade" not in pinned_items

    error = _refused(world, "oil", world.body("oil"))  # filled in against the plugin's current items
    assert "checklists.refined_oil.oil_old_storage_rule" in error.errors
    assert "checklists.refined_oil.oil_fuel_upgrade" in error.errors  # not an item of the pinned version

    body = world.body("oil")
    body["checklists"]["refined_oil"] = {code: "compliant" for code in pinned_items}
    for f in matter["fields"]:
        if f["kind"] == "choice":
            body["checklists"]["refined_oil"][f["code"]] = next(iter(f["choices"]))
    stored = _record(world, "oil", body)
    with world.gateway.read() as session:
        assert set(session.get(InspectionResult, stored.id).checklists["refined_oil"]) == set(pinned_items)


def test_a_valid_result_is_stored_with_its_deadline_recorder_and_audit(world):
    result = _record(world, "oil", world.body("oil"))
    with world.gateway.read() as session:
        stored = session.get(InspectionResult, result.id)
        assert stored.status == "recorded" and stored.version == 1
        assert stored.checklists == {"refined_oil": world.oil_values}
        assert stored.result_codes == ["1"] and stored.has_problems is False
        assert stored.methods == ["实地核查", "书面检查"]
        # article 19: 2026-09-30 + 20 working days across National Day and the make-up Saturday
        assert (stored.deadline, stored.deadline_provisional) == (date(2026, 11, 3), False)
        assert stored.signature_status == "signed" and stored.signer_name == "周建华"
        assert stored.recorded_by_inspector_id == world.inspectors["c1"]
        assert stored.recorded_by.endswith(world.names["c1"])
        assert session.get(Task, world.tasks["oil"]).status == "recorded"
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.action, entry.entity_id) == ("results.record", str(result.id))


def test_missing_item_wrong_type_and_no_signature_name_every_field_and_store_nothing(world):
    before = _counts(world)
    body = world.body("oil")
    del body["checklists"]["refined_oil"]["oil_licence"]            # a missing check item
    body["checklists"]["refined_oil"]["mkt_oil_quality"] = 3        # wrong type (market's merged item)
    body["checklists"]["refined_oil"]["oil_business_type"] = "走私"  # not one of the choices
    del body["signature"]                                            # neither signature nor refusal
    body["completed_on"] = "三十日"                                   # not a date
    error = _refused(world, "oil", body)
    assert status_of(error) == 422 and error.code == "result_invalid"
    assert set(error.errors) == {
        "checklists.refined_oil.oil_licence",
        "checklists.refined_oil.mkt_oil_quality",
        "checklists.refined_oil.oil_business_type",
        "signature",
        "completed_on",
    }
    assert "第十八条" in error.errors["signature"][0]
    assert _counts(world) == before


def test_a_missing_matter_names_each_of_its_fields_and_unknown_ones_are_refused(world):
    body = world.body("oil")
    body["checklists"] = {"work_safety": {}}
    body["checklists"]["crop_seed"] = {"seed_licence": "compliant"}
    error = _refused(world, "oil", body)
    assert "checklists.work_safety" in error.errors and "checklists.crop_seed" in error.errors
    required = {f"checklists.refined_oil.{code}" for code in world.oil_values}
    assert required <= set(error.errors)
    unknown = dict(world.body("oil"))
    unknown["checklists"]["refined_oil"]["oil_colour"] = "compliant"
    assert "checklists.refined_oil.oil_colour" in _refused(world, "oil", unknown).errors


def test_signature_or_refusal_with_note(world):
    body = world.body("oil", signature={"status": "signed"})
    assert set(_refused(world, "oil", body).errors) == {"signature.signer_name"}
    body = world.body("oil", signature={"status": "refused"})
    assert set(_refused(world, "oil", body).errors) == {"signature.refusal_note"}
    body = world.body("oil", signature={"status": "maybe"})
    assert set(_refused(world, "oil", body).errors) == {"signature.status"}
    refused = _record(world, "oil", world.body("oil", signature={
        "status": "refused", "refusal_note": "负责人拒绝在检查表上签字，已由两名检查人员在场见证并录像。",
        "signer_name": "不应保存"}))
    with world.gateway.read() as session:
        stored = session.get(InspectionResult, refused.id)
        assert (stored.signature_status, stored.signer_name) == ("refused", "")
        assert "拒绝" in stored.refusal_note


def test_plugin_validation_and_code_agreement(world):
    body = world.body("oil", result_codes=["1"])
    body["checklists"]["refined_oil"]["mkt_oil_quality"] = "non_compliant"   # market's item fails
    error = _refused(world, "oil", body)
    # the commerce plugin's hook wants a description for a failed item, also a cooperating one's
    assert error.errors["checklists.refined_oil.oil_problem_description"]
    # a failed item with the code 未发现问题 contradicts itself
    assert "result_codes" in error.errors
    body["checklists"]["refined_oil"]["oil_licence"] = "not_applicable"
    assert "checklists.refined_oil.oil_licence" in _refused(world, "oil", body).errors

    body = world.body("oil", result_codes=["A", "D"])
    body["checklists"]["refined_oil"]["mkt_oil_quality"] = "non_compliant"
    body["checklists"]["refined_oil"]["oil_problem_description"] = "抽检92号汽油辛烷值不合格。"
    result = _record(world, "oil", body)
    assert result.has_problems and result.requires_follow_up


def test_environment_hook_runs_on_the_lab_checklist(world):
    body = world.body("lab")
    body["checklists"]["testing_bodies"]["tb_body_category"] = "机动车检验"
    error = _refused(world, "lab", body)
    # not an environmental monitoring body: environment's items must be 不涉及
    assert {k for k in error.errors if k.startswith("checklists.testing_bodies.env_")} == {
        "checklists.testing_bodies.env_monitoring_standards", "checklists.testing_bodies.env_monitoring_equipment",
        "checklists.testing_bodies.env_quality_control", "checklists.testing_bodies.env_data_authenticity",
    }


def test_result_codes_methods_and_completion_date(world):
    # codes follow the SAMR table's rules
    assert set(_refused(world, "oil", world.body("oil", result_codes=["1", "E"])).errors) == {"result_codes"}
    assert set(_refused(world, "oil", world.body("oil", result_codes=["Q"])).errors) == {"result_codes.0"}
    error = _refused(world, "oil", world.body("oil", result_codes=["B"]))
    assert "A" in error.errors["result_codes"][0]  # a sub-code needs its parent
    assert set(_refused(world, "oil", world.body("oil", result_codes=[])).errors) == {"result_codes"}

    # methods come from the task's matters and their items
    error = _refused(world, "lab", world.body("lab", methods=["实地核查", "抽样检验", "实地核查"]))
    # 抽样检验 is not a method of the testing-bodies matter nor of any of its items
    assert set(error.errors) == {"methods.1", "methods.2"}
    assert "抽样检验" in error.errors["methods.1"][0]

    # the completion date: not in the future, not before the window opens; after it closes is late
    error = _refused(world, "oil", world.body("oil", completed_on="2026-10-21"))
    assert "不能晚于今天" in error.errors["completed_on"][0]
    error = _refused(world, "oil", world.body("oil", completed_on="2026-03-31"))
    assert "开始日" in error.errors["completed_on"][0]
    # on refined oil 抽样检验 is allowed: market's cooperating quality item brings it
    late = _record(world, "oil", world.body("oil", completed_on="2026-11-02", methods=["抽样检验"]),
                   today=date(2026, 11, 5))
    assert late.completed_late is True


def test_only_the_tasks_team_records(world):
    body = world.body("oil")
    for principal in (world.inspector("c2"), world.inspector("a1"), world.head("commerce"), world.office):
        error = _refused(world, "oil", body, principal=principal)
        assert status_of(error) == 403
    from gateway.security.principal import PUBLIC

    assert status_of(_refused(world, "oil", body, principal=PUBLIC)) == 401
    # the cooperating department's inspector on the team fills its own items only (article 5)
    error = _refused(world, "oil", body, principal=world.inspector("m1"))
    assert (status_of(error), error.code) == (403, "lead_records_result")
    _record(world, "oil", body)


def test_a_second_first_version_is_refused(world):
    first = _record(world, "oil", world.body("oil"))
    error = _refused(world, "oil", world.body("oil"))
    assert (status_of(error), error.code, error.details["result_id"]) == (409, "result_exists", first.id)


class Spy:
    def __init__(self):
        self.recorded, self.violations = [], []

    @hookimpl
    def gateway_result_recorded(self, matter_code, result):
        self.recorded.append((matter_code, result["id"], tuple(result["result_codes"])))

    @hookimpl
    def gateway_violation_found(self, matter_code, result):
        self.violations.append((matter_code, result["id"]))


class Broken:
    @hookimpl
    def gateway_result_recorded(self, matter_code, result):
        raise RuntimeError("plugin down")


@pytest.fixture
def spy_world(settings, build_world_fn):
    spy = Spy()
    gateway = Gateway.create(settings, extra_plugins=[("spy", spy), ("broken", Broken())])
    gateway.sync_registry()
    yield build_world_fn(gateway), spy
    gateway.dispose()


def test_hooks_are_called_after_storing_and_a_failing_one_does_not_undo_it(spy_world, caplog):
    world, spy = spy_world
    clean = service.store_and_notify(
        world.gateway, world.inspector("c1"), world.today,
        lambda g, s, p, today: service.record_result(g, s, p, world.tasks["oil"], world.body("oil"), today=today),
    )
    assert spy.recorded == [("refined_oil", clean["id"], ("1",))] and spy.violations == []
    assert "plugin down" in caplog.text

    body = world.body("lab", result_codes=["E"])
    body["checklists"]["testing_bodies"]["tb_records"] = "non_compliant"
    body["checklists"]["testing_bodies"]["tb_problem_description"] = "原始记录缺失，已责令当场改正。"
    found = service.store_and_notify(
        world.gateway, world.inspector("m2"), world.today,
        lambda g, s, p, today: service.record_result(g, s, p, world.tasks["lab"], body, today=today),
    )
    assert spy.violations == [("testing_bodies", found["id"])]
    with world.gateway.read() as session:
        assert session.scalar(select(func.count(InspectionResult.id))) == 2
