"""Nobody steers a draw: the participants' identity digests, witnesses with their category, and the
reassignment's requester and nonce

Article 16: organiser, technical operator and supervisor are distinct persons, told apart by an
identity kept only as a keyed digest (never published); every witness is of a listed category.
Article 14: the requester of a reassignment never decides it, and the replacement's seed includes a
nonce committed to at the request and revealed at the approval.

Revision ID: 0015_draw_fairness
Revises: 0014_sign_in_throttle
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_draw_fairness"
down_revision = "0014_sign_in_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draws") as batch:
        batch.add_column(sa.Column("identity_digests", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("witnesses", sa.JSON(), nullable=True))
    with op.batch_alter_table("reassignments") as batch:
        batch.add_column(sa.Column("requested_by_key", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("nonce", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("nonce_commitment", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reassignments") as batch:
        batch.drop_column("nonce_commitment")
        batch.drop_column("nonce")
        batch.drop_column("requested_by_key")
    with op.batch_alter_table("draws") as batch:
        batch.drop_column("witnesses")
        batch.drop_column("identity_digests")
