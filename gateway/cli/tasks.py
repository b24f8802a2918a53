"""``shuangsui task``: list tasks and print a task's sheet (检查任务书) or guide (检查指引书)."""
from __future__ import annotations

from pathlib import Path

import click

from gateway.api.errors import ApiError
from gateway.cli.context import CliContext, pass_context, operator_principal
from gateway.cli.draws import _json, by_option, cli_principal, fail


@click.group("task", help="检查任务：列表，导出检查任务书与检查指引书（可打印的 HTML）。")
def task_group() -> None:
    pass


@task_group.command("list", help="列出检查任务。")
@click.option("--plan", "plan_id", type=int)
@click.option("--draw", "draw_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
@pass_context
def list_command(ctx: CliContext, plan_id: int | None, draw_id: int | None, as_json: bool) -> None:
    from gateway.tasks import service

    gateway = ctx.gateway()
    with gateway.read() as session:
        stmt = service.tasks_query(operator_principal(), {"plan_id": plan_id, "draw_id": draw_id})
        tasks = [service.task_dict(session, t) for t in session.scalars(stmt)]
    if as_json:
        click.echo(_json(tasks))
        return
    for t in tasks:
        matters = "、".join(m["name"] for m in t["matters"])
        key = "\t重点抽查" if t["key_inspection"] else ""
        click.echo(f"{t['id']}\t{t['number']}\t{t['target_name']}（{t['uscc']}）\t{matters}{key}")


def _render(ctx: CliContext, task_id: int, output: Path, which: str, by: str | None) -> None:
    from gateway.security import audit
    from gateway.tasks import service
    from gateway.tasks.sheets import render_guide, render_task_sheet

    gateway = ctx.gateway()
    principal = cli_principal(by)
    try:
        with gateway.write() as session:
            task = service.read_task(session, principal, task_id)
            if which == "sheet":
                audit.record(session, principal, "tasks.read_sheet", "task", task.id, {"fields": ["inspector names"]})
                html = render_task_sheet(session, task, gateway.hook)
            else:
                html = render_guide(session, task, gateway.hook)
    except ApiError as exc:
        raise fail(exc) from None
    output.write_text(html, encoding="utf-8")
    click.echo(f"已写入 {output}，用浏览器打开即可打印。")


@task_group.command("sheet", help="导出检查任务书（HTML）。")
@click.argument("task_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@by_option
@pass_context
def sheet_command(ctx: CliContext, task_id: int, output: Path, by: str | None) -> None:
    _render(ctx, task_id, output, "sheet", by)


@task_group.command("guide", help="导出检查指引书（HTML）。")
@click.argument("task_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@by_option
@pass_context
def guide_command(ctx: CliContext, task_id: int, output: Path, by: str | None) -> None:
    _render(ctx, task_id, output, "guide", by)


COMMANDS = [task_group]
