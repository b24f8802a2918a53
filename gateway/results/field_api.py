"""The API of the inspector's offline pages (issue 19): resumable uploads of photos and signatures,
and result submissions stored once per idempotency key (``gateway.results.uploads`` /
``idempotency``). The phone's pages call it with their session (and CSRF header); other clients
with a token."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.api.session import db, get_gateway, written
from gateway.results import idempotency, service, uploads
from gateway.results.access import task_resource
from gateway.results.clock import china_today
from gateway.security.policy import authorize, permission
from gateway.security.principal import current_principal
from schemas.field import (
    SubmissionBaseSchema,
    SubmissionInputSchema,
    SubmissionSchema,
    UploadChunkArgsSchema,
    UploadStartSchema,
    UploadStateSchema,
)

field_blp = Blueprint("field", __name__, url_prefix="", description="现场检查：断点续传与幂等提交（离线使用）")


@field_blp.route("/tasks/<int:task_id>/uploads")
class TaskUploads(MethodView):
    @permission("results.record")
    @field_blp.arguments(UploadStartSchema)
    @field_blp.response(201, UploadStateSchema)
    def post(self, body, task_id: int):
        """Announce a photo or signature upload (or find the one announced with this key): how
        many bytes have arrived, so that an interrupted upload resumes."""
        return written(lambda gateway, session: uploads.start(
            gateway, session, current_principal(), task_id, body["key"], body["filename"], body["size"], body["sha256"]))


@field_blp.route("/uploads/<string:key>")
class Upload(MethodView):
    @permission("results.record")
    @field_blp.response(200, UploadStateSchema)
    def get(self, key: str):
        """How far an upload got."""
        return uploads.state(get_gateway(), db(), current_principal(), key)

    @permission("results.record")
    @field_blp.arguments(UploadChunkArgsSchema, location="query")
    @field_blp.response(200, UploadStateSchema)
    def put(self, args, key: str):
        """A chunk at ``offset`` (the body, application/octet-stream). The last one stores the file as
        an attachment of the task, checked against its SHA-256; a gap is a 409 with ``received``."""
        return written(lambda gateway, session: uploads.put_chunk(
            gateway, session, current_principal(), key, args["offset"], request.get_data()))


@field_blp.route("/tasks/<int:task_id>/result-submissions")
class ResultSubmissions(MethodView):
    @permission("results.record")
    @field_blp.response(200, SubmissionBaseSchema)
    def get(self, task_id: int):
        """The state a submission is based on (``stamp``)."""
        session = db()
        task = service.get_task(session, task_id)
        authorize(current_principal(), "results.record", **task_resource(task))
        return {"task_id": task.id, "stamp": idempotency.stamp(service.latest_version(session, task.id))}

    @permission("results.record")
    @field_blp.arguments(SubmissionInputSchema)
    @field_blp.response(201, SubmissionSchema)
    @field_blp.alt_response(200, schema=SubmissionSchema, description="A replay: the result stored the first time.")
    def post(self, body, task_id: int):
        """Record or change the task's result once per ``key``: a replay answers 200 with the result
        stored the first time; a result changed since ``base`` is a 409 ``result_conflict``."""
        return submission_answer(task_id, body["key"], body["base"], body["result"], body["signature_attachment_id"])


def submission_answer(task_id: int, key: str, base: str, raw, signature_attachment_id):
    """Submit and answer (201, or 200 for a replay) with the stored result and its new stamp."""
    gateway, today, session = get_gateway(), china_today(), db()
    done, _ = idempotency.submit_once(gateway, current_principal(), task_id, key, base, raw, today=today,
                                      signature_attachment_id=signature_attachment_id)
    session.rollback()  # the request's read session may have begun before the write: read what it stored
    result = service.get_result(session, done.result_id)
    body = {"replayed": done.replayed, "result_id": done.result_id, "version": done.version,
            "stamp": idempotency.stamp(service.latest_version(session, task_id)),
            "result": service.result_views(gateway, session, [result], today)[0]}
    return body, 200 if done.replayed else 201
