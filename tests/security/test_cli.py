"""``shuangsui user`` and ``shuangsui token``, and the demo's accounts."""
from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli.main import cli
from gateway.demo.accounts import create_demo_accounts, describe_demo_accounts
from gateway.directory.models import Inspector
from gateway.security.models import Account
from gateway.security.principal import ROLES

PASSWORD = "Wuzhi-2026-secret"


def shuangsui(settings, *args, input=None):
    return CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance",
                                    str(settings.instance_path), *args], input=input)


def test_user_commands(gateway, settings, app):
    added = shuangsui(settings, "user", "add", "wang", "--role", "department_head", "--department", "market",
                      "--password", PASSWORD)
    assert added.exit_code == 0, added.output
    assert "已新建用户 wang（部门负责人 / market）" in added.output
    prompted = shuangsui(settings, "user", "add", "li", "--role", "supervisor", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert shuangsui(settings, "user", "add", "wang", "--role", "supervisor", "--password", PASSWORD).exit_code == 1
    no_dept = shuangsui(settings, "user", "add", "zhao", "--role", "department_operator", "--password", PASSWORD)
    assert no_dept.exit_code == 1 and "部门" in no_dept.output
    weak = shuangsui(settings, "user", "add", "zhou", "--role", "supervisor", "--password", "123")
    assert weak.exit_code == 1 and "密码至少 10 个字符" in weak.output

    listing = shuangsui(settings, "user", "list").output
    assert "wang\t部门负责人\tmarket" in listing and "li\t监督人员" in listing

    client = app.test_client()
    assert client.post("/api/v1/auth/sign-in", json={"username": "wang", "password": PASSWORD}).status_code == 200
    assert shuangsui(settings, "user", "passwd", "wang", "--password", "Another-pass-2026").exit_code == 0
    assert client.get("/api/v1/auth/me").json["role"] == "public"  # the password change ended the session
    assert shuangsui(settings, "user", "disable", "wang").exit_code == 0
    assert "已停用" in shuangsui(settings, "user", "list", "--role", "department_head").output
    refused = client.post("/api/v1/auth/sign-in", json={"username": "wang", "password": "Another-pass-2026"})
    assert refused.status_code == 401
    assert shuangsui(settings, "user", "enable", "wang").exit_code == 0
    assert shuangsui(settings, "user", "disable", "nobody").exit_code == 1


def test_token_commands(gateway, settings, app):
    created = shuangsui(settings, "token", "create", "--name", "同步进程", "--role", "system", "--days", "30")
    assert created.exit_code == 0, created.output
    token = re.search(r"^(ssg_\S+)$", created.output, re.M).group(1)
    client = app.test_client()
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json["role"] == "system"
    listing = shuangsui(settings, "token", "list").output
    assert "同步进程" in listing and token[:12] in listing and token not in listing
    assert shuangsui(settings, "token", "revoke", "1").exit_code == 0
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "没有访问令牌" in shuangsui(settings, "token", "list").output
    assert "已吊销" in shuangsui(settings, "token", "list", "--all").output
    assert shuangsui(settings, "token", "create", "--name", "x").exit_code == 1
    assert shuangsui(settings, "token", "create", "--name", "x", "--role", "inspector").exit_code == 1
    assert shuangsui(settings, "token", "revoke", "99").exit_code == 1


def test_user_token_follows_the_user(gateway, settings):
    shuangsui(settings, "user", "add", "sync", "--role", "system", "--no-password")
    created = shuangsui(settings, "token", "create", "--name", "worker", "--user", "sync")
    assert created.exit_code == 0 and "系统" in created.output


def test_demo_creates_one_account_per_role(gateway, app):
    with gateway.write() as session:
        session.add(Inspector(department_code="market", name="演示", gender="male", certificate_no="4108230000777"))
    made = create_demo_accounts(gateway)
    assert sorted(a.role for a in made) == sorted(r for r in ROLES if r != "public")
    text = describe_demo_accounts(made)
    assert "公众：无需登录" in text and "sign-in" in text
    for account in made:
        client = app.test_client()
        if account.password:
            response = client.post("/api/v1/auth/sign-in", json={"username": account.username,
                                                                 "password": account.password})
            assert response.status_code == 200 and response.json["role"] == account.role
        else:
            me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {account.token}"})
            assert me.json["role"] == "system"
    again = create_demo_accounts(gateway)  # idempotent: nothing new, passwords unchanged
    assert all(a.password is None and a.token is None for a in again)
    with gateway.read() as session:
        assert len(list(session.scalars(select(Account)))) == len(made)
