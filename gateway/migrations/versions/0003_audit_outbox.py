"""audit log and outbox

Revision ID: 0003_audit_outbox
Revises: 0002_plans_tasks
Create Date: 2026-11-27 04:22:18.516533
"""
import sqlalchemy as sa

from gateway.migrations.helpers import actor, at, create_table, department_code, drop_tables, ref

revision = '0003_audit_outbox'
down_revision = '0002_plans_tasks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "audit_log",
        at("at"),
        actor("actor"),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        department_code("actor_department"),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        indexes=["action"],
    )

    create_table(
        "outbox",
        sa.Column("record_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        ref("entity_id"),
        department_code(),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        at("next_attempt_at"),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        at("lease_expires_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("field_errors", sa.JSON(), nullable=True),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("due_date", sa.DateTime(), nullable=True),
        at("created_at"),
        at("delivered_at", nullable=True),
        sa.UniqueConstraint("record_id"),
        indexes=[("ix_outbox_state_next", ["state", "next_attempt_at"])],
    )


def downgrade() -> None:
    drop_tables("outbox", "audit_log")
