"""``shuangsui plugins`` and ``shuangsui plugin new``."""
from __future__ import annotations

import json
from pathlib import Path

import click

from gateway.cli.chinese import ChineseCommand, ChineseGroup
from gateway.cli.context import CliContext, json_option, pass_context
from gateway.plugins.describe import describe_plugins
from gateway.plugins.scaffold import scaffold_plugin


@click.command("plugins", cls=ChineseCommand, help="列出已安装的部门插件、抽查事项和检查项。")
@json_option
@pass_context
def plugins(ctx: CliContext, as_json: bool) -> None:
    catalogue = describe_plugins(ctx.gateway().registry)
    if as_json:
        click.echo(json.dumps(catalogue, ensure_ascii=False, indent=2))
        return
    names = {d["code"]: d["name"] for d in catalogue["departments"]}
    for plugin in catalogue["plugins"]:
        click.echo(f"{plugin['name']} {plugin['version']}  {names.get(plugin['department'], '')}")
    click.echo("")
    for matter in catalogue["matters"]:
        coop = "、".join(names.get(c, c) for c in matter["cooperating_departments"]) or "无"
        click.echo(f"[{matter['code']}] {matter['name']}  牵头：{names.get(matter['lead_department'])}  配合：{coop}")
        for i, item in enumerate(matter["check_items"], start=1):
            click.echo(f"    {i}. {item['name']}（{names.get(item['department_code'], item['department_code'])}）")


@click.group("plugin", cls=ChineseGroup, help="插件开发工具。")
def plugin() -> None:
    pass


@plugin.command("new", help="生成一个新的部门插件工程骨架。")
@click.argument("name")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=Path("."), help="输出目录。")
@click.option("--department-name", metavar="中文名称", help="部门全称，如“武陟县卫生健康委员会”；省略时为示例名称。")
@click.option("--short-name", metavar="中文名称", help="部门简称，用于表格；省略时由全称得出（如“县卫生健康委员会”）。")
def plugin_new(name: str, dest: Path, department_name: str | None, short_name: str | None) -> None:
    try:
        path = scaffold_plugin(name, dest, department_name=department_name, short_name=short_name)
    except (ValueError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已生成插件工程：{path}")
    click.echo(f"安装并运行其测试：pip install -e {path} && pytest {path}")


COMMANDS = [plugins, plugin]
