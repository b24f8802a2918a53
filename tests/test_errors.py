"""Services raise named domain errors; the API, the pages and the command line each translate them
in one place (gateway.api.errors, gateway.web.base, gateway.cli.chinese)."""
from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from gateway import errors
from gateway.api.errors import STATUS_OF_ERROR, status_of
from gateway.cli.chinese import failure
from gateway.cli.main import cli
from gateway.draw.errors import UnstaffedDraw
from gateway.planning.models import Plan
from tests.drawdb import published_plan

GATEWAY = Path(__file__).resolve().parents[1] / "gateway"
# The modules that answer a request themselves and may speak HTTP: the API's error handlers and
# the page layer's shared handler.
TRANSPORTS = ("api/", "web/base.py", "app.py")


def _domain_error_names() -> set[str]:
    found, todo = set(), [errors.DomainError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found | {"ConflictError"}  # the alias where the model Conflict owns the plain name


def _modules():
    for path in sorted(GATEWAY.rglob("*.py")):
        relative = path.relative_to(GATEWAY).as_posix()
        if not relative.startswith("migrations/"):
            yield relative, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_domain_names_no_http_status():
    names = _domain_error_names()
    problems = []
    for relative, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "ApiError" or (
                    isinstance(node, ast.ImportFrom) and any(a.name == "ApiError" for a in node.names)):
                problems.append(f"{relative}:{node.lineno} uses ApiError")
            if (isinstance(node, ast.ImportFrom) and node.module == "gateway.api.errors"
                    and not relative.startswith(TRANSPORTS)):
                problems.append(f"{relative}:{node.lineno} imports the API's status map")
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                first = node.args[0] if node.args else None
                if name in names and isinstance(first, ast.Constant) and isinstance(first.value, int):
                    problems.append(f"{relative}:{node.lineno} gives {name} an HTTP status")
    assert problems == []


def test_each_domain_error_has_one_status():
    assert {cls: status_of(cls()) for cls in STATUS_OF_ERROR} == {
        errors.BadRequest: 400, errors.Unauthenticated: 401, errors.Forbidden: 403, errors.NotFound: 404,
        errors.Conflict: 409, errors.TooLarge: 413, errors.UnsupportedType: 415, errors.Invalid: 422,
        errors.TooManyRequests: 429, errors.Corrupted: 500,
    }
    assert status_of(UnstaffedDraw("no_feasible_team", "x")) == 409  # a subclass answers as its parent
    assert errors.NotFound.of("抽查计划", "9" * 100).message == "抽查计划 " + "9" * 40 + "… 不存在。"


# ------------------------------------------------------------------------------------------- API

def test_the_api_answers_a_domain_error_with_its_status_and_body(gateway, client, client_as):
    missing = client.get("/api/v1/public/plans/987654")
    assert (missing.status_code, missing.json) == (404, {"code": "not_found", "message": "抽查计划 987654 不存在。"})
    forged = client.get("/api/v1/plans", headers={"Authorization": "Bearer ssg_forged"})
    assert (forged.status_code, forged.json["code"]) == (401, "invalid_token")
    plan_id = published_plan(gateway)
    again = client_as("county_office").post(f"/api/v1/plans/{plan_id}/publish")
    assert again.status_code == 409
    assert again.json == {"code": "plan_not_draft", "message": f"计划 {plan_number(gateway, plan_id)}（第 1 版）已发布，不能再次发布。"}


def plan_number(gateway, plan_id: int) -> str:
    with gateway.read() as session:
        return session.get(Plan, plan_id).number


# ----------------------------------------------------------------------------------------- pages

def _joint_matter(gateway) -> str:
    """A matter that another department cooperates on, so that a joint plan of it alone is valid
    (whatever other plugins are installed)."""
    return next(code for code in gateway.registry.matters if gateway.registry.cooperating_departments(code))


def _plan_form(gateway, lead: str) -> dict[str, str]:
    year = date.today().year
    matter = _joint_matter(gateway)
    return {"kind": "joint", "year": str(year), "title": "错误页面测试计划", "lead_department": lead,
            "matters": matter, "ratios.A": "0.05", "ratios.B": "0.05", "ratios.C": "0.1", "ratios.D": "0.2",
            "frequency": "每年一次", "window_start": f"{year}-05-01", "window_end": f"{year}-10-31",
            "key_rule.risk_classes": "D", "key_rule.min_complaints": "3"}


def test_a_page_shows_the_domain_error(gateway, client, client_as):
    missing = client.get("/plans/987654")
    assert missing.status_code == 404 and "抽查计划 987654 不存在。" in missing.get_data(as_text=True)

    office = client_as("county_office")
    lead = gateway.registry.matters[_joint_matter(gateway)].department_code
    created = office.post("/console/plans/new", data=_plan_form(gateway, lead))
    assert created.status_code == 302, created.get_data(as_text=True)
    plan_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert office.post(f"/console/plans/{plan_id}/publish").status_code == 302
    # a refusal of the input stays on the form, with the service's status and message
    edited = office.post(f"/console/plans/{plan_id}/edit", data=_plan_form(gateway, lead))
    assert edited.status_code == 409
    assert "已发布的计划不能修改；如需调整，请以新版本修订并说明理由。" in edited.get_data(as_text=True)
    # a refusal of the caller is the shared refusal page, not the form
    other = next(code for code in gateway.registry.departments if code != lead)
    refused = client_as("department_head", other).post("/console/plans/new", data=_plan_form(gateway, lead))
    assert refused.status_code == 403
    assert "无权执行此操作。" in refused.get_data(as_text=True) and 'id="f-matters"' not in refused.get_data(as_text=True)


# ---------------------------------------------------------------------------------- command line

def test_the_command_line_fails_with_the_domain_error(settings, gateway):
    def shuangsui(*args):
        return CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance",
                                        str(settings.instance_path), *args])

    missing = shuangsui("draw", "show", "987654")
    assert (missing.exit_code, missing.output) == (1, "错误：抽取 987654 不存在。\n")
    weak = shuangsui("user", "add", "zhou", "--role", "supervisor", "--password", "123")
    assert weak.exit_code == 1 and weak.output.count("密码至少 10 个字符。") == 1
    blank = shuangsui("plan", "show", "987654")
    assert blank.exit_code == 1 and "抽查计划 987654 不存在。" in blank.output


def test_a_command_failure_names_each_field_once_in_chinese():
    exc = errors.Invalid("validation_error", "提交的数据未通过校验。", {
        "commitments": {"1": {"name": ["Missing data for required field."]}},
        "rows": [{"uscc": ["统一社会信用代码无效。"]}],
        "password": ["提交的数据未通过校验。"],
    })
    assert failure(exc).format_message().splitlines() == [
        "提交的数据未通过校验。", "  commitments.1.name：缺少必填字段。", "  rows.0.uscc：统一社会信用代码无效。",
    ]

