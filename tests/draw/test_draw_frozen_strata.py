"""The frozen strata, one row per stratum (issue 20, migration 0027_frozen_strata)."""
from __future__ import annotations

import gzip
import hashlib

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.draw import frozen
from gateway.draw import service as draws
from gateway.draw.models import DrawFrozenStratum
from gateway.draw.record import population_digests
from gateway.draw.record_v2 import _canonical as canonical_bytes
from gateway.draw.record_v2 import strata_sha256
from gateway.draw.strata import draw_targets
from gateway.migrate import alembic_config
from tests.drawdb import COUNTY, build_directory, freeze_and_seed, published_plan


def _entries(gateway, draw_id: int) -> list[dict]:
    with gateway.read() as session:
        return list(frozen.entries(session, draw_id))


def test_freeze_writes_one_row_per_stratum_with_the_published_hashes(gateway):
    build_directory(gateway, per_matter=6, per_department=3)
    draw_id = freeze_and_seed(gateway, published_plan(gateway))
    with gateway.read() as session:
        draw = draws.get_draw(session, draw_id)
        rows = session.scalars(sa.select(DrawFrozenStratum).where(DrawFrozenStratum.draw_id == draw_id)
                               .order_by(DrawFrozenStratum.position)).all()
        entries = list(frozen.entries(session, draw_id))
        assert draw.legacy_strata == []  # nothing left in the one JSON column
        whole, own = population_digests(entries)
        assert whole == draw.population_sha256
        assert draw.stats["strata_sha256"] == strata_sha256(
            [{"key": e["key"], "population_sha256": d, "ratio": e["ratio"]} for e, d in zip(entries, own)])
        assert [r.position for r in rows] == list(range(len(entries)))
        for row, entry, digest, stats in zip(rows, entries, own, draw.stats["strata"]):
            assert row.population_sha256 == digest == hashlib.sha256(gzip.decompress(row.population_gzip)).hexdigest()
            assert row.size == len(entry["population"]) == stats["population"]
            assert (row.key, row.ratio, len(entry["key_targets"])) == (stats["key"], stats["ratio"], stats["key_targets"])
            # A key stratum's key targets are its whole population, stored once.
            assert (row.key_targets_gzip is None) == (entry["key_targets"] == entry["population"])
        assert any(e["population"] for e in entries)
        assert any(r.key_targets_gzip is None and r.size for r in rows)


def test_migration_moves_the_strata_both_ways_and_the_run_still_matches(gateway, settings):
    build_directory(gateway, per_matter=6, per_department=3)
    draw_id = freeze_and_seed(gateway, published_plan(gateway))
    before = _entries(gateway, draw_id)
    with gateway.read() as session:
        seed = draws.get_draw(session, draw_id).seed
    gateway.dispose()
    config = alembic_config(settings.database_url)
    engine = sa.create_engine(settings.database_url.replace("postgresql://", "postgresql+psycopg://"))
    draws_table = sa.table("draws", sa.column("id", sa.Integer), sa.column("strata", sa.JSON))
    try:
        command.downgrade(config, "0026_draw_record_parts")
        with engine.connect() as conn:
            assert conn.execute(sa.select(draws_table.c.strata).where(draws_table.c.id == draw_id)).scalar_one() == before
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert conn.execute(sa.select(draws_table.c.strata).where(draws_table.c.id == draw_id)).scalar_one() == []
    finally:
        command.upgrade(config, "head")
        engine.dispose()
    assert _entries(gateway, draw_id) == before
    # The run reads the migrated rows (checking them against the hash published at the freeze)
    # and selects what the strata as frozen select.
    draws.run_and_record_failure(gateway, COUNTY, draw_id)
    expected, _ = draw_targets([frozen.to_stratum(e) for e in before], seed)
    with gateway.read() as session:
        draw = draws.get_draw(session, draw_id)
        assert draw.status == "drawn"
        chosen = {e["key"]: e["selected"] for e in draws.record_strata(session, draw)}
    assert chosen == {s.key: list(s.selected) for s in expected}


def test_a_run_refuses_a_frozen_population_changed_since_the_freeze(gateway):
    build_directory(gateway, per_matter=6, per_department=3)
    draw_id = freeze_and_seed(gateway, published_plan(gateway))
    with gateway.write() as session:
        row = session.scalars(sa.select(DrawFrozenStratum).where(DrawFrozenStratum.draw_id == draw_id,
                                                                 DrawFrozenStratum.size > 1)).first()
        population = frozen.load(session.connection(), draw_id, row.position)["population"]
        # One member left out, stored canonically: the chain published at freeze time no longer matches.
        row.population_gzip = frozen.pack(canonical_bytes(population[1:]))
    with pytest.raises(RuntimeError, match="frozen population"):
        draws.run_and_record_failure(gateway, COUNTY, draw_id)
    with gateway.read() as session:
        assert draws.get_draw(session, draw_id).status == "seeded"  # nothing written
