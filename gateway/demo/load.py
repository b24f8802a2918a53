"""Load the demo directories into the database."""
from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from gateway.core import Gateway
from gateway.db import utcnow
from gateway.demo.generate import DemoShape, generate_inspectors, generate_targets
from gateway.directory.importing.bulk import Upserter
from gateway.directory.models import Conflict, Inspector, Target, join_licences

TARGET_COLUMNS = (
    "uscc", "name", "type", "township", "level", "address", "legal_representative", "business_scope",
    "licences", "status", "risk_class", "abnormal_list", "serious_violation_list", "complaint_count", "active",
)
INSPECTOR_COLUMNS = (
    "department_code", "name", "gender", "unit", "position", "expertise", "certificate_no",
    "certificate_valid_until", "phone", "active",
)


def load_directories(gateway: Gateway, shape: DemoShape, today: date | None = None) -> dict[str, int]:
    """Upsert the demo targets, inspectors and conflicts; return counts."""
    today = today or date.today()
    now = utcnow()
    with gateway.engine.connect() as conn:
        conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            targets = Upserter(conn, "targets", "uscc", TARGET_COLUMNS + ("created_at", "updated_at"),
                               TARGET_COLUMNS + ("updated_at",))
            for row in generate_targets(gateway.registry, shape):
                row["licences"] = join_licences(row["licences"])
                targets.add(tuple(row[c] for c in TARGET_COLUMNS) + (now, now))
            targets.finish()
            inspectors = Upserter(conn, "inspectors", "certificate_no", INSPECTOR_COLUMNS + ("created_at", "updated_at"),
                                  INSPECTOR_COLUMNS + ("updated_at",))
            for row in generate_inspectors(gateway.registry, shape, today):
                inspectors.add(tuple(row[c] for c in INSPECTOR_COLUMNS) + (now, now))
            inspectors.finish()
    with gateway.write() as session:
        rng = random.Random(shape.seed + 2)
        inspector_ids = list(session.scalars(select(Inspector.id).order_by(Inspector.id)))
        target_ids = list(session.scalars(select(Target.id).where(Target.licences != "").order_by(Target.id)))
        target_ids = target_ids or list(session.scalars(select(Target.id).order_by(Target.id).limit(1000)))
        existing = {tuple(row) for row in session.execute(select(Conflict.inspector_id, Conflict.target_id))}
        reasons = ("近亲属在该单位任职", "曾在该单位任职未满三年", "与法定代表人有利害关系")
        for _ in range(shape.conflicts if inspector_ids and target_ids else 0):
            pair = (rng.choice(inspector_ids), rng.choice(target_ids))
            if pair in existing:
                continue
            existing.add(pair)
            session.add(Conflict(inspector_id=pair[0], target_id=pair[1], reason=rng.choice(reasons)))
        counts = {
            "targets": session.query(Target).count(),
            "inspectors": session.query(Inspector).count(),
            "conflicts": session.query(Conflict).count(),
        }
    return counts
