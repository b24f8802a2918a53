"""``shuangsui task``: list tasks, print a task's sheet (检查任务书) or guide (检查指引书), and the
article 14 reassignment (``shuangsui task reassign …``)."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from gateway.cli.chinese import ChineseGroup
from gateway.cli.context import CliContext, echo_list, json_option, operator_principal, pass_context, to_json
from gateway.cli.draws import by_option, cli_principal
from gateway.security import audit
from gateway.security.principal import Principal
from gateway.tasks import reassign, service
from gateway.tasks.models import Reassignment
from gateway.tasks.reassign import STATUS_LABELS
from gateway.tasks.sheets import render_guide, render_task_sheet


@click.group("task", cls=ChineseGroup, help="检查任务：列表，导出检查任务书与检查指引书（可打印的 HTML），检查人员调整（第十四条）。")
def task_group() -> None:
    pass


@task_group.command("list", help="列出检查任务。")
@click.option("--plan", "plan_id", type=int, help="只列出该计划（计划 ID）的任务。")
@click.option("--draw", "draw_id", type=int, help="只列出该抽取（抽取 ID）生成的任务。")
@json_option
@pass_context
def list_command(ctx: CliContext, plan_id: int | None, draw_id: int | None, as_json: bool) -> None:
    gateway = ctx.gateway()
    with gateway.read() as session:
        stmt = service.tasks_query(operator_principal(), {"plan_id": plan_id, "draw_id": draw_id})
        tasks = [service.task_dict(session, t) for t in session.scalars(stmt)]
    if as_json:
        click.echo(to_json(tasks))
        return
    for t in tasks:
        matters = "、".join(m["name"] for m in t["matters"])
        key = "\t重点抽查" if t["key_inspection"] else ""
        click.echo(f"{t['id']}\t{t['number']}\t{t['target_name']}（{t['uscc']}）\t{matters}{key}")


def _render(ctx: CliContext, task_id: int, output: Path, which: str, by: str | None) -> None:
    gateway = ctx.gateway()
    principal = cli_principal(by)
    with gateway.write() as session:
        task = service.read_task(session, principal, task_id)
        if which == "sheet":
            audit.record(session, principal, "tasks.read_sheet", "task", task.id, {"fields": ["inspector names"]})
            html = render_task_sheet(session, task, gateway.hook)
        else:
            html = render_guide(session, task, gateway.hook)
    output.write_text(html, encoding="utf-8")
    click.echo(f"已写入 {output}，用浏览器打开即可打印。")


def _document_options(func):
    """A task's printable document: its id, ``-o`` the HTML file to write, and who asks."""
    func = by_option(func)
    func = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
                        help="输出的 HTML 文件。")(func)
    return click.argument("task_id", type=int)(func)


@task_group.command("sheet", help="导出检查任务书（HTML）。")
@_document_options
@pass_context
def sheet_command(ctx: CliContext, task_id: int, output: Path, by: str | None) -> None:
    _render(ctx, task_id, output, "sheet", by)


@task_group.command("guide", help="导出检查指引书（HTML）。")
@_document_options
@pass_context
def guide_command(ctx: CliContext, task_id: int, output: Path, by: str | None) -> None:
    _render(ctx, task_id, output, "guide", by)


# --- article 14: reassignment ---------------------------------------------------------------------

REASON_KINDS = {"conflict": "conflict_of_interest", "other": "other"}


@task_group.group("reassign", help=(
    "检查人员调整（第十四条）：申请、部门负责人审批（批准或不批准）、县双随机办备案，以及列表。"
    "按权限规定，申请由被调整人员所在部门提出（--as-department 部门编码，以该部门经办人的身份），"
    "审批由该部门负责人作出（--as-head 部门编码），备案和列表以县双随机办的身份执行。"
))
def reassign_group() -> None:
    pass


def _department_principal(ctx: CliContext, role: str, department: str, by: str | None) -> Principal:
    """The policy gives requests to the member's department and decisions to its head (not the county
    office), so these commands say in whose name they act; the services still check the department."""
    known = ctx.gateway().registry.departments
    if department not in known:
        raise click.ClickException(f"未知部门 {department}（已安装：{'、'.join(known)}）。")
    return Principal(role=role, department_code=department, name=by or operator_principal().name)


def _line(item: dict) -> str:

    replacement = (f"，替换为 {item['replacement_name']}（{item['replacement_inspector_id']}）"
                   if item["replacement_inspector_id"] else "")
    if item["filing_number"]:
        filing = f"，备案号 {item['filing_number']}"
    else:
        filing = "，待备案" if item["filing_status"] == "pending" else ""
    return (f"{item['id']}\t{item['task_number']}\t{item['inspector_name']}（{item['inspector_id']}）\t"
            f"{item['reason_label']}：{item['reason']}\t{STATUS_LABELS[item['status']]}{replacement}{filing}")


def _act(ctx: CliContext, action) -> dict:
    """Run one reassignment step in a write transaction; a refusal becomes a command failure."""

    gateway = ctx.gateway()
    with gateway.write() as session:
        item = action(session, gateway)
        return reassign.reassignment_dict(item)


@reassign_group.command("request", short_help="申请调整检查组中的一名执法检查人员。", help=(
    "申请调整检查组中的一名执法检查人员。须以被调整人员所在部门经办人的身份提出：--as-department 部门编码。"))
@click.argument("task_id", type=int)
@click.option("--as-department", "as_department", metavar="部门编码", required=True,
              help="以该部门经办人的身份提出申请（须是被调整人员所在的部门）。")
@click.option("--inspector", "inspector_id", type=click.IntRange(min=1), required=True, help="被调整人员的 ID。")
@click.option("--reason-kind", type=click.Choice(sorted(REASON_KINDS)), required=True,
              help="调整原因：conflict（与检查对象有利害关系，依法回避）或 other（其他特殊原因）。")
@click.option("--reason", required=True, help="情况说明。")
@by_option
@pass_context
def reassign_request(ctx: CliContext, task_id: int, as_department: str, inspector_id: int, reason_kind: str,
                     reason: str, by: str | None) -> None:
    if not reason.strip():
        raise click.ClickException("情况说明不能为空。")
    principal = _department_principal(ctx, "department_operator", as_department, by)
    data = {"inspector_id": inspector_id, "reason_code": REASON_KINDS[reason_kind], "reason": reason.strip()}
    item = _act(ctx, lambda session, _gateway: reassign.request(session, principal, task_id, data))
    click.echo(f"已提交调整申请 {item['id']}（任务 {item['task_number']}，{item['inspector_name']}），"
               f"待部门 {item['department']} 负责人审批。")


def _head_decision(ctx: CliContext, as_head: str, by: str | None, decide, required_note: str | None = None):
    """A department head's decision on a request, by ``decide(session, principal, gateway)``; with
    ``required_note``, refused when that note is blank."""
    principal = _department_principal(ctx, "department_head", as_head, by)
    if required_note is not None and not required_note.strip():
        raise click.ClickException("不批准时必须用 --note 说明理由。")
    return _act(ctx, lambda session, gateway: decide(session, principal, gateway))


def _decision_options(func):
    func = by_option(func)
    func = click.option("--note", default="", help="审批意见。")(func)
    return click.option("--as-head", "as_head", metavar="部门编码", required=True,
                        help="以该部门负责人的身份审批（须是被调整人员所在的部门）。")(func)


@reassign_group.command("approve", short_help="批准调整申请（按抽取规则确定替换人员）。", help=(
    "批准调整申请：按抽取规则确定替换人员并加入检查组（结果可复现），待县双随机办备案。"
    "须以被调整人员所在部门负责人的身份：--as-head 部门编码。"))
@click.argument("request_id", type=int)
@_decision_options
@pass_context
def reassign_approve(ctx: CliContext, request_id: int, as_head: str, note: str, by: str | None) -> None:
    item = _head_decision(ctx, as_head, by, lambda session, principal, gateway: reassign.approve(
        session, principal, request_id, note, settings=gateway.settings))
    click.echo(f"已批准调整申请 {item['id']}：{item['inspector_name']} 由 {item['replacement_name']}"
               f"（{item['replacement_inspector_id']}）替换，待县双随机办备案。")


@reassign_group.command("reject", short_help="不批准调整申请（须说明理由）。", help=(
    "不批准调整申请（检查组保持抽取结果）。须以被调整人员所在部门负责人的身份：--as-head 部门编码；"
    "必须用 --note 说明理由。"))
@click.argument("request_id", type=int)
@_decision_options
@pass_context
def reassign_reject(ctx: CliContext, request_id: int, as_head: str, note: str, by: str | None) -> None:
    item = _head_decision(ctx, as_head, by, lambda session, principal, _gateway: reassign.reject(
        session, principal, request_id, note.strip()), required_note=note)
    click.echo(f"已不批准调整申请 {item['id']}，检查组保持不变。")


@reassign_group.command("file", help="备案已批准的人员调整（以县双随机办身份），生成备案号。")
@click.argument("request_id", type=int)
@click.option("--note", default="", help="备案说明。")
@by_option
@pass_context
def reassign_file(ctx: CliContext, request_id: int, note: str, by: str | None) -> None:
    item = _act(ctx, lambda session, gateway: reassign.file(session, cli_principal(by), request_id,
                                                             gateway.settings, note))
    click.echo(f"已备案调整申请 {item['id']}，备案号 {item['filing_number']}。")


@reassign_group.command("list", help="列出全部人员调整申请（编号、任务、人员、原因、状态、替换人员、备案）。")
@json_option
@pass_context
def reassign_list(ctx: CliContext, as_json: bool) -> None:
    with ctx.gateway().read() as session:
        items = [reassign.reassignment_dict(r)
                 for r in session.scalars(select(Reassignment).order_by(Reassignment.id))]
    echo_list(items, as_json, lambda item: click.echo(_line(item)), "没有人员调整申请。")


COMMANDS = [task_group]
