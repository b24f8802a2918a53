"""click's help screens and error prefix in Chinese, for the county users who read them."""
from __future__ import annotations

import sys

import click
from click.core import Argument

HELP_OPTION_TEXT = "显示本帮助并退出。"


class _ChineseHelp:
    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix="用法：")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [
            record for param in self.get_params(ctx)
            if not isinstance(param, Argument) and (record := param.get_help_record(ctx)) is not None
        ]
        if rows:
            with formatter.section("选项"):
                formatter.write_dl(rows)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option


class ChineseCommand(_ChineseHelp, click.Command):
    pass


class ChineseGroup(_ChineseHelp, click.Group):
    command_class = ChineseCommand
    group_class = type  # subgroups are ChineseGroups too

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _ChineseHelp.format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                commands.append((name, command))
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section("命令"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in commands])


def run(group: click.Group, prog_name: str = "shuangsui") -> None:
    """Run ``group`` as a program, printing click's errors with a Chinese prefix and hint."""
    try:
        result = group.main(prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已中止。", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        if exc.ctx is not None:
            click.echo(f"{exc.ctx.get_usage()}\n运行“{exc.ctx.command_path} --help”查看帮助。", err=True)
        click.echo(f"错误：{exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"错误：{exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)
