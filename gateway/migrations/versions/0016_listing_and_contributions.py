"""Listing proposals and cooperating departments' partial results

Article 24: a published result proposes putting its target on a list; market supervision's head
decides, and only an accepted proposal sets the target's flag.
Article 5: a cooperating department's member saves its own check items; the lead's member submits.

Revision ID: 0016_listing_and_contributions
Revises: 0015_draw_fairness
Create Date: 2026-12-03
"""
import sqlalchemy as sa

from gateway.migrations.helpers import actor, at, create_table, department_code, drop_tables, ref, references, status

revision = "0016_listing_and_contributions"
down_revision = "0015_draw_fairness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "listing_proposals",
        ref("target_id"),
        sa.Column("list_name", sa.String(length=32), nullable=False),
        ref("result_id"),
        sa.Column("proposed_by_department", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        status(),
        at("proposed_at"),
        actor("decided_by", nullable=True),
        at("decided_at", nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        references("result_id", "inspection_results.id"),
        references("target_id", "targets.id"),
        sa.UniqueConstraint("result_id", "list_name"),
        indexes=["status", "target_id"],
    )
    create_table(
        "result_contributions",
        ref("task_id"),
        department_code(),
        sa.Column("checklists", sa.JSON(), nullable=False),
        actor("recorded_by"),
        ref("recorded_by_inspector_id", nullable=True),
        at("updated_at"),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("task_id", "department_code"),
        indexes=["task_id"],
    )


def downgrade() -> None:
    drop_tables("result_contributions", "listing_proposals")
