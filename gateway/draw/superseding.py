"""A seeded draw whose plan is amended: not run, but kept public with what its seed would select."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.draw.models import Draw
from gateway.draw.population import strata_from_json
from gateway.draw.strata import draw_targets
from gateway.planning.models import Plan
from gateway.security import audit
from gateway.security.principal import Principal


def supersede_seeded(session: Session, principal: Principal, plan: Plan, by_plan: Plan) -> Draw | None:
    """When an amendment of ``plan`` is published while its draw is seeded, that draw is not run
    (the amended version gets its own draw) but stays public with its seed and the selection it
    would have made, so that nobody can quietly swap an unwelcome outcome for a new one."""
    draw = session.scalar(select(Draw).where(Draw.active_plan_id == plan.id, Draw.status == "seeded"))
    if draw is None:
        return None
    selections, _ = draw_targets(strata_from_json(draw.strata), draw.seed)
    draw.stats = {**draw.stats, "would_be_selection": {s.stratum.key: list(s.selected) for s in selections},
                  "superseded_by_plan": by_plan.id}
    draw.status = "superseded"
    draw.active_plan_id = None
    draw.open_year = None
    session.flush()
    audit.record(session, principal, "draws.supersede", "draw", draw.id,
                 {"plan": plan.id, "by_plan": by_plan.id, "seed": draw.seed})
    return draw
