"""``shuangsui import``: bulk import of the directories."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click
from tqdm import tqdm

from gateway.cli.chinese import ChineseGroup
from gateway.cli.context import CliContext, operator_principal, pass_context
from gateway.directory.importing import jobs
from gateway.directory.importing.importer import ImportFileError, ImportReport
from gateway.directory.importing.labels import department_labels
from gateway.directory.importing.run import run_import
from gateway.ledger.importing import import_registrations

# The command line streams a CSV of a whole province (a worksheet keeps tabular.MAX_ROWS).
CLI_MAX_ROWS = 50_000_000
RESUME_HELP = ("文件逐批校验并暂存，全部通过后一次写入名录；导入如被中断，重新运行同一命令即从中断处继续，"
               "已暂存的行不再重复处理，也不会产生重复数据。")


@click.group("import", cls=ChineseGroup, help="从 CSV 或 XLSX 文件批量导入名录（表头可用中文或英文）。")
def import_group() -> None:
    pass


def _import(ctx: CliContext, kind: str, path: Path, partial: bool, report_path: Path | None) -> None:
    gateway = ctx.gateway()
    bar = tqdm(unit="行", desc="导入", disable=None)
    last = [0]

    def progress(rows: int) -> None:
        bar.update(rows - last[0])
        last[0] = rows

    def notice(message: str) -> None:
        bar.clear()
        click.echo(message, err=True)

    with path.open("rb") as stream:
        try:
            report = run_import(gateway, operator_principal(), kind, stream, path.name,
                                partial=partial, progress=progress, notice=notice, max_rows=CLI_MAX_ROWS)
        except ImportFileError as exc:
            bar.close()
            raise click.ClickException(str(exc)) from None
    bar.close()
    _report(report, report_path)


def _report(report: ImportReport, report_path: Path | None, partial: bool = True) -> None:
    """Write the per-row report, show the first errors, and fail when nothing was imported."""
    if report_path is not None:
        report_path.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
    for error in report.errors[:50]:
        click.echo(f"第 {error.row} 行 [{error.field}] {error.message}", err=True)
    if report.error_count > 50:
        click.echo(f"……另有 {report.error_count - 50} 处错误，完整报告见 --report 文件。", err=True)
    if not report.committed:
        raise click.ClickException(
            f"共 {report.total_rows} 行，发现 {report.error_count} 处错误，未导入任何数据。"
            + ("修正后重新导入，或使用 --partial 只导入正确的行。" if partial else "修正后重新导入。")
        )
    click.echo(
        f"导入完成：共 {report.total_rows} 行，新增 {report.created}，更新 {report.updated}，拒绝 {report.rejected}。"
    )


for _kind, _label in (("targets", "检查对象名录"), ("inspectors", "执法检查人员名录"),
                      ("inspections", "上级部门本年度检查记录（用于抽取时排除）")):

    def _make(kind: str, label: str):
        @import_group.command(kind, help=f"导入{label}。" + (RESUME_HELP if kind == "targets" else ""))
        @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
        @click.option("--partial", is_flag=True, help="只导入正确的行，其余写入报告。")
        @click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="将逐行报告写入 JSON 文件。")
        @pass_context
        def command(ctx: CliContext, path: Path, partial: bool, report_path: Path | None) -> None:
            _import(ctx, kind, path, partial, report_path)

        return command

    _make(_kind, _label)



@import_group.command("registered-inspections",
                      help="导入各部门登记的双随机抽查以外的检查（专项检查、投诉举报核查、转办交办、日常巡查、案件办理），"
                           "记入检查台账。默认任何一行有误则整个文件不导入（--partial 只导入正确的行）；"
                           "超过年度检查次数上限的行须填写“超过上限理由”。")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--partial", is_flag=True, help="只导入正确的行，其余写入报告。")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="将逐行报告写入 JSON 文件。")
@pass_context
def import_registered(ctx: CliContext, path: Path, partial: bool, report_path: Path | None) -> None:
    gateway = ctx.gateway()
    with path.open("rb") as stream, gateway.write() as session:
        try:
            report = import_registrations(session, operator_principal(), stream, path.name,
                                          departments=department_labels(gateway.registry), partial=partial)
        except ImportFileError as exc:
            raise click.ClickException(str(exc)) from None
    _report(report, report_path)


@import_group.command("jobs", help="列出最近的名录导入任务（状态、行数、暂存表）；--prune-older-than-days N 清理 N 天未再运行的"
                                    "未完成任务：删除其暂存表并标记为“已放弃”（正在运行的任务不受影响）。")
@click.option("--prune-older-than-days", "days", type=click.IntRange(min=1), default=None,
              help="清理超过该天数未再运行的未完成任务。")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="列出的任务数。")
@pass_context
def import_jobs(ctx: CliContext, days: int | None, limit: int) -> None:
    engine = ctx.gateway().engine
    if days is not None:
        pruned, skipped = jobs.prune(engine, timedelta(days=days))
        click.echo(f"已清理 {len(pruned)} 个超过 {days} 天未再运行的未完成导入任务"
                   + (f"（任务 {'、'.join(map(str, pruned))}）" if pruned else "") + "。")
        if skipped:
            click.echo(f"任务 {'、'.join(map(str, skipped))} 的文件正在导入，未清理。", err=True)
    for job in jobs.list_jobs(engine, limit):
        stage = "无暂存表" if job.stage_rows is None else f"暂存 {job.stage_rows} 行"
        click.echo(f"任务 {job.id}  {JOB_STATES.get(job.status, job.status)}  {job.filename}  共 {job.total_rows} 行，"
                   f"拒绝 {job.rejected}，{stage}  {job.actor}  开始 {job.created_at:%Y-%m-%d %H:%M} UTC，"
                   f"最近进展 {job.updated_at:%Y-%m-%d %H:%M} UTC  SHA-256 {job.file_sha256[:12]}")


JOB_STATES = {"staging": "暂存中（未完成）", "staged": "已暂存（未写入）", "done": "已完成", "refused": "已拒绝",
              "abandoned": "已放弃"}

COMMANDS = [import_group]
