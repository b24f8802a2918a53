"""Control endpoints for tests (``/_control/...``): reset, settings, credentials, seeding, faults, reports."""
from __future__ import annotations

from mock_platform import control_schemas as cs
from mock_platform.context import Context
from mock_platform.endpoints.bodies import ChoiceArg, load, read_json
from mock_platform.expectations import Expectations
from mock_platform.faults import FaultConfig
from mock_platform.http import ApiError, Response, json_response
from mock_platform.ledger import content_sha256, normalise, received_report
from schemas.platform import RECORD_SCHEMAS

KIND = ChoiceArg("kind", tuple(RECORD_SCHEMAS), "Only this kind of record.")


def health(ctx: Context) -> Response:
    return json_response(200, {"status": "ok", "service": "mock_platform", "records": ctx.backend.store.count_records()})


def reset(ctx: Context) -> Response:
    ctx.backend.reset()
    return json_response(200, {"status": "reset"})


def get_settings(ctx: Context) -> Response:
    return json_response(200, ctx.backend.settings.to_json())


def patch_settings(ctx: Context) -> Response:
    changes = load(cs.SettingsPatchSchema(), read_json(ctx.request))
    ctx.backend.update_settings(changes)
    return json_response(200, ctx.backend.settings.to_json())


def add_credentials(ctx: Context) -> Response:
    data = load(cs.CredentialsSchema(), read_json(ctx.request))
    ctx.backend.add_credentials(data["access_key"], data["secret"])
    return json_response(201, {"access_key": data["access_key"]})


def seed_entities(ctx: Context) -> Response:
    data = load(cs.EntitiesSeedSchema(), read_json(ctx.request))
    for entity in data["entities"]:
        ctx.backend.store.upsert_entity(entity)
    return json_response(201, {"seeded": len(data["entities"])})


def seed_inspections(ctx: Context) -> Response:
    """Store other authorities' inspection results (all or nothing), shown by the public reads."""
    backend = ctx.backend
    data = load(cs.InspectionsSeedSchema(), read_json(ctx.request))
    normalised, errors = [], []
    for index, raw in enumerate(data["records"]):
        record, problems = normalise("inspection-results", raw, backend.today())
        normalised.append(record)
        errors.extend({**p, "field": f"records[{index}]" + (f".{p['field']}" if p["field"] else "")} for p in problems)
    if errors:
        raise ApiError(400, "invalid_request", "请求内容校验未通过", errors=errors)
    receipts = [
        backend.store.replace_seeded(
            "inspection-results", record["id"], content_sha256(record), record,
            backend.timestamp(), backend.receipt_prefix(),
        ).receipt
        for record in normalised if record is not None
    ]
    return json_response(201, {"seeded": len(receipts), "receipts": receipts})


def get_faults(ctx: Context) -> Response:
    return json_response(200, ctx.backend.faults.to_json())


def set_faults(ctx: Context) -> Response:
    config = FaultConfig.from_json(load(cs.FaultConfigSchema(), read_json(ctx.request)))
    ctx.backend.set_faults(config)
    return json_response(200, config.to_json())


def clear_faults(ctx: Context) -> Response:
    ctx.backend.set_faults(FaultConfig())
    return json_response(200, FaultConfig().to_json())


def received(ctx: Context) -> Response:
    kind = KIND.read(ctx.request)
    return json_response(200, received_report(ctx.backend.store, kind))


def request_log(ctx: Context) -> Response:
    return json_response(200, {"requests": ctx.backend.store.requests()})


def get_clock(ctx: Context) -> Response:
    return json_response(200, ctx.backend.clock.to_json())


def set_clock(ctx: Context) -> Response:
    data = load(cs.ClockSchema(), read_json(ctx.request))
    ctx.backend.clock.pin(data["now"], frozen=data["frozen"])
    return json_response(200, ctx.backend.clock.to_json())


def clear_clock(ctx: Context) -> Response:
    ctx.backend.clock.unpin()
    return json_response(200, ctx.backend.clock.to_json())


def get_expectations(ctx: Context) -> Response:
    return json_response(200, ctx.backend.expectations.report())


def set_expectations(ctx: Context) -> Response:
    ctx.backend.expectations = Expectations.from_json(load(cs.ExpectationsSchema(), read_json(ctx.request)))
    return json_response(200, ctx.backend.expectations.report())


def add_expectation(ctx: Context) -> Response:
    data = load(cs.ExpectationSchema(), read_json(ctx.request))
    ctx.backend.expectations.add(data["method"], data["path"], data["times"])
    return json_response(201, ctx.backend.expectations.report())


def clear_expectations(ctx: Context) -> Response:
    ctx.backend.expectations = Expectations()
    return json_response(200, ctx.backend.expectations.report())
