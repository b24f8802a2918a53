"""The county office's accounts and tokens pages (/console/accounts, /console/tokens) without a
browser: the forms reach the same operations as /api/v1/accounts and /api/v1/tokens, with the same
rules (no self-disable, no self-reset, no self-revoke); a generated password or a new token is shown
once, in the response to the form, and never again."""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from gateway.security import accounts
from gateway.security.audit import AuditEntry
from gateway.security.models import Account, ApiToken
from gateway.security.principal import ROLES, SYSTEM
from tests.web.harness import csrf_from

PASSWORD = "Wuzhi-2026-secret"


class Browser:
    """A test client signed in through the page session, posting forms with the session's CSRF token."""

    def __init__(self, client, csrf: str) -> None:
        self.client, self.csrf = client, csrf

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf}, **kwargs)


def page_sign_in(app, username: str, password: str):
    """Sign in through the sign-in page's form; return (client, response)."""
    client = app.test_client()
    csrf = csrf_from(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"username": username, "password": password, "csrf_token": csrf})
    return client, response


@pytest.fixture
def office(gateway, app) -> Browser:
    with gateway.write() as session:
        accounts.create_account(session, SYSTEM, "office", "county_office", password=PASSWORD, display_name="县办王主任")
    client, response = page_sign_in(app, "office", PASSWORD)
    assert response.status_code == 302
    return Browser(client, csrf_from(client.get("/console/accounts").get_data(as_text=True)))


def new_account(office: Browser, username="op1", role="department_operator", department="market", **form):
    data = {"username": username, "display_name": "", "role": role, "department_code": department or "",
            "inspector_id": "", "password_mode": "generate", **form}
    return office.post("/console/accounts", data=data)


def shown_secret(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]+)</p>', html)
    assert match, f"#{element_id} not on the page"
    return match.group(1).strip()


def field_block(html: str, name: str) -> str:
    """The markup of the form field whose input is named ``name``."""
    start = html.rindex('<div class="field', 0, html.index(f'id="f-{name}"'))
    return html[start:html.index("</div>", html.index(f'id="f-{name}"'))]


def account_id(gateway, username: str) -> int:
    with gateway.read() as session:
        return session.scalar(select(Account.id).where(Account.username == username))


def audit_text(gateway) -> str:
    with gateway.read() as session:
        return " ".join(f"{e.action} {e.details}" for e in session.scalars(select(AuditEntry)))


# ------------------------------------------------------------------------------------------ accounts

def test_the_county_office_finds_the_page_in_its_navigation(office, client_as):
    page = office.get("/console").get_data(as_text=True)
    assert 'href="/console/accounts"' in page and "账号与令牌" in page
    listing = office.get("/console/accounts").get_data(as_text=True)
    assert "<h1>用户账号与访问令牌</h1>" in listing and 'aria-current="page">账号与令牌' in listing
    assert "县办王主任" in listing and "县双随机办" in listing
    for role in ("department_operator", "department_head", "supervisor"):
        assert "/console/accounts" not in client_as(role).get("/console").get_data(as_text=True), role


def test_a_created_account_signs_in_with_the_generated_password_shown_once(gateway, app, office, caplog):
    caplog.set_level(logging.DEBUG)
    response = new_account(office, "op-new", display_name="新操作员")
    assert response.status_code == 200  # rendered by the POST itself: no redirect, nothing in a URL
    html = response.get_data(as_text=True)
    password = shown_secret(html, "generated-password")
    accounts.check_password_strength(password)
    assert "此密码只显示这一次" in html and "账号 op-new 的初始密码" in html
    assert html.count(password) == 1
    assert ">op-new<" in html  # the list under it already has the new account
    assert response.headers["Cache-Control"] == "no-store"
    listing = office.get("/console/accounts").get_data(as_text=True)
    assert "op-new" in listing and "新操作员" in listing and password not in listing
    assert "generated-password" not in listing
    assert password not in caplog.text and password not in audit_text(gateway)
    with gateway.read() as session:
        stored = session.scalar(select(Account).where(Account.username == "op-new"))
        assert password not in (stored.password_hash or "")
        assert (stored.role, stored.department_code, stored.active) == ("department_operator", "market", True)

    client, signed_in = page_sign_in(app, "op-new", password)
    assert signed_in.status_code == 302 and signed_in.headers["Location"].rstrip("/").endswith("/console")
    assert "op-new" in client.get("/console").get_data(as_text=True)


def test_a_chosen_password_and_a_token_only_account(gateway, app, office):
    response = new_account(office, "op2", password_mode="set", password=PASSWORD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "generated-password" not in html and PASSWORD not in html
    assert page_sign_in(app, "op2", PASSWORD)[1].status_code == 302

    response = new_account(office, "sync", role="system", department=None, password_mode="none")
    assert response.status_code == 200 and "generated-password" not in response.get_data(as_text=True)
    row = office.get("/console/accounts?role=system").get_data(as_text=True)
    assert "仅令牌" in row and "设置密码" in row
    with gateway.read() as session:
        assert session.scalar(select(Account.password_hash).where(Account.username == "sync")) is None


def test_an_inspector_account_is_chosen_from_the_directory(gateway, office, client_as):
    inspector = client_as("county_office").post("/api/v1/inspectors", json={
        "department_code": "market", "name": "李检查", "gender": "male", "certificate_no": "4108239977003",
        "phone": "13912345670"}).json
    form = office.get("/console/accounts").get_data(as_text=True)
    assert f'<option value="{inspector["id"]}">李检查' in form
    assert "13912345670" not in form and "4108239977003" not in form
    assert new_account(office, "li", role="inspector", department=None,
                       inspector_id=str(inspector["id"])).status_code == 200
    with gateway.read() as session:
        made = session.scalar(select(Account).where(Account.username == "li"))
        assert (made.inspector_id, made.department_code) == (inspector["id"], "market")
    assert "李检查" in office.get("/console/accounts?role=inspector").get_data(as_text=True)


@pytest.mark.parametrize("form, field, message", [
    ({"department_code": ""}, "department_code", "部门角色须指定所属部门。"),
    ({"role": ""}, "role", "此项为必填项，请填写或选择。"),
    ({"username": "张 三"}, "username", "用户名须为 1 至 64 个字母、数字或 . _ - @。"),
    ({"role": "inspector", "department_code": ""}, "inspector_id", "执法检查人员账号须关联执法检查人员名录中的一人。"),
    ({"role": "supervisor"}, "department_code", "该角色不属于某个部门，不能指定部门。"),
    ({"password_mode": "set", "password": "1234567890"}, "password", "密码过于简单"),
    ({"password_mode": "set", "password": ""}, "password", "请填写密码，或选择“自动生成”。"),
])
def test_bad_input_is_shown_beside_its_field_and_the_form_is_kept(gateway, office, form, field, message):
    response = new_account(office, **{"username": "op3", "display_name": "待建账号", **form})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    block = field_block(html, field)
    assert "has-error" in block and message in block and 'aria-invalid="true"' in block
    assert "error-summary" in html and f'href="#f-{field}"' in html
    assert 'value="待建账号"' in html  # what was typed stays
    assert "generated-password" not in html
    if form.get("password"):
        assert form["password"] not in html  # a typed password is never sent back
    with gateway.read() as session:
        assert session.scalar(select(Account.id).where(Account.display_name == "待建账号")) is None


def test_a_duplicate_username_is_named(office):
    assert new_account(office).status_code == 200
    response = new_account(office)
    assert response.status_code == 409
    assert "用户名已存在。" in field_block(response.get_data(as_text=True), "username")


def test_disable_enable_and_reset_a_password(gateway, app, office):
    new_account(office, "op1", password_mode="set", password=PASSWORD)
    target = account_id(gateway, "op1")
    other, _ = page_sign_in(app, "op1", PASSWORD)
    assert other.get("/console").status_code == 200

    response = office.post(f"/console/accounts/{target}/disable", data={"next": "/console/accounts?role=department_operator"})
    assert response.status_code == 302 and response.headers["Location"] == "/console/accounts?role=department_operator"
    listing = office.get(response.headers["Location"]).get_data(as_text=True)
    assert "账号 op1 已停用" in listing and "已停用" in listing and ">启用</button>" in listing
    assert other.get("/console").status_code == 302  # its session ended
    assert page_sign_in(app, "op1", PASSWORD)[1].status_code == 401

    assert office.post(f"/console/accounts/{target}/enable").status_code == 302
    assert "正常" in office.get("/console/accounts?role=department_operator").get_data(as_text=True)
    assert page_sign_in(app, "op1", PASSWORD)[1].status_code == 302

    reset = office.post(f"/console/accounts/{target}/password")
    assert reset.status_code == 200
    html = reset.get_data(as_text=True)
    password = shown_secret(html, "generated-password")
    assert "账号 op1 的新密码" in html and "此密码只显示这一次" in html
    assert password not in office.get("/console/accounts").get_data(as_text=True)
    assert page_sign_in(app, "op1", PASSWORD)[1].status_code == 401
    assert page_sign_in(app, "op1", password)[1].status_code == 302
    actions = audit_text(gateway)
    assert "accounts.disable" in actions and "accounts.enable" in actions and "accounts.password" in actions
    assert password not in actions

    for action in ("disable", "enable", "password"):
        missing = office.post(f"/console/accounts/99999/{action}")
        assert missing.status_code == 302
        assert "用户 99999 不存在" in office.get(missing.headers["Location"]).get_data(as_text=True)


def test_the_office_cannot_disable_or_reset_its_own_account_here(gateway, office):
    me = account_id(gateway, "office")
    listing = office.get("/console/accounts").get_data(as_text=True)
    row = listing[listing.index(f'id="account-{me}"'):]
    assert "本人账号" in row[:row.index("</tr>")]
    assert f"/console/accounts/{me}/disable" not in listing
    for action, message in (("disable", "不能通过账号管理停用本人的账号"), ("password", "不能通过账号管理重设本人的账号")):
        response = office.post(f"/console/accounts/{me}/{action}")
        assert response.status_code == 302
        page = office.get(response.headers["Location"]).get_data(as_text=True)
        assert message in page and "generated-password" not in page
    with gateway.read() as session:
        assert session.get(Account, me).active
    assert office.get("/console").status_code == 200  # still signed in


def test_the_list_filters_by_role_and_department(office):
    new_account(office, "m-op", department="market")
    new_account(office, "sup", role="supervisor", department=None)
    by_role = office.get("/console/accounts?role=supervisor").get_data(as_text=True)
    assert ">sup<" in by_role and ">m-op<" not in by_role and ">office<" not in by_role
    by_department = office.get("/console/accounts?department=market").get_data(as_text=True)
    assert ">m-op<" in by_department and ">sup<" not in by_department
    assert 'value="supervisor" selected' in by_role


# -------------------------------------------------------------------------------------------- tokens

def new_token(office: Browser, **form):
    data = {"name": "同步进程", "scope": "user", "username": "", "role": "", "department_code": "",
            "inspector_id": "", "days": "30", **form}
    return office.post("/console/tokens", data=data)


def test_a_new_token_is_shown_once_and_the_list_never_holds_it(gateway, app, office):
    new_account(office, "sync", role="system", department=None, password_mode="none")
    response = new_token(office, username="sync")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    plaintext = shown_secret(html, "new-token")
    assert plaintext.startswith("ssg_") and html.count(plaintext) == 1
    assert "此令牌只显示这一次" in html
    table = html[html.index('id="tokens"'):html.index("</table>", html.index('id="tokens"'))]
    assert plaintext not in table and plaintext[:12] in table
    for path in ("/console/tokens", "/console/tokens?all=1"):
        listing = office.get(path).get_data(as_text=True)
        assert plaintext not in listing and plaintext[:12] in listing and "new-token\"" not in listing
    client = app.test_client()
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {plaintext}"}).json
    assert (me["username"], me["role"]) == ("sync", "system")
    assert plaintext not in audit_text(gateway)
    with gateway.read() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.name == "同步进程"))
        assert token.account.username == "sync" and (token.expires_at - token.created_at).days == 30

    by_role = new_token(office, name="市场监管局接口", scope="role", role="department_operator", department_code="market")
    assert by_role.status_code == 200
    listing = office.get("/console/tokens").get_data(as_text=True)
    assert "市场监管局接口" in listing and "部门操作员" in listing


@pytest.mark.parametrize("form, field, message", [
    ({"username": ""}, "username", "请选择令牌代表的用户账号。"),
    ({"username": "nobody"}, "username", "用户 nobody 不存在。"),
    ({"scope": "role", "role": "department_operator"}, "department_code", "部门角色须指定所属部门。"),
    ({"scope": "role", "role": ""}, "role", "请选择令牌的角色。"),
    ({"scope": "role", "role": "supervisor", "days": "0"}, "days", "1"),
    ({"scope": "role", "role": "supervisor", "days": "800"}, "days", "730"),
    ({"scope": "role", "role": "supervisor", "name": ""}, "name", "此项为必填项，请填写或选择。"),
])
def test_bad_token_input_is_shown_beside_its_field(gateway, office, form, field, message):
    response = new_token(office, **{"name": "待建令牌", **form})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    block = field_block(html, field)
    assert "has-error" in block and message in block
    assert "new-token\"" not in html and "ssg_" not in html
    if form.get("name", "待建令牌"):
        assert 'value="待建令牌"' in html
    with gateway.read() as session:
        assert session.scalar(select(ApiToken.id)) is None


def test_a_disabled_accounts_token_is_refused_beside_the_account(gateway, office):
    new_account(office, "sync", role="system", department=None, password_mode="none")
    office.post(f"/console/accounts/{account_id(gateway, 'sync')}/disable")
    response = new_token(office, username="sync")
    assert response.status_code == 422
    assert "用户 sync 已停用" in response.get_data(as_text=True)
    assert "sync" not in re.findall(r'<option value="([^"]+)"', response.get_data(as_text=True))


def test_revoke_and_the_revoked_list(gateway, app, office):
    plaintext = shown_secret(new_token(office, scope="role", role="supervisor", name="监督脚本").get_data(as_text=True),
                             "new-token")
    with gateway.read() as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "监督脚本"))
    response = office.post(f"/console/tokens/{token_id}/revoke")
    assert response.status_code == 302
    page = office.get(response.headers["Location"]).get_data(as_text=True)
    assert "已吊销，立即失效" in page and "没有有效的访问令牌。" in page
    assert app.test_client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401
    everything = office.get("/console/tokens?all=1").get_data(as_text=True)
    assert "监督脚本" in everything and "已吊销" in everything
    assert f"/console/tokens/{token_id}/revoke" not in everything  # nothing more to do
    assert "tokens.revoke" in audit_text(gateway)


def test_a_token_cannot_revoke_itself_from_the_page(gateway, app, office):
    plaintext = shown_secret(new_token(office, scope="role", role="county_office", name="办公室脚本")
                             .get_data(as_text=True), "new-token")
    with gateway.read() as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "办公室脚本"))
    script = app.test_client()
    script.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plaintext}"
    response = script.post(f"/console/tokens/{token_id}/revoke")
    assert response.status_code == 302
    assert "不能用令牌吊销它自己" in script.get(response.headers["Location"]).get_data(as_text=True)
    with gateway.read() as session:
        assert session.get(ApiToken, token_id).revoked_at is None
    assert office.post(f"/console/tokens/{token_id}/revoke").status_code == 302  # another credential may
    with gateway.read() as session:
        assert session.get(ApiToken, token_id).revoked_at is not None


# --------------------------------------------------------------------------------------------- roles

PAGES = [("GET", "/console/accounts"), ("POST", "/console/accounts"), ("POST", "/console/accounts/{account}/disable"),
         ("POST", "/console/accounts/{account}/enable"), ("POST", "/console/accounts/{account}/password"),
         ("GET", "/console/tokens"), ("GET", "/console/tokens?all=1"), ("POST", "/console/tokens"),
         ("POST", "/console/tokens/{token}/revoke")]


def test_only_the_county_office_may_use_the_pages(gateway, app, office, client_as):
    new_account(office, "op1", password_mode="set", password=PASSWORD)
    target = account_id(gateway, "op1")
    new_token(office, scope="role", role="supervisor", name="x")
    with gateway.read() as session:
        token_id = session.scalar(select(ApiToken.id))
    inspector = client_as("county_office").post("/api/v1/inspectors", json={
        "department_code": "market", "name": "测试员", "gender": "male", "certificate_no": "4108239977002",
        "phone": "13912345679"}).json
    others = {role: client_as(role, inspector_id=inspector["id"] if role == "inspector" else None)
              for role in ROLES if role not in ("county_office", "public")}
    before = audit_text(gateway)
    form = {"username": "evil", "role": "county_office", "password_mode": "generate", "name": "x", "scope": "role"}
    for role, client in others.items():
        for method, path in PAGES:
            url = path.format(account=target, token=token_id)
            response = client.open(url, method=method, data=form if method == "POST" else None)
            assert response.status_code == 403, (role, method, url)
            assert "无权执行此操作" in response.get_data(as_text=True)
    # the public is sent to sign in (a form post with a valid anonymous CSRF token too)
    public = app.test_client()
    csrf = csrf_from(public.get("/sign-in").get_data(as_text=True))
    for method, path in PAGES:
        url = path.format(account=target, token=token_id)
        response = public.open(url, method=method, data={**form, "csrf_token": csrf} if method == "POST" else None)
        assert response.status_code == 302 and "/sign-in?next=" in response.headers["Location"], (method, url)
    assert audit_text(gateway) == before  # nothing changed
    with gateway.read() as session:
        assert session.get(Account, target).active
        assert session.get(ApiToken, token_id).revoked_at is None
        assert session.scalar(select(Account.id).where(Account.username == "evil")) is None


def test_forms_without_the_csrf_token_are_refused(gateway, office):
    response = office.client.post("/console/accounts", data={"username": "forged", "role": "county_office",
                                                              "password_mode": "generate"})
    assert response.status_code == 403
    with gateway.read() as session:
        assert session.scalar(select(Account.id).where(Account.username == "forged")) is None
