"""bench/load.py's own parts: reading wrk's output, the bounded wrk command, and bench/load.lua
varying its requests and counting statuses (against a tiny local server). Nothing is timed."""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.load import ENDPOINTS, FLOOR, Endpoint, Measured, format_row, parse_wrk, wrk_command

WRK_OUTPUT = """Running 15s test @ http://127.0.0.1:40123
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   162.01ms   40.12ms 612.33ms   71.20%
    Req/Sec   154.22     30.10   240.00     68.00%
  4632 requests in 15.02s, 41.20MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    308.39
Transfer/sec:      2.74MB
BENCH_LOAD {"requests": 4632, "sent": 4682, "duration_us": 15020000, "bytes": 43201111, "connect": 0, "read": 1, "write": 0, \
"timeout": 2, "non_2xx_3xx": 3, "p50_us": 151000, "p95_us": 199500, "p99_us": 420000, "mean_us": 162010.5, \
"max_us": 612330, "statuses": {"200": 4629, "500": 3}}
"""


def test_parse_wrk_reads_the_line_of_load_lua():
    m = parse_wrk(WRK_OUTPUT)
    assert (m.requests, m.seconds, m.p50_ms, m.p95_ms, m.p99_ms) == (4632, 15.02, 151.0, 199.5, 420.0)
    assert round(m.rps, 1) == 308.4
    assert m.statuses == {200: 4629, 500: 3}
    assert (m.socket_errors, m.timeouts, m.errors) == (1, 2, 6)  # a read error, two timeouts, three 500s
    assert m.unanswered == 50  # one request on each connection when wrk stopped


def test_an_aim_is_met_only_with_no_error():
    search = Endpoint("GET /search?q=<USCC>", "get", "search-uscc.txt", 300, 200)
    fast = Measured(requests=4632, seconds=15.02, p50_ms=151, p95_ms=199.5, p99_ms=420, socket_errors=0,
                    timeouts=0, statuses={200: 4632})
    assert fast.meets(search) is True and fast.meets(FLOOR) is None
    assert "met" in format_row(search, fast, floor_rps=1000.0) and "0.31" in format_row(search, fast, 1000.0)
    slow = Measured(requests=4632, seconds=15.02, p50_ms=151, p95_ms=250, p99_ms=420, socket_errors=0,
                    timeouts=0, statuses={200: 4632})
    failing = Measured(requests=4632, seconds=15.02, p50_ms=151, p95_ms=150, p99_ms=420, socket_errors=0,
                       timeouts=0, statuses={200: 4600, 503: 32})
    assert slow.meets(search) is False and failing.meets(search) is False
    assert "MISSED" in format_row(search, slow, 1000.0)
    slow.alone_p50_ms, fast.alone_unanswered = 12.5, 3.0
    assert " 12.5 " in format_row(search, slow, 1000.0)
    assert " > 3000 " in format_row(search, fast, 1000.0)  # not one request answered in 3 s alone


def test_parse_wrk_without_the_script_line_says_so():
    with pytest.raises(ValueError, match="BENCH_LOAD"):
        parse_wrk(WRK_OUTPUT.split("BENCH_LOAD")[0])


def test_wrk_runs_are_bounded_and_local_only(tmp_path):
    command = wrk_command("/usr/bin/wrk", "http://127.0.0.1:8800", ENDPOINTS[0], tmp_path, 2, 50, 15, 30)
    assert command[:6] == ["/usr/bin/wrk", "-t2", "-c50", "-d15s", "--timeout", "30s"]
    assert command[-4:] == ["--", "get", str(tmp_path / "search-uscc.txt"), "2"]
    with pytest.raises(ValueError):
        wrk_command("/usr/bin/wrk", "http://10.0.0.5:8800", ENDPOINTS[0], tmp_path, 2, 50, 15, 30)


class Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str, str]] = []
    lock = threading.Lock()

    def _answer(self, status: int) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        with self.lock:
            self.seen.append((self.command, self.path, self.headers.get("Authorization", ""), body))
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self):  # noqa: N802
        self._answer(404 if self.path.endswith("missing") else 200)

    def do_POST(self):  # noqa: N802
        self._answer(201)

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # wrk closes its connections when it stops, in the middle of answers


@pytest.fixture
def local_server():
    Recorder.seen = []
    server = QuietServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _wrk(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_load_lua_varies_gets_and_counts_their_statuses(local_server, tmp_path):
    paths = [f"/targets/{n}" for n in range(20)] + ["/targets/missing"]
    (tmp_path / "targets.txt").write_text("".join(p + "\n" for p in paths), encoding="utf-8")
    endpoint = Endpoint("GET /targets/<USCC>", "get", "targets.txt")
    m = parse_wrk(_wrk(wrk_command(shutil.which("wrk"), local_server, endpoint, tmp_path, 2, 4, 1, 5)))
    got = Counter(path for _, path, _, _ in Recorder.seen)
    assert len(got) > 10 and set(got) <= set(paths)
    assert sum(m.statuses.values()) == m.requests and set(m.statuses) <= {200, 404}
    assert m.unanswered <= 4  # at most one per connection


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_load_lua_posts_each_line_with_its_token_and_body(local_server, tmp_path):
    lines = [(f"/api/v1/tasks/{n}/result-submissions", f"token-{n}", json.dumps({"key": f"k-{n}", "n": n}))
             for n in range(6)]
    (tmp_path / "submit.tsv").write_text("".join("\t".join(line) + "\n" for line in lines), encoding="utf-8")
    endpoint = Endpoint("POST result-submissions", "post", "submit.tsv")
    m = parse_wrk(_wrk(wrk_command(shutil.which("wrk"), local_server, endpoint, tmp_path, 2, 2, 1, 5)))
    posted = {(path, auth, body) for method, path, auth, body in Recorder.seen if method == "POST"}
    # Every line went out as written, with its own token; the two threads shared the lines out.
    assert posted == {(path, f"Bearer {token}", body) for path, token, body in lines}
    assert m.statuses == {201: m.requests}
