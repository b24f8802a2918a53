"""Every migration's downgrade undoes its upgrade, on SQLite and PostgreSQL: down to base and up again
gives the schema the first upgrade made, and along the linear history after the merge each
downgrade leaves the schema its upgrade found.

The schema is compared as the databases describe it (columns, keys, constraints, indexes, triggers,
PostgreSQL's storage settings), not as DDL text: SQLite keeps a table's CREATE TABLE text as the
last statement that wrote it, and a batch migration rewrites it whole where ADD COLUMN appended."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from gateway.db import make_engine
from gateway.migrate import alembic_config

EXTRAS = {
    "sqlite": ("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY name",),
    "postgresql": (
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2",
        "SELECT c.relname, a.attname, a.attstorage, a.attcompression FROM pg_attribute a JOIN pg_class c"
        " ON c.oid = a.attrelid WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
        " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2",
        "SELECT extname FROM pg_extension ORDER BY 1",
    ),
}


def _sorted(items) -> list[str]:
    return sorted(repr(sorted((key, _plain(value)) for key, value in item.items())) for item in items)


def _plain(value):
    # A partial index's reflected WHERE is a TextClause, whose repr carries its address.
    if isinstance(value, dict):
        return sorted((key, str(v)) for key, v in value.items())
    return value


def schema(url: str) -> dict:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            found = {table: (
                sorted((c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in inspector.get_columns(table)),
                inspector.get_pk_constraint(table),
                _sorted(inspector.get_foreign_keys(table)),
                _sorted(inspector.get_unique_constraints(table)),
                _sorted(inspector.get_indexes(table)),
            ) for table in inspector.get_table_names()}
            found[""] = [connection.execute(sa.text(query)).all() for query in EXTRAS[engine.dialect.name]]
        return found
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again_gives_the_same_schema(database_url):
    config = alembic_config(database_url)
    first = schema(database_url)
    assert "draw_frozen_strata" in first
    command.downgrade(config, "base")
    try:
        assert "draws" not in schema(database_url)
    finally:
        command.upgrade(config, "head")
    assert schema(database_url) == first


def test_each_downgrade_after_the_merge_leaves_the_schema_its_upgrade_found(database_url):
    config = alembic_config(database_url)
    script = ScriptDirectory.from_config(config)
    chain, revision = [], script.get_revision("head")
    while revision.revision != "0008_merge":
        chain.append(revision)
        revision = script.get_revision(revision.down_revision)
    found = {}  # the schema at each revision, as the downgrade to it left it
    try:
        for revision in chain:
            command.downgrade(config, revision.down_revision)
            found[revision.down_revision] = schema(database_url)
    finally:
        command.upgrade(config, "head")
    command.downgrade(config, "0008_merge")
    try:
        for revision in reversed(chain):
            assert schema(database_url) == found[revision.down_revision], f"{revision.revision}'s downgrade"
            command.upgrade(config, revision.revision)
    finally:
        command.upgrade(config, "head")
