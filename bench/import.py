"""Benchmark: import targets from CSV into SQLite and PostgreSQL, against the bare driver.

    python bench/import.py [--rows 1000000] [--db sqlite|postgresql|both] [--csv PATH] [--interrupt 0.5]

Prints rows/s, the ratio of the gateway's import to a baseline measured in the same run
(SQLite: csv + sqlite3 executemany; PostgreSQL: csv + psycopg COPY) and each step's peak memory.
Aims: ratio <= 2 on SQLite, <= 3 on PostgreSQL, peak memory < 500 MB.

Then, on another fresh database, the import is interrupted: its process is SIGKILLed once
``--interrupt`` of the rows are committed to the job's stage (0 skips this), and run again. The
re-run resumes the job (docs/import.md): it prints how long the re-run took against the whole
import above, and the targets it left (every credit code once, none missing).
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, drop_postgresql, fresh_postgresql, fresh_sqlite, pg_available, run_child  # noqa: E402

HEADER = ["uscc", "name", "type", "township", "level", "address", "legal_representative", "business_scope",
          "licences", "status", "risk_class", "abnormal_list", "serious_violation_list", "complaint_count"]


def write_csv(path: Path, rows: int) -> None:
    from gateway.demo.generate import DemoShape, generate_targets
    from gateway.plugins.manager import build_plugin_manager, load_registry

    registry = load_registry(build_plugin_manager())
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for t in generate_targets(registry, DemoShape(targets=rows)):
            writer.writerow([t["uscc"], t["name"], t["type"], t["township"], t["level"], t["address"],
                             t["legal_representative"], t["business_scope"], "；".join(t["licences"]),
                             t["status"], t["risk_class"], "1" if t["abnormal_list"] else "0",
                             "1" if t["serious_violation_list"] else "0", str(t["complaint_count"])])


def report(label: str, rows: int, gateway: dict, baseline: dict, aim: float) -> None:
    ratio = gateway["seconds"] / baseline["seconds"]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{label}: gateway import {rows / gateway['seconds']:,.0f} rows/s ({gateway['seconds']:.1f} s, "
          f"peak {gateway['peak_mb']:.0f} MB); baseline {rows / baseline['seconds']:,.0f} rows/s "
          f"({baseline['seconds']:.1f} s, peak {baseline['peak_mb']:.0f} MB); ratio {ratio:.2f} (aim <= {aim}); "
          f"load average {load}")


def interrupted(label: str, url: str, data: Path, rows: int, fraction: float, whole: dict) -> None:
    """SIGKILL the gateway's import once ``fraction`` of the rows are staged, then run it again."""
    engine = sa.create_engine(url)
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "bench.import_steps", "gateway", url, str(data)], cwd=ROOT,
                             stdout=subprocess.DEVNULL)
    staged = 0
    try:
        while child.poll() is None and staged < fraction * rows:
            time.sleep(0.2)
            with engine.connect() as conn:
                staged = conn.scalar(sa.text("SELECT coalesce(max(staged_through), 0) FROM import_jobs"))
        child.kill()
    finally:
        child.wait()
    killed = time.perf_counter() - start
    if child.returncode not in (0, -9):
        raise SystemExit(f"{label}: the import to be interrupted failed by itself (exit {child.returncode})")
    if child.returncode == 0:
        print(f"{label}: the import finished before {fraction:.0%} of its rows were staged; nothing interrupted")
        return
    resumed = run_child("bench.import_steps", "gateway", url, str(data))
    with engine.connect() as conn:
        count, distinct = conn.execute(sa.text("SELECT count(*), count(DISTINCT uscc) FROM targets")).one()
        statuses = [s for (s,) in conn.execute(sa.text("SELECT status FROM import_jobs ORDER BY id"))]
    engine.dispose()
    print(f"{label}: interrupted by SIGKILL after {killed:.1f} s with the stage committed through file row {staged:,} of {rows + 1:,}; the re-run "
          f"resumed the job and took {resumed['seconds']:.1f} s = {resumed['seconds'] / whole['seconds']:.2f} of the "
          f"whole import (peak {resumed['peak_mb']:.0f} MB); targets {count:,}, distinct credit codes {distinct:,} "
          f"({'complete, no duplicates' if count == distinct == rows else 'WRONG'}); import jobs: {', '.join(statuses)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--csv", type=Path, help="reuse this CSV (written with --rows rows if missing)")
    parser.add_argument("--interrupt", type=float, default=0.5, metavar="FRACTION",
                        help="interrupt a second import once this share of the rows is staged, then resume it (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = args.csv or folder / "targets.csv"
        if not data.exists():
            write_csv(data, args.rows)
        print(f"{args.rows:,} rows, {data.stat().st_size / 1e6:.0f} MB CSV")
        if args.db in ("sqlite", "both"):
            ours = run_child("bench.import_steps", "gateway", fresh_sqlite(folder, "gw"), str(data))
            base = run_child("bench.import_steps", "baseline", fresh_sqlite(folder, "base"), str(data))
            report("SQLite", args.rows, ours, base, 2)
            if args.interrupt:
                interrupted("SQLite", fresh_sqlite(folder, "resumed"), data, args.rows, args.interrupt, ours)
        if args.db in ("postgresql", "both"):
            if not pg_available():
                print("PostgreSQL: not reachable, skipped")
                return
            urls = [fresh_postgresql("gw"), fresh_postgresql("base")]
            try:
                ours = run_child("bench.import_steps", "gateway", urls[0], str(data))
                base = run_child("bench.import_steps", "baseline", urls[1], str(data))
                report("PostgreSQL", args.rows, ours, base, 3)
                drop_postgresql(urls.pop(1))
                if args.interrupt:
                    urls.append(fresh_postgresql("resumed"))
                    interrupted("PostgreSQL", urls[-1], data, args.rows, args.interrupt, ours)
            finally:
                for url in urls:
                    drop_postgresql(url)


if __name__ == "__main__":
    main()
