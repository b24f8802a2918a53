"""Name search through an index (issue 20): pg_trgm and character GIN indexes on PostgreSQL, an FTS5
trigram table kept by triggers on SQLite, for the targets and the inspectors

See gateway/directory/search.py for how the searches use them. The statements are written out here
(not imported) so that this revision keeps meaning what it meant when it was written.
"""
from alembic import op

revision = "0024_search_index"
down_revision = "0023_ledger_counts"

# The names searched: the targets' (public search, staff directory, task search) and the inspectors'
# (staff directory).
TABLES = ("targets", "inspectors")


def _sqlite_up(t: str) -> tuple[str, ...]:
    return (
        # contentless: the names stay in the table; each is indexed followed by two U+0001 characters
        f"CREATE VIRTUAL TABLE {t}_name_fts USING fts5(name, content='', tokenize='trigram')",
        f"INSERT INTO {t}_name_fts(rowid, name) SELECT id, name || char(1, 1) FROM {t}",
        f"CREATE VIRTUAL TABLE {t}_name_terms USING fts5vocab('{t}_name_fts', 'instance')",
        f"""CREATE TRIGGER {t}_name_fts_insert AFTER INSERT ON {t} BEGIN
              INSERT INTO {t}_name_fts(rowid, name) VALUES (new.id, new.name || char(1, 1));
            END""",
        f"""CREATE TRIGGER {t}_name_fts_delete AFTER DELETE ON {t} BEGIN
              INSERT INTO {t}_name_fts({t}_name_fts, rowid, name) VALUES ('delete', old.id, old.name || char(1, 1));
            END""",
        f"""CREATE TRIGGER {t}_name_fts_update AFTER UPDATE OF id, name ON {t} BEGIN
              INSERT INTO {t}_name_fts({t}_name_fts, rowid, name) VALUES ('delete', old.id, old.name || char(1, 1));
              INSERT INTO {t}_name_fts(rowid, name) VALUES (new.id, new.name || char(1, 1));
            END""",
    )


def _sqlite_down(t: str) -> tuple[str, ...]:
    return (
        f"DROP TRIGGER IF EXISTS {t}_name_fts_update",
        f"DROP TRIGGER IF EXISTS {t}_name_fts_delete",
        f"DROP TRIGGER IF EXISTS {t}_name_fts_insert",
        f"DROP TABLE IF EXISTS {t}_name_terms",
        f"DROP TABLE IF EXISTS {t}_name_fts",
    )


def _postgresql_up(t: str) -> tuple[str, ...]:
    return (
        f"CREATE INDEX ix_{t}_name_trgm ON {t} USING gin (name gin_trgm_ops)",
        f"CREATE INDEX ix_{t}_name_chars ON {t} USING gin (string_to_array(name, NULL))",
    )


def _postgresql_down(t: str) -> tuple[str, ...]:
    return (f"DROP INDEX IF EXISTS ix_{t}_name_chars", f"DROP INDEX IF EXISTS ix_{t}_name_trgm")


def _run(statements) -> None:
    for sql in statements:
        op.execute(sql)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for t in TABLES:
        if dialect == "sqlite":
            _run(_sqlite_up(t))
        elif dialect == "postgresql":
            _run(_postgresql_up(t))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for t in TABLES:
        if dialect == "sqlite":
            _run(_sqlite_down(t))
        elif dialect == "postgresql":
            _run(_postgresql_down(t))
