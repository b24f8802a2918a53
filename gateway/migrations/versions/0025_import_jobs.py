"""Import jobs: a large target import staged in committed batches and resumable (issue 20)

Revision ID: 0025_import_jobs
Revises: 0024_search_index
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0025_import_jobs"
down_revision = "0024_search_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("staged_through", sa.Integer(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_index("ix_import_jobs_resume", "import_jobs", ["kind", "file_sha256", "status"])


def downgrade() -> None:
    op.drop_index("ix_import_jobs_resume", table_name="import_jobs")
    op.drop_table("import_jobs")
