"""THE route table: every endpoint once, with what the transports and the OpenAPI document need.

The Flask app registers these rules; the in-process transport matches them with the same
werkzeug routing; :mod:`mock_platform.openapi` documents them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from marshmallow import Schema
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule

from mock_platform import control_schemas as cs
from mock_platform.endpoints import control, meta, public, records
from mock_platform.endpoints.bodies import QueryArg
from mock_platform.http import Response
from schemas.platform import (
    KIND_LABELS,
    RECORD_SCHEMAS,
    BatchResponseSchema,
    PublicDrawResultSchema,
    PublicPlanSchema,
    RecordPageSchema,
    StoredRecordSchema,
    TargetInspectionsSchema,
    batch_request_schema,
)

BODY_ERRORS = (
    (400, "invalid_json, invalid_request"),
    (415, "unsupported_media_type"),
)


@dataclass(frozen=True)
class Route:
    """One endpoint. ``tag`` is records, public, control or meta; control and meta never fail by injection."""

    name: str
    method: str
    rule: str
    handler: Callable[..., Response]
    tag: str
    summary: str
    description: str = ""
    signed: bool = False
    idempotent: bool = False
    body: Schema | type[Schema] | None = None
    ok: tuple[int, str, Schema | type[Schema] | None] = (200, "OK", None)
    errors: tuple[tuple[int, str], ...] = ()
    query: tuple[QueryArg, ...] = ()
    html: bool = False
    kind: str | None = None

    @property
    def faultable(self) -> bool:
        return self.tag in ("records", "public")


def _record_routes(kind: str) -> list[Route]:
    label = KIND_LABELS[kind]
    return [
        Route(
            f"push_{kind}", "POST", f"/api/v1/{kind}/batch", partial(records.push, kind=kind), "records",
            f"Push a batch of {kind} ({label}批量上报)",
            "Each record gets its own outcome: accepted, duplicate (same id and content), conflict "
            "(same id, other content) or rejected (field errors). The answer is HTTP 200 whatever the outcomes.",
            signed=True, idempotent=True, body=batch_request_schema(kind), kind=kind,
            ok=(200, "Per-record outcomes", BatchResponseSchema),
            errors=(
                (400, "invalid_json, invalid_batch, empty_batch, invalid_idempotency_key"),
                (413, "batch_too_large, payload_too_large"),
                (415, "unsupported_media_type"),
                (422, "idempotency_key_reused"),
            ),
        ),
        Route(
            f"list_{kind}", "GET", f"/api/v1/{kind}", partial(records.list_own, kind=kind), "records",
            f"List the sender's {kind} ({label}), oldest first",
            "For reconciliation: page through everything the platform holds from this access key.",
            signed=True, ok=(200, "One page", RecordPageSchema), errors=((400, "invalid_query"),), kind=kind,
            query=(records.AFTER, records.LIMIT),
        ),
        Route(
            f"get_{kind}", "GET", f"/api/v1/{kind}/<record_id>", partial(records.get_own, kind=kind), "records",
            f"Read one of the sender's {kind} ({label}) with its receipt",
            signed=True, ok=(200, "The stored record", StoredRecordSchema), errors=((404, "record_not_found"),), kind=kind,
        ),
    ]


ROUTES: tuple[Route, ...] = (
    *(route for kind in RECORD_SCHEMAS for route in _record_routes(kind)),
    Route(
        "public_target_inspections", "GET", "/api/v1/public/entities/<uscc>/inspections", public.target_inspections,
        "public", "A target's inspection results from every authority (抽查检查结果信息)",
        "Includes other authorities' records; the gateway uses it to exclude targets a higher level inspected this year.",
        ok=(200, "The target's inspections, newest first", TargetInspectionsSchema),
        errors=((400, "invalid_uscc, invalid_query"),),
        query=(public.YEAR,),
    ),
    Route(
        "public_plan", "GET", "/api/v1/public/plans/<path:plan_number>", public.plan, "public",
        "A published plan (抽查计划) with the draws made under it",
        ok=(200, "The latest plan published under this number", PublicPlanSchema), errors=((404, "plan_not_found"),),
    ),
    Route(
        "public_draw_result", "GET", "/api/v1/public/draw-results/<path:task_number>", public.draw_result, "public",
        "A published draw result (抽取结果)",
        ok=(200, "The latest draw result for this task", PublicDrawResultSchema),
        errors=((404, "draw_result_not_found"),),
    ),
    Route(
        "public_inspections_page", "GET", "/public/entities/<uscc>", public.inspections_page, "public",
        "The public HTML page of a target's 抽查检查结果信息 (Simplified Chinese)",
        ok=(200, "HTML page", None), errors=((400, "HTML page saying why the USCC is invalid"),), html=True,
    ),
    Route(
        "openapi", "GET", "/api/v1/openapi.json", meta.openapi_document, "meta", "This OpenAPI document",
    ),
    Route("control_health", "GET", "/_control/health", control.health, "control", "Liveness and record counts",
          ok=(200, "Up", cs.HealthSchema)),
    Route("control_reset", "POST", "/_control/reset", control.reset, "control",
          "Forget all records, entities, logs, keys and faults; restore the start-up settings and credentials"),
    Route("control_get_settings", "GET", "/_control/settings", control.get_settings, "control",
          "The current limits", ok=(200, "Settings", cs.SettingsSchema)),
    Route("control_patch_settings", "PATCH", "/_control/settings", control.patch_settings, "control",
          "Change some limits (batch size, body size, clock skew, rate limit, entity check)",
          body=cs.SettingsPatchSchema, ok=(200, "Settings", cs.SettingsSchema), errors=BODY_ERRORS),
    Route("control_add_credentials", "POST", "/_control/credentials", control.add_credentials, "control",
          "Add (or replace) an access key and secret", body=cs.CredentialsSchema, ok=(201, "Added", None),
          errors=BODY_ERRORS),
    Route("control_seed_entities", "POST", "/_control/entities", control.seed_entities, "control",
          "Add or replace market entities", body=cs.EntitiesSeedSchema, ok=(201, "Seeded", None), errors=BODY_ERRORS),
    Route("control_seed_inspections", "POST", "/_control/inspections", control.seed_inspections, "control",
          "Store other authorities' inspection results (all or nothing)", body=cs.InspectionsSeedSchema,
          ok=(201, "Seeded", None), errors=BODY_ERRORS),
    Route("control_get_faults", "GET", "/_control/faults", control.get_faults, "control",
          "The current fault configuration", ok=(200, "Faults", cs.FaultConfigSchema)),
    Route("control_set_faults", "PUT", "/_control/faults", control.set_faults, "control",
          "Replace the fault configuration and restart its schedule", body=cs.FaultConfigSchema,
          ok=(200, "Faults", cs.FaultConfigSchema), errors=BODY_ERRORS),
    Route("control_clear_faults", "DELETE", "/_control/faults", control.clear_faults, "control",
          "Stop injecting faults", ok=(200, "Faults", cs.FaultConfigSchema)),
    Route("control_get_clock", "GET", "/_control/clock", control.get_clock, "control",
          "The platform's clock", ok=(200, "Clock", cs.ClockStateSchema)),
    Route("control_set_clock", "PUT", "/_control/clock", control.set_clock, "control",
          "Pin the platform's clock (today, receipts, received_at and the signature window follow it)",
          body=cs.ClockSchema, ok=(200, "Clock", cs.ClockStateSchema), errors=BODY_ERRORS),
    Route("control_clear_clock", "DELETE", "/_control/clock", control.clear_clock, "control",
          "Back to the start-up clock", ok=(200, "Clock", cs.ClockStateSchema)),
    Route("control_get_expectations", "GET", "/_control/expectations", control.get_expectations, "control",
          "How the requests so far met the expectations", ok=(200, "Report", cs.ExpectationsReportSchema)),
    Route("control_set_expectations", "PUT", "/_control/expectations", control.set_expectations, "control",
          "Replace the expectations and their mode (strict, ordered)", body=cs.ExpectationsSchema,
          ok=(200, "Report", cs.ExpectationsReportSchema), errors=BODY_ERRORS),
    Route("control_add_expectation", "POST", "/_control/expectations", control.add_expectation, "control",
          "Add one expectation", body=cs.ExpectationSchema, ok=(201, "Report", cs.ExpectationsReportSchema),
          errors=BODY_ERRORS),
    Route("control_clear_expectations", "DELETE", "/_control/expectations", control.clear_expectations, "control",
          "Forget the expectations (and leave strict mode)", ok=(200, "Report", cs.ExpectationsReportSchema)),
    Route("control_received", "GET", "/_control/received", control.received, "control",
          "What was received, in order, with per-record counts of duplicates",
          ok=(200, "Report", cs.ReceivedSchema), errors=((400, "invalid_query"),),
          query=(control.KIND,)),
    Route("control_requests", "GET", "/_control/requests", control.request_log, "control",
          "Every non-control request, in order, with its status and injected fault",
          ok=(200, "Request log", cs.RequestLogSchema)),
)

NOT_FOUND = Route("not_found", "*", "", meta.not_found, "meta", "Unknown path")
METHOD_NOT_ALLOWED = Route("method_not_allowed", "*", "", meta.method_not_allowed, "meta", "Unknown method")
BY_NAME = {route.name: route for route in ROUTES}
URL_MAP = Map([Rule(route.rule, endpoint=route.name, methods=[route.method]) for route in ROUTES])


def allowed_methods(methods: object) -> str:
    """The ``Allow`` header for a path's methods."""
    return ", ".join(sorted(methods or ()))  # type: ignore[call-overload]


def match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for a request and its path arguments (NOT_FOUND / METHOD_NOT_ALLOWED otherwise)."""
    adapter = URL_MAP.bind("platform", "/")
    try:
        name, args = adapter.match(path, method)
    except MethodNotAllowed as error:
        return METHOD_NOT_ALLOWED, {"allowed": allowed_methods(error.valid_methods)}
    except (NotFound, RequestRedirect):
        return NOT_FOUND, {}
    return BY_NAME[str(name)], dict(args)
