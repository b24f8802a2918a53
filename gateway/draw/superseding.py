"""A seeded draw whose plan is amended: not run, but kept public with what its seed would select."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.draw import frozen
from gateway.draw.models import Draw
from gateway.draw.strata import Stratum, StratumSelection, draw_targets
from gateway.planning.models import Plan
from gateway.security import audit
from gateway.security.principal import Principal


def _light(chosen: StratumSelection) -> StratumSelection:
    """The selection without its population (only the selected targets are kept)."""
    s = chosen.stratum
    return StratumSelection(Stratum(s.key, s.matter, s.ratio, (), s.risk_class), chosen.selected)


def supersede_seeded(session: Session, principal: Principal, plan: Plan, by_plan: Plan) -> Draw | None:
    """When an amendment of ``plan`` is published while its draw is seeded, that draw is not run
    (the amended version gets its own draw) but stays public with its seed and the selection it
    would have made, so that nobody can quietly swap an unwelcome outcome for a new one."""
    draw = session.scalar(select(Draw).where(Draw.active_plan_id == plan.id, Draw.status == "seeded"))
    if draw is None:
        return None
    selections, _ = draw_targets(frozen.strata(session, draw.id), draw.seed, _light)
    draw.stats = {**draw.stats, "would_be_selection": {s.stratum.key: list(s.selected) for s in selections},
                  "superseded_by_plan": by_plan.id}
    draw.status = "superseded"
    draw.active_plan_id = None
    draw.open_year = None
    session.flush()
    audit.record(session, principal, "draws.supersede", "draw", draw.id,
                 {"plan": plan.id, "by_plan": by_plan.id, "seed": draw.seed})
    return draw
