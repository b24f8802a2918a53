"""``shuangsui demo``: demo data for a newcomer."""
from __future__ import annotations

import click

from gateway.cli.chinese import ChineseGroup
from gateway.cli.context import CliContext, pass_context
from gateway.demo.accounts import create_demo_accounts, describe_demo_accounts
from gateway.demo.codes import demo_code
from gateway.demo.draw import ensure_demo_draw
from gateway.demo.enterprise import issue_demo_access_code
from gateway.demo.generate import DemoShape
from gateway.demo.ledger import load_demo_ledger
from gateway.demo.load import load_directories
from gateway.demo.results import STATE_LABELS, load_demo_results
from gateway.demo.visits import ensure_demo_repeat_visit
from gateway.errors import DomainError
from gateway.migrate import upgrade
from gateway.results.clock import china_today


@click.group(cls=ChineseGroup, help="演示数据。")
def demo() -> None:
    pass


@demo.command("load", help="载入武陟县演示数据：检查对象、执法检查人员、回避关系、联合抽查计划与抽取、各状态的检查结果（可重复执行）。")
@click.option("--targets", default=20_000, show_default=True, type=click.IntRange(10, 5_000_000), help="检查对象数量。")
@click.option("--seed", default=410823, show_default=True, type=int, help="随机数种子（数据可复现）。")
@click.option("--base-url", default=None, help="网关地址（登录说明中使用；默认 public_base_url 设置或 http://127.0.0.1:8800）。")
@pass_context
def demo_load(ctx: CliContext, targets: int, seed: int, base_url: str | None) -> None:
    gateway = ctx.gateway()
    upgrade(gateway.settings.database_url)
    gateway.sync_registry()
    counts = load_directories(gateway, DemoShape(targets=targets, seed=seed))
    click.echo(
        f"演示数据已载入：检查对象 {counts['targets']} 户，执法检查人员 {counts['inspectors']} 名，"
        f"回避关系 {counts['conflicts']} 条。"
    )

    try:
        done = ensure_demo_draw(gateway, seed=seed)
    except DomainError as exc:
        raise click.ClickException(f"演示抽取未能完成：{exc.message}") from None
    click.echo(
        f"演示联合抽查计划 {done['plan_number']} 已发布，抽取 {done['draw_id']} 已完成（见证人在场），"
        f"生成检查任务 {done['tasks']} 项；公开记录：shuangsui draw export {done['draw_id']} -o draw.json"
    )
    click.echo(f"上年度演示抽查计划 {done['past_plan_number']} 的检查期限已结束，其 {done['past_tasks']} 项任务"
               "未录入检查结果，在逾期清单中显示为逾期未录入。")

    visit = ensure_demo_repeat_visit(gateway, done["draw_id"], china_today())
    if visit and visit["warnings"]:
        click.echo(f"演示重复检查预警：部门 {visit['department']} 于 {visit['on'].isoformat()} 登记的日常巡查与"
                   f"{len(visit['warnings'])} 次其他部门检查相隔不到 {gateway.settings.repeat_visit_days} 天"
                   f"（控制台“重复检查预警”，对象 {visit['uscc']}）。")
    results = load_demo_results(gateway)
    if results["states"]:
        made = "、".join(STATE_LABELS[s] for s in results["states"])
        click.echo(f"演示检查结果已录入（{made}）；逾期清单：shuangsui results overdue")
    else:
        click.echo("演示任务已有检查结果，未重复录入。")
    if results["skipped"] and results["states"]:
        click.echo("未能生成的演示状态（检查期限尚未开始足够久或任务不足）："
                   + "、".join(STATE_LABELS[s] for s in results["skipped"]))
    made = load_demo_ledger(gateway)
    if made["registered"]:
        click.echo(f"检查台账：已公布本年度检查次数上限，登记各渠道检查 {made['registered']} 项，"
                   f"其中企业 {made['over_cap']} 超过上限一次（已说明法定理由）。")
    base_url = (base_url or gateway.settings.public_base_url or "http://127.0.0.1:8800").rstrip("/")
    click.echo(describe_demo_accounts(create_demo_accounts(gateway), base_url=base_url))
    access = issue_demo_access_code(gateway)
    if access is not None:
        click.echo(f"企业服务试用：打开 {base_url}/portal/ ，统一社会信用代码 {access.uscc}，访问码 {access.code}"
                   f"（检查任务 {access.task_number} 的检查通知书；只能登录一次，登录后页面显示新的访问码）")
    code = demo_code(gateway, base_url)
    if code is not None:
        click.echo(f"试一试检查码（任务 {code['task_number']}，检查对象 {code['uscc']}）：用手机打开 {code['url']} "
                   f"核验；确认检查人员到场时输入访问码 {code['access_code']}。")


COMMANDS = [demo]
