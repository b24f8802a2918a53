"""API bodies of plans (articles 11, 12): annual and joint, draft -> published, amended by version."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from schemas.common import BodySchema, PageQuerySchema, UtcDateTime, YearArg, page_schema
from schemas.directory import JURISDICTION_LEVELS, RISK_CLASSES, TARGET_TYPES, _text

PLAN_KINDS = ("annual", "joint")
PLAN_STATUSES = ("draft", "published", "superseded")


# Where a matter's minimum ratio in a plan comes from, as the plan shows it: a rule's, the county's
# default (never to be read as law), or this plan's adjustment of that default.
MIN_RATIO_SOURCES = {"rule": "规定", "county_default": "县级默认", "plan": "本计划调整"}


class RatioField(fields.Field):
    """A sampling ratio between 0 and 1 as an exact decimal; sent and returned as a string
    (``"0.05"``); a JSON number is accepted and read through its decimal text."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update(
            {"type": "string", "pattern": r"^(0(\.\d{1,6})?|1(\.0{1,6})?)$", "example": "0.05"}
        )
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError("抽查比例应为 0 到 1 之间的小数，例如 \"0.05\"。")
        try:
            ratio = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError("抽查比例应为 0 到 1 之间的小数，例如 \"0.05\"。") from None
        if not ratio.is_finite() or not Decimal(0) <= ratio <= Decimal(1):
            raise ValidationError("抽查比例必须在 0 到 1 之间。")
        if ratio.as_tuple().exponent < -6:
            raise ValidationError("抽查比例最多保留 6 位小数。")
        return format(ratio.normalize(), "f") if ratio else "0"

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class RatiosSchema(BodySchema):
    """Sampling ratio per credit-risk class (A lowest risk … D highest); each stratum uses the larger
    of this and the matter's minimum ratio."""

    A = RatioField(required=True)
    B = RatioField(required=True)
    C = RatioField(required=True)
    D = RatioField(required=True)


class ScopeSchema(BodySchema):
    """Which part of the target directory the plan covers (empty list: no restriction)."""

    townships = fields.List(_text(50, required=True), load_default=list, validate=validate.Length(max=100))
    target_types = fields.List(fields.String(validate=validate.OneOf(TARGET_TYPES)), load_default=list)
    levels = fields.List(fields.String(validate=validate.OneOf(JURISDICTION_LEVELS)), load_default=list)


class KeyRuleSchema(BodySchema):
    """Key-inspection (重点抽查) targets: they bypass the yearly cap of two, are counted apart and are
    drawn in their own stratum per matter, all of them unless ``ratios`` names a higher share."""

    risk_classes = fields.List(fields.String(validate=validate.OneOf(RISK_CLASSES)), load_default=lambda: ["D"])
    abnormal_list = fields.Boolean(load_default=True)
    serious_violation_list = fields.Boolean(load_default=True)
    min_complaints = fields.Integer(load_default=3, allow_none=True, strict=True,
                                    validate=validate.Range(min=1, max=100_000))
    ratios = fields.Dict(keys=fields.String(), values=RatioField(), load_default=dict, metadata={
        "description": "matter code -> share of its key targets drawn (article 15/28: key targets are "
                       "inspected apart, in the stratum <matter>:key); a matter not named draws all of them"})


def _unique(values):
    if len(set(values)) != len(values):
        raise ValidationError("列表中有重复项。")


class PlanCreateSchema(BodySchema):
    kind = fields.String(required=True, validate=validate.OneOf(PLAN_KINDS),
                         metadata={"description": "annual (one department) or joint (several)"})
    year = YearArg(required=True, strict=True)
    title = _text(300, required=True)
    lead_department = fields.String(required=True, validate=validate.Length(min=1, max=64))
    cooperating_departments = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                                          load_default=list, validate=_unique)
    matters = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                          validate=[validate.Length(min=1, max=100), _unique],
                          metadata={"description": "matter codes; each is pinned to its current version"})
    scope = fields.Nested(ScopeSchema, load_default=dict)
    ratios = fields.Nested(RatiosSchema, required=True)
    key_rule = fields.Nested(KeyRuleSchema, load_default=dict)
    min_ratios = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)), values=RatioField(),
                             load_default=dict, metadata={
                                 "description": "matter code -> this plan's minimum ratio, for a matter whose "
                                                "minimum is a county default (县级默认); shown as 本计划调整"})
    frequency = _text(100, required=True)
    window_start = fields.Date(required=True)
    window_end = fields.Date(required=True)
    description = _text(4000)
    site_visit_reasons = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)), values=_text(500, required=True),
        load_default=dict, metadata={
            "description": "matter code -> why the plan visits the site for a matter its plugin marks as "
                           "checkable by written check or data comparison (non_site_methods); public"})

    @validates_schema(skip_on_field_errors=True)
    def _window(self, data, **kwargs):
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and end < start:
            raise ValidationError("检查结束日期不能早于开始日期。", "window_end")


class PlanUpdateSchema(PlanCreateSchema):
    """Changes to a draft: any field of the plan."""

    def __init__(self, *args, **kwargs):
        # Top-level fields are optional; a nested object that is sent (ratios …) must be whole.
        kwargs.setdefault("partial", tuple(PlanCreateSchema._declared_fields))
        super().__init__(*args, **kwargs)


class PlanAmendSchema(PlanCreateSchema):
    """A new version of a published plan: the reason (required), and what changes."""

    reason = _text(2000, required=True)

    class Meta:
        unknown = RAISE
        exclude = ("kind", "year", "lead_department")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", tuple(n for n in PlanCreateSchema._declared_fields if n != "reason"))
        super().__init__(*args, **kwargs)


class PlanMatterSchema(Schema):
    code = fields.String()
    name = fields.String()
    field = fields.String()
    version = fields.String()
    matter_version_id = fields.Integer()
    department = fields.String()
    cooperating_departments = fields.List(fields.String())
    min_ratio = fields.String()
    min_ratio_source = fields.String(metadata={
        "enum": list(MIN_RATIO_SOURCES), "description": "rule (规定), county_default (县级默认) or plan (本计划调整)"})
    min_ratio_label = fields.String()
    non_site_methods = fields.List(fields.String(), metadata={
        "description": "书面检查/信息比对 methods that suffice for this matter (empty: a site visit is needed)"})
    site_visit = fields.Boolean(metadata={
        "description": "the plan visits the site for this matter (always, when non_site_methods is empty)"})
    site_visit_reason = fields.String(metadata={"description": "why, for a matter that could be checked off site"})


class PlanFilingSchema(BodySchema):
    """The plan's filing (备案) with the county justice bureau, as the bureau's receipt gives it."""

    filing_number = _text(100, required=True, metadata={"description": "the justice bureau's filing number, e.g. 武司备〔2026〕12号"})
    filed_on = fields.Date(required=True, metadata={"description": "the date of filing"})


class PlanFilingViewSchema(PlanFilingSchema):
    filed_by = fields.String()
    filed_at = UtcDateTime()


class PlanStratumSchema(Schema):
    key = fields.String()
    matter = fields.String()
    risk_class = fields.String()
    plan_ratio = fields.String()
    min_ratio = fields.String()
    ratio = fields.String(metadata={"description": "max(plan ratio, matter minimum)"})


class PlanSchema(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"description": "e.g. 武陟联抽〔2026〕3号"})
    version = fields.Integer()
    kind = fields.String()
    year = fields.Integer()
    title = fields.String()
    status = fields.String(metadata={"enum": list(PLAN_STATUSES)})
    lead_department = fields.String()
    cooperating_departments = fields.List(fields.String())
    departments = fields.Dict(metadata={"description": "code -> name of every department involved"})
    matters = fields.List(fields.Nested(PlanMatterSchema))
    scope = fields.Nested(ScopeSchema)
    ratios = fields.Dict(keys=fields.String(), values=fields.String())
    strata = fields.List(fields.Nested(PlanStratumSchema))
    key_rule = fields.Nested(KeyRuleSchema)
    min_ratios = fields.Dict(keys=fields.String(), values=fields.String())
    frequency = fields.String()
    window_start = fields.Date()
    window_end = fields.Date()
    description = fields.String()
    published_at = UtcDateTime(allow_none=True)
    published_by = fields.String()
    published_late = fields.Boolean(metadata={"description": "published after 31 March of its year (article 11)"})
    amends_id = fields.Integer(allow_none=True)
    amend_reason = fields.String()
    superseded_by_id = fields.Integer(allow_none=True)
    created_by = fields.String()
    created_at = UtcDateTime()
    draw = fields.Dict(allow_none=True, metadata={"description": "the plan's draw (id, status), if any"})
    site_visit_reasons = fields.Dict(keys=fields.String(), values=fields.String())
    filing = fields.Nested(PlanFilingViewSchema, allow_none=True,
                           metadata={"description": "the filing (备案) with the county justice bureau, if recorded"})
    warnings = fields.List(fields.String())


class PlanQuerySchema(PageQuerySchema):
    year = YearArg()
    kind = fields.String(validate=validate.OneOf(PLAN_KINDS))
    status = fields.String(validate=validate.OneOf(PLAN_STATUSES))
    department = fields.String(validate=validate.Length(max=64))


PlanPageSchema = page_schema(PlanSchema, "PlanPage")
