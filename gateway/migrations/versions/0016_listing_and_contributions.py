"""Listing proposals and cooperating departments' partial results

Article 24: a published result proposes putting its target on a list; market supervision's head
decides, and only an accepted proposal sets the target's flag.
Article 5: a cooperating department's member saves its own check items; the lead's member submits.

Revision ID: 0016_listing_and_contributions
Revises: 0015_draw_fairness
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_listing_and_contributions"
down_revision = "0015_draw_fairness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "listing_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=32), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("proposed_by_department", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["result_id"], ["inspection_results.id"]),
        sa.ForeignKeyConstraint(["target_id"], ["targets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("result_id", "list_name"),
    )
    with op.batch_alter_table("listing_proposals") as batch:
        batch.create_index(batch.f("ix_listing_proposals_status"), ["status"], unique=False)
        batch.create_index(batch.f("ix_listing_proposals_target_id"), ["target_id"], unique=False)
    op.create_table(
        "result_contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("checklists", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_inspector_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "department_code"),
    )
    with op.batch_alter_table("result_contributions") as batch:
        batch.create_index(batch.f("ix_result_contributions_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("result_contributions") as batch:
        batch.drop_index(batch.f("ix_result_contributions_task_id"))
    op.drop_table("result_contributions")
    with op.batch_alter_table("listing_proposals") as batch:
        batch.drop_index(batch.f("ix_listing_proposals_target_id"))
        batch.drop_index(batch.f("ix_listing_proposals_status"))
    op.drop_table("listing_proposals")
