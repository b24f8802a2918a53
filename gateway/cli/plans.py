"""``shuangsui plan``: annual and joint plans from the command line (bodies as in the API)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from gateway.cli.chinese import ChineseGroup
from gateway.cli.context import CliContext, echo_list, json_option, operator_principal, pass_context, to_json
from gateway.cli.draws import _load, by_option, cli_principal
from gateway.planning import service
from gateway.planning.filing import file_plan
from schemas.planning import PlanAmendSchema, PlanCreateSchema, PlanFilingSchema

KIND_LABELS = {"annual": "年度抽查计划", "joint": "跨部门联合抽查计划"}
STATUS_LABELS = {"draft": "草稿", "published": "已发布", "superseded": "已被新版本取代"}


@click.group("plan", cls=ChineseGroup, help="抽查计划：创建（JSON 文件，格式同 API）、发布、修订、查看。")
def plan_group() -> None:
    pass


def _read_body(path: Path) -> dict:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"无法读取计划文件 {path}：{exc}") from None
    if not isinstance(body, dict):
        raise click.ClickException("计划文件应为 JSON 对象。")
    return body


def _summary(plan: dict) -> None:
    click.echo(f"{plan['id']}\t{plan['number']} 第 {plan['version']} 版\t{KIND_LABELS[plan['kind']]}\t"
               f"{STATUS_LABELS[plan['status']]}{'（逾期发布）' if plan['published_late'] else ''}\t{plan['title']}")


def _detail(plan: dict) -> None:
    _summary(plan)
    names = plan["departments"]
    click.echo(f"  牵头部门：{names.get(plan['lead_department'])}；配合部门："
               + ("、".join(names.get(d, d) for d in plan["cooperating_departments"]) or "无"))
    click.echo(f"  检查时间：{plan['window_start']} 至 {plan['window_end']}；频次：{plan['frequency']}")
    for m in plan["matters"]:
        click.echo(f"  事项 {m['code']}（第 {m['version']} 版）{m['name']}：最低比例 {m['min_ratio']}")
    click.echo("  分层比例：" + "，".join(f"{s['key']}={s['ratio']}" for s in plan["strata"]))
    for warning in plan["warnings"]:
        click.echo(f"  注意：{warning}")
    if plan["amends_id"]:
        click.echo(f"  修订自计划 {plan['amends_id']}，理由：{plan['amend_reason']}")


def _write(ctx: CliContext, action) -> dict:

    gateway = ctx.gateway()
    with gateway.write() as session:
        result = action(session, gateway)
        plan, warnings = result if isinstance(result, tuple) else (result, [])
        return service.plan_dict(session, plan, warnings)


@plan_group.command("create", help="由 JSON 文件创建计划草稿（字段同 POST /api/v1/plans）。")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@by_option
@pass_context
def create_command(ctx: CliContext, path: Path, by: str | None) -> None:
    data = _load(PlanCreateSchema, _read_body(path))
    plan = _write(ctx, lambda s, g: service.create_plan(s, cli_principal(by), data, g.settings))
    _detail(plan)


@plan_group.command("publish", help="发布计划草稿（3 月 31 日后发布记为逾期）。")
@click.argument("plan_id", type=int)
@by_option
@pass_context
def publish_command(ctx: CliContext, plan_id: int, by: str | None) -> None:
    plan = _write(ctx, lambda s, g: service.publish_plan(s, cli_principal(by), plan_id, g.settings))
    _detail(plan)


@plan_group.command("file", help="录入计划在县司法局的备案编号和备案日期（抽取前须备案，见配置项 draw_requires_filing）。")
@click.argument("plan_id", type=int)
@click.option("--number", "filing_number", required=True, help="备案编号，例如 武司行检备〔2026〕7号。")
@click.option("--on", "filed_on", required=True, help="备案日期 YYYY-MM-DD。")
@by_option
@pass_context
def file_command(ctx: CliContext, plan_id: int, filing_number: str, filed_on: str, by: str | None) -> None:
    data = _load(PlanFilingSchema, {"filing_number": filing_number, "filed_on": filed_on})
    plan = _write(ctx, lambda s, g: file_plan(s, cli_principal(by), plan_id, data))
    _detail(plan)
    click.echo(f"  已备案：{plan['filing']['filing_number']}（{plan['filing']['filed_on'].isoformat()}）")


@plan_group.command("amend", help="以新版本修订已发布的计划：JSON 文件给出要改的字段，--reason 说明理由。")
@click.argument("plan_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("--reason", required=True, help="修订理由。")
@by_option
@pass_context
def amend_command(ctx: CliContext, plan_id: int, path: Path | None, reason: str, by: str | None) -> None:
    body = _read_body(path) if path else {}
    data = _load(PlanAmendSchema, {**body, "reason": reason})
    plan = _write(ctx, lambda s, g: service.amend_plan(s, cli_principal(by), plan_id, data))
    _detail(plan)
    click.echo(f"修订稿已创建；发布后取代原版本：shuangsui plan publish {plan['id']}")


@plan_group.command("list", help="列出计划。")
@click.option("--year", type=int, help="只列出该年度的计划。")
@json_option
@pass_context
def list_command(ctx: CliContext, year: int | None, as_json: bool) -> None:
    gateway = ctx.gateway()
    with gateway.read() as session:
        plans = [service.plan_dict(session, p) for p in
                 session.scalars(service.plans_query(operator_principal(), {"year": year}))]
    echo_list(plans, as_json, _summary, "还没有计划。")


@plan_group.command("show", help="显示一个计划。")
@click.argument("plan_id", type=int)
@json_option
@pass_context
def show_command(ctx: CliContext, plan_id: int, as_json: bool) -> None:
    gateway = ctx.gateway()
    with gateway.read() as session:
        plan = service.plan_dict(session, service.get_plan(session, plan_id))
    click.echo(to_json(plan)) if as_json else _detail(plan)


COMMANDS = [plan_group]
