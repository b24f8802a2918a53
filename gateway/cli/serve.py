"""``shuangsui serve``: run the gateway under gunicorn."""
from __future__ import annotations

import click

from gateway.api.openapi import openapi_document_text
from gateway.app import create_app
from gateway.cli.chinese import ChineseCommand
from gateway.cli.context import CliContext, pass_context


def _gunicorn(app, host: str, port: int, workers: int, threads: int):
    # lazy: gunicorn runs only on Unix and only this command needs it; every other command works without it
    from gunicorn.app.base import BaseApplication

    class GatewayServer(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            # one gunicorn per instance folder; no shared control socket in the home directory
            self.cfg.set("control_socket_disable", True)

        def load(self):
            return app

    return GatewayServer()


@click.command("serve", cls=ChineseCommand, help="启动网关（gunicorn）。")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址。")
@click.option("--port", default=8800, show_default=True, type=int, help="端口。")
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="进程数（SQLite 默认 1，PostgreSQL 默认 2）。")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="每个进程的线程数。")
@pass_context
def serve(ctx: CliContext, host: str, port: int, workers: int | None, threads: int) -> None:
    gateway = ctx.gateway()
    app = create_app(gateway=gateway)
    workers = workers or (1 if gateway.settings.is_sqlite else 2)
    click.echo(f"双随网关已启动：http://{host}:{port}/  （按 Ctrl+C 停止）")
    _gunicorn(app, host, port, workers, threads).run()


@click.command("openapi", cls=ChineseCommand, help="输出网关 API 的 OpenAPI 文档。")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="写入文件（默认标准输出）。")
def openapi(output: str | None) -> None:
    text = openapi_document_text()
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text)


COMMANDS = [serve, openapi]
