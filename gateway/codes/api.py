"""The inspection codes' API: published keys, a scanned code's status, a task's code, check-ins."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.api.session import db, get_gateway
from gateway.codes import checkins, keys, service
from gateway.security.policy import permission
from gateway.security.principal import current_principal
from gateway.security.web import client_address
from schemas.codes import (
    CheckInBodySchema,
    CheckInSchema,
    CodeQuerySchema,
    CodeStatusSchema,
    KeySetSchema,
    LocationBodySchema,
    TaskCodeSchema,
)

codes_blp = Blueprint("inspection_codes", __name__, url_prefix="/inspection-codes",
                      description="检查码（签名核验、抽取证明）与扫码入企")


@codes_blp.route("/keys")
class Keys(MethodView):
    @permission("codes.read")
    @codes_blp.response(200, KeySetSchema)
    def get(self):
        """The county's public signing keys, active and retired (also at /.well-known/shuangsui-keys.json)."""
        return keys.published_keys(get_gateway().settings)


@codes_blp.route("/status")
class Status(MethodView):
    @permission("codes.read")
    @codes_blp.arguments(CodeQuerySchema, location="query")
    @codes_blp.response(200, CodeStatusSchema)
    def get(self, args):
        """Whether a scanned code is genuine (signature, draw proof) and current (team, window)."""
        return service.read_code(db(), get_gateway().settings, args["token"])


@codes_blp.route("/tasks/<int:task_id>")
class TaskCode(MethodView):
    @permission("codes.read_task")
    @codes_blp.response(200, TaskCodeSchema)
    def get(self, task_id):
        """A task's inspection code as it stands (the team shows it on the phone; the sheet prints it)."""
        return service.read_task_code(db(), get_gateway().settings, current_principal(), task_id, request.host_url)


@codes_blp.route("/check-ins")
class CheckIns(MethodView):
    @permission("checkins.confirm")
    @codes_blp.arguments(CheckInBodySchema)
    @codes_blp.response(201, CheckInSchema)
    def post(self, body):
        """The enterprise confirms the team's arrival: the scanned code and the notice's access code."""
        return checkins.check_in(get_gateway(), body["token"], body["access_code"], remote_addr=client_address())


@codes_blp.route("/tasks/<int:task_id>/location")
class Location(MethodView):
    @permission("checkins.locate")
    @codes_blp.arguments(LocationBodySchema)
    @codes_blp.response(200, CheckInSchema)
    def post(self, body, task_id):
        """The team adds its phone's location to the latest check-in, with the enterprise's consent."""
        with get_gateway().write() as session:
            return checkins.add_location(session, current_principal(), task_id, **body)
