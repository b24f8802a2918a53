"""What a department plugin contributes: plain, frozen data checked at start-up.

The engine never hard-codes a department; everything department-specific arrives
through these types (datasette-style registered contributions).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

JURISDICTION_LEVELS = ("county", "city", "province", "national")
LEVEL_RANK = {level: rank for rank, level in enumerate(JURISDICTION_LEVELS)}

TARGET_TYPES = ("enterprise", "individual_business", "farmer_cooperative", "other_unit")

# Value kinds a check item can take; the engine turns each into a marshmallow field.
VALUE_KINDS = ("outcome", "boolean", "integer", "decimal", "text", "choice")

# Methods that check a matter without visiting the site (2025 rules: 书面检查、信息比对 first).
NON_SITE_METHODS = ("书面检查", "信息比对")

# What of a matter a county may set where no rule does (Matter.county_defaults), and how it is shown.
COUNTY_DEFAULTABLE = {"min_ratio": "最低抽查比例", "frequency": "抽查频次", "criteria": "检查对象条件"}


@dataclass(frozen=True)
class Department:
    """A law-enforcement department (行政执法机关)."""

    code: str
    name: str
    level: str = "county"
    parent_code: str | None = None
    short_name: str = ""
    # The registration authority (登记机关, market supervision in a county): it keeps the master
    # data that decides who may be drawn (status, active, risk class, list membership) and decides
    # listings. At most one installed department may say so (checked at start-up).
    registration_authority: bool = False

    def __post_init__(self) -> None:
        if self.level not in JURISDICTION_LEVELS:
            raise ValueError(f"department {self.code}: unknown jurisdiction level {self.level!r}")


@dataclass(frozen=True)
class CheckItem:
    """One check item (检查项) of a matter.

    ``department_code`` is who brings it: the matter's lead department, or a
    cooperating department adding its own item to another department's matter.
    ``kind`` is one of VALUE_KINDS; ``choices`` applies to ``choice``.
    Left empty, ``matter_code``, ``department_code`` and ``order`` are filled in by the
    :class:`Matter` that lists the item, or by :func:`items_for`.
    """

    code: str
    matter_code: str = ""
    department_code: str = ""
    name: str = ""
    content: str = ""
    legal_basis: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    kind: str = "outcome"
    choices: tuple[str, ...] = ()
    required: bool = True
    help_text: str = ""
    order: int = 0
    # Bounds of an ``integer`` or ``decimal`` value, inclusive; None leaves that side open (an
    # integer is never below 0).
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    # True for an item the plugin adds beyond the text of the joint matter list (the appendix of
    # the county's rules): shown as such, so that nobody reads it as the list's own wording.
    beyond_appendix: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError(f"check item {self.code}: name is required")
        if self.kind not in VALUE_KINDS:
            raise ValueError(f"check item {self.code}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"check item {self.code}: kind 'choice' needs choices")
        self._check_bounds()

    def _check_bounds(self) -> None:
        for name in ("minimum", "maximum"):
            value = getattr(self, name)
            if value is None:
                continue
            if self.kind not in ("integer", "decimal"):
                raise ValueError(f"check item {self.code}: {name} applies to integer and decimal items only")
            if not isinstance(value, Decimal):
                object.__setattr__(self, name, Decimal(str(value)))
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"check item {self.code}: minimum {self.minimum} is above maximum {self.maximum}")


@dataclass(frozen=True)
class TargetCriteria:
    """Which targets a matter applies to, as data the engine compiles to SQL.

    Every non-empty condition must hold: the target's type is one of
    ``target_types``; it holds at least one of ``required_licences``; its business
    scope contains at least one of ``scope_keywords``.
    """

    target_types: tuple[str, ...] = ()
    required_licences: tuple[str, ...] = ()
    scope_keywords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for t in self.target_types:
            if t not in TARGET_TYPES:
                raise ValueError(f"unknown target type {t!r}")


@dataclass(frozen=True)
class Matter:
    """An inspection matter (抽查事项) that a department leads.

    ``min_ratio`` is the department's minimum yearly sampling ratio (article 15),
    a Decimal in (0, 1]. ``check_items`` are the lead department's own items (see
    :func:`items_for` for what is filled in); cooperating departments add theirs through
    ``gateway_check_items``.

    ``appendix_text`` is the matter's 抽查事项 cell of the joint matter list, word for word.
    ``county_defaults`` names what no rule gives and the county chose (of ``min_ratio``,
    ``frequency``, ``criteria``): shown as the county's defaults, which a plan may change — not as law.
    ``non_site_methods`` are the methods of NON_SITE_METHODS (among ``methods``) by which the whole
    matter may be checked without a visit, where the legal basis allows it; a plan that still visits
    the site for it states why, publicly. Empty: the matter needs a site visit.
    """

    code: str
    field: str
    name: str
    department_code: str
    check_items: tuple[CheckItem, ...]
    legal_basis: tuple[str, ...]
    min_ratio: Decimal
    frequency: str
    methods: tuple[str, ...]
    criteria: TargetCriteria = field(default_factory=TargetCriteria)
    target_description: str = ""
    version: str = "1"
    appendix_text: str = ""
    county_defaults: tuple[str, ...] = ()
    non_site_methods: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        wrong = [m for m in self.non_site_methods if m not in NON_SITE_METHODS or m not in self.methods]
        if wrong:
            raise ValueError(f"matter {self.code}: non_site_methods {wrong} must be among {NON_SITE_METHODS} "
                             "and among the matter's methods")
        unknown = [name for name in self.county_defaults if name not in COUNTY_DEFAULTABLE]
        if unknown:
            raise ValueError(f"matter {self.code}: county_defaults names unknown attributes {unknown}")
        if not isinstance(self.min_ratio, Decimal):
            object.__setattr__(self, "min_ratio", Decimal(str(self.min_ratio)))
        if not (Decimal(0) < self.min_ratio <= Decimal(1)):
            raise ValueError(f"matter {self.code}: min_ratio must be in (0, 1]")
        object.__setattr__(self, "check_items", items_for(self.code, self.department_code, *self.check_items))


def items_for(matter_code: str, department_code: str, *items: CheckItem) -> tuple[CheckItem, ...]:
    """``items`` as brought by ``department_code`` to ``matter_code``: an empty matter or department
    is filled in, and an unset ``order`` becomes the item's position (from 1). An item naming
    another matter is refused."""
    out = []
    for position, item in enumerate(items, start=1):
        if item.matter_code and item.matter_code != matter_code:
            raise ValueError(f"matter {matter_code}: check item {item.code} names matter {item.matter_code}")
        out.append(replace(
            item,
            matter_code=matter_code,
            department_code=item.department_code or department_code,
            order=item.order or position,
        ))
    return tuple(out)
