"""Benchmark: the public pages and the inspector's result submission under load, next to the floor.

    python bench/load.py [--targets 1000000] [--db postgresql|sqlite] [--workers 2] [--connections 50]
                         [--duration 15] [--published 300] [--submissions 3000] [--url URL]

Needs ``wrk`` (Debian: ``apt-get install wrk``). What it does, all on 127.0.0.1:

1. a fresh database (PostgreSQL by default, dropped at the end): the demo directory of
   ``--targets`` targets and 300 inspectors, the demo's two joint draws, ``--published`` results
   recorded, reviewed and published through the results service, and ``--submissions`` drawn
   tasks without a result, each with its team leader's API token (bench/load_steps.py);
2. the gateway under gunicorn as docs/deploy.md runs it (``--workers`` processes, default 2 on
   PostgreSQL and 1 on SQLite, 4 threads each, gthread, access log on), on a free port, with the
   public rate limit off (``SHUANGSUI_RATE_LIMIT_PUBLIC=""``);
3. one ``wrk`` run per endpoint (``--wrk-threads`` threads, ``--connections`` connections,
   ``--duration`` seconds), bench/load.lua varying each request, after ``--solo`` seconds on one
   connection (a warm-up, and the median latency of a request alone, "alone ms"):
   - ``GET /healthz``, the floor: every request hook of the framework, no query; measured first
     and again last, the faster kept;
   - ``GET /search?q=<USCC>`` and ``GET /targets/<USCC>``: USCCs drawn at random from a sample of
     the loaded targets;
   - ``GET /search?q=<two Chinese characters>``: pairs of the characters the demo's trade names
     are made of;
   - ``GET /`` (the home page);
   - ``POST /api/v1/tasks/<id>/result-submissions``: each request a different drawn task, sent by
     its team leader's token with a fresh idempotency key, so each stores a result (201). A wrk
     thread that has sent all its tasks starts them again: those requests are replays of a key
     (200, nothing stored); the output counts both;
   between runs it waits until the database has no active query left from the previous one;
4. per endpoint: throughput, its share of the floor's, p50/p95/p99, errors (socket errors,
   timeouts past ``--timeout`` and statuses other than 2xx/3xx), the aims of issue 20 and the
   load average. Then it stops gunicorn, deletes the files and drops the database.

``--url postgresql+psycopg://…/db`` uses that database instead of a fresh one and keeps it: it must
already hold the directory (for instance a copy, ``CREATE DATABASE x TEMPLATE y``, of a database
that bench/draw_steps.py loaded), so step 1 only applies the migrations and ``--targets`` only
names it; steps 2 to 4 (draws, published results, submissions) run on it as on a fresh one. Use a
fresh copy per run: the submissions of one run are stored in it.

Latencies are wrk's (from the moment a request is sent on an open connection); a request slower
than ``--timeout`` counts as an error and not in the percentiles.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, drop_postgresql, fresh_postgresql, fresh_sqlite, pg_available  # noqa: E402
from bench.load_steps import SECRET  # noqa: E402  (the setup writes with the settings the server reads)

LUA = Path(__file__).with_name("load.lua")
GUNICORN = Path(sys.executable).parent / "gunicorn"
WRK_MISSING = ("bench/load.py drives the gateway with wrk, which is not installed: "
               "on Debian or Ubuntu, apt-get install wrk")
MARKER = "BENCH_LOAD "
# The characters the demo's trade names are made of (gateway/demo/wuzhi.py TRADE_NAMES): every
# ordered pair of two of them starts some names.
TRADE_CHARACTERS = "豫丰宏达鑫源金盛瑞祥永兴华茂隆昌恒通博远嘉禾沁河黄河太行怀川覃怀龙泉木城宁郭中原"


@dataclass(frozen=True)
class Endpoint:
    label: str
    mode: str  # "get": random lines of ``file`` are paths; "post": submit.tsv lines
    file: str
    aim_rps: float | None = None
    aim_p95_ms: float | None = None

    def aim(self) -> str:
        parts = []
        if self.aim_rps:
            parts.append(f">= {self.aim_rps:.0f} req/s")
        if self.aim_p95_ms:
            parts.append(f"p95 <= {self.aim_p95_ms:.0f} ms")
        return ", ".join(parts)


ENDPOINTS = [
    Endpoint("GET /search?q=<USCC>", "get", "search-uscc.txt", 300, 200),
    Endpoint("GET /targets/<USCC>", "get", "targets.txt", 300, 200),
    Endpoint("GET /search?q=<2 Chinese chars>", "get", "search-name.txt", 150),
    Endpoint("GET / (home)", "get", "home.txt"),
    Endpoint("POST result-submissions", "post", "submit.tsv"),
]
FLOOR = Endpoint("GET /healthz (floor)", "get", "healthz.txt")


@dataclass
class Measured:
    """One wrk run, from the line bench/load.lua prints."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    socket_errors: int
    timeouts: int
    statuses: dict[int, int] = field(default_factory=dict)
    unanswered: int = 0  # sent but still waiting when wrk stopped: not in the percentiles
    alone_p50_ms: float | None = None  # p50 of the same requests sent one at a time (--solo)
    alone_unanswered: float | None = None  # the --solo seconds, when not one request was answered in them
    load: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        """Requests that failed: socket errors, timeouts and statuses other than 2xx and 3xx."""
        return self.socket_errors + self.timeouts + sum(n for s, n in self.statuses.items() if s >= 400)

    def meets(self, endpoint: Endpoint) -> bool | None:
        if not endpoint.aim_rps and not endpoint.aim_p95_ms:
            return None
        return ((not endpoint.aim_rps or self.rps >= endpoint.aim_rps)
                and (not endpoint.aim_p95_ms or self.p95_ms <= endpoint.aim_p95_ms) and not self.errors)


def parse_wrk(output: str) -> Measured:
    """The figures of a wrk run from its standard output (the ``BENCH_LOAD {json}`` line of load.lua)."""
    for line in reversed(output.splitlines()):
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER):])
            break
    else:
        raise ValueError("no BENCH_LOAD line in the output of wrk (was it run with bench/load.lua?)")
    return Measured(
        requests=data["requests"], seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000, p95_ms=data["p95_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        socket_errors=data["connect"] + data["read"] + data["write"], timeouts=data["timeout"],
        statuses={int(s): n for s, n in data["statuses"].items()},
        unanswered=max(0, data.get("sent", data["requests"]) - data["requests"]),
    )


def wrk_command(wrk: str, base_url: str, endpoint: Endpoint, folder: Path, threads: int, connections: int,
                seconds: float, timeout: float) -> list[str]:
    """A bounded wrk run against ``base_url`` (which must be on 127.0.0.1)."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError(f"bench/load.py drives 127.0.0.1 only, not {base_url}")
    return [wrk, f"-t{threads}", f"-c{max(connections, threads)}", f"-d{seconds:g}s", "--timeout", f"{timeout:g}s",
            "-s", str(LUA), base_url, "--", endpoint.mode, str(folder / endpoint.file), str(threads)]


def format_row(endpoint: Endpoint, m: Measured, floor_rps: float) -> str:
    share = f"{m.rps / floor_rps:6.2f}" if floor_rps else "     -"
    verdict = {None: "", True: "  met", False: "  MISSED"}[m.meets(endpoint)]
    alone = (f"{f'> {m.alone_unanswered * 1000:.0f}':>8}" if m.alone_unanswered
             else f"{m.alone_p50_ms:8.1f}" if m.alone_p50_ms is not None else "       -")
    return (f"{endpoint.label:<34} {m.rps:8.1f} {share} {m.p50_ms:8.1f} {m.p95_ms:8.1f} {m.p99_ms:8.1f} "
            f"{alone} {m.errors:7d}  {m.load:4.1f}  {endpoint.aim()}{verdict}")


HEADER = (f"{'endpoint':<34} {'req/s':>8} {'xfloor':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'alone ms':>8} {'errors':>7}  load  aim (issue 20)")
SOLO_SUBMISSIONS = 300  # submit.tsv's first lines, kept for the one-connection run (--solo)


def status_text(statuses: dict[int, int]) -> str:
    return ", ".join(f"{status}: {n:,}" for status, n in sorted(statuses.items()))


def write_paths(folder: Path) -> None:
    """The GET endpoints' files: one path per line (the USCCs come from the setup's usccs.txt)."""
    usccs = (folder / "usccs.txt").read_text(encoding="utf-8").split()
    pairs = [a + b for a in TRADE_CHARACTERS for b in TRADE_CHARACTERS if a != b]
    files = {
        "healthz.txt": ["/healthz"], "home.txt": ["/"],
        "search-uscc.txt": [f"/search?q={u}" for u in usccs],
        "targets.txt": [f"/targets/{u}" for u in usccs],
        "search-name.txt": [f"/search?q={quote(p)}" for p in dict.fromkeys(pairs)],
    }
    submissions = (folder / "submit.tsv").read_text(encoding="utf-8").splitlines()
    files["submit-solo.tsv"], files["submit.tsv"] = submissions[:SOLO_SUBMISSIONS], submissions[SOLO_SUBMISSIONS:]
    for name, lines in files.items():
        (folder / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


class Server:
    """gunicorn serving gateway.wsgi:app on a free port of 127.0.0.1 (stopped on exit)."""

    def __init__(self, url: str, instance: Path, log: Path, workers: int, threads: int) -> None:
        self.url, self.instance, self.log, self.workers, self.threads = url, instance, log, workers, threads
        self.process: subprocess.Popen | None = None
        self.base = ""

    def __enter__(self) -> str:
        from mock_platform.server_process import free_port

        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "SHUANGSUI_DATABASE_URL": self.url, "SHUANGSUI_INSTANCE_PATH": str(self.instance),
               "SHUANGSUI_SECRET_KEY": SECRET, "SHUANGSUI_RATE_LIMIT_PUBLIC": ""}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "--workers", str(self.workers), "--threads", str(self.threads),
                 "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", "--access-logfile", "-",
                 "--no-control-socket", "gateway.wsgi:app"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()
        return self.base

    def _wait_ready(self, limit: float = 120.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; its log:\n"
                                 + self.log.read_text(encoding="utf-8", errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer on {self.base} within {limit:.0f} s")

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop: workers finish and exit
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: the master and its workers
            self.process.wait()


def settle(url: str, base: str, limit: float = 120.0) -> float:
    """Wait until the previous run's requests are done: no active query on the database (PostgreSQL)
    and /healthz answering promptly. Returns the seconds waited."""
    import sqlalchemy as sa

    start = time.monotonic()
    deadline = start + limit
    if url.startswith("postgresql"):
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND state = 'active' AND pid <> pg_backend_pid()")
        try:
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    if not conn.scalar(query):
                        break
                time.sleep(0.5)
        finally:
            engine.dispose()
    while time.monotonic() < deadline:
        begun = time.monotonic()
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5):
                pass
        except OSError:
            pass
        if time.monotonic() - begun < 0.05:
            break
        time.sleep(0.5)
    return time.monotonic() - start


def run_wrk(command: list[str], seconds: float, timeout: float) -> Measured:
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 60)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    measured = parse_wrk(done.stdout)
    measured.load = os.getloadavg()[0]
    return measured


def drive(args, wrk: str, url: str, base: str, folder: Path) -> list[tuple[Endpoint, Measured]]:
    """The floor, each endpoint, the floor again: one bounded wrk run each."""
    measured = []
    plan = [FLOOR, *ENDPOINTS, FLOOR]
    for endpoint in plan:
        waited = settle(url, base)
        if waited > 2:
            print(f"  (waited {waited:.0f} s for the previous run's requests to finish)", flush=True)
        alone = None
        if args.solo > 0:  # one connection: the latency of a request alone (and a warm-up)
            solo = replace(endpoint, file="submit-solo.tsv") if endpoint.mode == "post" else endpoint
            alone = run_wrk(wrk_command(wrk, base, solo, folder, 1, 1, args.solo, args.timeout), args.solo,
                            args.timeout)
            settle(url, base)
        command = wrk_command(wrk, base, endpoint, folder, args.wrk_threads, args.connections, args.duration,
                              args.timeout)
        result = run_wrk(command, args.duration, args.timeout)
        if alone is not None:
            result.alone_p50_ms = alone.p50_ms if alone.requests else None
            result.alone_unanswered = None if alone.requests else alone.seconds
        print(f"  {endpoint.label}: {result.rps:.1f} req/s, p95 {result.p95_ms:.1f} ms, "
              f"statuses {status_text(result.statuses)}", flush=True)
        measured.append((endpoint, result))
    return measured


def report(measured: list[tuple[Endpoint, Measured]], submissions: int, wrk_threads: int) -> None:
    floors = [m for e, m in measured if e is FLOOR]
    floor = max(floors, key=lambda m: m.rps)
    print()
    print(HEADER)
    print(format_row(FLOOR, floor, floor.rps)
          + f"(first {floors[0].rps:.1f}, last {floors[-1].rps:.1f} req/s; the faster kept)")
    for endpoint, m in measured:
        if endpoint is not FLOOR:
            print(format_row(endpoint, m, floor.rps))
    for endpoint, m in measured:
        if endpoint.mode == "post":
            stored, replayed = m.statuses.get(201, 0), m.statuses.get(200, 0)
            print(f"\nresult submissions: {stored:,} stored (201), each a different drawn task with a fresh key; "
                  f"{replayed:,} replays of a key (200) after a wrk thread used up its "
                  f"{submissions // wrk_threads:,} tasks; all statuses: {status_text(m.statuses)}")
        elif m.errors:
            print(f"{endpoint.label}: statuses {status_text(m.statuses)}, socket errors {m.socket_errors}, "
                  f"timeouts {m.timeouts}")
    for endpoint, m in measured:
        if m.unanswered and m.requests < 10 * m.unanswered:
            print(f"{endpoint.label}: {m.requests:,} requests answered in {m.seconds:.0f} s; {m.unanswered} more "
                  f"were still unanswered when wrk stopped and are left out of its figures")


def prepare(args, url: str, instance: Path, folder: Path) -> dict:
    """bench/load_steps.py setup in a child process (its progress on stderr); its summary."""
    from gateway.plugins.manager import build_plugin_manager, load_registry

    departments = len(load_registry(build_plugin_manager()).departments)
    per_department = max(2, args.inspectors // departments)
    command = [sys.executable, "-m", "bench.load_steps", "setup", url, str(instance), str(folder),
               str(0 if args.url else args.targets), str(per_department), str(args.published), str(args.submissions)]
    out = subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    prepared = json.loads(out.stdout.strip().splitlines()[-1])
    t = prepared["timings"]
    print(f"loaded {prepared['targets']:,} targets and {prepared['inspectors']} inspectors in {t['load']:.0f} s; "
          f"two joint draws ({prepared['tasks']:,} + {prepared['past_tasks']:,} tasks) in {t['draws']:.0f} s; "
          f"{prepared['published_results']:,} published results ({t['publish']:.0f} s); "
          f"{prepared['submissions']:,} tasks ready for submissions ({t['submissions']:.0f} s)", flush=True)
    write_paths(folder)
    return prepared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn processes (default 2; 1 on SQLite)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    parser.add_argument("--connections", type=int, default=50, help="wrk's concurrent connections")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15, help="seconds per endpoint")
    parser.add_argument("--solo", type=float, default=3,
                        help="seconds of one connection before each run: a request's latency alone (0: skip)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds; a slower request is an error")
    parser.add_argument("--inspectors", type=int, default=300, help="in all, spread over the departments")
    parser.add_argument("--published", type=int, default=300, help="published results besides the demo's")
    parser.add_argument("--submissions", type=int, default=3000, help="drawn tasks prepared for submissions")
    parser.add_argument("--url", help="an existing database with its directory already loaded, kept at the end")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(WRK_MISSING)
    workers = args.workers or (2 if args.db == "postgresql" else 1)
    print(f"{args.targets:,} targets on {args.db}; gunicorn {workers} workers x {args.threads} threads (gthread) "
          f"on 127.0.0.1, public rate limit off; wrk -t{args.wrk_threads} -c{args.connections} "
          f"-d{args.duration:g}s per endpoint; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        if args.url:
            from gateway.migrate import upgrade

            url = args.url
            upgrade(url)  # the copy may predate this branch's migrations
        elif args.db == "postgresql":
            if not pg_available():
                raise SystemExit("PostgreSQL is not reachable (SHUANGSUI_TEST_PG_URL)")
            url = fresh_postgresql("load")
        else:
            url = fresh_sqlite(folder, "load")
        try:
            prepared = prepare(args, url, folder / "instance", folder)
            with Server(url, folder / "instance", folder / "gunicorn.log", workers, args.threads) as base:
                measured = drive(args, wrk, url, base, folder)
        finally:
            if args.db == "postgresql" and not args.url:
                drop_postgresql(url)
    report(measured, max(0, prepared["submissions"] - SOLO_SUBMISSIONS), args.wrk_threads)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
