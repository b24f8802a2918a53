"""Import jobs: a large target import staged in committed batches and resumable (issue 20)"""
from gateway.migrations import helpers as h

revision = "0025_import_jobs"
down_revision = "0024_search_index"


def upgrade() -> None:
    h.create_table(
        "import_jobs",
        *h.strings(kind=32, file_sha256=64, filename=300),
        *h.flags("partial"),
        *h.strings(status=16),
        *h.integers("staged_through", "total_rows", "rejected", "error_count"),
        *h.jsons("errors"),
        *h.strings(actor=200),
        *h.timestamps(),
        indexes=[("ix_import_jobs_resume", ["kind", "file_sha256", "status"])],
    )


def downgrade() -> None:
    h.drop_tables("import_jobs")
