"""Listing proposals and cooperating departments' partial results

Article 24: a published result proposes putting its target on a list; market supervision's head
decides, and only an accepted proposal sets the target's flag.
Article 5: a cooperating department's member saves its own check items; the lead's member submits.
"""
from gateway.migrations import helpers as h

revision = "0016_listing_and_contributions"
down_revision = "0015_draw_fairness"


def upgrade() -> None:
    h.create_table(
        "listing_proposals",
        h.ref("target_id", "targets.id"),
        *h.strings(list_name=32),
        h.ref("result_id", "inspection_results.id"),
        *h.strings(proposed_by_department=32, reason=500),
        h.status(),
        h.at("proposed_at"),
        *h.by_at("decided", nullable=True),
        *h.texts("decision_note", nullable=True),
        unique=[("result_id", "list_name")],
        indexes=["status", "target_id"],
    )
    h.create_table(
        "result_contributions",
        h.ref("task_id", "tasks.id"),
        h.department_code(),
        *h.jsons("checklists"),
        h.actor("recorded_by"),
        h.ref("recorded_by_inspector_id", nullable=True),
        h.at("updated_at"),
        unique=[("task_id", "department_code")],
        indexes=["task_id"],
    )


def downgrade() -> None:
    h.drop_tables("result_contributions", "listing_proposals")
