"""sync: batch keys, generations and attempt bookkeeping on the outbox; the sync workers table

Revision ID: 0007_sync
Revises: 0003_audit_outbox
Create Date: 2026-11-27 12:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

from gateway.migrations.helpers import at, create_table

revision = '0007_sync'
down_revision = '0003_audit_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "sync_workers",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        at("started_at"),
        at("heartbeat_at"),
        at("expires_at"),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("dead", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('generation', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_attempt_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_outcome', sa.String(length=32), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_outbox_batch_key'), ['batch_key'], unique=False)
        batch_op.create_index('ix_outbox_kind_state_next', ['kind', 'state', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_kind_state_next')
        batch_op.drop_index(batch_op.f('ix_outbox_batch_key'))
        batch_op.drop_column('last_outcome')
        batch_op.drop_column('last_attempt_at')
        batch_op.drop_column('generation')
        batch_op.drop_column('batch_key')
    op.drop_table('sync_workers')
