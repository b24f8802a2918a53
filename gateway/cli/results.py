"""``shuangsui results``: the article 19 clock, supervision statistics, exports and attachment pruning on the server.

The commands act as the county office (``operator_principal()``: named by the OS user): whoever
runs them has the server's own access to the database.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from gateway.cli.chinese import ChineseGroup
from gateway.cli.context import CliContext, json_option, operator_principal, pass_context
from gateway.directory import eligibility
from gateway.ledger.annual import annual_release, release_files
from gateway.results import exports, listing, stats
from gateway.results.clock import china_today, deadline_lists
from gateway.results.deadline import DEFAULT_SOON_DAYS
from gateway.results.pruning import prune_attachments as prune
from gateway.results.pruning import prune_partial_uploads
from gateway.security import audit
from gateway.security.principal import Principal
from schemas.common import python_values
from schemas.results import DeadlineListSchema, ListingProposalSchema, StatsSchema

CLI_PRINCIPAL = operator_principal()


def _date(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("日期格式应为 YYYY-MM-DD。") from None


def _check_department(ctx: CliContext, department: str | None) -> None:
    if department and department not in ctx.gateway().registry.departments:
        known = "、".join(ctx.gateway().registry.departments)
        raise click.ClickException(f"未知部门 {department}（已安装：{known}）。")


def _json_default(value):
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@click.group(cls=ChineseGroup, help="检查结果：公示期限、监督统计与导出。")
def results() -> None:
    pass


@results.command("overdue", help="列出逾期未公示和即将到期的检查结果（第十九条：检查完成后20个工作日内公示），"
                 "以及窗口期已结束仍未录入结果的检查任务（含组长），按部门分组。")
@click.option("--department", help="只看该牵头部门（部门编码）。")
@click.option("--soon-days", default=DEFAULT_SOON_DAYS, show_default=True, type=click.IntRange(0, 20),
              help="剩余工作日不超过该数即为“即将到期”。")
@click.option("--as-of", callback=_date, help="按该日期计算（默认今天，北京时间）。")
@json_option
@pass_context
def overdue(ctx: CliContext, department: str | None, soon_days: int, as_of: date | None, as_json: bool) -> None:
    _check_department(ctx, department)
    gateway = ctx.gateway()
    today = as_of or china_today()
    with gateway.read() as session:
        data = python_values(DeadlineListSchema(), deadline_lists(
            gateway.settings, gateway.registry, session, CLI_PRINCIPAL, today=today, department=department,
            soon_days=soon_days))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))
        return
    click.echo(f"截至 {today.isoformat()}：逾期未公示 {len(data['overdue'])} 条，即将到期 {len(data['due_soon'])} 条。")
    for dept in data["departments"]:
        click.echo("")
        click.echo(f"【{dept['name']}】逾期 {dept['overdue']} 条（其中窗口期结束未录入结果 {dept['not_recorded']} 条），"
                   f"即将到期 {dept['due_soon']} 条")
        for key, title in (("overdue", "逾期"), ("due_soon", "即将到期")):
            for item in (i for i in data[key] if i["lead_department"] == dept["code"]):
                left = item["working_days_left"]
                when = f"已逾期 {-left} 个工作日" if left < 0 else f"剩余 {left} 个工作日"
                provisional = "（暂定）" if item["deadline_provisional"] else ""
                done = f"完成 {item['completed_on'].isoformat()}" if item["completed_on"] else "未检查"
                lead = item.get("team_lead")
                who = f"  组长 {lead['name']}" if lead else ""
                click.echo(
                    f"  [{title}] {item['task_number']}  {item['target']['name']}  {done}"
                    f"  截止 {item['deadline'].isoformat()}{provisional}  {when}  {item['status_label']}{who}"
                )


@results.command("stats", help="监督统计（第三十条）：按部门和按计划统计抽取、检查、按时公示、逾期、发现问题、后续处置。")
@click.option("--year", type=int, help="计划年度。")
@click.option("--plan", "plan_id", type=int, help="计划 ID。")
@click.option("--department", help="牵头部门编码。")
@click.option("--as-of", callback=_date, help="按该日期计算逾期（默认今天）。")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table", show_default=True,
              help="输出格式：表格、JSON、CSV 或 Excel。")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="输出文件（csv/xlsx 必填）。")
@pass_context
def stats_command(ctx: CliContext, year, plan_id, department, as_of, fmt, output) -> None:
    _check_department(ctx, department)
    gateway = ctx.gateway()
    today = as_of or china_today()
    with gateway.read() as session:
        data = stats.supervision_stats(gateway, session, CLI_PRINCIPAL, as_of=today, year=year,
                                       plan_id=plan_id, department=department)
    headers, dept_rows = stats.table(data.departments, data.totals)
    _, plan_rows = stats.table(data.plans)
    if fmt == "json":
        click.echo(json.dumps(python_values(StatsSchema(), data), ensure_ascii=False, indent=2,
                              default=_json_default))
        return
    if fmt == "table":
        for title, rows in (("按部门", dept_rows), ("按计划", plan_rows)):
            click.echo(f"{title}（截至 {today.isoformat()}）")
            click.echo("\t".join(headers))
            for row in rows:
                click.echo("\t".join(str(v) for v in row))
            click.echo("")
        return
    if output is None:
        raise click.ClickException("导出 csv 或 xlsx 时必须用 -o 指定输出文件。")
    if fmt == "csv":
        output.write_bytes(exports.to_csv(headers, dept_rows + [[""] * len(headers)] + plan_rows))
    else:
        output.write_bytes(exports.to_xlsx(f"双随机抽查监督统计（截至{today.isoformat()}）", headers,
                                           dept_rows + [[""] * len(headers)] + plan_rows, "监督统计"))
    click.echo(f"已导出到 {output}。")


@results.command("export", help="导出抽查任务清单（tasks）或检查结果登记表（results），Excel 或 CSV，中文表头。")
@click.argument("what", type=click.Choice(["tasks", "results"]))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出文件（.xlsx 或 .csv）。")
@click.option("--plan", "plan_id", type=int, help="计划 ID。")
@click.option("--department", help="牵头部门编码。")
@click.option("--year", type=int, help="计划年度。")
@pass_context
def export(ctx: CliContext, what: str, output: Path, plan_id, department, year) -> None:
    _check_department(ctx, department)
    gateway = ctx.gateway()
    build = exports.task_rows if what == "tasks" else exports.result_rows
    with gateway.write() as session:
        headers, rows = build(gateway, session, CLI_PRINCIPAL, plan_id=plan_id, department=department, year=year)
        audit.record(session, CLI_PRINCIPAL, f"exports.{what}", "export", what,
                     {"rows": len(rows), "plan_id": plan_id, "department": department})
    if output.suffix.lower() == ".csv":
        output.write_bytes(exports.to_csv(headers, rows))
    else:
        title = "双随机抽查任务清单" if what == "tasks" else "双随机抽查检查结果登记表"
        output.write_bytes(exports.to_xlsx(title, headers, rows, "抽查任务清单" if what == "tasks" else "检查结果"))
    click.echo(f"已导出 {len(rows)} 行到 {output}。")


@results.command("prune-attachments", help=(
    "清理从未被任何检查结果（任一版本）引用、且上传已超过指定天数的附件：删除附件记录，"
    "并在没有其他附件记录使用同一文件时删除文件；同时清理手机分片上传中断后长期未续传的临时文件（.part）。"
    "每项删除记入审计日志。以县双随机办身份执行。"))
@click.option("--older-than-days", default=7, show_default=True, type=click.IntRange(min=0),
              help="只清理上传时间早于该天数的附件（给正在录入结果的检查人员留出时间）。")
@click.option("--parts-older-than-days", default=3, show_default=True, type=click.IntRange(min=0),
              help="只清理最后一次写入早于该天数的分片上传临时文件（给信号不好、稍后续传的手机留出时间）。")
@click.option("--dry-run", is_flag=True, help="只列出将被清理的附件，不做任何删除。")
@click.option("--by", "by", metavar="姓名", help="操作人姓名（记入审计日志，默认当前系统用户）。")
@pass_context
def prune_attachments(ctx: CliContext, older_than_days: int, parts_older_than_days: int, dry_run: bool,
                      by: str | None) -> None:
    principal = operator_principal(by)
    report = prune(ctx.gateway(), principal, older_than_days, dry_run=dry_run)
    _prune_attachments_lines(report)
    _prune_parts_lines(prune_partial_uploads(ctx.gateway(), principal, parts_older_than_days, dry_run=dry_run))


def _prune_attachments_lines(report) -> None:
    cutoff = report.cutoff.isoformat(sep=" ", timespec="seconds")
    rows = [f"附件 {item['id']}\t任务 {item['task_id']}\t{item['content_type']}\t{item['size']} 字节"
            f"\t上传于 {item['uploaded_at']}" for item in report.attachments]
    missing = f"，{len(report.missing_files)} 个文件原已不存在" if report.missing_files else ""
    _prune_lines(report, rows, f"没有需要清理的附件（上传早于 {cutoff} UTC 且未被任何检查结果引用）。",
                 f"{len(report.attachments)} 个附件记录、{len(report.files)} 个文件", missing)


def _prune_parts_lines(report) -> None:
    cutoff = report.cutoff.isoformat(sep=" ", timespec="seconds")
    rows = [f"分片上传 {part['key']}\t{'任务 ' + str(part['task_id']) if part['task_id'] is not None else '无上传记录'}"
            f"\t{part['size']} 字节\t最后写入于 {part['modified_at']}" for part in report.parts]
    _prune_lines(report, rows, f"没有需要清理的分片上传临时文件（最后写入早于 {cutoff} UTC）。",
                 f"{len(report.parts)} 个分片上传临时文件")


def _prune_lines(report, rows: list[str], nothing: str, what: str, missing: str = "") -> None:
    """One prune's lines: that there was nothing to do, or each item then what was (or would be) deleted."""
    if not rows:
        click.echo(nothing)
        return
    for row in rows:
        click.echo(f"  {row}")
    if report.dry_run:
        click.echo(f"试运行：将删除 {what}（约 {report.bytes_freed} 字节），未做任何更改。")
    else:
        click.echo(f"已删除 {what}（约 {report.bytes_freed} 字节）{missing}，已记入审计日志。")


@results.group("listing", cls=ChineseGroup, help=(
    "列入经营异常名录的提请（第二十四条）：检查结果公示时提请，由市场监管部门负责人决定列入或不列入。"))
def listing_group() -> None:
    pass


def _proposal_line(item: dict) -> str:
    decided = f"\t{item['decided_by']}：{item['decision_note']}" if item["decided_by"] else ""
    return (f"{item['id']}\t{item['uscc']}\t{item['target_name']}\t{item['list_label']}\t"
            f"{item['reason']}\t{item['status_label']}{decided}")


@listing_group.command("list", help="列出列入名录的提请（默认只列待决定的）。")
@click.option("--all", "show_all", is_flag=True, help="也列出已决定的提请。")
@pass_context
def listing_list(ctx: CliContext, show_all: bool) -> None:
    with ctx.gateway().read() as session:
        rows = session.scalars(listing.proposals_query(CLI_PRINCIPAL, {} if show_all else {"status": "pending"})).all()
        items = [python_values(ListingProposalSchema(), listing.ListingView(p)) for p in rows]
    for item in items:
        click.echo(_proposal_line(item))
    if not items:
        click.echo("没有列入名录的提请。")


@listing_group.command("decide", help=(
    "以市场监管部门负责人的身份决定一项提请：--accept 列入（公示页随之显示），--reject 不列入；须用 --note 说明理由。"))
@click.argument("proposal_id", type=int)
@click.option("--accept/--reject", "accept", required=True, help="列入或不列入。")
@click.option("--note", required=True, help="决定理由。")
@click.option("--by", "by", metavar="姓名", help="负责人姓名（记入审计日志，默认当前系统用户）。")
@pass_context
def listing_decide(ctx: CliContext, proposal_id: int, accept: bool, note: str, by: str | None) -> None:
    with ctx.gateway().write() as session:
        head = Principal(role="department_head", department_code=eligibility.registration_authority(session),
                         name=by or CLI_PRINCIPAL.name)
        item = python_values(ListingProposalSchema(),
                             listing.ListingView(listing.decide(session, head, proposal_id, accept=accept, note=note)))
    click.echo(f"提请 {item['id']}（{item['target_name']}，{item['list_label']}）：{item['status_label']}。")


@results.command("annual-release", help=(
    "写出某一年度涉企行政检查数据公开文件（按部门和检查渠道：检查次数、上限、联合检查占比、结果代码），"
    "CSV 和 XLSX，与公开页面下载的文件逐字节相同。"))
@click.option("--year", type=int, required=True, help="年度（须已结束）。")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="输出目录。")
@pass_context
def annual_release_command(ctx: CliContext, year: int, output_dir: Path) -> None:
    with ctx.gateway().read() as session:
        files = release_files(annual_release(session, year, china_today()))
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(files.items()):
        (output_dir / name).write_bytes(content)
        click.echo(f"已写出 {output_dir / name}。")


COMMANDS = [results]
