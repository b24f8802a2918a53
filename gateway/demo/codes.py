"""Demo inspection codes and check-ins: the enterprise confirms the team's arrival as on site, and
the demo prints one inspection code to try."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from gateway.codes import checkins
from gateway.codes import service as inspection_codes
from gateway.core import Gateway
from gateway.enterprise.access_codes import issue_access_code
from gateway.security.principal import Principal
from gateway.tasks.models import Task

OFFICE = Principal(role="county_office", name="演示县双随机办")


def confirm_arrival(gateway: Gateway, task_id: int, today: date | None = None) -> None:
    """The office issues the task's access code (as printed on its notice), and the enterprise's
    representative confirms with it the team's arrival on ``today`` (扫码入企)."""
    with gateway.write() as session:
        task = session.get(Task, task_id)
        access_code = issue_access_code(session, task, actor=OFFICE)
        code = inspection_codes.issue(session, gateway.settings, task)
    checkins.check_in(gateway, code, access_code, remote_addr="127.0.0.1", today=today)


def demo_code(gateway: Gateway, base_url: str) -> dict[str, Any] | None:
    """One drawn task still awaiting its visit: its inspection code's address and a fresh access
    code to confirm the arrival with (the demo prints both)."""
    with gateway.write() as session:
        task = session.scalar(select(Task).where(Task.draw_id.is_not(None), Task.status == "assigned")
                              .order_by(Task.window_end.desc(), Task.id.desc()).limit(1))
        if task is None:
            return None
        block = inspection_codes.code_block(session, gateway.settings, task, base_url)
        if block is None:
            return None
        return {"task_number": task.number, "uscc": task.target.uscc, "url": block["url"],
                "access_code": issue_access_code(session, task, actor=OFFICE)}
