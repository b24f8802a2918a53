"""The frozen strata, one row per stratum (issue 20): draw_frozen_strata

The freeze used to keep every stratum's population in one JSON column (draws.strata), which the
run then loaded whole; each stratum now has its own row, written and read one at a time
(gateway.draw.frozen). Existing draws are moved over one draw at a time and their draws.strata
set to [] (the column stays, empty, for older code's downgrade). population_sha256 and
strata_sha256 are unchanged: a population is stored as the canonical JSON that they hash.
"""
import gzip
import hashlib
import json

import sqlalchemy as sa
from alembic import op

from gateway.migrations import helpers as h

revision = "0027_frozen_strata"
down_revision = "0026_draw_record_parts"

draws = sa.table("draws", sa.column("id", sa.Integer), sa.column("strata", sa.JSON))
frozen = sa.table(
    "draw_frozen_strata", sa.column("draw_id", sa.Integer), sa.column("position", sa.Integer),
    sa.column("key", sa.String), sa.column("matter", sa.String), sa.column("risk_class", sa.String),
    sa.column("ratio", sa.String), sa.column("size", sa.Integer), sa.column("population_sha256", sa.String),
    sa.column("population_gzip", sa.LargeBinary), sa.column("key_targets_gzip", sa.LargeBinary),
)


def _canonical(value) -> bytes:
    # gateway.draw.record.canonical_json, as of this revision (sorted keys, compact, UTF-8).
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _pack(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=1, mtime=0)


def upgrade() -> None:
    h.create_table(
        "draw_frozen_strata",
        h.ref("draw_id", "draws.id", ondelete="CASCADE"),
        *h.integers("position"),
        *h.strings(key=200, matter=100, risk_class=32, ratio=32),
        *h.integers("size"),
        *h.strings(population_sha256=64),
        *h.blobs("population_gzip"),
        *h.blobs("key_targets_gzip", nullable=True),
        key=["draw_id", "position"],
    )
    h.store_external("draw_frozen_strata", "population_gzip")
    bind = op.get_bind()
    for draw_id in bind.execute(sa.select(draws.c.id).order_by(draws.c.id)).scalars().all():
        entries = bind.execute(sa.select(draws.c.strata).where(draws.c.id == draw_id)).scalar() or []
        for position, entry in enumerate(entries):
            population = list(entry["population"])
            body = _canonical(population)
            key_targets = list(entry.get("key_targets") or [])
            bind.execute(frozen.insert().values(
                draw_id=draw_id, position=position, key=entry["key"], matter=entry["matter"],
                risk_class=entry.get("risk_class") or "", ratio=entry["ratio"], size=len(population),
                population_sha256=hashlib.sha256(body).hexdigest(), population_gzip=_pack(body),
                key_targets_gzip=None if key_targets == population else _pack(_canonical(key_targets))))
        del entries
        bind.execute(draws.update().where(draws.c.id == draw_id).values(strata=[]))


def downgrade() -> None:
    bind = op.get_bind()
    ids = bind.execute(sa.select(frozen.c.draw_id).distinct().order_by(frozen.c.draw_id)).scalars().all()
    for draw_id in ids:
        rows = bind.execute(sa.select(frozen).where(frozen.c.draw_id == draw_id).order_by(frozen.c.position)).all()
        entries = []
        for row in rows:
            population = json.loads(gzip.decompress(row.population_gzip))
            key_targets = population if row.key_targets_gzip is None else json.loads(gzip.decompress(row.key_targets_gzip))
            entries.append({"key": row.key, "matter": row.matter, "risk_class": row.risk_class, "ratio": row.ratio,
                            "population": population, "key_targets": key_targets})
        bind.execute(draws.update().where(draws.c.id == draw_id).values(strata=entries))
    h.drop_tables("draw_frozen_strata")
