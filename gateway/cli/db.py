"""``shuangsui db``: schema migrations."""
from __future__ import annotations

import click

from gateway.cli.chinese import ChineseGroup
from gateway.cli.context import CliContext, pass_context
from gateway.draw.foreign_keys import may_switch_triggers
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
    if gateway.engine.dialect.name == "postgresql":
        click.echo(_key_checks_notice(gateway))


def _key_checks_notice(gateway) -> str:
    """How a large draw will have PostgreSQL check its tasks' foreign keys (docs/deploy.md)."""
    if gateway.settings.draw_key_checks == "row":
        return "抽取写入检查任务时逐行校验外键（配置 draw_key_checks = row）。"
    with gateway.engine.connect() as connection:
        allowed = may_switch_triggers(connection)
        role = connection.exec_driver_sql("SELECT current_user").scalar_one()
    if allowed:
        return "抽取写入检查任务时按集合校验外键（数据库角色可设置 session_replication_role）。"
    return ("抽取写入检查任务时逐行校验外键，大规模抽取会慢一些。如需按集合校验，请由数据库超级用户执行："
            f"GRANT SET ON PARAMETER session_replication_role TO {role};（见 docs/deploy.md）")


COMMANDS = [db]
