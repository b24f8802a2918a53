"""Benchmark: the joint draw on a large directory, on SQLite and PostgreSQL, against a floor.

    python bench/draw.py [--targets 1000000] [--inspectors 300] [--ledger-rows 3] [--db sqlite|postgresql|both]

Loads the demo directory (``--targets`` targets, ``--inspectors`` inspectors spread over the
installed departments; on PostgreSQL then VACUUM ANALYZE and CHECKPOINT, as a county's database
would have had long before a draw), publishes a joint plan with every installed matter and four
credit-risk classes, and draws it through the real services: freeze, then run (select, teams, tasks
and the public record, in one transaction; a worker thread has the database look the drawn targets
up and write the tasks and members while the teams and the record are computed). It prints each
stage's time, the draw's peak memory, the time to verify the exported record, and the ratio of the
whole draw (freeze + run) to a floor measured in the same run (before and after the draw, the
faster kept): selecting the eligible ids of every matter and computing their tickets in a bare
loop. Aims: whole <= 2x the floor, peak memory <= 1 GB, verification no slower than the draw.

It prints how long each kind of the run's database jobs kept the worker busy (a table's inserts by
the table's name, ``lookups``: the drawn targets' ids, ``store_part``: the record's parts,
``add_drawn_lines``: the ledger's counts of the drawn targets), and the freeze plus that busy time
against the floor: however fast the draw computes, its run lasts at least as long as its database
worker is busy. On PostgreSQL the frozen strata's reads and the lookups run on a connection of
their own, beside the writes; they are printed apart and not counted in that bound. It also
prints the freeze's stages, among them the ledger's share (``ledger``: the counts of the targets
the caps excluded, for the record; the population query itself joins the targets at a cap from the
maintained counts, never one per target; on PostgreSQL those counts are read beside the strata's
building, so what shows is only the time to hand them over, and any wait for them falls in
``freeze_record``), and of the record
(``shuangsui.draw/2``) the whole size, the index's and the largest parts' sizes, and the time and
peak memory of ``docs/verify_draw.py`` (standard library) on the whole record, streamed.

With ``--ledger-rows N`` (default 3) every target also has N inspections registered outside the draw
in the plan's year and the year has published caps (docs/ledger.md), so the freeze reads the ledger's
counts and excludes the targets at a cap (every tenth target reaches its per-department cap).

With ``--settings "shared_buffers=4GB max_wal_size=8GB …"`` the PostgreSQL leg runs on a private
cluster of its own (``bench.common.PrivateCluster``, port ``--private-port``): the directory is
loaded once and copied, and the draw measured on the copy under PostgreSQL's stock settings, then
on the original with the cluster restarted under the given ones (docs/deploy.md, "Database").

On PostgreSQL the draw checks its tasks' and members' foreign keys as a set when the role may (the
benchmark connects as a superuser); ``SHUANGSUI_DRAW_KEY_CHECKS=row`` measures PostgreSQL's own
row-by-row checks instead (docs/deploy.md, "Database").
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    PrivateCluster,
    drop_postgresql,
    fresh_postgresql,
    fresh_sqlite,
    pg_available,
    run_child,
)
from gateway.draw.timing import READER, WORKER  # noqa: E402


def measure(label: str, url: str, folder: Path, targets: int, per_department: int, ledger_rows: int = 0) -> None:
    load(label, url, targets, per_department, ledger_rows)
    measure_draw(label, url, folder)


def load(label: str, url: str, targets: int, per_department: int, ledger_rows: int) -> None:
    loaded = run_child("bench.draw_steps", "load", url, str(targets), str(per_department))
    print(f"{label}: directory loaded in {loaded['seconds']:.1f} s ({loaded['targets']:,} targets, "
          f"{loaded['inspectors']} inspectors, {loaded['conflicts']} conflicts)")
    if ledger_rows:
        registered = run_child("bench.draw_steps", "ledger", url, str(ledger_rows))
        print(f"{label}: ledger loaded in {registered['seconds']:.1f} s ({ledger_rows * loaded['targets']:,} "
              f"registered inspections, caps 2 per department / 4 in all)")


def measure_draw(label: str, url: str, folder: Path) -> None:
    record = folder / "draw.json"
    # The floor is measured before and after the draw and the faster run kept, so that a busy
    # machine at one moment does not flatter the ratio.
    before = run_child("bench.draw_steps", "floor", url)
    drawn = run_child("bench.draw_steps", "draw", url, str(record))
    after = run_child("bench.draw_steps", "floor", url)
    floor = min(before, after, key=lambda f: f["seconds"])
    checked = run_child("bench.draw_steps", "verify", str(record))
    scripted = run_child("bench.draw_steps", "script", str(record))
    whole = drawn["freeze"] + drawn["run"]
    stages = {k[len("freeze_stage_"):]: v for k, v in drawn.items() if k.startswith("freeze_stage_")}
    print(f"{label}: freeze {drawn['freeze']:.2f} s ({drawn['eligible']:,} eligible in the strata, "
          f"{drawn['excluded']:,} exclusions); run {drawn['run']:.2f} s: read {drawn['read']:.2f} s, "
          f"draw {drawn['select']:.2f} s (+ {drawn['select_wait']:.2f} s waiting for the database: the drawn "
          f"targets' lookup, the frozen strata's reads), task rows and teams "
          f"{drawn['teams']:.2f} s, record {drawn['record']:.2f} s (+ {drawn['record_wait']:.2f} s waiting) "
          f"({drawn['record_mb']:.1f} MB; the strata's parts are made in the draw stage from the frozen text), "
          f"then waiting for the database {drawn['database']:.2f} s "
          f"({drawn['tasks_created']:,} tasks; the database writes them while the teams and the record are computed; "
          f"foreign keys checked {drawn['key_checks']})")
    print(f"{label}: whole {whole:.2f} s, floor {floor['seconds']:.2f} s ({floor['tickets']:,} tickets), "
          f"ratio {whole / floor['seconds']:.2f} (aim <= 2); peak memory {drawn['peak_mb']:.0f} MB (aim <= 1024; "
          f"{drawn['freeze_peak_mb']:.0f} MB by the end of the freeze); "
          f"verify {checked['seconds']:.2f} s, {'match' if checked['ok'] else 'MISMATCH'} "
          f"(aim: no slower than the draw, {whole:.2f} s; its selection stage alone {drawn['select']:.2f} s; "
          f"peak {checked['peak_mb']:.0f} MB); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    jobs, reads = ({k[len(prefix):]: v for k, v in drawn.items() if k.startswith(prefix)} for prefix in (WORKER, READER))
    busy = sum(jobs.values())
    print(f"{label}: the run's database worker was busy {busy:.2f} s of its {drawn['run']:.2f} s ("
          + ", ".join(f"{name} {v:.2f} s" for name, v in sorted(jobs.items(), key=lambda job: -job[1]))
          + f"); the freeze and that alone make "
          f"{drawn['freeze'] + busy:.2f} s = {(drawn['freeze'] + busy) / floor['seconds']:.2f} x the floor; "
          f"its reads apart, beside the writes: "
          + (", ".join(f"{name} {v:.2f} s" for name, v in sorted(reads.items(), key=lambda job: -job[1])) or "none"))
    print(f"{label}: freeze stages " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items())
          + f"; the ledger's share (caps check) {stages.get('ledger', 0.0):.2f} s = "
          f"{stages.get('ledger', 0.0) / floor['seconds']:.2f} of the floor; "
          f"whole without the ledger {whole - stages.get('ledger', 0.0):.2f} s, ratio "
          f"{(whole - stages.get('ledger', 0.0)) / floor['seconds']:.2f}")
    print(f"{label}: record shuangsui.draw/2: whole {drawn['record_mb']:.1f} MB in {drawn['parts']} parts, "
          f"index {drawn['index_mb']:.2f} MB, largest stratum part {drawn['largest_part_mb']:.2f} MB, "
          f"largest tasks part {drawn['largest_tasks_part_mb']:.2f} MB; docs/verify_draw.py (standard library) "
          f"{scripted['seconds']:.2f} s, {'match' if scripted['ok'] else 'MISMATCH'}, peak {scripted['peak_mb']:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=1_000_000)
    parser.add_argument("--inspectors", type=int, default=300, help="in all, spread evenly over the departments")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--ledger-rows", type=int, default=3, help="registered inspections per target (0: none)")
    parser.add_argument("--settings", default="", help='PostgreSQL settings to measure against the stock '
                        'ones, e.g. "shared_buffers=4GB max_wal_size=8GB": the PostgreSQL leg then runs on a private '
                        "cluster of its own, stock first")
    parser.add_argument("--private-port", type=int, default=5498, help="the private cluster's port (--settings)")
    args = parser.parse_args()
    from gateway.plugins.manager import build_plugin_manager, load_registry

    departments = len(load_registry(build_plugin_manager()).departments)
    per_department = max(2, args.inspectors // departments)
    print(f"{args.targets:,} targets, {per_department * departments} inspectors ({departments} departments)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.db in ("sqlite", "both"):
            measure("SQLite", fresh_sqlite(folder, "draw"), folder, args.targets, per_department, args.ledger_rows)
        if args.db in ("postgresql", "both"):
            if not pg_available():
                print("PostgreSQL: not reachable, skipped")
                return
            if args.settings:
                compare_settings(args, folder, per_department)
                return
            url = fresh_postgresql("draw")
            try:
                measure("PostgreSQL", url, folder, args.targets, per_department, args.ledger_rows)
            finally:
                drop_postgresql(url)


def compare_settings(args: argparse.Namespace, folder: Path, per_department: int) -> None:
    """The PostgreSQL leg on a private cluster: the directory loaded once and copied, then the
    draw on the copy under the stock settings and on the original under ``--settings``."""
    # The locale docs/deploy.md asks of a county's database (and the shared test server has).
    with PrivateCluster(port=args.private_port, locale="C.UTF-8") as cluster:
        url = cluster.database("draw")
        load("PostgreSQL", url, args.targets, per_department, args.ledger_rows)
        stock = cluster.copy("draw", "draw_stock")
        measure_draw("PostgreSQL, stock settings", stock, folder)
        cluster.restart(args.settings)
        names = [setting.split("=", 1)[0] for setting in args.settings.split()]
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            shown = conn.exec_driver_sql("SELECT name, current_setting(name) FROM unnest(%(names)s::text[]) AS name",
                                         {"names": names}).all()
        engine.dispose()
        print("PostgreSQL: restarted with " + ", ".join(f"{name} = {value}" for name, value in shown))
        measure_draw(f"PostgreSQL, {args.settings}", url, folder)


if __name__ == "__main__":
    main()
