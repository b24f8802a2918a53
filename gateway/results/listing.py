"""List membership is the registration authority's decision (articles 5, 24).

A published result whose codes ``propose`` a list (``risk_rules.json``) files a
``ListingProposal``; the target's flag stays as it was. Market supervision's department head
accepts or rejects it with a note, and only an acceptance sets the flag the public target page
shows (经营异常名录). The registration authority is the installed department whose plugin
says so (:func:`gateway.directory.eligibility.registration_authority`); the acceptance is logged
as an eligibility change (reason ``listing_decision``).
"""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gateway.db import where_equal
from gateway.directory import eligibility
from gateway.results import risk
from gateway.results.models import LISTING_STATUS_LABELS, InspectionResult, ListingProposal
from gateway.security import audit
from gateway.security.policy import authorize
from gateway.security.principal import Principal
from schemas.common import RowView


def propose_for_result(session: Session, principal: Principal, result: InspectionResult,
                       rules: risk.RiskRules = risk.RULES) -> list[ListingProposal]:
    """File the proposals a just-published result makes; none for a list the target is on or for
    which a proposal already waits."""
    target = result.task.target
    reasons: dict[str, list[str]] = {}
    for code in result.result_codes:
        effect = rules.result_codes.get(code)
        for name in effect.propose if effect else ():
            reasons.setdefault(name, []).append(effect.reason)
    filed = []
    for name, why in reasons.items():
        waiting = session.scalar(select(ListingProposal.id).where(
            ListingProposal.target_id == target.id, ListingProposal.list_name == name,
            ListingProposal.status == "pending"))
        if getattr(target, name) or waiting is not None:
            continue
        proposal = ListingProposal(target_id=target.id, list_name=name, result_id=result.id,
                                   proposed_by_department=result.task.lead_department, reason="；".join(why))
        session.add(proposal)
        session.flush()
        audit.record(session, principal, "listing.propose", "listing_proposal", proposal.id,
                     {"uscc": target.uscc, "list": name, "result_id": result.id})
        filed.append(proposal)
    return filed


def proposals_query(principal: Principal, args: Mapping[str, Any]) -> Select:
    authorize(principal, "listing.read")
    return where_equal(select(ListingProposal).order_by(ListingProposal.id.desc()), args,
                       {"status": ListingProposal.status})


def decide(session: Session, principal: Principal, proposal_id: int, *, accept: bool, note: str) -> ListingProposal:
    """The registration authority's head accepts (the flag is set) or rejects a waiting proposal."""
    authorize(principal, "listing.decide", departments=eligibility.owner_departments(session))
    proposal = eligibility.settle(session, principal, ListingProposal, proposal_id, accept, note, noun="提请",
                                  what="列入名录提请", code="listing_decided", labels=LISTING_STATUS_LABELS)
    if accept:
        eligibility.record_changes(session, principal, proposal.target, {proposal.list_name: True},
                                   "listing_decision", "listing")
    session.flush()
    audit.record(session, principal, "listing.decide", "listing_proposal", proposal.id,
                 {"uscc": proposal.target.uscc, "list": proposal.list_name, "accepted": accept})
    return proposal


class ListingView(RowView):
    """A proposal with its target named and its list and status labelled."""

    def __init__(self, proposal: ListingProposal):
        self.row = proposal
        self.uscc, self.target_name = proposal.target.uscc, proposal.target.name
        self.list_label = risk.RULES.list_labels.get(proposal.list_name, proposal.list_name)
        self.status_label = LISTING_STATUS_LABELS[proposal.status]
