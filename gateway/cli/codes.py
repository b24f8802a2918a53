"""``shuangsui keys`` (the county's signing keys) and ``shuangsui verify-code`` (check an
inspection code offline)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gateway.cli.chinese import ChineseCommand, ChineseGroup
from gateway.cli.context import CliContext, pass_context
from gateway.codes import keys, token

KEY_STATUS_LABELS = {"active": "在用", "retired": "已停用（仍公布，旧检查码仍可核验）"}


@click.group("keys", cls=ChineseGroup, help="管理本县签发检查码的 Ed25519 签名密钥（私钥保存在实例目录，不进数据库）。")
def keys_group() -> None:
    pass


def _print_keys(ctx: CliContext) -> None:
    settings = ctx.settings()
    for entry in keys.published_keys(settings)["keys"]:
        retired = f"，停用于 {entry['retired_at']}" if entry.get("retired_at") else ""
        click.echo(f"{entry['kid']}  {KEY_STATUS_LABELS.get(entry['status'], entry['status'])}"
                   f"  启用于 {entry['valid_from']}{retired}")
    click.echo(f"密钥目录：{keys.key_folder(settings)}")


@keys_group.command("list", help="列出全部签名公钥（在用与已停用）。")
@pass_context
def list_command(ctx: CliContext) -> None:
    _print_keys(ctx)


@keys_group.command("generate", help="没有签名密钥时生成第一把（签发第一个检查码时也会自动生成）。")
@pass_context
def generate_command(ctx: CliContext) -> None:
    kid, _ = keys.signing_key(ctx.settings())
    click.echo(f"在用签名密钥：{kid}")


@keys_group.command("rotate", help="轮换签名密钥：停用当前密钥（其公钥继续公布），启用一把新密钥。")
@pass_context
def rotate_command(ctx: CliContext) -> None:
    kid = keys.rotate(ctx.settings())
    click.echo(f"已启用新签名密钥 {kid}；旧密钥已停用，其签发的检查码仍可核验。")
    _print_keys(ctx)


@click.command("verify-code", cls=ChineseCommand,
               help="离线核验检查码：核对签名（公钥取自 --keys 文件，或本实例公布的公钥）与抽取证明"
                    "（票号由随机种子与统一社会信用代码重新计算，且小于所在分层的截止值）；"
                    "给出 --record 时再与公开抽取记录核对。")
@click.argument("code", metavar="检查码")
@click.option("--keys", "keys_path", type=click.Path(dir_okay=False, path_type=Path),
              help="已公布的公钥文件（/.well-known/shuangsui-keys.json）。")
@click.option("--record", "record_path", type=click.Path(dir_okay=False, path_type=Path),
              help="检查码所述抽取的公开抽取记录（JSON）。")
@pass_context
def verify_code_command(ctx: CliContext, code: str, keys_path: Path | None, record_path: Path | None) -> None:
    try:
        keyset = json.loads(keys_path.read_text("utf-8")) if keys_path else keys.published_keys(ctx.settings(), generate=False)
        record = record_path.read_bytes() if record_path else None
        check = token.verify(code.strip().removeprefix("/code/").split("/code/")[-1], keyset)
    except (OSError, ValueError) as exc:
        click.echo(f"无法核验：{exc}", err=True)
        sys.exit(2)
    claims = check.claims
    problems = check.problems + (token.against_record(claims, record) if record is not None and check.ok else [])
    for name in ("task", "uscc", "plan", "draw", "window", "departments"):
        value = claims.get(name)
        click.echo(f"{token.FIELD_LABELS[name]}：{' 至 '.join(value) if name == 'window' else value}")
    click.echo(f"签名密钥：{check.kid}（{KEY_STATUS_LABELS.get(check.key_status, '未知')}）")
    for problem in problems:
        click.echo(f"不符：{problem}")
    click.echo("结论：检查码真实，签名与抽取证明一致" if not problems else "结论：检查码不可信")
    sys.exit(0 if not problems else 1)


COMMANDS = [keys_group, verify_code_command]
