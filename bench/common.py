"""Shared bits of the benchmarks: fresh databases, child processes that report peak memory."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("SHUANGSUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Benchmark databases are named <prefix><name>_<random>: a shared server tells whose they are.
DB_PREFIX = os.environ.get("SHUANGSUI_BENCH_DB_PREFIX", "bench_")


def fresh_sqlite(folder: Path, name: str) -> str:
    from gateway.migrate import upgrade

    path = folder / f"{name}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


def fresh_postgresql(name: str) -> str:
    from gateway.migrate import upgrade

    db = f"{DB_PREFIX}{name}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{db}"')
    admin.dispose()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db
    upgrade(url)
    return url


def drop_postgresql(url: str) -> None:
    db = url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    admin.dispose()


def pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        return True
    except Exception:
        return False


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(module: str, *args: str) -> dict:
    """Run ``python -m module args`` and return the JSON it prints last (with its own peak memory)."""
    out = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


class PrivateCluster:
    """A throwaway PostgreSQL 15 cluster of our own (initdb in a temporary folder, its own port and
    socket folder), for a benchmark that must crash the database or restart it with other settings:
    never the shared cluster.

    ``stop()`` is an immediate shutdown (``pg_ctl -m immediate``: a crash, recovery at the next
    start); ``close()`` stops it and deletes the folder. ``locale`` is initdb's: the databases' collation
    and character classes."""

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self, port: int = 5499, user: str = "postgres", locale: str = "C"):
        import tempfile

        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="shuangsui-private-pg-"))
        self.data = self.folder / "data"
        self.socket = self.folder / "socket"
        self.log = self.folder / "server.log"
        self.socket.mkdir()
        self._as_user = [] if os.geteuid() != 0 else ["runuser", "-u", user, "--"]
        if self._as_user:
            subprocess.run(["chown", "-R", user, str(self.folder)], check=True)
        self._run(str(self.BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale", locale)
        self.start()

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_user, *command], check=True, capture_output=True)

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, settings: str = "") -> None:
        """Start the cluster; ``settings`` (``"name=value name=value"``) on top of the stock ones."""
        options = "".join(f" -c {setting}" for setting in settings.split())
        self._run(str(self.BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.socket} -c listen_addresses=127.0.0.1{options}", "start")

    def restart(self, settings: str = "") -> None:
        """A clean shutdown, then :meth:`start` with ``settings``."""
        self.stop("fast")
        self.start(settings)

    def stop(self, mode: str = "immediate") -> None:
        self._run(str(self.BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def database(self, name: str) -> str:
        """A fresh, migrated database on this cluster; its URL."""
        from gateway.migrate import upgrade

        admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = self.admin_url.rsplit("/", 1)[0] + "/" + name
        upgrade(url)
        return url

    def copy(self, template: str, name: str) -> str:
        """A copy of database ``template`` (files copied, statistics and all); its URL."""
        admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        admin.dispose()
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def close(self) -> None:
        import shutil

        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "PrivateCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
