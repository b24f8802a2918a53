"""``shuangsui ledger``: maintenance of the ledger of inspections."""
from __future__ import annotations

import click

from gateway.cli.chinese import ChineseGroup
from gateway.cli.context import CliContext, pass_context
from gateway.ledger import counts


@click.group("ledger", cls=ChineseGroup, help="检查台账的维护。")
def ledger_group() -> None:
    pass


@ledger_group.command("rebuild-counts",
                      help="按台账重新统计各企业每年计入上限的检查次数（绕过网关直接改动台账数据后使用）。")
@click.option("--year", "years", type=int, multiple=True, help="只重算这一年（可重复；默认台账中的每一年）。")
@pass_context
def rebuild_counts_command(ctx: CliContext, years: tuple[int, ...]) -> None:
    with ctx.gateway().write() as session:
        done = counts.rebuild(session.connection(), years or None)
    click.echo(f"已重新统计 {done} 个年度的检查次数。")


COMMANDS = [ledger_group]
