"""``shuangsui db``: schema migrations."""
from __future__ import annotations

import click

from gateway.cli.chinese import ChineseGroup
from gateway.cli.context import CliContext, pass_context
from gateway.migrate import upgrade


@click.group(cls=ChineseGroup, help="数据库管理。")
def db() -> None:
    pass


@db.command("upgrade", help="将数据库结构升级到最新版本，并同步已安装插件的部门与抽查事项。")
@pass_context
def db_upgrade(ctx: CliContext) -> None:
    gateway = ctx.gateway()
    upgrade(gateway.settings.database_url)
    gateway.sync_registry()
    click.echo("数据库已是最新结构；部门与抽查事项已与插件同步。")


COMMANDS = [db]
