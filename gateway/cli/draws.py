"""``shuangsui draw`` (the draw's stages, listing, export) and ``shuangsui verify`` (re-run a record)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from marshmallow import ValidationError

from gateway.cli.chinese import ChineseCommand, ChineseGroup
from gateway.cli.context import CliContext, json_option, operator_principal, pass_context, to_json
from gateway.draw import parts as record_parts
from gateway.draw import service
from gateway.draw.commitment import commitment, commitment_problems, salt_problem
from gateway.draw.reassignment import FORMAT as REASSIGNMENT_FORMAT
from gateway.draw.reassignment import reassignment_problems
from gateway.draw.record import EXCLUSION_REASONS
from gateway.draw.record_v2 import HEAD, LayoutError, read_index
from gateway.draw.service import STATUS_LABELS
from gateway.draw.verify import verify_record
from gateway.draw.verify_v2 import verify_file, verify_stratum
from gateway.errors import Invalid
from gateway.security.principal import Principal
from schemas.draws import CommitSchema, SeedSchema

ROLE_CHOICES = ("organiser", "operator", "supervisor", "witness")


def cli_principal(by: str | None) -> Principal:
    """Whoever runs the command acts as the county office (the CLI needs the database itself)."""
    return operator_principal(by)


def by_option(func):
    return click.option("--by", "by", metavar="姓名", help="操作人姓名（记入抽取记录与审计日志，默认当前系统用户）。")(func)


@click.group("draw", cls=ChineseGroup, help="双随机抽取：冻结总体、记录随机数承诺、确定随机种子、抽取，以及列表和导出公开记录。")
def draw_group() -> None:
    pass


def _show(draw: dict) -> None:
    click.echo(f"抽取 {draw['id']}（{draw['record_id']}）计划 {draw['plan']['number']} 第 {draw['plan']['version']} 版"
               f"《{draw['plan']['title']}》：{_status(draw['status'])}")
    click.echo(f"  总体摘要 population_sha256：{draw['population_sha256']}")
    click.echo(f"  冻结：{draw['frozen_at']:%Y-%m-%d %H:%M:%S} UTC，{draw['frozen_by']}")
    for s in draw["strata"]:
        click.echo(f"    分层 {s['key']}：总体 {s['population']} 户（重点 {s['key_targets']}），比例 {s['ratio']}，"
                   f"应抽 {s['sample_size']} 户")
    if draw["exclusions"]:

        click.echo("  排除：" + "；".join(f"{EXCLUSION_REASONS.get(k, k)} {v} 条" for k, v in draw["exclusions"].items()))
    for c in draw["commitments"] or []:
        click.echo(f"  承诺 {c['order']}：{c['role']} {c['name']} {c['commitment']}")
    if draw["seed"]:
        click.echo(f"  随机种子：{draw['seed']}（{draw['seeded_by']}）")
    if draw["status"] == "drawn":
        click.echo(f"  抽取完成：{draw['drawn_at']:%Y-%m-%d %H:%M:%S} UTC，{draw['drawn_by']}；生成任务 {draw['task_count']} 项")
        click.echo(f"  公开记录：{draw['record_url']}（SHA-256 {draw['record_sha256']}）")
    if draw["status"] == "cancelled":
        click.echo(f"  已取消：{draw['cancel_reason']}（{draw['cancelled_by']}）")


def _status(status: str) -> str:

    return STATUS_LABELS.get(status, status)


@draw_group.command("freeze", help="第一步：冻结已发布计划的各分层总体与排除名单，公布总体摘要（在任何随机数产生之前）。")
@click.argument("plan_id", type=int)
@by_option
@pass_context
def freeze_command(ctx: CliContext, plan_id: int, by: str | None) -> None:
    gateway = ctx.gateway()
    with gateway.write() as session:
        draw = service.freeze(session, cli_principal(by), plan_id, secret=gateway.settings.secret_key,
                               require_filing=gateway.settings.draw_requires_filing)
        data = service.draw_dict(draw, gateway.settings)
    _show(data)
    click.echo(f"请公布总体摘要 {data['population_sha256']}，然后由各参与者作出随机数承诺：shuangsui draw commit {data['id']} …")


@draw_group.command("commitment", help="计算随机数承诺值 sha256(盐值|数字)，供参与者在揭示前提交。")
@click.option("--digits", required=True, help="自己的随机数字串（如掷骰结果）。")
@click.option("--salt", required=True, help="自己选的盐值（至少 8 个可打印字符，揭示时同时公开）。")
def commitment_command(digits: str, salt: str) -> None:
    problem = salt_problem(salt)
    if problem:
        raise click.ClickException(problem)
    if not digits.isdigit() or not digits.isascii():
        raise click.ClickException("随机数只能由数字 0–9 组成。")
    click.echo(commitment(digits, salt))


def _parts(value: str, count: int, what: str) -> list[str]:
    parts = value.split(":", count - 1)
    if len(parts) != count or not all(parts):
        raise click.BadParameter(f"应为 {what}：{value}")
    if parts[0] not in ROLE_CHOICES:
        raise click.BadParameter(f"角色应为 {'、'.join(ROLE_CHOICES)} 之一：{parts[0]}")
    return parts


def _commitment_item(value: str) -> dict[str, str]:
    """``role:name:hex:unit:identity`` for organiser, operator and supervisor, ``witness:name:hex:category``."""
    role, name, tail = _parts(value, 3, "角色:姓名:承诺值:…")
    hex_value, *rest = tail.split(":")
    if role == "witness":
        return {"role": role, "name": name, "commitment": hex_value, "category": ":".join(rest)}
    if len(rest) != 2 or not all(rest):
        raise click.BadParameter(f"组织人员、技术操作人员和监督人员应为 角色:姓名:承诺值:单位:证件号码：{value}")
    return {"role": role, "name": name, "commitment": hex_value, "unit": rest[0], "identity": rest[1]}


def _witness_item(value: str) -> dict[str, str]:
    name, _, category = value.rpartition(":")
    if not name or not category:
        raise click.BadParameter(f"见证人应为 姓名:类别：{value}")
    return {"name": name, "category": category}


@draw_group.command("commit", help="第二步：按顺序记录每位参与者的随机数承诺（组织人员、技术操作人员、监督人员必须各有一份，且是不同的人）。")
@click.argument("draw_id", type=int)
@click.option("--commitment", "items", multiple=True, required=True, metavar="角色:姓名:承诺值:…",
              help="组织人员、技术操作人员、监督人员为 角色:姓名:承诺值:单位:证件号码（证件号码不公开，"
                   "监督人员须来自组织单位以外），见证人为 witness:姓名:承诺值:类别（市场主体代表、行业协会代表、"
                   "纪检部门代表、新闻媒体代表）；按随机种子的拼接顺序重复给出。")
@by_option
@pass_context
def commit_command(ctx: CliContext, draw_id: int, items: tuple[str, ...], by: str | None) -> None:
    body = {"commitments": [_commitment_item(i) for i in items]}
    data = _load(CommitSchema, body)
    gateway = ctx.gateway()
    with gateway.write() as session:
        draw = service.commit(session, cli_principal(by), draw_id, data["commitments"],
                               secret=gateway.settings.secret_key)
    click.echo(f"已记录 {len(draw.commitments)} 份随机数承诺。现在请各参与者揭示：shuangsui draw seed {draw_id} …")


@draw_group.command("seed", help="第三步：揭示每位参与者的数字与盐值，核对承诺后确定随机种子。")
@click.argument("draw_id", type=int)
@click.option("--contribution", "items", multiple=True, required=True, metavar="角色:姓名:数字:盐值",
              help="例如 organiser:张三:31415926535:r4nd0m-salt")
@click.option("--witness", "witnesses", multiple=True, metavar="姓名:类别",
              help="到场见证人及其类别（市场主体代表、行业协会代表、纪检部门代表、新闻媒体代表），可重复。")
@by_option
@pass_context
def seed_command(ctx: CliContext, draw_id: int, items: tuple[str, ...], witnesses: tuple[str, ...], by: str | None) -> None:
    body = {
        "contributions": [dict(zip(("role", "name", "digits", "salt"), _parts(i, 4, "角色:姓名:数字:盐值"))) for i in items],
        "witnesses": [_witness_item(w) for w in witnesses],
    }
    data = _load(SeedSchema, body)
    gateway = ctx.gateway()
    with gateway.write() as session:
        draw = service.reveal_seed(session, cli_principal(by), draw_id, data["contributions"], data["witnesses"])
    click.echo(f"随机种子已确定：{draw.seed}。下一步：shuangsui draw run {draw_id}")


@draw_group.command("run", help="第四步：抽取检查对象、匹配检查组、生成检查任务并公开抽取记录（同一事务）。")
@click.argument("draw_id", type=int)
@by_option
@pass_context
def run_command(ctx: CliContext, draw_id: int, by: str | None) -> None:
    gateway = ctx.gateway()
    draw = service.run_and_record_failure(gateway, cli_principal(by), draw_id)
    with gateway.read() as session:
        _show(service.draw_dict(service.get_draw(session, draw.id), gateway.settings))


@draw_group.command("cancel", help="取消随机种子公开前的抽取（保留记录并公开取消理由）。")
@click.argument("draw_id", type=int)
@click.option("--reason", required=True, help="取消理由。")
@by_option
@pass_context
def cancel_command(ctx: CliContext, draw_id: int, reason: str, by: str | None) -> None:
    gateway = ctx.gateway()
    with gateway.write() as session:
        service.cancel(session, cli_principal(by), draw_id, reason)
    click.echo(f"抽取 {draw_id} 已取消。")


@draw_group.command("list", help="列出抽取。")
@click.option("--year", type=int, help="只列出该年度的抽取。")
@click.option("--plan", "plan_id", type=int, help="只列出该计划（计划 ID）的抽取。")
@json_option
@pass_context
def list_command(ctx: CliContext, year: int | None, plan_id: int | None, as_json: bool) -> None:
    gateway = ctx.gateway()
    with gateway.read() as session:
        draws = [service.draw_dict(d, gateway.settings)
                 for d in session.scalars(service.draws_query({"year": year, "plan_id": plan_id}))]
    if as_json:
        click.echo(to_json([{k: d[k] for k in ("id", "record_id", "plan", "status", "population_sha256", "seed",
                                               "frozen_at", "seeded_at", "drawn_at", "task_count", "record_sha256",
                                               "record_url")} for d in draws]))
        return
    if not draws:
        click.echo("还没有抽取。")
    for d in draws:
        click.echo(f"{d['id']}\t{d['plan']['number']} 第 {d['plan']['version']} 版\t{_status(d['status'])}\t"
                   f"任务 {d['task_count']} 项\t{d['population_sha256'][:16]}…")


@draw_group.command("show", help="显示一次抽取的各阶段（何人何时）、分层规模与随机种子。")
@click.argument("draw_id", type=int)
@json_option
@pass_context
def show_command(ctx: CliContext, draw_id: int, as_json: bool) -> None:
    gateway = ctx.gateway()
    with gateway.read() as session:
        data = service.draw_dict(service.get_draw(session, draw_id), gateway.settings)
    click.echo(to_json(data)) if as_json else _show(data)


@draw_group.command("export", help="导出公开抽取记录（完整记录，shuangsui.draw/2 逐块写出），可用 shuangsui verify 复核；"
                    "--index 只导出索引，--stratum N 只导出第 N 个分层分块。")
@click.argument("draw_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="输出文件。")
@click.option("--index", "index_only", is_flag=True, help="只导出索引（shuangsui.draw/2）。")
@click.option("--stratum", "stratum", type=int, help="只导出第 N 个分层分块（编号见索引 parts.strata）。")
@pass_context
def export_command(ctx: CliContext, draw_id: int, output: Path, index_only: bool, stratum: int | None) -> None:
    gateway = ctx.gateway()
    size = 0
    with gateway.read() as session:
        draw = service.get_draw(session, draw_id)
        service.public_record_gzip(draw)
        if (index_only or stratum) and not record_parts.is_v2(draw):
            raise click.ClickException("该抽取记录为 shuangsui.draw/1 格式，没有索引与分块，请导出完整记录。")
        if index_only:
            chunks = [record_parts.index_text(draw)]
        elif stratum:
            chunks = [record_parts.part_text(session, draw, record_parts.STRATUM, stratum)]
        elif record_parts.is_v2(draw):
            chunks = record_parts.whole_record_stream(session, draw)
        else:
            chunks = [service.public_record(draw).encode("utf-8")]
        with output.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                size += len(chunk)
    click.echo(f"抽取记录已写入 {output}（{size:,} 字节）。")


@click.command("verify", cls=ChineseCommand, help="复核一份公开抽取记录（shuangsui.draw/1 或 /2）：逐个分层重新计算，并核对随机数承诺；"
               "完整的 /2 记录逐块读取，每块人数有上限，内存不随总体增长。给出 --stratum KEY 时只复核一个分层：依次给出索引文件和该分层的分块文件（大的分层有多个分块）。"
               "也可复核人员调整替换记录（shuangsui.reassignment/1）：重新计算替换人员。")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path),
                metavar="记录文件 [分块文件...]")
@click.option("--population-sha256", "announced", help="冻结时公布的总体摘要（可选）。")
@click.option("--stratum", "stratum", help="只复核这一分层（如 food_safety:B）：依次给出索引文件与该分层的各个分块文件。")
def verify_command(paths: tuple[Path, ...], announced: str | None, stratum: str | None) -> None:

    if stratum is not None:
        if len(paths) < 2:
            click.echo("复核单个分层需要索引文件和该分层的分块文件（大的分层有多个分块，依次给出）。", err=True)
            sys.exit(2)
        try:
            index = json.loads(paths[0].read_bytes())
            texts = [path.read_bytes().rstrip(b"\r\n") for path in paths[1:]]
        except (OSError, ValueError) as exc:
            click.echo(f"无法读取抽取记录：{exc}", err=True)
            sys.exit(2)
        report = verify_stratum(index, stratum, texts)
        click.echo("\n".join(report.lines()))
        sys.exit(0 if report.ok else 1)
    if len(paths) != 1:
        click.echo("请给出一份完整的抽取记录（或用 --stratum 复核单个分层）。", err=True)
        sys.exit(2)
    path = paths[0]
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError as exc:
        click.echo(f"无法读取抽取记录：{exc}", err=True)
        sys.exit(2)
    if head.startswith(HEAD + b"\n"):
        # A whole version 2 record: streamed a part at a time (the commitments are in the index).
        try:
            record = json.loads(read_index(path))
        except (LayoutError, OSError, ValueError) as exc:
            click.echo(f"无法读取抽取记录的索引：{exc}", err=True)
            sys.exit(2)
        report = verify_file(path, expected_population_sha256=announced)
    else:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            click.echo(f"无法读取抽取记录：{exc}", err=True)
            sys.exit(2)
        if isinstance(record, dict) and record.get("format") == REASSIGNMENT_FORMAT:
            problems = reassignment_problems(record)
            click.echo(f"人员调整替换记录 {record.get('id')}：" + ("重新计算一致" if not problems else "；".join(problems)))
            click.echo("结论：一致，替换人员可复现" if not problems else "结论：不一致")
            sys.exit(0 if not problems else 1)
        report = verify_record(record, expected_population_sha256=announced)
    lines = report.lines()
    ok = report.ok
    if isinstance(record, dict) and "commitments" in record:
        problems = commitment_problems(record["commitments"], record.get("contributions"))
        lines.insert(2, "随机数承诺：" + ("一致" if not problems else "；".join(problems)))
        if problems:
            ok = False
            if report.ok:
                lines[-1] = "结论：不一致（随机数与事先的承诺不符）"
    click.echo("\n".join(lines))
    sys.exit(0 if ok else 1)


def _load(schema_class, body: dict) -> dict:

    try:
        return schema_class().load(body)
    except ValidationError as exc:
        raise Invalid("validation_error", "参数未通过校验。", exc.messages) from None


COMMANDS = [draw_group, verify_command]
