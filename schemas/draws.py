"""API bodies of the draw's stages (DESIGN "The draw"): freeze, commit, seed, run, cancel."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, IdArg, PageQuerySchema, QueryArgsSchema, UtcDateTime, YearArg, page_schema
from schemas.directory import _text

PARTICIPANT_ROLES = ("organiser", "operator", "supervisor", "witness")
# Article 16's witnesses: a closed list.
WITNESS_CATEGORIES = ("市场主体代表", "行业协会代表", "纪检部门代表", "新闻媒体代表")
DRAW_STATUSES = ("frozen", "committed", "seeded", "drawn", "cancelled", "superseded")


class DrawCreateSchema(BodySchema):
    plan_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1),
                             metadata={"description": "a published plan"})


class CommitmentSchema(BodySchema):
    role = fields.String(required=True, validate=validate.OneOf(PARTICIPANT_ROLES))
    name = _text(50, required=True)
    unit = _text(100, metadata={"description": "the participant's unit (public); organiser, operator and "
                                                "supervisor; the supervisor's differs from the organiser's"})
    identity = _text(64, load_only=True, metadata={
        "description": "ID document or staff card number: required of organiser, operator and supervisor, "
                       "distinct per person; never published (kept as a keyed digest)"})
    category = fields.String(validate=validate.OneOf(WITNESS_CATEGORIES),
                             metadata={"description": "a witness's category (required of witnesses)"})
    commitment = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$", error="承诺值应为 64 位小写十六进制（SHA-256）。"),
        metadata={"description": 'sha256_hex(salt + "|" + digits)'},
    )


class CommitSchema(BodySchema):
    commitments = fields.List(fields.Nested(CommitmentSchema), required=True,
                              validate=validate.Length(min=3, max=20, error="至少需要 3 份、至多 20 份承诺。"),
                              metadata={"description": "in the order the seed joins the digits"})


class RevealSchema(BodySchema):
    role = fields.String(required=True, validate=validate.OneOf(PARTICIPANT_ROLES))
    name = _text(50, required=True)
    digits = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9]{1,100}$", error="随机数只能由 1 至 100 位数字 0–9 组成。"))
    salt = fields.String(required=True, validate=validate.Length(min=8, max=128))


class WitnessSchema(BodySchema):
    name = _text(100, required=True, metadata={"description": "e.g. 钱七"})
    category = fields.String(required=True, validate=validate.OneOf(WITNESS_CATEGORIES))


class SeedSchema(BodySchema):
    contributions = fields.List(fields.Nested(RevealSchema), required=True,
                                validate=validate.Length(min=3, max=20, error="至少需要 3 份、至多 20 份随机数。"))
    witnesses = fields.List(fields.Nested(WitnessSchema), load_default=list, validate=validate.Length(max=50))


class CancelSchema(BodySchema):
    reason = _text(2000, required=True)


class DrawStratumStatsSchema(Schema):
    key = fields.String()
    matter = fields.String()
    risk_class = fields.String()
    ratio = fields.String()
    population = fields.Integer(metadata={"description": "size of the frozen population"})
    key_targets = fields.Integer(metadata={"description": "key-inspection targets among them"})
    sample_size = fields.Integer()


class DrawSchema(Schema):
    id = fields.Integer()
    record_id = fields.String(metadata={"description": "draw_id in the public record"})
    plan = fields.Dict()
    status = fields.String(metadata={"enum": list(DRAW_STATUSES)})
    population_sha256 = fields.String()
    strata = fields.List(fields.Nested(DrawStratumStatsSchema))
    exclusions = fields.Dict(keys=fields.String(), values=fields.Integer(),
                             metadata={"description": "number of exclusions per reason code"})
    frozen_at = UtcDateTime()
    frozen_by = fields.String()
    commitments = fields.List(fields.Dict(), allow_none=True)
    committed_at = UtcDateTime(allow_none=True)
    committed_by = fields.String()
    contributions = fields.List(fields.Dict(), allow_none=True)
    participants = fields.Dict(allow_none=True)
    witnesses = fields.List(fields.Dict(), allow_none=True, metadata={"description": "[{name, category}]"})
    seed = fields.String(allow_none=True)
    seeded_at = UtcDateTime(allow_none=True)
    seeded_by = fields.String()
    drawn_at = UtcDateTime(allow_none=True)
    drawn_by = fields.String()
    task_count = fields.Integer()
    record_sha256 = fields.String(allow_none=True)
    record_url = fields.String(allow_none=True)
    cancelled_at = UtcDateTime(allow_none=True)
    cancelled_by = fields.String()
    cancel_reason = fields.String()
    superseded_by_plan = fields.Integer(allow_none=True, metadata={
        "description": "the amended plan version that replaced a seeded draw's plan"})
    would_be_selection = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), allow_none=True,
                                     metadata={"description": "a superseded draw: per stratum, the USCCs its seed selects"})


class DrawQuerySchema(PageQuerySchema):
    plan_id = IdArg()
    year = YearArg()
    status = fields.String(validate=validate.OneOf(DRAW_STATUSES))


class PopulationStratumSchema(Schema):
    key = fields.String()
    matter = fields.String()
    risk_class = fields.String()
    ratio = fields.String()
    population = fields.List(fields.String())
    key_targets = fields.List(fields.String())


class ExclusionSchema(Schema):
    uscc = fields.String()
    reason = fields.String()
    reason_label = fields.String()
    matter = fields.String(allow_none=True)


class PopulationSchema(Schema):
    draw_id = fields.Integer()
    population_sha256 = fields.String()
    frozen_at = UtcDateTime()
    strata = fields.List(fields.Nested(PopulationStratumSchema))
    exclusions = fields.List(fields.Nested(ExclusionSchema))


class InternalDrawSchema(Schema):
    draw_id = fields.Integer()
    teams_ok = fields.Boolean(metadata={"description": "the team matching re-runs to the recorded teams"})
    findings = fields.List(fields.Dict())
    tasks = fields.List(fields.Dict(), metadata={"description": "teams as drawn: names, departments, opaque ids"})
    initial_load = fields.Dict()


class DrawRecordSchema(QueryArgsSchema):
    """The public draw record, format shuangsui.draw/1 (see docs/verify-a-draw.md)."""

    format = fields.String()
    draw_id = fields.String()
    seed = fields.String()
    population_sha256 = fields.String()
    strata = fields.List(fields.Dict())
    tasks = fields.List(fields.Dict())


DrawPageSchema = page_schema(DrawSchema, "DrawPage")
