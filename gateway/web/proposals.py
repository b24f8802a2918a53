"""The pages where a head decides others' proposals (eligibility changes, list membership): the
status tabs and the posted decision, said once."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from flask import request

from gateway.api.session import get_gateway
from gateway.security.principal import current_principal
from gateway.web.base import run_action


def status_tab(labels: Mapping[str, str], default: str = "pending") -> str:
    """The ``?status=`` tab asked for, or ``default`` when it is missing or not one of ``labels``."""
    status = request.args.get("status") or default
    return status if status in labels else default


def decide_proposal(decide: Callable[..., Any], proposal_id: int, accepted: str, rejected: str) -> None:
    """Post a head's decision form: ``decide(session, principal, proposal_id, accept=, note=)`` in one
    write, flashing ``accepted`` or ``rejected`` (or the refusal)."""
    gateway, principal = get_gateway(), current_principal()
    accept = request.form.get("decision") == "accept"

    def act():
        with gateway.write() as session:
            decide(session, principal, proposal_id, accept=accept, note=request.form.get("note") or "")

    run_action(act, accepted if accept else rejected)
