"""Who may be drawn (article 15), as pure rules the freeze applies to every candidate target.

- A target whose registration is closed, deregistered, revoked, cancelled, moved out or in
  liquidation is left out of every matter (``deregistered_or_closed``); one taken out of the
  directory's active population is left out as ``criteria_not_met``.
- A target related to a matter (it holds one of the matter's licences, or, for a matter that asks
  for no licence, has one of its business-scope keywords) that does not meet all the matter's
  criteria is left out of that matter (``criteria_not_met``).
- A target a higher-level authority inspected this year is left out of the matters that inspection
  covers (``higher_level_inspected``).
- A target already inspected twice this year outside key inspection is left out
  (``cap_reached``), unless it is a key-inspection target under the plan's :class:`KeyRule`: those
  bypass the cap, and their inspections are counted apart (they never count toward the cap).
- A target at one of the yearly caps the county office published (2025 rules: 国办发〔2024〕54号;
  :class:`YearCaps`, counted from the ledger over every channel that is not exempt) is left out
  (``inspection_cap_reached``): of every matter when its total reached the total cap, else of the
  matters whose department reached the per-department cap. Key targets are not excluded for the
  caps when the caps say so (``key_targets_exempt``, the default).
- Key targets are inspected as article 15/28 asks (应当实施重点抽查): they leave their risk-class
  stratum and form one stratum per matter, ``<matter>:key``, drawn at the plan's key ratio for that
  matter (:meth:`KeyRule.ratio`; all of them unless the plan states a ratio).

Pure: no Flask, no database.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Collection, Iterable, Mapping

from gateway.draw.record import Exclusion

YEARLY_CAP = 2
"""At most this many non-key inspections of one target per year, across all plans (article 15)."""

INACTIVE_STATUSES = frozenset(("closed", "liquidating", "deregistered", "revoked", "cancelled", "moved_out"))
LEVEL_RANK = {"county": 0, "city": 1, "province": 2, "national": 3}
ALL_MATTERS = "*"

KEY_RATIO = "1"
"""Key targets are all inspected unless the plan states a ratio for the matter."""
KEY_STRATUM = "key"
"""The suffix of a matter's key-target stratum key: ``<matter>:key``."""

KEY_REASON_LABELS = {
    "risk_class": "信用风险分类较高",
    "abnormal_list": "列入经营异常名录",
    "serious_violation_list": "列入严重违法失信名单",
    "complaints": "投诉举报多",
}


@dataclass(frozen=True)
class KeyRule:
    """Which targets get key inspection (重点抽查), as the plan sets it.

    A target is a key-inspection target when its credit-risk class is in ``risk_classes``, or it is
    on the abnormal-operation list (if ``abnormal_list``), or on the serious-violation list (if
    ``serious_violation_list``), or it has at least ``min_complaints`` complaints (None: complaints
    alone never make a key target).

    ``ratios`` maps a matter code to the share of its key targets drawn (a decimal string); a
    matter not named draws all of them (:data:`KEY_RATIO`).
    """

    risk_classes: tuple[str, ...] = ("D",)
    abnormal_list: bool = True
    serious_violation_list: bool = True
    min_complaints: int | None = 3
    ratios: Mapping[str, str] = field(default_factory=dict)

    def ratio(self, matter: str) -> Decimal:
        """The share of ``matter``'s key targets the plan draws."""
        return Decimal(str(self.ratios.get(matter, KEY_RATIO)))

    def reasons(self, risk_class: str, abnormal: bool, serious: bool, complaints: int) -> list[str]:
        """The codes of :data:`KEY_REASON_LABELS` that make a target a key target (empty: not key)."""
        found = []
        if risk_class in self.risk_classes:
            found.append("risk_class")
        if self.abnormal_list and abnormal:
            found.append("abnormal_list")
        if self.serious_violation_list and serious:
            found.append("serious_violation_list")
        if self.min_complaints is not None and complaints >= self.min_complaints:
            found.append("complaints")
        return found

    def is_key(self, risk_class: str, abnormal: bool, serious: bool, complaints: int) -> bool:
        return bool(self.reasons(risk_class, abnormal, serious, complaints))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["risk_classes"] = list(self.risk_classes)
        data["ratios"] = dict(self.ratios)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "KeyRule":
        data = dict(data or {})
        if "risk_classes" in data:
            data["risk_classes"] = tuple(data["risk_classes"])
        if "ratios" in data:
            data["ratios"] = {str(k): str(v) for k, v in dict(data["ratios"] or {}).items()}
        known = {"risk_classes", "abnormal_list", "serious_violation_list", "min_complaints", "ratios"}
        return cls(**{k: v for k, v in data.items() if k in known})


CAPS_REASON = "inspection_cap_reached"
"""The exclusion reason of a target at one of the county's yearly caps (:class:`YearCaps`)."""


@dataclass(frozen=True)
class YearCaps:
    """The county office's caps for a year as the freeze applies them: at most ``per_department``
    counted inspections of one target by one department and ``total`` by all departments."""

    per_department: int
    total: int
    key_targets_exempt: bool = True

    def applies(self, key: bool) -> bool:
        """Whether the caps can exclude a target (key targets only if they are not exempt)."""
        return not (key and self.key_targets_exempt)

    def barred(self, total: int, by_department: Mapping[str, int],
               matter_departments: Mapping[str, str]) -> tuple[bool, frozenset[str]]:
        """(the total cap is reached, the matters whose department reached the per-department cap)."""
        return self.barred_by(total >= self.total,
                              {d for d, n in by_department.items() if n >= self.per_department}, matter_departments)

    @staticmethod
    def barred_by(total_reached: bool, departments_reached: Collection[str],
                  matter_departments: Mapping[str, str]) -> tuple[bool, frozenset[str]]:
        """:meth:`barred` given which caps a target reached (the freeze asks the database which)."""
        if total_reached:
            return True, frozenset(matter_departments)
        return False, frozenset(matter for matter, department in matter_departments.items()
                                if department in departments_reached)


@dataclass(frozen=True)
class HigherLevelRecord:
    """An inspection by another authority: its level, and the department line and matter it covers
    ("" when it does not say, i.e. it covers every department or every matter)."""

    level: str
    department: str = ""
    matter: str = ""


def higher_level_matters(
    records: Iterable[HigherLevelRecord],
    matter_departments: Mapping[str, str],
    department_levels: Mapping[str, str],
) -> set[str]:
    """The plan's matters from which these inspections exclude a target.

    A record counts only if its authority's level is above the level of the department leading the
    matter. It covers its matter, else every matter its department leads, else every matter.
    """
    excluded: set[str] = set()
    for record in records:
        rank = LEVEL_RANK.get(record.level, -1)
        for matter, department in matter_departments.items():
            if rank <= LEVEL_RANK.get(department_levels.get(department, "county"), 0):
                continue
            if record.matter:
                if record.matter == matter:
                    excluded.add(matter)
            elif record.department:
                if record.department == department:
                    excluded.add(matter)
            else:
                excluded.add(matter)
    return excluded


@dataclass(frozen=True)
class Candidate:
    """A target as the freeze sees it.

    ``matched`` are the plan's matters whose criteria it meets, ``marked`` those it only looks
    related to; ``higher_level`` the matters a higher-level inspection excludes it from;
    ``inspections`` its non-key inspections this year; ``capped_total`` / ``capped``: the county's
    yearly caps bar it from every matter / from these matters (:meth:`YearCaps.barred`).
    """

    uscc: str
    risk_class: str
    status: str = "operating"
    active: bool = True
    key: bool = False
    matched: tuple[str, ...] = ()
    marked: tuple[str, ...] = ()
    higher_level: frozenset[str] = field(default_factory=frozenset)
    inspections: int = 0
    capped_total: bool = False
    capped: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Decision:
    """Where a candidate goes: the matters it is eligible for (in plan order) and its exclusions."""

    eligible: tuple[str, ...]
    exclusions: tuple[Exclusion, ...]


def decide(candidate: Candidate, cap: int = YEARLY_CAP) -> Decision:
    """Apply the article 15 rules to one candidate."""
    uscc = candidate.uscc
    if candidate.status in INACTIVE_STATUSES:
        return Decision((), (Exclusion(uscc, "deregistered_or_closed"),))
    if not candidate.active:
        return Decision((), (Exclusion(uscc, "criteria_not_met"),))
    exclusions = [Exclusion(uscc, "criteria_not_met", matter) for matter in candidate.marked]
    matched = candidate.matched
    barred = [m for m in matched if m in candidate.higher_level]
    if barred and len(barred) == len(matched) and len(matched) > 1:
        exclusions.append(Exclusion(uscc, "higher_level_inspected"))
    else:
        exclusions += [Exclusion(uscc, "higher_level_inspected", m) for m in barred]
    eligible = tuple(m for m in matched if m not in candidate.higher_level)
    if eligible and candidate.capped_total:
        exclusions.append(Exclusion(uscc, CAPS_REASON))
        eligible = ()
    elif eligible and candidate.capped.intersection(eligible):
        exclusions += [Exclusion(uscc, CAPS_REASON, m) for m in eligible if m in candidate.capped]
        eligible = tuple(m for m in eligible if m not in candidate.capped)
    if eligible and not candidate.key and candidate.inspections >= cap:
        exclusions.append(Exclusion(uscc, "cap_reached"))
        eligible = ()
    return Decision(eligible, tuple(exclusions))
