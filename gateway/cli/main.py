"""The ``shuangsui`` command. Messages for county users are in Chinese."""
from __future__ import annotations

import click

from gateway.cli import codes, db, demo, draws, imports, ledger, plans, plugins, results, security, serve, sync, tasks
from gateway.cli.chinese import ChineseGroup, run
from gateway.cli.context import CliContext


@click.group(cls=ChineseGroup, help="双随 Shuangsui Gateway：跨部门“双随机、一公开”联合抽查网关。")
@click.option("--database-url", envvar="SHUANGSUI_DATABASE_URL", help="数据库地址（默认实例目录中的 SQLite 文件）。")
@click.option("--instance", "instance_path", envvar="SHUANGSUI_INSTANCE_PATH", type=click.Path(), help="实例目录。")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, instance_path: str | None) -> None:
    ctx.obj = CliContext(database_url=database_url, instance_path=instance_path)


def _register() -> None:
    for module in (db, demo, imports, ledger, plugins, serve, security, results):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def _register_plans_draws_tasks() -> None:
    for module in (plans, draws, tasks):
        for command in module.COMMANDS:
            cli.add_command(command)


_register_plans_draws_tasks()


def _register_sync() -> None:
    for command in sync.COMMANDS:
        cli.add_command(command)


_register_sync()


def _register_codes() -> None:
    for command in codes.COMMANDS:
        cli.add_command(command)


_register_codes()


def main() -> None:
    """The ``shuangsui`` console script."""
    run(cli)
