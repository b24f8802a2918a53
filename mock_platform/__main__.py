"""``python -m mock_platform``: serve the mock provincial platform on 127.0.0.1 (port 8900)."""
from __future__ import annotations

import argparse
import signal
import sys
from typing import Sequence

from mock_platform.backend import Backend
from mock_platform.flask_app import build_server
from mock_platform.settings import DEFAULT_ACCESS_KEY, DEFAULT_SECRET, Settings


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="python -m mock_platform", description="The mock provincial platform (国家企业信用信息公示系统（河南）模拟平台).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8900, help="port to listen on (default 8900; 0 picks a free one)")
    parser.add_argument("--state", metavar="FILE.sqlite", help="keep state in this SQLite file so it survives restarts")
    parser.add_argument("--access-key", default=DEFAULT_ACCESS_KEY, help=f"access key to accept (default {DEFAULT_ACCESS_KEY})")
    parser.add_argument("--secret", default=DEFAULT_SECRET, help=f"its secret (default {DEFAULT_SECRET})")
    parser.add_argument("--max-batch", type=int, default=defaults.max_batch_records, help="records per batch")
    parser.add_argument("--max-skew", type=int, default=defaults.max_clock_skew_seconds, help="allowed clock skew in seconds")
    parser.add_argument("--rate", type=float, default=defaults.rate_limit_per_second, help="requests per second per key (0 disables)")
    parser.add_argument("--burst", type=int, default=defaults.rate_limit_burst, help="rate-limit bucket size")
    parser.add_argument("--require-known-entities", action="store_true", help="reject records naming a USCC with no seeded entity")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings(
        max_batch_records=args.max_batch,
        max_clock_skew_seconds=args.max_skew,
        rate_limit_per_second=args.rate or None,
        rate_limit_burst=args.burst,
        require_known_entities=args.require_known_entities,
    )
    backend = Backend(settings=settings, credentials={args.access_key: args.secret}, state_path=args.state)
    server = build_server(backend, args.host, args.port, quiet=args.quiet)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"Mock provincial platform on http://{args.host}:{server.port} (access key {args.access_key})", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        backend.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
