"""Valid records and USCCs for tests, and small helpers to push and read."""
from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import requests
from stdnum.cn import uscc as stdnum_uscc

from mock_platform.client import PlatformHandle

TIMEOUT = 10


def make_uscc(n: int) -> str:
    """A valid USCC of an enterprise registered in Wuzhi County (area code 410823)."""
    base = f"91410823{n:09d}"
    return base + stdnum_uscc.calc_check_digit(base)


def inspection(n: int = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"result-{n}",
        "plan_number": "WZ-2024-JOINT-01",
        "plan_name": "武陟县2024年度跨部门联合抽查计划",
        "task_number": f"WZ-2024-T{n:04d}",
        "task_name": "成品油市场联合检查",
        "inspection_type": "joint_random",
        "authority": "武陟县商务局",
        "authority_level": "county",
        "completed_on": "2024-05-20",
        "result_codes": ["1"],
        "remarks": None,
        "uscc": make_uscc(n),
        "target_name": f"武陟县第{n}加油站有限公司",
        **overrides,
    }


def plan(n: int = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"plan-{n}",
        "plan_number": f"WZ-2024-JOINT-{n:02d}",
        "plan_name": "武陟县2024年度跨部门联合抽查计划",
        "plan_type": "joint",
        "organiser": "武陟县“双随机、一公开”监管工作领导小组办公室",
        "departments": ["武陟县商务局", "武陟县市场监督管理局"],
        "year": 2024,
        "start_date": "2024-04-01",
        "end_date": "2024-11-30",
        "published_on": "2024-03-25",
        "matters": [{"code": "M-OIL", "name": "成品油市场监督检查"}],
        "remarks": None,
        **overrides,
    }


def draw_result(n: int = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"draw-{n}",
        "plan_number": "WZ-2024-JOINT-01",
        "plan_name": "武陟县2024年度跨部门联合抽查计划",
        "task_number": f"WZ-2024-T{n:04d}",
        "task_name": "成品油市场联合检查",
        "organiser": "武陟县商务局",
        "drawn_on": "2024-04-10",
        "targets": [{"uscc": make_uscc(n), "name": f"武陟县第{n}加油站有限公司", "matters": ["M-OIL"]}],
        "record_sha256": "0" * 64,
        "record_url": "https://gateway.example/draws/1.json",
        **overrides,
    }


def follow_up(n: int = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"follow-{n}",
        "inspection_result_id": f"result-{n}",
        "uscc": make_uscc(n),
        "disposition": "administrative_penalty",
        "authority": "武陟县市场监督管理局",
        "decided_on": "2024-06-15",
        "document_number": "武市监罚〔2024〕12号",
        "description": "未按规定公示年度报告，处以警告。",
        **overrides,
    }


BUILDERS = {"plans": plan, "draw-results": draw_result, "inspection-results": inspection, "follow-ups": follow_up}


def future_day() -> str:
    return (date.today() + timedelta(days=30)).isoformat()


def push(platform: PlatformHandle, kind: str, records: list[Any], session: requests.Session | None = None,
         **kwargs: Any) -> requests.Response:
    """Sign and push one batch."""
    session = session or platform.session()
    kwargs.setdefault("timeout", TIMEOUT)
    return session.post(platform.url(f"/api/v1/{kind}/batch"), json={"records": records}, **kwargs)


def post_raw(platform: PlatformHandle, path: str, body: bytes, content_type: str = "application/json",
             **headers: str) -> requests.Response:
    """A signed POST of exactly these bytes."""
    return platform.session().post(platform.url(path), data=body, timeout=TIMEOUT,
                                   headers={"Content-Type": content_type, **headers})


def body_of(records: list[Any]) -> bytes:
    return json.dumps({"records": records}, ensure_ascii=False).encode("utf-8")
