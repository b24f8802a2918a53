"""``make run``: the gateway with a local mock provincial platform and a sync worker beside it.

    python -m gateway.cli.devstack [--host 127.0.0.1] [--port 8800]
                                   [--platform-port 8900] [--platform-state instance/mock_platform.sqlite]

Starts, in this order:

1. the mock platform (``python -m mock_platform --port 8900 --state instance/mock_platform.sqlite``),
   in the background, and waits until it answers;
2. a sync worker (``shuangsui sync run``), in the background;
3. the gateway (``shuangsui serve``), in the foreground.

The worker and the gateway get ``SHUANGSUI_PLATFORM_URL``, ``SHUANGSUI_PLATFORM_ACCESS_KEY`` and
``SHUANGSUI_PLATFORM_SECRET`` pointing at the mock, so what the demo publishes really arrives there
(see it at ``http://127.0.0.1:8900/_control/received`` or on the public page
``http://127.0.0.1:8900/public/entities/<USCC>``). When the gateway stops (Ctrl+C, SIGTERM, or on
its own), the worker gets SIGTERM (it finishes its batch) and then the mock platform is stopped.
A worker that dies is started again.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

import requests

ACCESS_KEY = "mock-access-key"
SECRET = "mock-secret"


def _shuangsui() -> str:
    return str(Path(sys.executable).parent / "shuangsui")


def _stop(process: subprocess.Popen | None, name: str, timeout: float = 15.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"{name}未在 {timeout:g} 秒内退出，强制结束。", file=sys.stderr, flush=True)
        process.kill()
        process.wait()


def _wait_until_up(process: subprocess.Popen, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"模拟省级平台启动失败（退出码 {process.returncode}）：端口可能已被占用。")
        try:
            requests.get(url + "/_control/health", timeout=1).raise_for_status()
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"模拟省级平台在 {timeout:g} 秒内未响应：{url}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.cli.devstack",
                                     description="启动模拟省级平台、同步进程和网关（make run）。")
    parser.add_argument("--host", default="127.0.0.1", help="网关监听地址")
    parser.add_argument("--port", type=int, default=8800, help="网关端口")
    parser.add_argument("--platform-port", type=int, default=8900, help="模拟省级平台端口")
    parser.add_argument("--platform-state", default="instance/mock_platform.sqlite",
                        help="模拟平台的状态文件（重启后保留已接收的记录）")
    args = parser.parse_args(argv)

    platform_url = f"http://127.0.0.1:{args.platform_port}"
    env = dict(os.environ)
    env.update({
        "SHUANGSUI_PLATFORM_URL": platform_url,
        "SHUANGSUI_PLATFORM_ACCESS_KEY": ACCESS_KEY,
        "SHUANGSUI_PLATFORM_SECRET": SECRET,
    })
    Path(args.platform_state).parent.mkdir(parents=True, exist_ok=True)

    stopping = False

    def request_stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    platform = worker = gateway = None
    code = 0
    try:
        platform = subprocess.Popen(
            [sys.executable, "-m", "mock_platform", "--port", str(args.platform_port), "--state", args.platform_state,
             "--quiet", "--access-key", ACCESS_KEY, "--secret", SECRET],
            env=env, start_new_session=True,
        )
        _wait_until_up(platform, platform_url)
        print(f"模拟省级平台：{platform_url}（已接收的记录：{platform_url}/_control/received）", flush=True)
        worker_command = [_shuangsui(), "sync", "run"]
        worker = subprocess.Popen(worker_command, env=env, start_new_session=True)
        print("同步进程已启动：已发布的计划、抽取结果、检查结果和后续处置将推送到模拟平台。", flush=True)
        gateway = subprocess.Popen([_shuangsui(), "serve", "--host", args.host, "--port", str(args.port)],
                                   env=env, start_new_session=True)
        while not stopping:
            if gateway.poll() is not None:
                code = gateway.returncode
                break
            if worker.poll() is not None:
                print(f"同步进程已退出（退出码 {worker.returncode}），5 秒后重新启动。", file=sys.stderr, flush=True)
                time.sleep(5)
                worker = subprocess.Popen(worker_command, env=env, start_new_session=True)
            if platform.poll() is not None:
                print(f"模拟省级平台已退出（退出码 {platform.returncode}）。", file=sys.stderr, flush=True)
                break
            time.sleep(0.5)
    finally:
        _stop(gateway, "网关")
        _stop(worker, "同步进程")
        _stop(platform, "模拟省级平台")
        print("已停止网关、同步进程和模拟省级平台。", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
