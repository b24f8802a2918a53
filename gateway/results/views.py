"""Results and dispositions as the response schemas (``schemas.results``) dump them.

Each view (``schemas.common.RowView``) adds to the stored row what only the gateway knows about
it: names from the plugin registry, labels from the gateway's tables, the article 19 deadline and
clock, and what a reader outside the task's departments and team must not see.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from gateway.core import Gateway
from gateway.planning.models import Plan
from gateway.results.clock import clock_of, effective_deadline
from gateway.results.deadline import STATUS_LABELS
from gateway.results.models import (
    DISPOSITION_STATUS_LABELS,
    RESULT_STATUS_LABELS,
    SIGNATURE_LABELS,
    Disposition,
    InspectionResult,
)
from schemas.common import RowView, python_values
from schemas.results import DispositionSchema, ResultSchema


def department_name(gateway: Gateway, code: str) -> str:
    dept = gateway.registry.departments.get(code)
    return dept.name if dept else code


def matter_refs(gateway: Gateway, codes: list[str]) -> list[dict[str, str]]:
    return [
        {"code": c, "name": gateway.registry.matters[c].name if c in gateway.registry.matters else c}
        for c in codes
    ]


class ResultView(RowView):
    """A result version. ``full=False`` (a published result read by someone outside the task's
    departments and team) leaves out the people: who recorded, reviewed and published it, who
    signed for the target, and the attachments. ``task_published``: whether any version of the
    task is published (then the clock has stopped)."""

    def __init__(self, gateway: Gateway, result: InspectionResult, today: date, plan: Plan | None,
                 task_published: bool, full: bool = True):
        self.row = result
        task = result.task
        self.task_number, self.plan_id, self.target = task.number, task.plan_id, task.target
        self.lead_department = task.lead_department
        deadline = effective_deadline(gateway.settings, result)
        clock_status = None
        if not result.is_published and not task_published:
            _, clock_status, _ = clock_of(gateway.settings, result, today)
        self.plan_number = plan.number if plan else ""
        self.status_label = RESULT_STATUS_LABELS[result.status]
        self.lead_department_name = department_name(gateway, task.lead_department)
        self.matters = matter_refs(gateway, task.matter_codes)
        self.deadline = deadline.due
        self.deadline_provisional = deadline.provisional
        self.clock_status = clock_status
        self.clock_status_label = STATUS_LABELS.get(clock_status, "已公示" if result.is_published else "")
        self.signature = {
            "status": result.signature_status,
            "status_label": SIGNATURE_LABELS[result.signature_status],
            "signer_name": result.signer_name if full else "",
            "signer_title": result.signer_title if full else "",
            "refusal_note": result.refusal_note if full else "",
            "image_attachment_id": result.signature_attachment_id if full else None,
            "image_sha256": result.signature_sha256 if full else "",
        }
        if not full:
            self.recorded_by = self.reviewed_by = self.published_by = self.review_note = ""
            self.attachments = []

    def values(self) -> dict[str, Any]:
        """What the API shows, with Python values (for the pages and the plugins' notifications)."""
        return python_values(ResultSchema(), self)


class DispositionView(RowView):
    """A follow-up disposition with its department's name, labels and article 19 deadline."""

    def __init__(self, gateway: Gateway, disposition: Disposition):
        self.row = disposition
        task = disposition.result.task
        self.task_number, self.target = task.number, task.target
        deadline = effective_deadline(gateway.settings, disposition)
        self.department_name = department_name(gateway, disposition.department_code)
        self.status_label = DISPOSITION_STATUS_LABELS[disposition.status]
        self.deadline = deadline.due
        self.deadline_provisional = deadline.provisional

    def values(self) -> dict[str, Any]:
        return python_values(DispositionSchema(), self)
