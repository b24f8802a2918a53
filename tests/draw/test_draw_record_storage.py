"""The public record is stored gzip-compressed (migration 0011); its text never changes."""
from __future__ import annotations

import gzip
import hashlib

import sqlalchemy as sa
from alembic import command

from gateway.draw import service as draws
from gateway.draw.models import Draw, pack_record, unpack_record
from gateway.migrate import alembic_config
from tests.drawdb import build_directory, complete_draw, published_plan


def test_packing_is_deterministic_and_lossless():
    text = '{"format":"shuangsui.draw/1","seed":"武陟-0001"}'.encode("utf-8")
    assert pack_record(text) == pack_record(text)  # no timestamp in the gzip header
    assert unpack_record(pack_record(text)) == text.decode("utf-8")
    assert gzip.decompress(pack_record(text)) == text


def test_migration_keeps_the_text_both_ways(gateway, settings):
    build_directory(gateway, per_matter=4, per_department=3)
    draw_id = complete_draw(gateway, published_plan(gateway))
    with gateway.read() as session:
        draw = draws.get_draw(session, draw_id)
        text, sha = draws.public_record(draw), draw.record_sha256
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == sha
    gateway.dispose()
    config = alembic_config(settings.database_url)
    engine = sa.create_engine(settings.database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        command.downgrade(config, "0010_drop_tasks_plan_index")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT record FROM draws WHERE id = :id"), {"id": draw_id}).scalar_one() == text
        command.upgrade(config, "head")
        with engine.connect() as conn:
            packed = conn.execute(sa.select(Draw.record_gzip).where(Draw.id == draw_id)).scalar_one()
        assert unpack_record(packed) == text
    finally:
        command.upgrade(config, "head")
        engine.dispose()
