"""Demo accounts: one per role, with random passwords shown once (never fixed, well-known ones)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from gateway.core import Gateway
from gateway.directory.models import Department, Inspector
from gateway.security import accounts
from gateway.security.models import Account
from gateway.security.principal import ROLE_LABELS, Principal

DEMO_ACTOR = Principal(role="system", name="demo")
PREFERRED_DEPARTMENT = "market"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    department_code: str | None
    inspector_id: int | None
    password: str | None      # None: the account existed already (password unchanged)
    token: str | None = None  # the system account signs in with a token

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def _password() -> str:
    return "Wz-" + secrets.token_urlsafe(10)


def create_demo_accounts(gateway: Gateway) -> list[DemoAccount]:
    """Create the accounts that are missing; return every demo account (passwords of new ones)."""
    made: list[DemoAccount] = []
    with gateway.write() as session:
        codes = list(session.scalars(select(Department.code).where(Department.installed.is_(True))
                                     .order_by(Department.code)))
        department = PREFERRED_DEPARTMENT if PREFERRED_DEPARTMENT in codes else (codes[0] if codes else None)
        inspector_id = None
        if department is not None:
            inspector_id = session.scalar(select(Inspector.id).where(
                Inspector.department_code == department, Inspector.active.is_(True)).order_by(Inspector.id).limit(1))
        plan = [
            ("county", "county_office", None, None),
            ("supervisor", "supervisor", None, None),
            ("system", "system", None, None),
        ]
        if department is not None:
            plan[1:1] = [(f"{department}-operator", "department_operator", department, None),
                         (f"{department}-head", "department_head", department, None)]
            if inspector_id is not None:
                plan.insert(3, (f"inspector-{inspector_id}", "inspector", None, inspector_id))
        for username, role, dept, insp in plan:
            existing = session.scalar(select(Account).where(Account.username == username))
            if existing is not None:
                made.append(DemoAccount(username, existing.role, existing.department_code, existing.inspector_id, None))
                continue
            password = None if role == "system" else _password()
            account = accounts.create_account(session, DEMO_ACTOR, username, role, department_code=dept,
                                              inspector_id=insp, password=password,
                                              display_name=f"演示{ROLE_LABELS[role]}")
            token = None
            if role == "system":
                _, token = accounts.issue_token(session, DEMO_ACTOR, "演示同步进程", role, account=account, days=30)
            made.append(DemoAccount(username, role, account.department_code, account.inspector_id, password, token))
    return made


def describe_demo_accounts(made: list[DemoAccount], base_url: str = "http://127.0.0.1:8800") -> str:
    """How to sign in, in Chinese, for the console."""
    lines = ["演示账号（每个角色一个；新建账号的密码只显示这一次）："]
    for a in made:
        scope = f"（{a.department_code}）" if a.department_code else ""
        if a.token:
            secret = f"访问令牌 {a.token}"
        elif a.password:
            secret = f"密码 {a.password}"
        elif a.role == "system":
            secret = f"已存在（新建令牌：shuangsui token create --user {a.username} --name 同步进程）"
        else:
            secret = "已存在，密码未变（可用 shuangsui user passwd 重设）"
        lines.append(f"  {a.role_label}{scope}：用户名 {a.username}，{secret}")
    lines.append("  公众：无需登录，可查阅已公开的计划、抽取结果和检查结果。")
    lines.append(f"页面登录：用户名和密码登录；API 登录：POST {base_url}/api/v1/auth/sign-in "
                 '，请求体 {"username": "…", "password": "…"}；')
    lines.append("程序调用：请求头 Authorization: Bearer <访问令牌>（用 shuangsui token create 新建）。")
    return "\n".join(lines)
