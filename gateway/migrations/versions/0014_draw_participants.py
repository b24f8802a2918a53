"""Draws: the participants' identity digests (never published) and the witnesses with their category

Article 16: organiser, technical operator and supervisor are distinct persons, told apart by an
identity kept only as a keyed digest; every witness is of a listed category.

Revision ID: 0014_draw_participants
Revises: 0012_tasks_draw_insert (the lead rechains it onto 0013_result_public_target when merging)
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_draw_participants"
down_revision = "0012_tasks_draw_insert"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draws") as batch:
        batch.add_column(sa.Column("identity_digests", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("witnesses", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draws") as batch:
        batch.drop_column("witnesses")
        batch.drop_column("identity_digests")
