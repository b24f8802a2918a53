"""``shuangsui serve``: run the gateway (development server; use gunicorn in production)."""
from __future__ import annotations

import click

from gateway.cli.context import CliContext, pass_context


@click.command("serve", help="启动网关（开发服务器；生产环境请使用 gunicorn，见 docs/deploy.md）。")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8800, show_default=True, type=int)
@pass_context
def serve(ctx: CliContext, host: str, port: int) -> None:
    from gateway.app import create_app

    app = create_app(gateway=ctx.gateway())
    click.echo(f"双随网关已启动：http://{host}:{port}/  （按 Ctrl+C 停止）")
    app.run(host=host, port=port, debug=False, use_reloader=False)


@click.command("openapi", help="输出网关 API 的 OpenAPI 文档。")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="写入文件（默认标准输出）。")
@pass_context
def openapi(ctx: CliContext, output: str | None) -> None:
    from gateway.api.openapi import openapi_document_text

    text = openapi_document_text()
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text)


COMMANDS = [serve, openapi]
