"""Sign-in and sign-out pages, on the security layer's password sessions."""
from __future__ import annotations

from flask import g, make_response, redirect, render_template, request, url_for

from gateway.api.session import get_gateway
from gateway.errors import DomainError, TooManyRequests
from gateway.security import accounts, web
from gateway.security.api import perform_sign_in
from gateway.security.policy import permission
from gateway.security.principal import current_principal
from gateway.web.base import home_for, make_blueprint, safe_next

bp = make_blueprint("web_auth")


@bp.route("/sign-in", methods=["GET", "POST"])
@permission("auth.sign_in")
def sign_in():
    principal = current_principal()
    if request.method == "GET" and not principal.is_public:
        return redirect(safe_next(home_for(principal.role)))
    error, status = None, 200
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        if not username or not password:
            error, status = "请输入用户名和密码。", 401
        else:
            try:
                result = perform_sign_in(username, password)
            except DomainError as exc:
                # Every refused sign-in is a 401 page, a locked account included; throttling keeps its 429.
                error, status = exc.message, 429 if isinstance(exc, TooManyRequests) else 401
            else:
                target = safe_next(home_for(result.account.role))
                response = make_response(redirect(target))
                web.set_session_cookie(response, result.session_cookie, result.expires_at)
                return response
    notice = "登录已失效（已退出、超过有效期或长时间未操作），请重新登录。" if request.args.get("ended") else None
    return render_template("auth/sign_in.html", error=error, notice=notice, username=username,
                           next=safe_next("")), status


@bp.route("/sign-out", methods=["POST"])
@permission("auth.sign_in")
def sign_out():
    cookie = request.cookies.get(web.SESSION_COOKIE)
    if cookie and g.get("auth_method") == "session":
        with get_gateway().write() as session:
            accounts.sign_out(session, cookie)
    response = make_response(redirect(url_for("web_public.home")))
    web.clear_session_cookie(response)
    # What the inspector's phone kept for offline use (pages, drafts, the service worker) goes too.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response
