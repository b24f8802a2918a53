"""Who is acting: the principal of the current request, command or worker."""
from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_request_context

ROLES = (
    "county_office",       # 县双随机一公开领导小组办公室
    "department_operator",  # 部门操作员
    "department_head",      # 部门负责人（审批调整、审核结果）
    "inspector",            # 执法检查人员
    "supervisor",           # 监督人员（只读）
    "system",               # 同步等后台进程
    "public",               # 公众（未登录）
)

ROLE_LABELS = {
    "county_office": "县双随机办",
    "department_operator": "部门操作员",
    "department_head": "部门负责人",
    "inspector": "执法检查人员",
    "supervisor": "监督人员",
    "system": "系统",
    "public": "公众",
    # Not a role of any account or token: the audit log's actor when an enterprise acts in its
    # portal or with its access code (gateway.enterprise.access_codes.enterprise_principal).
    "enterprise": "检查对象企业",
}


@dataclass(frozen=True)
class Principal:
    role: str
    name: str = ""
    user_id: int | None = None
    department_code: str | None = None
    inspector_id: int | None = None

    @property
    def is_public(self) -> bool:
        return self.role == "public"

    @property
    def label(self) -> str:
        """How the principal is named in records ("who did it")."""
        return f"{ROLE_LABELS.get(self.role, self.role)} {self.name}".strip()


PUBLIC = Principal(role="public", name="")
SYSTEM = Principal(role="system", name="system")


def current_principal() -> Principal:
    """The principal the authentication layer put on this request; the public when nobody signed in.

    Outside a request (CLI, workers), the caller passes its principal explicitly instead.
    """

    if not has_request_context():
        return SYSTEM
    return g.get("principal", PUBLIC)
