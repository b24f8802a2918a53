"""Public pages are cheap to serve again (issue 20): an anonymous visitor's page is publicly
cacheable for a short while, carries an ETag that is a hash of its bytes, and answers If-None-Match
with 304; the ETag changes when what the page shows changes. A signed-in visitor's pages, public or
not, are never stored by a shared cache."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from gateway.api.caching import PUBLIC_MAX_AGE
from gateway.api.session import db
from gateway.directory.models import Target


def _cacheable(response):
    assert response.status_code == 200, response.status_code
    assert response.cache_control.public and response.cache_control.max_age == PUBLIC_MAX_AGE
    assert "Set-Cookie" not in response.headers
    assert {"Cookie", "Authorization"} <= set(response.vary)
    etag, weak = response.get_etag()
    assert etag and not weak
    return etag


def test_public_pages_carry_an_etag_and_answer_304(world, app):
    world.published("oil", world.body("oil"))
    client = app.test_client()
    uscc = world.targets["oil"]
    for url in ("/", f"/search?q={uscc}", "/search?q=加油站", f"/targets/{uscc}", "/matters", "/plans"):
        first = client.get(url)
        etag = _cacheable(first)
        assert _cacheable(client.get(url)) == etag, url  # the same bytes, the same tag
        again = client.get(url, headers={"If-None-Match": f'"{etag}"'})
        assert again.status_code == 304, url
        assert again.data == b""
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_etag_changes_with_the_content(world, app):
    client = app.test_client()
    uscc = world.targets["oil"]
    before = client.get(f"/targets/{uscc}")
    with world.gateway.write() as session:
        session.execute(update(Target).where(Target.uscc == uscc).values(name="武陟县新名称加油站"))
    after = client.get(f"/targets/{uscc}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and "新名称".encode() in after.data
    assert after.headers["ETag"] != before.headers["ETag"]
    published = world.published("oil", world.body("oil"))
    assert published
    latest = client.get(f"/targets/{uscc}", headers={"If-None-Match": after.headers["ETag"]})
    assert latest.status_code == 200 and latest.headers["ETag"] != after.headers["ETag"]


def test_errors_and_signed_in_pages_are_not_publicly_cacheable(world, app, client_as):
    client = app.test_client()
    missing = client.get("/targets/91410823MA0000000X")
    assert missing.status_code == 404 and not missing.cache_control.public and "ETag" not in missing.headers
    office = client_as("county_office")
    for url in ("/", f"/targets/{world.targets['oil']}", "/console/directory/targets"):
        response = office.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert not response.cache_control.public, url
        assert response.cache_control.no_store, url


def test_the_public_api_carries_an_etag_and_answers_304(world, app, client_as):
    """The public JSON API (``/api/v1/public/...``) is cached the same way as the public pages."""
    world.published("oil", world.body("oil"))
    client = app.test_client()
    uscc = world.targets["oil"]
    urls = ("/api/v1/public/matters", "/api/v1/public/plans", f"/api/v1/public/targets?q={uscc}",
            f"/api/v1/public/targets/{uscc}", f"/api/v1/public/results?q={uscc}", "/api/v1/public/dispositions")
    for url in urls:
        etag = _cacheable(client.get(url))
        again = client.get(url, headers={"If-None-Match": f'"{etag}"'})
        assert again.status_code == 304 and again.data == b"", url
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200, url
        signed_in = client_as("county_office").get(url)
        assert signed_in.status_code == 200 and signed_in.cache_control.no_store, url
        assert not signed_in.cache_control.public and "ETag" not in signed_in.headers, url
    missing = client.get("/api/v1/public/targets/91410823MA0000000X")
    assert missing.status_code == 404 and not missing.cache_control.public and "ETag" not in missing.headers


def _autocommit(session) -> bool:
    """Whether the driver's connection runs each statement on its own (psycopg's flag; sqlite3 has none)."""
    return getattr(session.connection().connection.driver_connection, "autocommit", False) is True


def test_the_publics_reads_on_postgresql_run_without_a_transaction(app, gateway, auth_headers):
    """An anonymous GET on PostgreSQL reads in autocommit (no BEGIN, no ROLLBACK round trip) and
    refuses to write through that session; a signed-in request keeps its transaction."""
    postgresql = gateway.engine.dialect.name == "postgresql"
    with app.test_request_context("/"):
        app.preprocess_request()
        session = db()
        assert _autocommit(session) is postgresql
        session.add(Target(uscc="91410823MA0000001X", name="武陟县只读测试商店", type="enterprise"))
        if postgresql:
            with pytest.raises(RuntimeError):
                session.flush()
    with app.test_request_context("/", headers=auth_headers("county_office")):
        app.preprocess_request()
        assert _autocommit(db()) is False
