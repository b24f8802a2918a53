"""The draw record's ``eligibility_changes`` section (issue 15, item 1): between the plan's
publication and the freeze, every target that an eligibility change (status, active, risk class,
list membership; :mod:`gateway.directory.eligibility`) moved into or out of a stratum, with each
change's field, old and new value, reason code, opaque actor and time.

Built once, at the freeze, and kept with the draw (``Draw.eligibility_changes``); the record quotes
it as is, and ``shuangsui verify`` / ``docs/verify_draw.py`` re-check it against the frozen strata
(:func:`gateway.draw.verify.eligibility_finding`). The section is self-contained: records without it
(draws frozen earlier) still verify.

Where a target stood at publication is recomputed with the article 15 rules
(:func:`gateway.draw.eligibility.decide`) from the values its eligibility fields had before the
window's first change; every other input (its matters' criteria, this year's inspections,
higher-level inspections) is taken as at the freeze, so only the logged changes can move it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.directory.eligibility import FIELD_LABELS, parse_value
from gateway.directory.models import ELIGIBILITY_FIELDS, ELIGIBILITY_REASONS, Department, EligibilityChange, Target
from gateway.draw.eligibility import KEY_STRATUM, Candidate, KeyRule, decide, higher_level_matters
from gateway.draw.population import (
    MEETS,
    RELATED,
    PlanMatterInfo,
    higher_level_records,
    matter_code_clause,
    scope_clause,
    yearly_inspections,
)
from gateway.draw.record import canonical_sha256, iso, opaque_inspector_id
from gateway.planning.models import Plan

SECTION = "eligibility_changes"


def actor_id(plan: Plan, actor: str, secret: str) -> str:
    """The public stand-in for whoever made a change: keyed with the gateway's secret and the plan,
    as inspectors' ids are (:func:`gateway.draw.record.opaque_inspector_id`)."""
    # Without a secret (library callers in tests), a fixed key: the ids are then only stable, not secret.
    key = (secret or "shuangsui-unkeyed").encode("utf-8")
    return opaque_inspector_id(f"{plan.number}/{plan.version}", "actor:" + actor, key)


def _strata_of(candidate: Candidate) -> set[str]:
    stratum = KEY_STRATUM if candidate.key else candidate.risk_class
    return {f"{matter}:{stratum}" for matter in decide(candidate).eligible}


def _candidates(session: Session, plan: Plan, matters: list[PlanMatterInfo], usccs: set[str],
                before: Mapping[str, Mapping[str, Any]]) -> dict[str, set[str]]:
    """USCC -> the strata it would have been in with its eligibility fields as in ``before``."""
    key_rule = KeyRule.from_dict(plan.key_rule)
    counts = yearly_inspections(session, plan.year)
    higher = higher_level_records(session, plan.year)
    levels = dict(session.execute(select(Department.code, Department.level)).all())
    departments = {m.code: m.department for m in matters}
    codes = [matter_code_clause(m.criteria).label(f"m{i}") for i, m in enumerate(matters)]
    stmt = select(Target, *codes).where(Target.uscc.in_(sorted(usccs)), scope_clause(plan.scope))
    out: dict[str, set[str]] = {}
    for target, *values in session.execute(stmt):
        then = {name: getattr(target, name) for name in ELIGIBILITY_FIELDS} | dict(before.get(target.uscc, {}))
        out[target.uscc] = _strata_of(Candidate(
            uscc=target.uscc, risk_class=then["risk_class"], status=then["status"], active=then["active"],
            key=key_rule.is_key(then["risk_class"], then["abnormal_list"], then["serious_violation_list"],
                                target.complaint_count),
            matched=tuple(m.code for m, v in zip(matters, values) if v == MEETS),
            marked=tuple(m.code for m, v in zip(matters, values) if v == RELATED),
            higher_level=frozenset(higher_level_matters(higher.get(target.uscc, ()), departments, levels)),
            inspections=counts.get(target.uscc, 0)))
    return out


class Section:
    """The section of a draw of ``plan`` frozen at ``frozen_at``, built while the freeze writes its
    strata: :meth:`see` each stratum as it is built (only the changed targets' memberships are
    kept), then :meth:`build`."""

    def __init__(self, session: Session, plan: Plan, frozen_at: datetime) -> None:
        self.plan, self.frozen_at = plan, frozen_at
        self.start = plan.published_at or frozen_at
        self.changes = list(session.scalars(select(EligibilityChange).where(
            EligibilityChange.changed_at >= self.start, EligibilityChange.changed_at <= frozen_at)
            .order_by(EligibilityChange.changed_at, EligibilityChange.id)))
        self.before: dict[str, dict[str, Any]] = {}
        for change in self.changes:
            self.before.setdefault(change.uscc, {}).setdefault(change.field,
                                                               parse_value(change.field, change.old_value))
        self.usccs = set(self.before)
        self.now: dict[str, set[str]] = {uscc: set() for uscc in self.usccs}

    def see(self, key: str, population: Iterable[str]) -> None:
        """Note which changed targets the frozen stratum ``key`` holds."""
        if not self.usccs:  # the usual case: no change in the window, no pass over the population
            return
        for uscc in self.usccs.intersection(population):
            self.now[uscc].add(key)

    def build(self, session: Session, matters: list[PlanMatterInfo], secret: str = "") -> dict[str, Any]:
        plan, usccs, changes = self.plan, self.usccs, self.changes
        then = _candidates(session, plan, matters, usccs, self.before) if usccs else {}
        moves = []
        for uscc in sorted(usccs):
            was, is_ = then.get(uscc, set()), self.now[uscc]
            if was == is_:
                continue
            moves.append({
                "uscc": uscc,
                "moved_out": sorted(was - is_),
                "moved_in": sorted(is_ - was),
                "changes": [{"field": c.field, "old": c.old_value, "new": c.new_value, "reason": c.reason_code,
                             "actor": actor_id(plan, c.actor, secret), "at": iso(c.changed_at)}
                            for c in changes if c.uscc == uscc],
            })
        return {
            "window": {"from": iso(self.start), "to": iso(self.frozen_at)},
            "moves": moves,
            "moves_sha256": canonical_sha256(moves),
            "reasons": dict(ELIGIBILITY_REASONS),
            "fields": dict(FIELD_LABELS),
        }


def record_section(draw: Any) -> dict[str, Any]:
    """What the record adds for the section: nothing for draws frozen before it existed."""
    section = draw.eligibility_changes
    return {} if section is None else {SECTION: section}
