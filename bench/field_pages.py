"""What an inspector's phone downloads to open "my tasks" for the first time (issue 19: at most
150 KB transferred, gzip, with no framework).

    python bench/field_pages.py

runs the browser test that measures it (``tests/web/test_field_offline.py::test_first_load_weight``,
Debian's Chromium) and prints each file of the first load: its bytes as served and gzip-compressed
(level 6, what a reverse proxy's ``gzip on`` sends), and the total. :func:`page_weight` is the
measurement, shared with the test.
"""
from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 150 * 1024


def page_weight(page, url: str) -> list[tuple[str, int, int]]:
    """(path, bytes, gzip bytes) of every same-site response of a fresh load of ``url`` in ``page``,
    the service worker's own script included."""
    seen: list = []

    def keep(response) -> None:
        seen.append(response)

    page.on("response", keep)
    page.goto(url, wait_until="load")
    page.evaluate("() => navigator.serviceWorker ? navigator.serviceWorker.ready.then(() => true) : true")
    page.remove_listener("response", keep)
    site = url.split("/console")[0]
    bodies = {r.url: r.body() for r in seen if r.url.startswith(site) and r.status < 300}
    # The service worker's script and the manifest are fetched by the browser, not by the page.
    extra = [site + "/field-sw.js"] + page.eval_on_selector_all("link[rel=manifest]", "(links) => links.map((l) => l.href)")
    for address in extra:
        if address not in bodies:
            bodies[address] = page.request.get(address).body()
    return [(address.split("://", 1)[1].split("/", 1)[1], len(body), len(gzip.compress(body, 6)))
            for address, body in bodies.items()]


def report(rows: list[tuple[str, int, int]]) -> str:
    lines = [f"{gz:>8} B gzip {raw:>8} B  /{path}" for path, raw, gz in rows]
    total = sum(gz for _, _, gz in rows)
    lines.append(f"first load of my tasks: {total} bytes transferred (gzip), "
                 f"{sum(raw for _, raw, _ in rows)} uncompressed; budget {BUDGET}")
    return "\n".join(lines)


def main() -> int:
    test = "tests/web/test_field_offline.py::test_first_load_weight"
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", "-n", "0", "-p", "no:cacheprovider", test],
                           cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
