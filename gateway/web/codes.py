"""The public scan page of an inspection code (检查码) and its check-in form (扫码入企), phone-first,
and the published signing keys at ``/.well-known/shuangsui-keys.json``."""
from __future__ import annotations

from flask import jsonify, render_template, request

from gateway.api.session import db, get_gateway
from gateway.codes import checkins, keys, service
from gateway.errors import DomainError
from gateway.security.policy import permission
from gateway.security.web import client_address
from gateway.web.base import input_refusal_status, make_blueprint

bp = make_blueprint("web_codes")


@bp.route("/.well-known/shuangsui-keys.json")
@permission("codes.read")
def well_known_keys():
    response = jsonify(keys.published_keys(get_gateway().settings))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/code/<string:code>")
@permission("codes.read")
def scan(code: str):
    return _page(code)


@bp.route("/code/<string:code>/check-in", methods=["POST"])
@permission("checkins.confirm")
def check_in(code: str):
    try:
        checkin = checkins.check_in(get_gateway(), code, request.form.get("access_code", ""),
                                    remote_addr=client_address())
    except DomainError as exc:
        return _page(code, refusal=exc, status=input_refusal_status(exc))
    return _page(code, checkin=checkin)


def _page(code: str, refusal: DomainError | None = None, checkin=None, status: int = 200):
    gateway = get_gateway()
    try:
        view = service.read_code(db(), gateway.settings, code)
    except DomainError as exc:
        return render_template("codes/scan.html", view=None, error=exc.message, code=code), input_refusal_status(exc)
    return render_template("codes/scan.html", view=view, error=None, code=code, refusal=refusal,
                           checkin=checkin), status
