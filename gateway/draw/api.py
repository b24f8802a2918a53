"""The draw's API: each stage a separate call (freeze, commitments, seed, run), the public record,
and the internal view for supervisors. Draws are public from the moment they are frozen."""
from __future__ import annotations

import gzip
import hashlib
import json
from typing import Callable

from flask import Response, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.pagination import query_page
from gateway.api.session import db, get_gateway, written
from gateway.config import Settings
from gateway.draw import frozen, parts, service
from gateway.draw.models import Draw, DrawRecordPart, unpack_record
from gateway.draw.record_v2 import whole_record_chunks
from gateway.errors import NotFound
from gateway.security.policy import authorize, permission
from gateway.security.principal import current_principal
from schemas.draws import (
    CancelSchema,
    CommitSchema,
    DrawCreateSchema,
    DrawPageSchema,
    DrawQuerySchema,
    DrawRecordSchema,
    DrawSchema,
    InternalDrawSchema,
    PopulationSchema,
    SeedSchema,
)


def _changed(stage: Callable[[Settings, Session], Draw]) -> dict:
    """A draw as ``stage(settings, session)`` leaves it, in one write, as the API shows it."""
    return written(lambda gateway, session: service.draw_dict(stage(gateway.settings, session), gateway.settings))


draws_blp = Blueprint("draws", __name__, url_prefix="/draws", description="双随机抽取（冻结、承诺、种子、抽取）与公开记录")


def _read(draw_id: int):
    session = db()
    authorize(current_principal(), "draws.read", published=True)
    return service.get_draw(session, draw_id)


@draws_blp.route("")
class Draws(MethodView):
    @permission("draws.read")
    @draws_blp.arguments(DrawQuerySchema, location="query")
    @draws_blp.response(200, DrawPageSchema)
    def get(self, args):
        """List draws (public)."""
        authorize(current_principal(), "draws.read", published=True)
        settings = get_gateway().settings
        return query_page(db(), service.draws_query(args), args).map(lambda d: service.DrawView(d, settings))

    @permission("draws.run")
    @draws_blp.arguments(DrawCreateSchema)
    @draws_blp.response(201, DrawSchema)
    def post(self, data):
        """Stage 1, freeze: fix every stratum's population and the exclusions of a published plan;
        ``population_sha256`` is public from now on, before any seed exists."""
        return _changed(lambda settings, session: service.freeze(
            session, current_principal(), data["plan_id"], secret=settings.secret_key,
            require_filing=settings.draw_requires_filing))


@draws_blp.route("/<int:draw_id>")
class DrawById(MethodView):
    @permission("draws.read")
    @draws_blp.response(200, DrawSchema)
    def get(self, draw_id):
        """One draw: its stages with who and when, the strata sizes, commitments, seed, record link."""
        return service.DrawView(_read(draw_id), get_gateway().settings)


@draws_blp.route("/<int:draw_id>/population")
class DrawPopulation(MethodView):
    @permission("draws.read")
    @draws_blp.response(200, PopulationSchema)
    def get(self, draw_id):
        """The frozen populations (USCCs per stratum, key-inspection targets) and every exclusion with its reason."""
        draw = _read(draw_id)
        view = service.PopulationView(draw)
        # Hundreds of thousands of codes: the lists go out as stored, only the head through the
        # schema, and a stratum at a time (gateway.draw.frozen), read on a connection of its own
        # once the request's session is gone.
        head = PopulationSchema(only=("draw_id", "population_sha256", "frozen_at")).dump(view)
        exclusions = view.exclusions
        engine, frozen_id = db().get_bind(), draw.id

        def dumps(value) -> str:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

        def generate():
            yield dumps(head)[:-1] + ',"strata":['
            with engine.connect() as connection:
                for position, entry in enumerate(frozen.entries(connection, frozen_id)):
                    yield ("," if position else "") + dumps(entry)
            yield '],"exclusions":' + dumps(exclusions) + "}"

        return Response(stream_with_context(generate()), mimetype="application/json")


@draws_blp.route("/<int:draw_id>/commitments")
class DrawCommitments(MethodView):
    @permission("draws.run")
    @draws_blp.arguments(CommitSchema)
    @draws_blp.response(200, DrawSchema)
    def post(self, data, draw_id):
        """Stage 2, commit: each contributor's sha256_hex(salt + "|" + digits), in the order the seed joins them."""
        return _changed(lambda settings, session: service.commit(
            session, current_principal(), draw_id, data["commitments"], secret=settings.secret_key))


@draws_blp.route("/<int:draw_id>/seed")
class DrawSeed(MethodView):
    @permission("draws.run")
    @draws_blp.arguments(SeedSchema)
    @draws_blp.response(200, DrawSchema)
    def post(self, data, draw_id):
        """Stage 3, seed: reveal every contribution's digits and salt; each must match its commitment."""
        return _changed(lambda _settings, session: service.reveal_seed(
            session, current_principal(), draw_id, data["contributions"], data["witnesses"]))


@draws_blp.route("/<int:draw_id>/run")
class DrawRun(MethodView):
    @permission("draws.run")
    @draws_blp.response(200, DrawSchema)
    def post(self, draw_id):
        """Stage 4, draw: select the targets, match the teams, create the tasks and publish the record,
        in one transaction. A second run is refused with 409."""
        gateway = get_gateway()
        draw = service.run_and_record_failure(gateway, current_principal(), draw_id)
        with gateway.read() as session:
            return service.draw_dict(service.get_draw(session, draw.id), gateway.settings)


@draws_blp.route("/<int:draw_id>/cancel")
class DrawCancel(MethodView):
    @permission("draws.run")
    @draws_blp.arguments(CancelSchema)
    @draws_blp.response(200, DrawSchema)
    def post(self, data, draw_id):
        """Cancel a draw that has not run (it stays on record with the reason)."""
        return _changed(lambda _settings, session: service.cancel(session, current_principal(), draw_id, data["reason"]))


@draws_blp.route("/<int:draw_id>/record")
class DrawRecord(MethodView):
    @permission("draws.read")
    @draws_blp.response(200, DrawRecordSchema)
    def get(self, draw_id):
        """The public draw record, whole (format shuangsui.draw/2, streamed a part at a time; records
        of shuangsui.draw/1 as stored), exactly as published; re-run it with `shuangsui verify` or
        docs/verify_draw.py. Its index and parts are also served one at a time (record/index,
        record/strata/<n>, record/tasks/<n>)."""
        draw = _read(draw_id)
        packed = service.public_record_gzip(draw)
        if parts.is_v2(draw):
            return whole_record_response(db(), draw)
        # The record is stored gzip-compressed: a client that accepts gzip gets those bytes as
        # they are (a fifth of the text), any other the text. Same text, so one hash, but each
        # encoding is its own representation with its own ETag.
        if request.accept_encodings["gzip"]:
            response = Response(packed, mimetype="application/json")
            response.headers["Content-Encoding"] = "gzip"
            response.headers["ETag"] = f'"{draw.record_sha256}-gzip"'
        else:
            response = Response(unpack_record(packed), mimetype="application/json")
            response.headers["ETag"] = f'"{draw.record_sha256}"'
        response.headers["Vary"] = "Accept-Encoding"
        response.headers["Content-Disposition"] = f'inline; filename="draw-{draw.id}.json"'
        return response


def whole_record_response(session, draw: Draw) -> Response:
    """A version 2 record's whole text, streamed a part at a time (gzip-compressed on the fly for a
    client that accepts it). Its ETag is the index's SHA-256, which binds every part."""
    index = parts.index_text(draw)
    strata = parts.part_numbers(session, draw, parts.STRATUM)
    tasks = parts.part_numbers(session, draw, parts.TASKS)
    exclusions = parts.part_numbers(session, draw, parts.EXCLUSIONS)
    settings_engine = session.get_bind()
    draw_id = draw.id

    def generate():
        # The request's session is gone once the response streams: read the parts on a connection
        # of their own, one at a time.
        with settings_engine.connect() as connection:
            def read(kind: str, numbers: list[int]):
                for number in numbers:
                    body = connection.execute(select(DrawRecordPart.body_gzip).where(
                        DrawRecordPart.draw_id == draw_id, DrawRecordPart.kind == kind,
                        DrawRecordPart.number == number)).scalar_one()
                    yield gzip.decompress(body)
            chunks = whole_record_chunks(index, read(parts.STRATUM, strata), read(parts.TASKS, tasks),
                                         read(parts.EXCLUSIONS, exclusions))
            yield from (parts.gzip_stream(chunks) if gzipped else chunks)

    gzipped = bool(request.accept_encodings["gzip"])
    response = Response(stream_with_context(generate()), mimetype="application/json")
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["ETag"] = f'"{draw.record_sha256}{"-gzip" if gzipped else ""}"'
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Content-Disposition"] = f'inline; filename="draw-{draw.id}.json"'
    return response


def part_response(draw: Draw, text: bytes, name: str) -> Response:
    """One exact part (or the index) of a version 2 record, with its SHA-256 as ETag."""
    response = Response(text, mimetype="application/json")
    response.headers["ETag"] = f'"{hashlib.sha256(text).hexdigest()}"'
    response.headers["Cache-Control"] = "public, max-age=86400"  # a published record never changes
    response.headers["Content-Disposition"] = f'inline; filename="draw-{draw.id}-{name}.json"'
    return response


def index_text_of(draw: Draw) -> bytes:
    """The version 2 index's exact text; of a version 1 record, NotFound (it has no parts)."""
    service.public_record_gzip(draw)
    if not parts.is_v2(draw):
        raise NotFound("record_not_split", f"抽取 {draw.id} 的记录为 shuangsui.draw/1 格式，没有索引与分块，请下载完整记录。")
    return parts.index_text(draw)


@draws_blp.route("/<int:draw_id>/record/index")
class DrawRecordIndex(MethodView):
    @permission("draws.read")
    @draws_blp.response(200, DrawRecordSchema)
    def get(self, draw_id):
        """The index of a shuangsui.draw/2 record: everything but the strata's lists and the tasks,
        with each part's SHA-256 (parts.strata lists the strata by matter and credit risk class)."""
        draw = _read(draw_id)
        return part_response(draw, index_text_of(draw), "index")


@draws_blp.route("/<int:draw_id>/record/strata/<int:number>")
class DrawRecordStratum(MethodView):
    @permission("draws.read")
    @draws_blp.response(200, DrawRecordSchema)
    def get(self, draw_id, number):
        """One stratum part of a shuangsui.draw/2 record (number as in the index's parts.strata);
        verify it alone with `shuangsui verify --stratum KEY INDEX PART`."""
        return _part(draw_id, parts.STRATUM, number)


@draws_blp.route("/<int:draw_id>/record/tasks/<int:number>")
class DrawRecordTasks(MethodView):
    @permission("draws.read")
    @draws_blp.response(200, DrawRecordSchema)
    def get(self, draw_id, number):
        """One tasks part of a shuangsui.draw/2 record (number as in the index's parts.tasks)."""
        return _part(draw_id, parts.TASKS, number)


@draws_blp.route("/<int:draw_id>/record/exclusions/<int:number>")
class DrawRecordExclusions(MethodView):
    @permission("draws.read")
    @draws_blp.response(200, DrawRecordSchema)
    def get(self, draw_id, number):
        """One exclusions part of a shuangsui.draw/2 record (number as in the index's
        parts.exclusions): the exclusions, with the inspection caps counts of their targets."""
        return _part(draw_id, parts.EXCLUSIONS, number)


def _part(draw_id: int, kind: str, number: int):
    draw = _read(draw_id)
    index_text_of(draw)  # a version 1 record has no parts: NotFound
    return part_response(draw, parts.part_text(db(), draw, kind, number), f"{kind}-{number}")


@draws_blp.route("/<int:draw_id>/internal")
class DrawInternal(MethodView):
    @permission("draws.read_internal")
    @draws_blp.response(200, InternalDrawSchema)
    def get(self, draw_id):
        """For supervisors: the teams as drawn, by name, with the opaque ids of the public record,
        and the team matching re-run from the inputs kept at draw time (the read is audited)."""
        return service.read_internal(get_gateway(), current_principal(), draw_id)
