"""Rectification evidence (整改材料) as staff see it next to a result's follow-up: the files the
enterprise uploaded through the portal, for the tasks whose attachments the reader may open
(``attachments.read`` on the task), read in one query for a whole page of results."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.enterprise.models import RectificationEvidence
from gateway.results.access import task_resource
from gateway.results.models import Attachment
from gateway.security.policy import allows
from gateway.security.principal import Principal
from gateway.tasks.models import Task


def evidence_by_task(session: Session, principal: Principal, tasks: Iterable[Task]) -> dict[int, list[dict[str, Any]]]:
    """Task id -> its rectification evidence, oldest first (id, attachment id, file name, note,
    upload time), for the tasks among ``tasks`` whose attachments ``principal`` may read; the
    others are left out, as if they had none."""
    readable = sorted({t.id for t in tasks if allows(principal, "attachments.read", **task_resource(t))})
    if not readable:
        return {}
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = session.execute(select(RectificationEvidence, Attachment.filename)
                           .join(Attachment, Attachment.id == RectificationEvidence.attachment_id)
                           .where(RectificationEvidence.task_id.in_(readable)).order_by(RectificationEvidence.id))
    for evidence, filename in rows:
        found[evidence.task_id].append({"id": evidence.id, "attachment_id": evidence.attachment_id,
                                        "filename": filename, "note": evidence.note,
                                        "uploaded_at": evidence.uploaded_at})
    return dict(found)
