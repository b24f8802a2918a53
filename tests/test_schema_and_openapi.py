"""The database schema and the OpenAPI document never drift from the code."""
from __future__ import annotations

import json

from gateway.api.openapi import OPENAPI_PATH, openapi_document
from gateway.migrate import check


def test_migrations_match_the_models(database_url):
    # alembic's autogenerate comparison on a freshly migrated database, SQLite and PostgreSQL
    check(database_url)


def test_openapi_document_is_up_to_date():
    committed = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    assert committed == openapi_document(), "run `make openapi` and commit schemas/openapi/gateway.json"


def test_openapi_served_by_the_app(client):
    served = client.get("/api/openapi.json").json
    assert "/api/v1/targets" in served["paths"]
    assert served["components"]["schemas"]["Error"]["required"] == ["code", "message"]


def test_migration_history_has_one_head():
    from alembic.script import ScriptDirectory

    from gateway.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"merge the migration heads {heads} (alembic merge)"
