"""Demo-like data with recognisable personal data, and a walk over every route of the application.

``build`` loads a small demo (directories, the demo draw, results in every state) after giving
each inspector a name, phone and certificate number that cannot occur by chance, so a crawl can
grep every response for them. ``urls`` fills each route's path parameters with the ids of real
rows: several per parameter (different departments and states), so that a scope check that
holds for one row but not another is found.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, update

from gateway.demo.draw import ensure_demo_draw
from gateway.demo.generate import DemoShape
from gateway.demo.load import load_directories
from gateway.demo.results import load_demo_results

TODAY = date(2026, 11, 20)
SHAPE = DemoShape(targets=400, inspectors_per_department=6, conflicts=4, seed=410823)
# Never in demo data otherwise: surnames and a phone block that the generator does not use.
NAME_MARK = "甪里"
SKIPPED_PARAMETERS = {"filename"}  # static files


@dataclass(frozen=True)
class Person:
    id: int
    department: str
    name: str
    phone: str
    certificate: str


@dataclass
class Demo:
    people: dict[int, Person]
    values: dict[str, list] = field(default_factory=dict)
    # how results and dispositions name who recorded, reviewed and published them
    officials: set[str] = field(default_factory=set)
    # inspector ids on each task's team (also those reassigned away), and each task's departments
    team_of_task: dict[int, set[int]] = field(default_factory=dict)
    departments_of_task: dict[int, set[str]] = field(default_factory=dict)

    def personal(self, people) -> set[str]:
        return {v for p in people for v in (p.name, p.phone, p.certificate)}

    def secrets_hidden_from_department(self, department: str) -> set[str]:
        """A department sees its own inspectors, and by name those it works with on a task."""
        colleagues = {i for t, team in self.team_of_task.items() if department in self.departments_of_task[t]
                      for i in team}
        return self._hidden({p.id for p in self.people.values() if p.department == department}, colleagues)

    def secrets_hidden_from_inspector(self, inspector_id: int) -> set[str]:
        """An inspector sees teammates by name only, and nobody else at all."""
        teammates = {i for team in self.team_of_task.values() if inspector_id in team for i in team}
        return self._hidden({inspector_id}, teammates)

    def _hidden(self, in_full: set[int], by_name: set[int]) -> set[str]:
        hidden = set()
        for person in self.people.values():
            if person.id not in in_full:
                hidden |= {person.phone, person.certificate}
                if person.id not in by_name:
                    hidden.add(person.name)
        return hidden


def _name(serial: int) -> str:
    digits = "零一二三四五六七八九"
    return NAME_MARK + "".join(digits[int(d)] for d in f"{serial:03d}")


def build(gateway) -> Demo:
    """What ``shuangsui demo load`` does, small, with recognisable inspectors."""
    from gateway.directory.models import Inspector

    load_directories(gateway, SHAPE, today=TODAY)
    with gateway.write() as session:
        for inspector in session.scalars(select(Inspector).order_by(Inspector.id)):
            session.execute(update(Inspector).where(Inspector.id == inspector.id).values(
                name=_name(inspector.id), phone=f"1990{inspector.id:07d}",
                certificate_no=f"4108{inspector.id:06d}77"))
    ensure_demo_draw(gateway, today=TODAY)
    load_demo_results(gateway, today=TODAY)
    return describe(gateway)


def describe(gateway) -> Demo:
    from gateway.directory.models import Inspector, Target
    from gateway.planning.models import Plan
    from gateway.results.models import Disposition, InspectionResult
    from gateway.security.models import Account, ApiToken
    from gateway.tasks.models import Reassignment, Task, TaskMember

    with gateway.read() as session:
        people = {i.id: Person(i.id, i.department_code, i.name, i.phone, i.certificate_no)
                  for i in session.scalars(select(Inspector))}
        demo = Demo(people)
        for row in session.execute(select(InspectionResult.recorded_by, InspectionResult.reviewed_by,
                                          InspectionResult.published_by)):
            demo.officials |= {name for name in row if name}
        for row in session.execute(select(Disposition.recorded_by, Disposition.published_by)):
            demo.officials |= {name for name in row if name}
        tasks = session.scalars(select(Task).order_by(Task.id)).all()
        for task in tasks:
            members = session.scalars(select(TaskMember).where(TaskMember.task_id == task.id)).all()
            demo.team_of_task[task.id] = {m.inspector_id for m in members}
            demo.departments_of_task[task.id] = {task.lead_department} | {m.department_code for m in members}
        one_per_lead = list({t.lead_department: t.id for t in tasks}.values())
        results = session.scalars(select(InspectionResult).order_by(InspectionResult.id)).all()
        one_per_status = list({r.status: r.id for r in results}.values())
        targets = [t.target.uscc for t in tasks[:3]] + [session.scalar(select(Target.uscc).order_by(Target.id))]
        demo.values = {
            "task_id": one_per_lead,
            "result_id": one_per_status,
            "plan_id": list(session.scalars(select(Plan.id).order_by(Plan.id))),
            "draw_id": [t.draw_id for t in tasks[:1]],
            "uscc": targets,
            "inspector_id": sorted({min(i for i, p in people.items() if p.department == d)
                                    for d in {p.department for p in people.values()}}),
            "disposition_id": list(session.scalars(select(Disposition.id).order_by(Disposition.id))),
            "reassignment_id": list(session.scalars(select(Reassignment.id).order_by(Reassignment.id)))[:3],
            "account_id": list(session.scalars(select(Account.id).order_by(Account.id)))[:1],
            "token_id": list(session.scalars(select(ApiToken.id).order_by(ApiToken.id)))[:1],
            "attachment_id": [1],
            "record_id": ["1"],
            "kind": ["inspectors", "targets"],
        }
    return demo


def urls(rule, values: dict[str, list]) -> list[str]:
    """Every way to fill ``rule``'s path parameters from ``values`` (a parameter with no value
    gets 1), one URL per combination; none for static files."""
    filled = [rule.rule]
    for name in rule.arguments:
        if name in SKIPPED_PARAMETERS:
            return []
        pattern = re.compile(r"<[^>]*\b" + name + r">")
        filled = [pattern.sub(str(v), url) for url in filled for v in values.get(name) or [1]]
    return filled


def get_rules(app, prefix: str = "/"):
    """The routes under ``prefix`` that answer GET, in a stable order."""
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith(prefix) and "GET" in r.methods),
                  key=lambda r: r.rule)


def body_text(response) -> str:
    """What a response shows, spreadsheets included (the text of every part of an .xlsx)."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return data.decode("utf-8", "replace")
