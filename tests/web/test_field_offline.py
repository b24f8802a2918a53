"""The inspector's phone offline (issue 19), in Debian's Chromium at 360 and 375 px.

Opened online once, the task and its result form open offline (service worker); the form is
filled, signed with a drawn stroke and given a photo, and survives a reload while offline
(IndexedDB); back online, it is submitted exactly once, with the signature's hash and the
compressed photo bound to the result. A second device's change meanwhile produces the conflict
view with both versions side by side, and nothing is overwritten until the inspector chooses.
Also the weight of the first load of "my tasks" (``bench/field_pages.py``)."""
from __future__ import annotations

import struct
import zlib

import pytest
from sqlalchemy import func, select

from bench.field_pages import BUDGET, page_weight, report
from tests.web.harness import keyboard_reaches, page_problems, sign_in, sign_out

pytestmark = pytest.mark.browser

DRAFTS_JS = """() => new Promise((resolve) => {
  const open = indexedDB.open('shuangsui-field', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('drafts', {keyPath: 'taskId'});
  open.onsuccess = () => {
    const get = open.result.transaction('drafts').objectStore('drafts').getAll();
    get.onsuccess = () => { resolve(get.result.map((d) => ({task: d.taskId, state: d.state, fields: d.fields,
      photos: (d.photos || []).map((p) => p.blob.size), signature: Boolean(d.signature)}))); open.result.close(); };
  };
})"""
FILL_JS = """(pairs) => {
  for (const [name, value] of pairs) {
    for (const el of document.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
      if (el.type === 'radio' || el.type === 'checkbox') { if (el.value === value) el.checked = true; }
      else el.value = value;
      el.dispatchEvent(new Event('change', {bubbles: true}));
    }
  }
}"""


def camera_png(width: int = 2400, height: int = 1800) -> bytes:
    """A decodable photo larger than the 1600 px target (a gradient, as PNG)."""
    line = bytes(v for x in range(width) for v in (x * 255 // width, 128, (x * 7) % 256))
    rows = b"".join(b"\x00" + line for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")


def _open_tasks(web_world, count: int) -> list[tuple[int, int]]:
    """(task id, lead inspector id) of tasks of the drawn plan without a result yet."""
    from gateway.demo.codes import confirm_arrival
    from gateway.results.models import InspectionResult
    from gateway.tasks.models import Task

    with web_world.gateway.read() as session:
        done = set(session.scalars(select(InspectionResult.task_id)))
        tasks = session.scalars(select(Task).where(Task.plan_id == web_world.drawn_plan).order_by(Task.id))
        found = [(t.id, next(m.inspector_id for m in t.members if m.active and m.role == "lead"))
                 for t in tasks if t.id not in done]
    for task_id, _ in found[:count]:  # site visits: the enterprise confirmed each team's arrival
        confirm_arrival(web_world.gateway, task_id)
    return found[:count]


def _fields_of(web_world, task_id: int) -> list[list[str]]:
    from gateway.tasks.models import Task
    from tests.results.conftest import sample_values
    from tests.web.conftest import _first_method

    with web_world.gateway.read() as session:
        matters = list(session.get(Task, task_id).matter_codes)
    pairs = []
    for code in matters:
        for key, value in sample_values(web_world.gateway, code).items():
            shown = "true" if value is True else "false" if value is False else str(value)
            pairs.append([f"checklists.{code}.{key}", shown])
    return pairs + [["methods", _first_method(web_world.gateway, matters)], ["result_codes", "1"],
                    ["signature.status", "signed"]]


def _results(web_world, task_id: int):
    from gateway.results.field_models import ResultSubmission
    from gateway.results.models import InspectionResult

    with web_world.gateway.read() as session:
        rows = list(session.scalars(select(InspectionResult).where(InspectionResult.task_id == task_id)))
        keys = session.scalar(select(func.count()).select_from(ResultSubmission)
                              .where(ResultSubmission.task_id == task_id))
        return [(r.id, r.version, r.remarks, r.signature_sha256, [(a.content_type, a.size) for a in r.attachments])
                for r in rows], keys


def _sign(page) -> None:
    page.locator("#sig-canvas").scroll_into_view_if_needed()
    box = page.locator("#sig-canvas").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * (box["width"] - 40) / 11, box["y"] + 30 + (step % 3) * 40)
    page.mouse.up()
    page.locator("#sig-state").filter(has_text="已签名").wait_for()


def _until(page, script: str, check=bool, tries: int = 150):
    """Poll ``script`` until ``check`` holds for its value (the CSP forbids wait_for_function's eval)."""
    for _ in range(tries):
        value = page.evaluate(script)
        if check(value):
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {script[:80]} -> {value!r}")


def _text(page, selector: str, text: str) -> str:
    return _until(page, f"() => document.querySelector('{selector}').textContent", lambda shown: text in shown)


def _state(page) -> str:
    return page.locator("#field-state").inner_text()


@pytest.fixture(scope="module")
def field_tasks(web_world):
    return _open_tasks(web_world, 2)


@pytest.mark.parametrize("width", [360, 375])
def test_offline_draft_signature_photo_then_submitted_once_and_a_conflict(web_world, field_tasks, width):
    task_id, inspector_id = field_tasks[0 if width == 360 else 1]
    username = web_world.account(f"field-{inspector_id}", "inspector", inspector_id=inspector_id)
    base = web_world.base_url
    form_url = f"{base}/console/tasks/{task_id}/result"
    context = web_world.browser.new_context(viewport={"width": width, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, base, username)
        page.goto(f"{base}/console/my-tasks")
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        _until(page, "() => navigator.serviceWorker.controller !== null")
        for path in (f"/console/tasks/{task_id}", f"/console/tasks/{task_id}/sheet", f"/console/tasks/{task_id}/result"):
            page.goto(base + path)
        # One-handed at this width: no sideways scrolling, every field labelled and keyboard-reachable.
        assert page_problems(page) == []
        assert keyboard_reaches(page, "#sig-clear", max_tabs=200)

        # Offline: the cached task and form open; fill, sign, photograph.
        context.set_offline(True)
        page.goto(f"{base}/console/tasks/{task_id}")
        page.get_by_role("link", name="检查任务书").first.wait_for(state="attached")
        page.goto(form_url)
        _text(page, "#field-state", "离线")
        page.evaluate(FILL_JS, _fields_of(web_world, task_id))
        page.get_by_label("签字人姓名（签字时填写）").fill("周建华")
        page.get_by_label("签字人职务").fill("站长")
        page.get_by_label("备注（公开）").fill("现场检查未发现问题")
        _sign(page)
        page.set_input_files("#f-camera", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": camera_png()}])
        page.locator("#field-photos li").filter(has_text="已压缩").wait_for()
        _until(page, DRAFTS_JS, lambda drafts: any(["remarks", "现场检查未发现问题"] in d["fields"] for d in drafts))

        # A reload while offline finds the draft intact.
        page.reload()
        # the draft comes back from IndexedDB after the page has loaded
        _until(page, "() => document.getElementById('f-signature-signer_name').value", lambda v: v == "周建华")
        assert page.get_by_label("签字人姓名（签字时填写）").input_value() == "周建华"
        assert page.get_by_label("备注（公开）").input_value() == "现场检查未发现问题"
        assert page.locator('input[name="result_codes"][value="1"]').is_checked()
        assert page.locator("#sig-state").inner_text().startswith("已签名")
        [draft] = page.evaluate(DRAFTS_JS)
        assert draft["signature"] and len(draft["photos"]) == 1 and draft["photos"][0] <= 400 * 1024
        page.get_by_role("button", name="提交检查结果").click()
        _text(page, "#field-state", "待同步 1 项")
        assert "离线" in _state(page)
        assert _results(web_world, task_id) == ([], 0)

        # Online again: submitted once, signature and photo bound by hash.
        context.set_offline(False)
        _text(page, "#field-notice", "检查结果已提交")
        _text(page, "#field-state", "已同步")
        page.evaluate("() => window.ShuangsuiField.sync()")
        rows, keys = _results(web_world, task_id)
        assert keys == 1 and len(rows) == 1
        result_id, version, remarks, signature_sha, photos = rows[0]
        assert (version, remarks, len(signature_sha)) == (1, "现场检查未发现问题", 64)
        assert [kind for kind, _ in photos] == ["image/jpeg"] and photos[0][1] <= 400 * 1024
        assert page.evaluate(DRAFTS_JS) == []
        page.goto(f"{base}/console/results/{result_id}")
        assert page.get_by_role("img", name="检查对象手写签名").is_visible()
        assert signature_sha in page.locator(".signature-image").inner_text()

        # A change queued offline, while a second device saves another one.
        page.goto(form_url)
        context.set_offline(True)
        page.reload()
        page.get_by_label("备注（公开）").fill("本机修改")
        page.get_by_role("button", name="提交检查结果").click()
        _text(page, "#field-state", "待同步 1 项")
        other = web_world.browser.new_context(viewport={"width": width, "height": 740}, locale="zh-CN")
        try:
            second = other.new_page()
            sign_in(second, base, username)
            second.goto(form_url)
            second.get_by_label("备注（公开）").fill("另一台设备修改")
            second.get_by_role("button", name="提交检查结果").click()  # online, nothing drawn: a plain post
            assert "检查结果已提交（第 1 版）" in second.locator(".flash-success").inner_text()
        finally:
            other.close()
        context.set_offline(False)
        conflict = page.locator("#field-conflict")
        conflict.wait_for()
        assert "本机修改" in conflict.inner_text() and "另一台设备修改" in conflict.inner_text()
        assert "需要处理" in _state(page)
        rows, _ = _results(web_world, task_id)
        assert [r[2] for r in rows] == ["另一台设备修改"]  # not overwritten silently
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        page.get_by_role("button", name="用本机版本覆盖服务器上的版本").click()
        _text(page, "#field-notice", "检查结果已提交")
        rows, keys = _results(web_world, task_id)
        assert [(r[1], r[2]) for r in rows] == [(1, "本机修改")] and keys == 2  # the phone's two sends

        # Signing out deletes what the phone kept: pages, drafts, the service worker.
        page.goto(form_url)
        assert page.evaluate("() => caches.keys().then((names) => names.length)") == 1
        sign_out(page)
        assert page.evaluate("() => caches.keys().then((names) => names.length)") == 0
        assert page.evaluate("() => navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0
        assert page.evaluate("() => indexedDB.databases().then((dbs) => dbs.length)") == 0
    finally:
        context.close()


def test_first_load_weight(web_world, field_tasks):
    _, inspector_id = field_tasks[0]
    username = web_world.account(f"field-{inspector_id}", "inspector", inspector_id=inspector_id)
    context = web_world.browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    try:
        page = context.new_page()
        sign_in(page, web_world.base_url, username)
        fresh = context.new_page()
        rows = page_weight(fresh, f"{web_world.base_url}/console/my-tasks")
        print("\n" + report(rows))
        total = sum(gz for _, _, gz in rows)
        assert any(path.startswith("console/my-tasks") for path, _, _ in rows)
        assert 0 < total <= BUDGET
    finally:
        context.close()
