"""One measured step of bench/import.py, run in its own process so its peak memory is its own."""
from __future__ import annotations

import csv
import json
import sqlite3
import sys
import time
from datetime import datetime

from bench.common import peak_rss_mb

COLUMNS = ["uscc", "name", "type", "township", "level", "address", "legal_representative", "business_scope",
           "licences", "status", "risk_class", "abnormal_list", "serious_violation_list", "complaint_count",
           "active", "created_at", "updated_at"]


def gateway_import(url: str, path: str) -> None:
    from gateway.cli.imports import CLI_MAX_ROWS
    from gateway.db import make_engine
    from gateway.directory.importing.staged import import_targets
    from gateway.security.principal import Principal

    engine = make_engine(url)
    with open(path, "rb") as fh:  # as `shuangsui import targets` does, without the audit
        report = import_targets(engine, fh, path, principal=Principal(role="county_office", name="bench"), owner=True,
                                max_rows=CLI_MAX_ROWS)
        assert report.committed and report.created > 0, report.errors[:3]


def _baseline_rows(path: str):
    now = datetime.now()
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for r in reader:
            yield (*r[:8], "|" + r[8].replace("；", "|") + "|" if r[8] else "", r[9], r[10],
                   r[11] == "1", r[12] == "1", int(r[13]), True, now, now)


def baseline_sqlite(url: str, path: str) -> None:
    conn = sqlite3.connect(url.split("///", 1)[1])
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    sql = f"INSERT INTO targets ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    batch = []
    for row in _baseline_rows(path):
        batch.append(row)
        if len(batch) == 5000:
            conn.executemany(sql, batch)
            batch = []
    conn.executemany(sql, batch)
    conn.commit()
    conn.close()


def baseline_postgresql(url: str, path: str) -> None:
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    with conn.cursor() as cur, cur.copy(f"COPY targets ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in _baseline_rows(path):
            copy.write_row(row)
    conn.commit()
    conn.close()


if __name__ == "__main__":
    kind, url, path = sys.argv[1:4]
    start = time.perf_counter()
    if kind == "gateway":
        gateway_import(url, path)
    elif url.startswith("sqlite"):
        baseline_sqlite(url, path)
    else:
        baseline_postgresql(url, path)
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak_rss_mb()}))
