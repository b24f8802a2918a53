"""``shuangsui sync``: the worker that publishes to the provincial platform, and the operators'
commands around it (status, dead letters, resend, reconciliation, pulling higher-level inspections)."""
from __future__ import annotations

import logging
import signal
import sys

import click

from gateway.cli.chinese import ChineseGroup
from gateway.cli.context import CliContext, json_option, operator_principal, pass_context, to_json
from gateway.security.redact import install_log_redaction
from gateway.sync import service
from gateway.sync.client import PlatformClient, PlatformNotConfigured, PlatformReadError
from gateway.sync.models import RECORD_KINDS
from gateway.sync.pull import pull_plan
from gateway.sync.reconcile import reconcile
from gateway.sync.status import dead_letters, format_status, sync_status
from gateway.sync.worker import SingleWorkerError, Worker


def _logging(verbose: bool) -> None:
    install_log_redaction()
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def _client(ctx: CliContext) -> PlatformClient:
    try:
        return PlatformClient.from_settings(ctx.gateway().settings)
    except PlatformNotConfigured as exc:
        raise click.ClickException(str(exc)) from None


@click.group("sync", cls=ChineseGroup, help="与省级平台（国家企业信用信息公示系统（河南））的数据同步。")
def sync_group() -> None:
    pass


@sync_group.command("run", help="启动同步进程：领取待推送记录、签名分批推送、记录回执并安排重试（SIGTERM 平稳退出）。")
@click.option("--once", is_flag=True, help="只推送当前到期的记录一轮后退出。")
@click.option("--batch-size", type=click.IntRange(1, 100), default=None, help="每批最多条数（默认取配置 sync_batch_size）。")
@click.option("-v", "--verbose", is_flag=True, help="输出每一批的详细日志。")
@pass_context
def run(ctx: CliContext, once: bool, batch_size: int | None, verbose: bool) -> None:
    _logging(verbose)
    gateway = ctx.gateway()
    try:
        worker = Worker(gateway, _client(ctx), batch_size=batch_size)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None

    def stop(signum, _frame):
        logging.getLogger("gateway.sync").info("收到信号 %s，推送完当前批次后退出", signal.Signals(signum).name)
        worker.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        totals = worker.run(once=once)
    except SingleWorkerError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        gateway.dispose()
    if once:
        click.echo(f"本轮完成：{totals.batches} 批，送达 {totals.delivered} 条，死信 {totals.dead} 条，"
                   f"待重试 {totals.retried} 条次。")


@sync_group.command("status", help="同步状态：各状态记录数、最早待推送记录、公示期限告警、死信及原因。")
@json_option
@pass_context
def status(ctx: CliContext, as_json: bool) -> None:
    gateway = ctx.gateway()
    with gateway.read() as session:
        report = sync_status(session, gateway.settings)
    if as_json:
        click.echo(to_json(report))
    else:
        click.echo(format_status(report))


@sync_group.command("dead-letters", help="列出死信（平台拒收的记录）及平台给出的字段错误。")
@click.option("--kind", type=click.Choice(RECORD_KINDS), help="只看某类记录。")
@json_option
@pass_context
def dead_letters_command(ctx: CliContext, kind: str | None, as_json: bool) -> None:
    gateway = ctx.gateway()
    with gateway.read() as session:
        items, total = dead_letters(session, kind=kind, limit=10_000)
    if as_json:
        click.echo(to_json({"items": items, "total": total}))
        return
    if not items:
        click.echo("没有死信。")
    for item in items:
        click.echo(f"{item['record_id']}（{item['kind_label']}，已尝试 {item['attempts']} 次）：{item['last_error']}")
        for error in item["errors"]:
            click.echo(f"  - {error.get('field') or '记录'} [{error.get('code')}] {error.get('message')}")


@sync_group.command("resend", help="将死信（或等待中的记录）重新排队推送；--rebuild 按更正后的数据重新生成记录内容。")
@click.argument("record_ids", nargs=-1, required=True)
@click.option("--rebuild", is_flag=True, help="按实体当前（已更正）的数据重新生成记录内容（仅限死信）。")
@pass_context
def resend(ctx: CliContext, record_ids: tuple[str, ...], rebuild: bool) -> None:
    gateway = ctx.gateway()
    for record_id in record_ids:
        with gateway.write() as session:
            data = service.resend(session, operator_principal(), record_id, gateway.settings, rebuild=rebuild)
        note = "（内容已按更正后的数据重新生成）" if data["payload_changed"] else ""
        click.echo(f"{record_id} 已重新排队，将由同步进程推送{note}。")


@sync_group.command("reconcile", help="对账：比较平台持有的记录与本地已发布的记录，补推缺失的记录并报告差异。")
@click.option("--kind", "kinds", type=click.Choice(RECORD_KINDS), multiple=True, help="只核对某类记录（可重复）。")
@click.option("--dry-run", is_flag=True, help="只报告，不做修改。")
@json_option
@pass_context
def reconcile_command(ctx: CliContext, kinds: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    try:
        report = reconcile(ctx.gateway(), _client(ctx), kinds=kinds or RECORD_KINDS, dry_run=dry_run,
                           principal=operator_principal())
    except PlatformReadError as exc:
        raise click.ClickException(f"无法读取平台记录：{exc.message}") from None
    if as_json:
        click.echo(to_json(report.as_dict()))
    else:
        click.echo(report.format())


@sync_group.command("pull", help="从平台公开查询接口拉取计划范围内检查对象本年度被其他机关检查的记录，供抽取时排除上级部门已查对象。")
@click.argument("plan_id", type=int)
@click.option("--year", type=click.IntRange(2000, 2100), help="年度（默认计划年度）。")
@click.option("--concurrency", type=click.IntRange(1, 32), help="并行查询数（默认配置 sync_pull_concurrency）。")
@json_option
@pass_context
def pull(ctx: CliContext, plan_id: int, year: int | None, concurrency: int | None, as_json: bool) -> None:
    gateway = ctx.gateway()
    _client(ctx).close()  # fails early, in Chinese, when the platform is not configured
    try:
        report = pull_plan(gateway, plan_id, principal=operator_principal(), year=year, concurrency=concurrency)
    except LookupError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    if as_json:
        click.echo(to_json(report.as_dict()))
    else:
        click.echo(report.format())


COMMANDS = [sync_group]
