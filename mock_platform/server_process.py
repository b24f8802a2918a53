"""Run the standalone server (``python -m mock_platform``) as a child process, e.g. from tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from mock_platform.client import PlatformHandle
from mock_platform.settings import DEFAULT_ACCESS_KEY, DEFAULT_SECRET

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerPlatform(PlatformHandle):
    """A standalone mock platform in a child process on 127.0.0.1."""

    transport = "server"

    def __init__(self, port: int | None = None, state: str | os.PathLike[str] | None = None,
                 extra_args: list[str] | None = None, startup_timeout: float = 20.0):
        self.port = port or free_port()
        super().__init__(f"http://127.0.0.1:{self.port}", DEFAULT_ACCESS_KEY, DEFAULT_SECRET)
        self._log = tempfile.TemporaryFile()
        command = [sys.executable, "-m", "mock_platform", "--port", str(self.port), "--quiet", *(extra_args or [])]
        if state is not None:
            command += ["--state", str(state)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self._wait_until_up(startup_timeout)

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mock platform exited with {self.process.returncode}:\n{self.output()}")
            try:
                requests.get(self.url("/_control/health"), timeout=1).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mock platform did not start within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        """What the server printed so far."""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within five seconds)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def close(self) -> None:
        self.stop()
        self._log.close()

    def __enter__(self) -> "ServerPlatform":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
