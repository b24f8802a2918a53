"""Longer fuzz run: schemathesis against the gateway's OpenAPI document, every role, both databases.

    python bench/fuzz.py [--examples 25] [--db sqlite|postgresql|both] [--roles county_office,public,...] [--seed N]

Each operation is called, for each role, with generated valid ("positive") and invalid ("negative")
inputs on a database seeded with the demo directories. Prints operations, examples, the status
codes seen and every failure (a 5xx, or a response that does not match its declared schema) with a
curl command to reproduce it. Exit code 1 when anything failed.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import drop_postgresql, fresh_postgresql, fresh_sqlite, pg_available  # noqa: E402

ALL_ROLES = ("county_office", "department_operator", "department_head", "inspector", "supervisor", "system", "public")


def run(url: str, folder: Path, roles: list[str], examples: int, seed: int | None) -> int:
    from sqlalchemy import select

    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.core import Gateway
    from gateway.demo.generate import DemoShape
    from gateway.demo.load import load_directories
    from gateway.directory.models import Inspector
    from gateway.security import accounts
    from gateway.security.principal import SYSTEM
    from tests.security.fuzzing import run_fuzz

    settings = Settings(instance_path=folder, database_url=url, secret_key="fuzz",
                        rate_limit_public="", rate_limit_sign_in="")
    gateway = Gateway.create(settings)
    gateway.sync_registry()
    load_directories(gateway, DemoShape(targets=200))
    headers: dict[str, dict[str, str]] = {}
    with gateway.write() as session:
        inspector_id = session.scalar(select(Inspector.id).where(Inspector.department_code == "market").limit(1))
        for role in roles:
            if role == "public":
                headers[role] = {}
                continue
            department = "market" if role in ("department_operator", "department_head") else None
            _, token = accounts.issue_token(session, SYSTEM, f"fuzz-{role}", role, department_code=department,
                                            inspector_id=inspector_id if role == "inspector" else None)
            headers[role] = {"Authorization": f"Bearer {token}"}
    app = create_app(gateway=gateway)
    started = time.perf_counter()
    report = run_fuzz(app, headers, max_examples=examples, seed=seed)
    seconds = time.perf_counter() - started
    gateway.dispose()
    for error in report.errors:
        print(f"  SCHEMA ERROR: {error[:500]}")
    distinct: dict[tuple, list] = {}
    for f in report.failures:
        kind = next((line.strip() for line in f.reason.splitlines() if line.strip().startswith("- ")), f.reason[:80])
        distinct.setdefault((f.operation, f.status, kind), []).append(f)
    for (operation, status, kind), group in distinct.items():
        first = group[0]
        print(f"  FAILURE x{len(group)} {operation} -> {status}: {kind} (e.g. {first.role}/{first.mode})")
        print("    " + first.reason[:1200].replace("\n", "\n    "))
        print(f"    {first.reproduce}")
    print(f"  {report.summary()} in {seconds:.0f} s")
    return len(report.failures) + len(report.errors)


def main() -> None:
    import logging

    logging.getLogger("gateway").setLevel(logging.CRITICAL)  # the refusals are expected; keep the output short
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="examples per operation, role and mode")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--roles", default=",".join(ALL_ROLES))
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: a fresh one, printed)")
    args = parser.parse_args()
    roles = [r for r in args.roles.split(",") if r]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.db in ("sqlite", "both"):
            print(f"SQLite ({len(roles)} roles, {args.examples} examples per operation/role/mode):")
            failed += run(fresh_sqlite(folder, "fuzz"), folder, roles, args.examples, args.seed)
        if args.db in ("postgresql", "both"):
            if not pg_available():
                print("PostgreSQL: not reachable, skipped")
            else:
                url = fresh_postgresql("fuzz")
                try:
                    print(f"PostgreSQL ({len(roles)} roles, {args.examples} examples per operation/role/mode):")
                    failed += run(url, folder, roles, args.examples, args.seed)
                finally:
                    drop_postgresql(url)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
