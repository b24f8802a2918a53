"""Published results and dispositions in publication order: (status, published_on, id) indexes

The public lists (the home page's latest results, a search's related results, the dispositions)
show the newest published first. With only an index on ``status`` the database read every
published row and sorted them, which grows with everything a province has ever published. The
index on ``(status, published_on, id)`` serves both the status filter it replaces and the order,
read from its end (issue 20)."""
from alembic import op

revision = "0031_published_order"
down_revision = "0030_search2"

TABLES = ("inspection_results", "dispositions")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_status_published", table, ["status", "published_on", "id"])
        op.drop_index(f"ix_{table}_status", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_status", table, ["status"])
        op.drop_index(f"ix_{table}_status_published", table_name=table)
