"""Name search through an index (issue 20): pg_trgm and character GIN indexes on PostgreSQL, an FTS5
trigram table kept by triggers on SQLite

See gateway/directory/search.py for how the searches use them. The statements are written out here
(not imported) so that this revision keeps meaning what it meant when it was written.

Revision ID: 0024_h20search_trigram
Revises: 0023_ledger_counts
Create Date: 2026-12-03
"""
from alembic import op

revision = "0024_h20search_trigram"
down_revision = "0023_ledger_counts"
branch_labels = None
depends_on = None

SQLITE_UP = (
    # contentless: the names stay in targets; each is indexed followed by two U+0001 characters
    "CREATE VIRTUAL TABLE targets_name_fts USING fts5(name, content='', tokenize='trigram')",
    "INSERT INTO targets_name_fts(rowid, name) SELECT id, name || char(1, 1) FROM targets",
    "CREATE VIRTUAL TABLE targets_name_terms USING fts5vocab('targets_name_fts', 'instance')",
    """CREATE TRIGGER targets_name_fts_insert AFTER INSERT ON targets BEGIN
         INSERT INTO targets_name_fts(rowid, name) VALUES (new.id, new.name || char(1, 1));
       END""",
    """CREATE TRIGGER targets_name_fts_delete AFTER DELETE ON targets BEGIN
         INSERT INTO targets_name_fts(targets_name_fts, rowid, name) VALUES ('delete', old.id, old.name || char(1, 1));
       END""",
    """CREATE TRIGGER targets_name_fts_update AFTER UPDATE OF id, name ON targets BEGIN
         INSERT INTO targets_name_fts(targets_name_fts, rowid, name) VALUES ('delete', old.id, old.name || char(1, 1));
         INSERT INTO targets_name_fts(rowid, name) VALUES (new.id, new.name || char(1, 1));
       END""",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS targets_name_fts_update",
    "DROP TRIGGER IF EXISTS targets_name_fts_delete",
    "DROP TRIGGER IF EXISTS targets_name_fts_insert",
    "DROP TABLE IF EXISTS targets_name_terms",
    "DROP TABLE IF EXISTS targets_name_fts",
)
POSTGRESQL_UP = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_targets_name_trgm ON targets USING gin (name gin_trgm_ops)",
    "CREATE INDEX ix_targets_name_chars ON targets USING gin (string_to_array(name, NULL))",
)
POSTGRESQL_DOWN = ("DROP INDEX IF EXISTS ix_targets_name_chars", "DROP INDEX IF EXISTS ix_targets_name_trgm")


def _run(statements) -> None:
    for sql in statements:
        op.execute(sql)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UP)
    elif dialect == "postgresql":
        _run(POSTGRESQL_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(POSTGRESQL_DOWN)
