"""Name search of 1 and 2 characters through a GIN index of the name's characters and adjacent pairs
(PostgreSQL; issue 20)

0024 indexed a name's characters (``string_to_array(name, NULL)``): a 2-character text read every
row holding both characters anywhere (twice the rows that hold them side by side, on a million
targets) and intersected two long posting lists. ``name_grams(name)`` holds the name's characters
and its pairs of adjacent characters, so that a text of 1 or 2 characters is one key of the index
and its rows are exactly those that contain it. It replaces the character index (a write keeps
maintaining one GIN index for the short texts). SQLite is unchanged (its FTS5 trigram table serves
every length). The statements are written out here so that this revision keeps its meaning.
"""
from alembic import op

from gateway.migrations import helpers as h

revision = "0030_search2"
down_revision = "0029_public"

TABLES = ("targets", "inspectors")

# IMMUTABLE (an index expression), every name schema-qualified (it runs under any search_path).
NAME_GRAMS = """
CREATE OR REPLACE FUNCTION name_grams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT pg_catalog.array_cat(pg_catalog.string_to_array(name, NULL), ARRAY(
    SELECT pg_catalog.substr(name, i, 2) FROM pg_catalog.generate_series(1, pg_catalog.char_length(name) - 1) AS i))
$$
"""


def upgrade() -> None:
    if not h.on_postgresql():
        return
    op.execute(NAME_GRAMS)
    for t in TABLES:
        op.execute(f"CREATE INDEX ix_{t}_name_grams ON {t} USING gin (name_grams(name))")
        op.execute(f"DROP INDEX IF EXISTS ix_{t}_name_chars")


def downgrade() -> None:
    if not h.on_postgresql():
        return
    for t in TABLES:
        op.execute(f"CREATE INDEX ix_{t}_name_chars ON {t} USING gin (string_to_array(name, NULL))")
        op.execute(f"DROP INDEX IF EXISTS ix_{t}_name_grams")
    op.execute("DROP FUNCTION IF EXISTS name_grams(text)")
