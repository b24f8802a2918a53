"""``shuangsui user``, ``shuangsui token`` and ``shuangsui audit``: accounts, API tokens, audit chain."""
from __future__ import annotations

import getpass

import click
from sqlalchemy import select

from gateway.cli.chinese import ChineseGroup
from gateway.cli.context import CliContext, pass_context
from gateway.db import utcnow
from gateway.security import accounts, audit
from gateway.security.models import Account, ApiToken
from gateway.security.principal import ROLE_LABELS, Principal

ROLE_CHOICE = click.Choice(list(accounts.ACCOUNT_ROLES))


def cli_principal() -> Principal:
    """Who acts when a command changes accounts: the operating-system user at the console."""
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return Principal(role="system", name=f"cli:{user}")


def _scope_text(role: str, department: str | None, inspector_id: int | None) -> str:
    text = ROLE_LABELS.get(role, role)
    if department:
        text += f" / {department}"
    if inspector_id:
        text += f" / 执法检查人员 {inspector_id}"
    return text


# ------------------------------------------------------------------------------------------ users

@click.group("user", cls=ChineseGroup, help="用户账号：新建、列出、停用、启用、重设密码。")
def user() -> None:
    pass


@user.command("add", help="新建用户账号（角色见 docs/security.md）。")
@click.argument("username")
@click.option("--role", required=True, type=ROLE_CHOICE, help="角色。")
@click.option("--department", help="所属部门代码（部门操作员、部门负责人必填）。")
@click.option("--inspector-id", type=int, help="关联的执法检查人员编号（执法检查人员账号必填）。")
@click.option("--name", "display_name", default="", help="显示名称。")
@click.option("--password", help="密码（不提供则交互输入；与 --no-password 二选一）。")
@click.option("--no-password", is_flag=True, help="不设密码：只能使用访问令牌（机器账号）。")
@pass_context
def user_add(ctx: CliContext, username, role, department, inspector_id, display_name, password, no_password) -> None:
    if not no_password and password is None:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    with ctx.gateway().write() as session:
        account = accounts.create_account(
            session, cli_principal(), username, role, department_code=department,
            inspector_id=inspector_id, password=None if no_password else password, display_name=display_name,
        )
        text = _scope_text(account.role, account.department_code, account.inspector_id)
    click.echo(f"已新建用户 {username}（{text}）。")


@user.command("list", help="列出用户账号。")
@click.option("--role", type=ROLE_CHOICE, help="只列出该角色。")
@click.option("--department", help="只列出该部门。")
@pass_context
def user_list(ctx: CliContext, role, department) -> None:
    lines = []
    with ctx.gateway().read() as session:
        stmt = select(Account).order_by(Account.id)
        if role:
            stmt = stmt.where(Account.role == role)
        if department:
            stmt = stmt.where(Account.department_code == department)
        for a in session.scalars(stmt):
            if not a.active:
                state = "已停用"
            else:
                state = "正常" if a.password_hash else "正常（仅令牌）"
            last = a.last_login_at.strftime("%Y-%m-%d %H:%M") if a.last_login_at else "-"
            lines.append(f"{a.id}\t{a.username}\t{ROLE_LABELS.get(a.role, a.role)}\t{a.department_code or '-'}\t"
                         f"{a.inspector_id or '-'}\t{state}\t{last}")
    _echo_table("编号\t用户名\t角色\t部门\t执法检查人员\t状态\t最近登录", lines, "没有用户账号。")


def _echo_table(header: str, lines: list[str], empty: str) -> None:
    if not lines:
        click.echo(empty)
        return
    click.echo(header)
    for line in lines:
        click.echo(line)


@user.command("disable", help="停用用户：结束其登录会话并吊销其全部访问令牌。")
@click.argument("username")
@pass_context
def user_disable(ctx: CliContext, username) -> None:
    _switch_user(ctx, username, accounts.disable_account, f"已停用用户 {username}，其会话已结束、访问令牌已吊销。")


@user.command("enable", help="重新启用用户（已吊销的令牌不会恢复）。")
@click.argument("username")
@pass_context
def user_enable(ctx: CliContext, username) -> None:
    _switch_user(ctx, username, accounts.enable_account, f"已启用用户 {username}。")


def _switch_user(ctx: CliContext, username: str, switch, done: str) -> None:
    with ctx.gateway().write() as session:
        switch(session, cli_principal(), accounts.get_account(session, username))
    click.echo(done)


@user.command("passwd", help="重设用户密码（同时结束其全部会话）。")
@click.argument("username")
@click.option("--password", help="新密码（不提供则交互输入）。")
@pass_context
def user_passwd(ctx: CliContext, username, password) -> None:
    if password is None:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt="再次输入新密码")
    with ctx.gateway().write() as session:
        accounts.set_password(session, cli_principal(), accounts.get_account(session, username), password)
    click.echo(f"已重设用户 {username} 的密码。")


# ----------------------------------------------------------------------------------------- tokens

@click.group("token", cls=ChineseGroup, help="访问令牌（供程序调用 API）：新建、列出、吊销。")
def token() -> None:
    pass


@token.command("create", help="新建访问令牌。令牌只显示这一次，数据库中只保存其哈希。")
@click.option("--name", required=True, help="令牌用途，例如“同步进程”。")
@click.option("--user", "username", help="代表该用户（角色与部门随用户）。")
@click.option("--role", type=ROLE_CHOICE, help="角色（不代表用户时必填）。")
@click.option("--department", help="所属部门代码。")
@click.option("--inspector-id", type=int, help="执法检查人员编号（执法检查人员令牌必填）。")
@click.option("--days", default=accounts.DEFAULT_TOKEN_DAYS, show_default=True,
              type=click.IntRange(1, accounts.MAX_TOKEN_DAYS), help="有效天数。")
@pass_context
def token_create(ctx: CliContext, name, username, role, department, inspector_id, days) -> None:
    if not username and not role:
        raise click.ClickException("请用 --user 指定用户，或用 --role 指定角色。")
    with ctx.gateway().write() as session:
        account = accounts.get_account(session, username) if username else None
        row, plaintext = accounts.issue_token(
            session, cli_principal(), name, role or "", department_code=department,
            inspector_id=inspector_id, days=days, account=account,
        )
        scope = _scope_text(row.role, row.department_code, row.inspector_id)
        expires = row.expires_at.strftime("%Y-%m-%d %H:%M")
        token_id = row.id
    click.echo(f"已新建访问令牌 {token_id}（{scope}，有效期至 {expires} UTC）。")
    click.echo("令牌只显示这一次，请立即妥善保存：")
    click.echo(plaintext)
    click.echo(f"使用方法：请求头 Authorization: Bearer {plaintext[:12]}…")


@token.command("list", help="列出访问令牌（只显示前缀）。")
@click.option("--all", "show_all", is_flag=True, help="包括已吊销和已过期的令牌。")
@pass_context
def token_list(ctx: CliContext, show_all) -> None:
    now = utcnow()
    with ctx.gateway().read() as session:
        rows = list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
        listed = []
        for t in rows:
            state = "已吊销" if t.revoked_at else "已过期" if t.expires_at <= now else "有效"
            if not show_all and state != "有效":
                continue
            owner = t.account.username if t.account else "-"
            last = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "-"
            listed.append(f"{t.id}\t{t.name}\t{t.prefix}…\t{_scope_text(t.role, t.department_code, t.inspector_id)}\t"
                          f"{owner}\t{t.expires_at:%Y-%m-%d}\t{state}\t{last}")
    _echo_table("编号\t名称\t前缀\t角色/部门\t用户\t到期\t状态\t最近使用", listed, "没有访问令牌。")


@token.command("revoke", help="吊销访问令牌（立即失效）。")
@click.argument("token_id", type=int)
@pass_context
def token_revoke(ctx: CliContext, token_id) -> None:
    with ctx.gateway().write() as session:
        row = accounts.revoke_token(session, cli_principal(), token_id)
        name = row.name
    click.echo(f"已吊销访问令牌 {token_id}（{name}）。")


# ------------------------------------------------------------------------------------------ audit

@click.group("audit", cls=ChineseGroup, help="审计日志：校验哈希链、输出检查点。")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="校验审计日志的哈希链：发现被修改或删除的记录时失败并指明是哪一条。")
@click.option("--checkpoint", help="此前用 `shuangsui audit head` 记下的检查点（编号:哈希），用于发现末尾被删除的记录。")
@click.option("--max-problems", default=20, show_default=True, type=click.IntRange(1, 10_000), help="最多列出的问题数。")
@pass_context
def audit_verify(ctx: CliContext, checkpoint, max_problems) -> None:
    try:
        head = audit.ChainHead.parse(checkpoint) if checkpoint else None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with ctx.gateway().read() as session:
        breaks = audit.find_breaks(session, limit=max_problems, checkpoint=head)
        total = audit.count_entries(session)
        current = audit.chain_head(session)
    if breaks:
        for problem in breaks:
            click.echo(f"第 {problem.entry_id} 条：{problem.reason}", err=True)
        raise click.ClickException(f"审计链校验失败：发现 {len(breaks)} 处问题，首个问题在第 {breaks[0].entry_id} 条。")
    click.echo(f"审计链完整：共 {total} 条记录。" + (f"当前检查点 {current}" if current else ""))


@audit_group.command("head", help="输出当前检查点（最后一条记录的编号与哈希），请另行保存以便日后校验。")
@pass_context
def audit_head(ctx: CliContext) -> None:
    with ctx.gateway().read() as session:
        current = audit.chain_head(session)
    click.echo(str(current) if current else "审计日志为空。")


COMMANDS = [user, token, audit_group]
