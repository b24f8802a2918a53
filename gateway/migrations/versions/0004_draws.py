"""draws, higher-level inspections, reassignments and task history

Revision ID: 0004_draws
Revises: 0003_audit_outbox
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations.helpers import (
    actor,
    at,
    create_table,
    department_code,
    drop_tables,
    ref,
    references,
    status,
    timestamps,
    uscc,
)

revision = '0004_draws'
down_revision = '0003_audit_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "higher_level_inspections",
        sa.Column("record_key", sa.String(length=300), nullable=False),
        uscc(),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        department_code(),
        sa.Column("matter_code", sa.String(length=64), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        *timestamps(),
        sa.UniqueConstraint("record_key"),
        indexes=[("ix_higher_level_inspections_year_uscc", ["year", "uscc"])],
    )

    create_table(
        "draws",
        ref("plan_id"),
        sa.Column("year", sa.Integer(), nullable=False),
        status(),
        ref("active_plan_id", nullable=True),
        sa.Column("open_year", sa.Integer(), nullable=True),
        sa.Column("population_sha256", sa.String(length=64), nullable=False),
        sa.Column("strata", sa.JSON(), nullable=False),
        sa.Column("exclusions", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("key_rule", sa.JSON(), nullable=False),
        at("frozen_at"),
        actor("frozen_by"),
        sa.Column("commitments", sa.JSON(), nullable=True),
        at("committed_at", nullable=True),
        actor("committed_by"),
        sa.Column("contributions", sa.JSON(), nullable=True),
        sa.Column("participants", sa.JSON(), nullable=True),
        sa.Column("seed", sa.String(length=400), nullable=True),
        at("seeded_at", nullable=True),
        actor("seeded_by"),
        at("drawn_at", nullable=True),
        actor("drawn_by"),
        sa.Column("record", sa.Text(), nullable=True),
        sa.Column("record_sha256", sa.String(length=64), nullable=True),
        sa.Column("task_count", sa.Integer(), nullable=False),
        sa.Column("team_inputs", sa.JSON(), nullable=True),
        at("cancelled_at", nullable=True),
        actor("cancelled_by"),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        references("plan_id", "plans.id"),
        sa.UniqueConstraint("active_plan_id"),
        sa.UniqueConstraint("open_year"),
        indexes=["plan_id", "year"],
    )

    create_table(
        "task_events",
        ref("task_id"),
        at("at"),
        actor("actor"),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        references("task_id", "tasks.id", ondelete="CASCADE"),
        indexes=["task_id"],
    )

    create_table(
        "reassignments",
        ref("task_id"),
        ref("member_id"),
        ref("inspector_id"),
        department_code(),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        status(),
        actor("requested_by"),
        at("requested_at"),
        actor("decided_by"),
        at("decided_at", nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        ref("replacement_inspector_id", nullable=True),
        ref("replacement_member_id", nullable=True),
        sa.Column("replacement_inputs", sa.JSON(), nullable=True),
        sa.Column("filing_status", sa.String(length=16), nullable=True),
        sa.Column("filing_number", sa.String(length=100), nullable=True),
        actor("filed_by"),
        at("filed_at", nullable=True),
        sa.Column("filing_note", sa.Text(), nullable=False),
        references("department_code", "departments.code"),
        references("inspector_id", "inspectors.id"),
        references("member_id", "task_members.id"),
        references("replacement_inspector_id", "inspectors.id"),
        references("replacement_member_id", "task_members.id"),
        references("task_id", "tasks.id"),
        sa.UniqueConstraint("filing_number"),
        indexes=["department_code", "task_id"],
    )

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cooperating_departments', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('key_rule', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('published_by', sa.String(length=200), nullable=False, server_default=''))

    with op.batch_alter_table('task_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default='draw'))
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('task_members', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
        batch_op.drop_column('source')

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('published_by')
        batch_op.drop_column('key_rule')
        batch_op.drop_column('cooperating_departments')

    drop_tables("reassignments", "task_events", "draws", "higher_level_inspections")
