"""Endpoints for senders (signed): push a batch of records, read back their own records."""
from __future__ import annotations

from typing import Any

from mock_platform.context import Context
from mock_platform.endpoints.bodies import IntArg, read_json
from mock_platform.http import ApiError, Response, json_response
from mock_platform.ledger import Push, push_batch
from schemas.platform import KIND_LABELS

AFTER = IntArg("after", 0, 2**62, 0, "Return records after this position (next_after of the previous page).")
LIMIT = IntArg("limit", 1, 1000, 100, "Page size.")


def _records_of(body: Any, max_records: int) -> list[Any]:
    if not isinstance(body, dict) or set(body) != {"records"} or not isinstance(body["records"], list):
        raise ApiError(400, "invalid_batch", "请求体应为 {\"records\": [...]}，且不含其他字段")
    records = body["records"]
    if not records:
        raise ApiError(400, "empty_batch", "批次中没有记录")
    if len(records) > max_records:
        raise ApiError(413, "batch_too_large", f"每批最多 {max_records} 条记录，本批 {len(records)} 条",
                       max_records=max_records, records=len(records))
    return records


def push(ctx: Context, kind: str) -> Response:
    """``POST /api/v1/<kind>/batch``: per-record outcomes, HTTP 200 whatever they are."""
    backend = ctx.backend
    settings = backend.settings
    records = _records_of(read_json(ctx.request, settings.max_body_bytes), settings.max_batch_records)
    assert ctx.access_key is not None
    batch = Push(
        store=backend.store, sender=ctx.access_key, kind=kind, today=backend.today(), at=backend.timestamp(),
        receipt_prefix=backend.receipt_prefix(), request_seq=ctx.request_seq, batch_id=f"B{ctx.request_seq:010d}",
        require_known_entities=settings.require_known_entities,
    )
    return json_response(200, push_batch(batch, records))


def list_own(ctx: Context, kind: str) -> Response:
    """``GET /api/v1/<kind>?after=&limit=``: the sender's records, oldest first, a page at a time."""
    after = AFTER.read(ctx.request)
    limit = LIMIT.read(ctx.request)
    assert ctx.access_key is not None and after is not None and limit is not None
    page = ctx.backend.store.list_records(ctx.access_key, kind, after, limit + 1)
    items, more = page[:limit], len(page) > limit
    return json_response(200, {
        "items": [stored.to_json() for stored in items],
        "next_after": items[-1].seq if more else None,
    })


def get_own(ctx: Context, kind: str, record_id: str) -> Response:
    """``GET /api/v1/<kind>/<id>``: one of the sender's records with its receipt."""
    assert ctx.access_key is not None
    stored = ctx.backend.store.find_record(ctx.access_key, kind, record_id)
    if stored is None:
        raise ApiError(404, "record_not_found", f"未找到标识为“{record_id}”的{KIND_LABELS[kind]}记录")
    return json_response(200, stored.to_json())
