"""The inspector's offline pages (issue 19): the service worker, and the result form's
submission from the phone's queue.

The pages themselves are the ordinary ones (my tasks, a task, its sheet, guide and result form);
``static/field/field.js`` (every inspector page) registers the service worker that keeps them
for offline use, keeps the queue of results waiting for the network and shows its state;
``static/field/form.js`` (the result form) keeps the draft in IndexedDB as the inspector types,
the drawn signature and the photos, compressed on the phone. When the network returns, the
queue is sent here: the same fields the form posts, with the idempotency key drawn at submit
time and the state of the result the form was based on (``gateway.results.idempotency``).
Photos and the signature go first, through the resumable uploads of ``/api/v1/…/uploads``.
See docs/web.md, "For inspectors in the field".
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request, send_from_directory
from werkzeug.datastructures import MultiDict

from gateway.api.session import db, get_gateway
from gateway.errors import Conflict, DomainError, Invalid
from gateway.results import idempotency
from gateway.results import service as results
from gateway.results.checklist import task_checklists
from gateway.results.clock import china_today
from gateway.results.models import RESULT_STATUS_LABELS, InspectionResult
from gateway.security.policy import permission
from gateway.security.principal import current_principal
from gateway.web.base import make_blueprint, refusal_json
from gateway.web.results import _raw_result, _state_from_result, form_errors

# The service worker is served from the site's root so that its scope may cover /console/.
bp = Blueprint("web_field", __name__)
console_bp = make_blueprint("web_field_console", "/console")
WORKER_SCOPE = "/console/"


@bp.route("/field-sw.js")
def service_worker():
    response = send_from_directory(current_app.blueprints["web"].static_folder, "field/sw.js",
                                   mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = WORKER_SCOPE
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.app_template_global()
def field_stamp(latest: InspectionResult | None) -> str:
    """The state of the result a form is based on, for the phone's submission."""
    return idempotency.stamp(latest)


def _ids(values: Any) -> list[int]:
    return [int(v) for v in (values or []) if str(v).isdigit()]


def _request_form(body: dict[str, Any]) -> MultiDict:
    pairs = body.get("fields")
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
                                              for p in pairs):
        raise Invalid("validation_error", "提交的数据未通过校验。", {"fields": ["应为表单字段的 [名称, 值] 列表。"]})
    return MultiDict(pairs)


def server_fields(result: InspectionResult) -> list[list[str]]:
    """A stored result as the form's fields (name, value), to show beside the phone's version."""
    state = _state_from_result(result)
    pairs: list[list[str]] = []
    for matter, values in state["values"].items():
        for item, value in values.items():
            shown = "true" if value is True else "false" if value is False else str(value)
            pairs.append([f"checklists.{matter}.{item}", shown])
    pairs += [["result_codes", c] for c in state["result_codes"]] + [["methods", m] for m in state["methods"]]
    pairs.append(["completed_on", state["completed_on"]])
    pairs += [[f"signature.{k}", v or ""] for k, v in state["signature"].items()]
    pairs.append(["remarks", state["remarks"]])
    return pairs


def _stored_version(exc: Conflict) -> dict[str, Any] | None:
    """The version a conflict is with, to show beside the phone's."""
    result_id = exc.details.get("result_id")
    if not result_id:
        return None
    stored = results.get_result(db(), result_id)
    return {"fields": server_fields(stored), "stamp": idempotency.stamp(stored),
            "status": stored.status, "status_label": RESULT_STATUS_LABELS[stored.status],
            "review_note": stored.review_note, "editable": stored.status in ("recorded", "returned"),
            "version": stored.version}


@console_bp.route("/tasks/<int:task_id>/result/sync", methods=["POST"])
@permission("results.record")
def sync(task_id: int):
    """One queued result from the phone: ``{key, base, fields: [[name, value], …], attachment_ids,
    signature_attachment_id}``. Answers JSON: the stored result, or the refusal (a conflict with
    the stored version's fields beside it; field errors keyed like the form's)."""
    gateway, principal = get_gateway(), current_principal()
    body = request.get_json(silent=True) or {}
    try:
        form = _request_form(body)
        task = results.get_task(db(), task_id)
        latest = results.latest_version(db(), task.id)
        raw = _raw_result(task_checklists(gateway, db(), task), task,
                          _ids(form.getlist("attachment_ids")) + _ids(body.get("attachment_ids")), form=form)
        if latest is None or latest.supersedes_id is None:
            raw.pop("reason", None)
        signature = body.get("signature_attachment_id")
        done, _ = idempotency.submit_once(gateway, principal, task.id, str(body.get("key") or ""),
                                          str(body.get("base") or ""), raw, today=china_today(),
                                          signature_attachment_id=signature if isinstance(signature, int) else None)
    except Conflict as exc:
        return refusal_json(exc, server=_stored_version(exc))
    except DomainError as exc:
        return refusal_json(exc, fields=form_errors(exc.errors) if isinstance(exc.errors, dict) else {})
    db().rollback()  # the request's read session began before the write: read what it stored
    latest = results.latest_version(db(), task_id)
    return jsonify({"replayed": done.replayed, "result_id": done.result_id, "version": done.version,
                    "stamp": idempotency.stamp(latest), "signed": bool(latest.signature_sha256)}), \
        200 if done.replayed else 201
