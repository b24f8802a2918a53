"""API bodies of the inspector's offline pages (issue 19): resumable uploads and idempotent
result submissions."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.directory import _text
from schemas.results import ResultSchema

KEY = {"description": "A key the phone draws once per file or submission (16–64 of A–Z a–z 0–9 - _)."}


class UploadStartSchema(Schema):
    key = fields.String(required=True, validate=validate.Length(min=16, max=64), metadata=KEY)
    filename = _text(255, required=True)
    size = fields.Integer(required=True, strict=True, metadata={"description": "The file's size in bytes."})
    sha256 = fields.String(required=True, validate=validate.Length(equal=64),
                           metadata={"description": "The SHA-256 of the whole file, hex."})


class UploadChunkArgsSchema(Schema):
    offset = fields.Integer(required=True, validate=validate.Range(min=0),
                            metadata={"description": "Where this chunk (the request body, application/octet-stream) starts."})


class UploadStateSchema(Schema):
    key = fields.String()
    task_id = fields.Integer()
    filename = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    received = fields.Integer(metadata={"description": "Bytes received so far: resume from here."})
    complete = fields.Boolean()
    attachment_id = fields.Integer(allow_none=True, metadata={"description": "The attachment, once complete."})


class SubmissionInputSchema(Schema):
    key = fields.String(required=True, validate=validate.Length(min=16, max=64), metadata=KEY)
    base = fields.String(load_default="", validate=validate.Length(max=200), metadata={
        "description": "The state of the result the form was based on (``stamp`` of GET …/result-submissions), "
                       "'' for a first result. A different current state is a 409 result_conflict."})
    result = fields.Dict(required=True, metadata={"description": "The result, as POST /tasks/{id}/results takes it."})
    signature_attachment_id = fields.Integer(allow_none=True, load_default=None, metadata={
        "description": "The drawn signature, a PNG uploaded to the task; its SHA-256 becomes part of the result."})


class SubmissionSchema(Schema):
    replayed = fields.Boolean(metadata={"description": "true: this key was submitted before; nothing new was stored."})
    result_id = fields.Integer()
    version = fields.Integer()
    stamp = fields.String()
    result = fields.Nested(ResultSchema)


class SubmissionBaseSchema(Schema):
    task_id = fields.Integer()
    stamp = fields.String(metadata={"description": "The current state of the task's latest result ('' when none)."})
