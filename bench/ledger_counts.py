"""Benchmark: what the ledger costs the freeze's cap check, on SQLite and PostgreSQL.

    python bench/ledger_counts.py [--targets 1000000] [--ledger-rows 3] [--db sqlite|postgresql|both]

Loads the directory and the ledger as ``bench/draw.py`` does (``--ledger-rows`` registered inspections
per target, caps 2 per department / 4 in all, every tenth target at its per-department cap), then
times on the same database, best of three: the read of the targets at a cap from the maintained
counts (what the freeze runs, :func:`gateway.ledger.queries.counts_by_target`), the same answer from
the ledger's ``UNION ALL`` (what the freeze ran before them, ``ledger_counts_by_target``), and the
rebuild of the year's counts (``shuangsui ledger rebuild-counts``); and checks the two answers agree.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import drop_postgresql, fresh_postgresql, fresh_sqlite, pg_available, run_child  # noqa: E402


def timed(url: str) -> dict:
    """(child) The three timings, best of three, and whether the two reads agree."""
    from bench.draw_steps import YEAR as year
    from bench.draw_steps import _gateway
    from gateway.ledger import counts
    from gateway.ledger.queries import counts_by_target, ledger_counts_by_target

    gateway = _gateway(url)
    best: dict[str, float] = {}
    answers = {}
    for _ in range(3):
        for name, read in (("maintained", counts_by_target), ("union", ledger_counts_by_target)):
            with gateway.read() as session:
                start = time.perf_counter()
                answers[name] = read(session, year, at_cap_only=True)
                best[name] = min(best.get(name, 1e9), time.perf_counter() - start)
    with gateway.write() as session:
        start = time.perf_counter()
        counts.rebuild(session.connection(), [year])
        best["rebuild"] = time.perf_counter() - start
    return {**best, "at_cap": len(answers["maintained"]), "agree": answers["maintained"] == answers["union"]}


def measure(label: str, url: str, targets: int, ledger_rows: int) -> None:
    run_child("bench.draw_steps", "load", url, str(targets), "60")
    run_child("bench.draw_steps", "ledger", url, str(ledger_rows))
    got = run_child("bench.ledger_counts", "timed", url)
    print(f"{label}: {targets:,} targets, {targets * ledger_rows:,} registered inspections; {got['at_cap']:,} targets "
          f"at a cap; read from the maintained counts {got['maintained']:.2f} s, from the ledger's UNION "
          f"{got['union']:.2f} s ({'same answer' if got['agree'] else 'DIFFERENT ANSWERS'}); "
          f"rebuilding the year's counts {got['rebuild']:.2f} s", flush=True)


def main() -> None:
    if sys.argv[1:2] == ["timed"]:
        print(json.dumps(timed(sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=1_000_000)
    parser.add_argument("--ledger-rows", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db in ("sqlite", "both"):
            measure("SQLite", fresh_sqlite(Path(tmp), "counts"), args.targets, args.ledger_rows)
        if args.db in ("postgresql", "both") and pg_available():
            url = fresh_postgresql("counts")
            try:
                measure("PostgreSQL", url, args.targets, args.ledger_rows)
            finally:
                drop_postgresql(url)


if __name__ == "__main__":
    main()
