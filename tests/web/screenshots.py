"""Screenshots of the main pages, written to ``docs/screenshots/`` (``make screenshots``).

Builds a throw-away demo instance (the demo directories, the demo joint plan and its draw, demo
results in every state, one account per role), serves it on 127.0.0.1 and photographs each main
page with Debian's Chromium: desktop pages at 1280 px, the inspector's pages at 375 px.

    python -m tests.web.screenshots [--out docs/screenshots] [--targets 3000]

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and, for legible Chinese, a CJK font
(``apt-get install fonts-noto-cjk``).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

from gateway.testing.world import publish_filed
from tests.web.harness import DESKTOP, PHONE, LiveServer, chromium_available, create_accounts, launch, sign_in

ROOT = Path(__file__).resolve().parents[2]


def build_instance(folder: Path, targets: int):
    from sqlalchemy import func, select

    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.core import Gateway
    from gateway.demo.draw import ensure_demo_draw
    from gateway.demo.generate import DemoShape
    from gateway.demo.load import load_directories
    from gateway.demo.results import load_demo_results
    from gateway.migrate import upgrade
    from gateway.results.models import InspectionResult
    from gateway.tasks.models import Task

    settings = Settings(instance_path=folder, database_url=f"sqlite:///{folder / 'demo.sqlite'}",
                        secret_key="screenshots", rate_limit_public="", rate_limit_sign_in="")
    upgrade(settings.database_url)
    gateway = Gateway.create(settings)
    gateway.sync_registry()
    load_directories(gateway, DemoShape(targets=targets))
    drawn = ensure_demo_draw(gateway)
    load_demo_results(gateway)
    with gateway.read() as session:
        department = session.execute(
            select(Task.lead_department, func.count()).group_by(Task.lead_department).order_by(func.count().desc())
        ).first()[0]
        busy = select(InspectionResult.task_id)
        task = session.scalar(select(Task).where(Task.status == "assigned", Task.lead_department == department,
                                                 Task.id.not_in(busy)).order_by(Task.id))
        recorder = next(m.inspector_id for m in task.members if m.active and m.role == "lead")
        task_id = task.id
        results = {status: session.scalar(select(InspectionResult.id).where(InspectionResult.status == status)
                                          .order_by(InspectionResult.id)) for status in ("recorded", "published")}
        published = session.get(InspectionResult, results["published"])
        public_uscc = published.task.target.uscc if published else None
    accounts = create_accounts(gateway, department, recorder)
    open_draw = _open_draw(gateway)
    app = create_app(gateway=gateway)
    return app, {"accounts": accounts, "task_id": task_id, "draw_id": drawn["draw_id"], "plan_id": drawn["plan_id"],
                 "open_draw_id": open_draw, "results": results, "public_uscc": public_uscc}


def _open_draw(gateway) -> int | None:
    """A second plan, published and frozen, so the projector page can be shown at its first stage."""
    from gateway.demo.draw import demo_plan_body, demo_principal
    from gateway.draw import service as draws
    from gateway.planning import service as plans

    principal = demo_principal()
    body = demo_plan_body(gateway, date.today().year)
    body["title"] = body["title"].replace("联合", "联合（第二批）") if "联合" in body["title"] else body["title"] + "（第二批）"
    with gateway.write() as session:
        plan = plans.create_plan(session, principal, body, gateway.settings)
        publish_filed(session, principal, plan.id, gateway.settings)
        return draws.freeze(session, principal, plan.id).id


def shoot(out: Path, targets: int) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="shuangsui-shots-") as folder:
        app, world = build_instance(Path(folder), targets)
        accounts = world["accounts"]
        with LiveServer(app) as server, sync_playwright() as playwright:
            browser = launch(playwright)
            base = server.url

            def context(viewport):
                return browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN")

            def save(page, name: str, full: bool = False) -> None:
                path = out / f"{name}.png"
                page.screenshot(path=str(path), full_page=full)
                written.append(path)
                print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

            # The public.
            public = context(DESKTOP).new_page()
            public.goto(base + "/")
            save(public, "01-public-home")
            if world["public_uscc"]:
                public.goto(f"{base}/targets/{world['public_uscc']}")
                save(public, "02-public-target-results")
            public.goto(f"{base}/plans/{world['plan_id']}")
            save(public, "03-public-plan-and-draw")
            public.goto(base + "/sign-in")
            save(public, "04-sign-in")

            # The county office.
            office = context(DESKTOP).new_page()
            sign_in(office, base, accounts["county"].username)
            office.goto(base + "/console")
            save(office, "05-office-dashboard", full=True)
            office.goto(base + "/console/plans/new")
            save(office, "06-plan-form")
            if world["open_draw_id"]:
                office.goto(f"{base}/console/draws/{world['open_draw_id']}")
                for index, name in enumerate(("张建国", "李明", "王芳")):
                    office.locator(f"#name-{index}").fill(name)
                    office.locator(f"#digits-{index}").fill("3141592653"[index:index + 8])
                office.locator("#stage").scroll_into_view_if_needed()
                save(office, "07-draw-projector-commitments")
            office.goto(f"{base}/console/draws/{world['draw_id']}")
            save(office, "08-draw-projector-frozen-population")
            office.locator("#seed").scroll_into_view_if_needed()
            save(office, "09-draw-projector-seed-and-teams")
            office.goto(base + "/console/directory/import")
            office.locator("#kind").select_option("targets")
            office.locator("#file").set_input_files({
                "name": "检查对象.csv", "mimeType": "text/csv",
                "buffer": ("统一社会信用代码,名称,主体类型,乡镇\n"
                           "91410823MA9XXXXX1X,武陟县示例商贸有限公司,企业,木城街道\n"
                           ",武陟县缺少代码的单位,企业,龙源街道\n"
                           "91410823000000001A,武陟县示例二号,公司,詹店镇\n").encode("utf-8"),
            })
            office.get_by_role("button", name="上传并导入").click()
            office.locator("#import-report").scroll_into_view_if_needed()
            save(office, "10-directory-import-report")
            office.goto(base + "/console/sync")
            save(office, "11-sync-status")

            # A department.
            head = context(DESKTOP).new_page()
            sign_in(head, base, accounts["head"].username)
            head.goto(base + "/console/review")
            save(head, "12-department-review")
            if world["results"].get("recorded"):
                head.goto(f"{base}/console/results/{world['results']['recorded']}")
                save(head, "13-result-review")
            head.goto(base + "/console/deadlines")
            save(head, "14-deadlines")

            # An inspector in the field, on a phone.
            phone = context(PHONE).new_page()
            sign_in(phone, base, accounts["inspector"].username)
            phone.goto(base + "/console/my-tasks")
            save(phone, "15-inspector-tasks-phone")
            phone.goto(f"{base}/console/tasks/{world['task_id']}/result")
            save(phone, "16-result-form-phone")
            phone.get_by_role("button", name="提交检查结果").click()
            phone.locator(".error-summary").scroll_into_view_if_needed()
            save(phone, "17-result-form-errors-phone")
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write screenshots of the main pages.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--targets", type=int, default=3000, help="demo targets to generate")
    args = parser.parse_args(argv)
    if not chromium_available():
        print("Chromium not installed at /usr/bin/chromium: apt-get install chromium fonts-noto-cjk", file=sys.stderr)
        return 1
    if shutil.which("fc-list") is None:
        print("warning: fontconfig not found; Chinese text may not render", file=sys.stderr)
    print(f"writing screenshots to {args.out}")
    shoot(args.out, args.targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
