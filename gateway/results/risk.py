"""How published results and dispositions raise a target's risk flags (articles 23, 24, 28).

The rule is data: ``gateway/results/data/risk_rules.json`` (format ``shuangsui.risk_rules/1``).
It says which result-code kinds count as "problems found", and what each result code and each
disposition kind does to the target: raise its risk class by some steps, lift it to at least a
class, set list flags (经营异常名录 ``abnormal_list``, 严重违法失信名单 ``serious_violation_list``).
A result code never sets a list itself: listing is the registration authority's decision
(article 24), so a result code ``propose``s a list and ``gateway.results.listing`` files the
proposal that market supervision's head decides.

The flags live on the target itself (``Target.risk_class``, ``abnormal_list``,
``serious_violation_list``), which is what later plans' strata (matter × risk class) and the
key-inspection rule read: a raised target is drawn in its new stratum by the next plan.
Every change is a ``RiskEvent`` row, shown in the credit view and written to the audit log.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.directory import eligibility
from gateway.directory.models import RISK_CLASSES, Target
from gateway.results.models import DISPOSITION_KINDS, Disposition, InspectionResult, RiskEvent
from gateway.security.principal import SYSTEM, Principal
from schemas.result_codes import RESULT_CODES

RULES_FORMAT = "shuangsui.risk_rules/1"
TARGET_LISTS = ("abnormal_list", "serious_violation_list")


@dataclass(frozen=True)
class Effect:
    raise_steps: int = 0
    at_least: str | None = None
    lists: tuple[str, ...] = ()
    reason: str = ""
    propose: tuple[str, ...] = ()


@dataclass(frozen=True)
class RiskRules:
    risk_classes: tuple[str, ...]
    list_labels: Mapping[str, str]
    problem_kinds: frozenset[str]
    result_codes: Mapping[str, Effect] = field(default_factory=dict)
    dispositions: Mapping[str, Effect] = field(default_factory=dict)

    def has_problems(self, codes: Iterable[str]) -> bool:
        """Whether a result with these codes found problems (by the code table's kinds)."""
        return any(RESULT_CODES[c].kind in self.problem_kinds for c in codes if c in RESULT_CODES)

    def combine(self, effects: Iterable[Effect]) -> Effect | None:
        effects = list(effects)
        if not effects:
            return None
        at_least = [e.at_least for e in effects if e.at_least]
        return Effect(
            raise_steps=max(e.raise_steps for e in effects),
            at_least=max(at_least, key=self.risk_classes.index) if at_least else None,
            lists=tuple(sorted({code for e in effects for code in e.lists})),
            reason="；".join(e.reason for e in effects if e.reason),
            propose=tuple(sorted({code for e in effects for code in e.propose})),
        )

    def apply(self, baseline: str, current: str, effect: Effect) -> str:
        """The class after ``effect``, measured from ``baseline``, never below ``current``."""
        order = self.risk_classes
        base = baseline if baseline in order else order[0]
        index = min(order.index(base) + effect.raise_steps, len(order) - 1)
        if effect.at_least:
            index = max(index, order.index(effect.at_least))
        if current in order:
            index = max(index, order.index(current))
        return order[index]


def parse_rules(document: Mapping[str, Any], disposition_kinds: Iterable[str]) -> RiskRules:
    """Build the rules from the parsed JSON, refusing anything that does not refer to known data."""
    if document.get("format") != RULES_FORMAT:
        raise ValueError(f"risk rules must declare format {RULES_FORMAT!r}")
    classes = tuple(document["risk_classes"])
    if classes != RISK_CLASSES:
        raise ValueError(f"risk_classes must be {list(RISK_CLASSES)}, the target directory's classes")
    lists = dict(document.get("lists", {}))
    unknown_lists = set(lists) - set(TARGET_LISTS)
    if unknown_lists:
        raise ValueError(f"unknown target lists {sorted(unknown_lists)}; known: {list(TARGET_LISTS)}")
    known_kinds = {c.kind for c in RESULT_CODES.values()}
    problem_kinds = frozenset(document["problem_kinds"])
    if problem_kinds - known_kinds:
        raise ValueError(f"problem_kinds {sorted(problem_kinds - known_kinds)} are not kinds of the result-code table")

    def effect(where: str, row: Mapping[str, Any], *, proposes: bool = False) -> Effect:
        unknown = set(row) - {"raise", "at_least", "lists", "propose", "reason"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        if proposes and "lists" in row:
            raise ValueError(f"{where}: a result code only proposes a list (propose); the registration "
                             "authority's decision sets it")
        if not proposes and "propose" in row:
            raise ValueError(f"{where}: propose is for result codes")
        steps = row.get("raise", 0)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"{where}: raise must be a non-negative integer")
        at_least = row.get("at_least")
        if at_least is not None and at_least not in classes:
            raise ValueError(f"{where}: at_least must be one of {list(classes)}")
        row_lists, proposed = tuple(row.get("lists", ())), tuple(row.get("propose", ()))
        for name in row_lists + proposed:
            if name not in lists:
                raise ValueError(f"{where}: unknown list {name!r}")
        return Effect(steps, at_least, row_lists, str(row.get("reason", "")), proposed)

    codes = {}
    for code, row in document.get("result_codes", {}).items():
        if code not in RESULT_CODES:
            raise ValueError(f"result_codes: {code!r} is not in the result-code table")
        codes[code] = effect(f"result_codes.{code}", row, proposes=True)
    kinds = set(disposition_kinds)
    dispositions = {}
    for kind, row in document.get("dispositions", {}).items():
        if kind not in kinds:
            raise ValueError(f"dispositions: unknown disposition kind {kind!r}")
        dispositions[kind] = effect(f"dispositions.{kind}", row)
    return RiskRules(classes, lists, problem_kinds, codes, dispositions)


def load_rules(path: str | Path | None = None) -> RiskRules:
    """The shipped rules, or those in ``path``."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("gateway.results").joinpath("data/risk_rules.json").read_text(encoding="utf-8")
    return parse_rules(json.loads(text), DISPOSITION_KINDS)


RULES = load_rules()


def _chain_baseline(session: Session, chain: str, target: Target) -> str:
    first = session.scalar(select(RiskEvent).where(RiskEvent.chain == chain).order_by(RiskEvent.id).limit(1))
    return first.baseline_risk_class if first is not None else target.risk_class


def _apply(
    session: Session, target: Target, effect: Effect | None, *, source_type: str, source_id: int,
    chain: str, rules_applied: list[str], rules: RiskRules, principal: Principal = SYSTEM,
) -> RiskEvent | None:
    if effect is None:
        return None
    baseline = _chain_baseline(session, chain, target)
    before = target.risk_class
    after = rules.apply(baseline, before, effect)
    newly_set = [name for name in effect.lists if not getattr(target, name)]
    if after == before and not newly_set:
        return None
    # Logged as eligibility changes (reason ``risk_rule``): the publisher's act moved the target.
    eligibility.record_changes(session, principal, target, {"risk_class": after, **dict.fromkeys(newly_set, True)},
                               "risk_rule", "risk_rule")
    event = RiskEvent(
        target_id=target.id, source_type=source_type, source_id=source_id, chain=chain,
        rules=rules_applied, baseline_risk_class=baseline, risk_class_before=before,
        risk_class_after=after, lists_set=newly_set,
    )
    session.add(event)
    session.flush()
    return event


def apply_result(session: Session, result: InspectionResult, rules: RiskRules = RULES,
                 principal: Principal = SYSTEM) -> RiskEvent | None:
    """Raise the target's flags for a just-published result version (None when nothing changes)."""
    applied = [c for c in result.result_codes if c in rules.result_codes]
    effect = rules.combine(rules.result_codes[c] for c in applied)
    return _apply(
        session, result.task.target, effect, source_type="result", source_id=result.id,
        chain=f"result:{result.task_id}", rules_applied=[f"result_code:{c}" for c in applied], rules=rules,
        principal=principal,
    )


def apply_disposition(session: Session, disposition: Disposition, root_id: int, rules: RiskRules = RULES,
                      principal: Principal = SYSTEM) -> RiskEvent | None:
    """Raise the target's flags for a just-published disposition (``root_id``: first of its chain)."""
    effect = rules.dispositions.get(disposition.kind)
    target = session.get(Target, disposition.target_id)
    return _apply(
        session, target, effect, source_type="disposition", source_id=disposition.id,
        chain=f"disposition:{root_id}", rules_applied=[f"disposition:{disposition.kind}"] if effect else [],
        rules=rules, principal=principal,
    )


def list_labels(target: Target, rules: RiskRules = RULES) -> list[str]:
    """The lists the target is on, by their Chinese names."""
    return [label for name, label in rules.list_labels.items() if getattr(target, name)]
