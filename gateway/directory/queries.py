"""Target and inspector searches compiled to SQL, including matter criteria from plugins."""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import Select, and_, false, or_, select

from gateway.db import where_equal
from gateway.directory.models import Inspector, Target
from gateway.directory.search import escape_like, name_contains_any, uscc_shaped
from gateway.plugins.contributions import TargetCriteria


def contains(column, text: str):
    return column.like("%" + escape_like(text) + "%", escape="\\")


# Words a visitor adds to a name that the registered name may spell differently ("沁盛造纸公司"
# for "武陟县沁盛造纸有限公司"); a search also tries the name without them.
NAME_FILLERS = ("股份有限公司", "有限责任公司", "有限公司", "公司", "武陟县")


def target_match(text: str):
    """SQL: the target whose credit code is ``text`` (spaces and case ignored) if it is shaped like
    one; otherwise the targets whose name contains one of :func:`name_texts`. Both go through an
    index (``gateway.directory.search``)."""
    code = uscc_shaped(text)
    if code:
        return Target.uscc == code
    return name_contains_any(name_texts(text))


def name_texts(text: str) -> list[str]:
    """What a name search for ``text`` looks for in the names: ``text``, and ``text`` without the
    fillers of :data:`NAME_FILLERS` when that leaves 2 characters or more."""
    texts = [text.strip()]
    core = "".join(text.split())
    for word in NAME_FILLERS:
        core = core.replace(word, "")
    if len(core) >= 2 and core != text.strip():
        texts.append(core)
    return texts


def has_licence(licence: str):
    return contains(Target.licences, "|" + licence + "|")


def criteria_clause(criteria: TargetCriteria):
    """SQL for a matter's target criteria (every non-empty condition must hold)."""
    clauses = []
    if criteria.target_types:
        clauses.append(Target.type.in_(criteria.target_types))
    if criteria.required_licences:
        clauses.append(or_(*(has_licence(name) for name in criteria.required_licences)))
    if criteria.scope_keywords:
        clauses.append(or_(*(contains(Target.business_scope, k) for k in criteria.scope_keywords)))
    return and_(*clauses) if clauses else and_(True)


def target_search(args: Mapping[str, Any]) -> Select:
    stmt = where_equal(select(Target), args, {name: getattr(Target, name)
                                              for name in ("township", "level", "type", "risk_class", "status")})
    if args.get("scope"):
        stmt = stmt.where(contains(Target.business_scope, args["scope"]))
    if args.get("licence"):
        stmt = stmt.where(has_licence(args["licence"]))
    if args.get("list") == "abnormal":
        stmt = stmt.where(Target.abnormal_list.is_(True))
    elif args.get("list") == "serious_violation":
        stmt = stmt.where(Target.serious_violation_list.is_(True))
    if args.get("active") is not None:
        stmt = stmt.where(Target.active.is_(args["active"]))
    if args.get("q"):
        q = args["q"].strip()
        code = q.upper() if uscc_shaped(q) == q.upper() else None  # spaces inside: a name, as before
        stmt = stmt.where(Target.uscc == code if code else name_contains_any([q]))
    return stmt.order_by(Target.id)


def inspector_search(args: Mapping[str, Any], departments: list[str] | None = None) -> Select:
    stmt = select(Inspector)
    if departments is not None:
        stmt = stmt.where(Inspector.department_code.in_(departments) if departments else false())
    stmt = where_equal(stmt, args, {"department": Inspector.department_code})
    if args.get("active") is not None:
        stmt = stmt.where(Inspector.active.is_(args["active"]))
    if args.get("q"):
        stmt = stmt.where(name_contains_any([args["q"].strip()], Inspector))
    return stmt.order_by(Inspector.id)

