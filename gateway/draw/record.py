"""The public draw record, format ``shuangsui.draw/1``: building it and checking its shape.

The record is plain JSON that anyone can re-run (see ``docs/verify-a-draw.md``). Numbers that must
be exact (ratios) are decimal strings, never JSON floats. Hashes are SHA-256 of *canonical JSON*:
``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)``
encoded as UTF-8.

- ``population_sha256`` (top level) hashes the list, in record order, of
  ``{"key": …, "population": […], "ratio": "…"}`` for every stratum; it is shown at freeze time,
  before any seed exists.
- each stratum's ``population_sha256`` hashes its population list alone, so that a changed USCC
  names its stratum.

Inspectors appear only as department and an opaque id (:func:`opaque_inspector_id`).
Pure: no Flask, no database.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import operator
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from itertools import islice
from typing import Any, Iterable, Mapping, Sequence

from gateway.draw.sampler import SeedError, build_seed, exact_ratio
from gateway.draw.strata import JointTarget, Stratum, StratumSelection
from gateway.draw.teams import Inspector, Team
from schemas.common import CHINA_TZ

FORMAT = "shuangsui.draw/1"
FORMAT_V2 = "shuangsui.draw/2"
ALGORITHM = {"name": "consistent-sampler", "version": "1.0.10"}

ROLE_LABELS = {
    "organiser": "组织人员",
    "operator": "技术操作人员",
    "supervisor": "监督人员",
    "witness": "见证人",
}
REQUIRED_ROLES = ("organiser", "operator", "supervisor")

EXCLUSION_REASONS = {
    "cap_reached": "本年度已接受两次非重点抽查",
    "higher_level_inspected": "本年度已被上级部门抽查",
    "deregistered_or_closed": "已注销或已关闭停业",
    "criteria_not_met": "不符合抽查对象条件",
    "inspection_cap_reached": "本年度检查次数已达县双随机办公布的上限",
}

_SHA256_HEX = re.compile(r"[0-9a-f]{64}\Z")
_OPAQUE_ID = re.compile(r"[0-9a-f]{16}\Z")
_TICKET = re.compile(r"0\.[0-9]{64,78}\Z")


class RecordError(ValueError):
    """The draw record is malformed; ``problems`` lists every problem found (Chinese)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("抽取记录格式错误：" + "；".join(self.problems))


@dataclass(frozen=True)
class Contribution:
    """One participant's seed digits, in the order they were recorded."""

    role: str
    name: str
    digits: str


@dataclass(frozen=True)
class Participant:
    """Someone present at the draw, by role (witnesses need not contribute digits)."""

    role: str
    name: str


@dataclass(frozen=True)
class Exclusion:
    """A target left out of the population; ``matter`` is None when it applies to every matter."""

    uscc: str
    reason: str
    matter: str | None = None


def canonical_json(value: Any) -> bytes:
    """Return the canonical JSON bytes of ``value`` (the form every hash in the record uses)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_sha256(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def iso(moment: datetime | None) -> str | None:
    """A naive UTC time as ISO 8601 in China time, e.g. 2026-04-02T10:00:00+08:00."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ).isoformat(timespec="seconds")


def ratio_text(ratio: Decimal | int | str) -> str:
    """Return the ratio as the plain decimal string the record holds, e.g. ``"0.05"``."""
    exact_ratio(ratio)
    return format(Decimal(ratio).normalize(), "f")


def _field(stratum: Stratum | Mapping[str, Any], name: str) -> Any:
    return stratum[name] if isinstance(stratum, Mapping) else getattr(stratum, name)


def population_digests(strata: Iterable[Stratum | Mapping[str, Any]]) -> tuple[str, list[str]]:
    """Return ``population_sha256`` of the strata and each stratum's own population hash.

    Strata are :class:`Stratum` objects or record entries (whose ``ratio`` is already text). Each
    population is serialised once: in the canonical JSON of the whole document it appears exactly
    as its own canonical JSON, because the keys of an entry sort as key < population < ratio.
    """
    whole = hashlib.sha256(b"[")
    own = []
    for position, stratum in enumerate(strata):
        ratio = _field(stratum, "ratio")
        population = canonical_json(list(_field(stratum, "population")))
        own.append(hashlib.sha256(population).hexdigest())
        whole.update(b"," if position else b"")
        whole.update(b'{"key":' + canonical_json(_field(stratum, "key")) + b',"population":')
        whole.update(population)
        whole.update(b',"ratio":' + canonical_json(ratio if isinstance(ratio, str) else ratio_text(ratio)) + b"}")
    whole.update(b"]")
    return whole.hexdigest(), own


def population_sha256(strata: Iterable[Stratum | Mapping[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of the strata lists: ``[{"key", "population", "ratio"}, …]``."""
    return population_digests(strata)[0]


def list_sha256(usccs: Sequence[str]) -> str:
    """SHA-256 of the canonical JSON of one list of USCCs (a stratum's population)."""
    return hashlib.sha256(canonical_json(list(usccs))).hexdigest()


@functools.lru_cache(maxsize=8192)
def opaque_inspector_id(draw_id: str, inspector_id: str, key: bytes) -> str:
    """Return the public stand-in for an inspector in one draw.

    ``HMAC-SHA256(key, canonical_json([draw_id, inspector_id]))``, first 16 hex digits.
    ``inspector_id`` is the internal id, never the certificate number; ``key`` is the gateway's
    secret, so the public cannot recompute ids by trying internal ids, and the draw id in the
    message makes one inspector's ids in different draws unlinkable. Supervisors holding the key
    can map ids back.
    """
    if not key:
        raise ValueError("生成执法检查人员匿名标识需要非空密钥")
    digest = hmac.new(key, canonical_json([draw_id, inspector_id]), hashlib.sha256)
    return digest.hexdigest()[:16]


def stratum_entry(selection: StratumSelection, own_sha256: str | None = None) -> dict[str, Any]:
    """The record's entry for one drawn stratum (``own_sha256``: its population hash, if known)."""
    stratum = selection.stratum
    return {
        "key": stratum.key,
        "matter": stratum.matter,
        "risk_class": stratum.risk_class,
        "ratio": ratio_text(stratum.ratio),
        "population": list(stratum.population),
        "population_sha256": own_sha256 or list_sha256(stratum.population),
        "sample_size": selection.sample_size,
        "selected": list(selection.selected),
    }


def task_entry(
    number: str,
    target: JointTarget,
    team: Team,
    inspectors: Mapping[str, Inspector],
    draw_id: str,
    key: bytes,
) -> dict[str, Any]:
    """The record's entry for one task: inspectors shown as department and opaque id only."""
    if team.uscc != target.uscc:
        raise ValueError(f"任务 {number} 的检查组属于 {team.uscc}，而检查对象是 {target.uscc}")
    return {
        "number": number,
        "uscc": target.uscc,
        "ticket": target.ticket,
        "matters": list(target.matters),
        "inspectors": [
            {"department": inspectors[member].department, "id": opaque_inspector_id(draw_id, member, key)}
            for member in team.members
        ],
    }


def build_record(
    *,
    draw_id: str,
    plan: Mapping[str, Any],
    contributions: Sequence[Contribution],
    participants: Sequence[Participant],
    selections: Sequence[StratumSelection],
    exclusions: Sequence[Exclusion | Mapping[str, Any]],
    tasks: Sequence[Mapping[str, Any]],
    frozen_at: str | None = None,
    drawn_at: str | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Assemble the public draw record and check it (raises :class:`RecordError`).

    ``participants`` lists everyone present; contributors are added if missing. ``tasks`` are
    entries made by :func:`task_entry`, in ticket order; ``exclusions`` are :class:`Exclusion`
    objects or mappings with the same three keys. ``validate=False`` skips the shape check, for a
    caller whose inputs come from this module's own builders (the draw service: its records are
    checked by the tests and by every verification).
    """
    by_role: dict[str, list[str]] = {}
    for person in [*participants, *(Participant(c.role, c.name) for c in contributions)]:
        names = by_role.setdefault(person.role, [])
        if person.name not in names:
            names.append(person.name)
    record: dict[str, Any] = {
        "format": FORMAT,
        "draw_id": draw_id,
        "plan": dict(plan),
        "algorithm": dict(ALGORITHM),
    }
    if frozen_at is not None:
        record["frozen_at"] = frozen_at
    if drawn_at is not None:
        record["drawn_at"] = drawn_at
    whole, own = population_digests(selection.stratum for selection in selections)
    record.update(
        {
            "population_sha256": whole,
            "seed": build_seed([c.digits for c in contributions]),
            "contributions": [
                {"order": order, "role": c.role, "name": c.name, "digits": c.digits}
                for order, c in enumerate(contributions, start=1)
            ],
            "participants": by_role,
            "strata": [stratum_entry(selection, digest) for selection, digest in zip(selections, own)],
            "exclusions": [
                {"uscc": e["uscc"], "reason": e["reason"], "matter": e["matter"]} if isinstance(e, dict)
                else {"uscc": e.uscc, "reason": e.reason, "matter": e.matter}
                for e in exclusions
            ],
            "tasks": [dict(task) for task in tasks],
        }
    )
    if validate:
        validate_record(record)
    return record


def validate_record(record: Any) -> None:
    """Raise :class:`RecordError` listing every shape problem of ``record``."""
    problems = record_problems(record)
    if problems:
        raise RecordError(problems)


def seed_from_record(record: Mapping[str, Any]) -> str:
    """Rebuild the seed from the record's contributions, by their ``order``."""
    contributions = sorted(record["contributions"], key=operator.itemgetter("order"))
    return build_seed([c["digits"] for c in contributions])


def record_problems(record: Any, *, strata: bool = True) -> list[str]:
    """Return the shape problems of ``record`` (Chinese), empty if none.

    With ``strata=False`` the entries of ``strata`` are not looked into (the verifier reports
    those per stratum, using :func:`stratum_problems`).
    """
    if not isinstance(record, Mapping):
        return ["抽取记录应为 JSON 对象"]
    problems: list[str] = []
    # A version 2 record (its index, or whole) lists its parts; version 1 has none.
    if not (record.get("format") == FORMAT or (record.get("format") == FORMAT_V2 and "parts" in record)):
        problems.append(f"format 应为 {FORMAT} 或 {FORMAT_V2}，实际为 {record.get('format')!r}")
    if not _is_text(record.get("draw_id")):
        problems.append("缺少 draw_id")
    problems += _plan_problems(record.get("plan"))
    algorithm = record.get("algorithm")
    if not isinstance(algorithm, Mapping) or any(algorithm.get(k) != v for k, v in ALGORITHM.items()):
        problems.append(f"algorithm 应为 {ALGORITHM}，实际为 {algorithm!r}")
    if not (isinstance(record.get("population_sha256"), str) and _SHA256_HEX.match(record["population_sha256"])):
        problems.append("population_sha256 应为 64 位小写十六进制")
    if not isinstance(record.get("seed"), str) or not record["seed"]:
        problems.append("缺少 seed")
    problems += _contribution_problems(record.get("contributions"), record.get("participants"))
    entries = record.get("strata")
    if not isinstance(entries, list) or not entries:
        problems.append("strata 应为非空列表")
    else:
        keys = [entry.get("key") for entry in entries if isinstance(entry, Mapping)]
        if len(set(map(str, keys))) != len(keys):
            problems.append("分层标识（key）重复")
        if strata:
            for position, entry in enumerate(entries, start=1):
                name = entry.get("key") if isinstance(entry, Mapping) else f"#{position}"
                problems += [f"分层 {name}：{p}" for p in stratum_problems(entry)]
    problems += _exclusion_problems(record.get("exclusions"))
    problems += _task_problems(record.get("tasks"))
    return problems


def stratum_problems(entry: Any) -> list[str]:
    """Return the shape problems of one stratum entry (Chinese), empty if none."""
    if not isinstance(entry, Mapping):
        return ["分层条目应为 JSON 对象"]
    problems = []
    for name in ("key", "matter"):
        if not _is_text(entry.get(name)):
            problems.append(f"缺少 {name}")
    if not isinstance(entry.get("risk_class"), str):
        problems.append("risk_class 应为字符串")
    ratio = entry.get("ratio")
    try:
        if not isinstance(ratio, str):
            raise TypeError
        exact_ratio(ratio)
    except (TypeError, ValueError):
        problems.append(f"ratio 应为 0 到 1 之间的十进制字符串，实际为 {ratio!r}")
    population = entry.get("population")
    if not _is_text_list(population):
        problems.append("population 应为 USCC 字符串列表")
    elif not all(map(operator.lt, population, islice(population, 1, None))):
        problems.append("population 应按 USCC 升序排列且不得重复")
    if not (isinstance(entry.get("population_sha256"), str) and _SHA256_HEX.match(entry["population_sha256"])):
        problems.append("population_sha256 应为 64 位小写十六进制")
    size = entry.get("sample_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        problems.append("sample_size 应为非负整数")
    selected = entry.get("selected")
    if not _is_text_list(selected):
        problems.append("selected 应为 USCC 字符串列表")
    elif len(set(selected)) != len(selected):
        problems.append("selected 中有重复的 USCC")
    return problems


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _is_text_list(value: Any) -> bool:
    """A list of non-empty strings (checked with C-level loops: populations are long)."""
    return isinstance(value, list) and set(map(type, value)) <= {str} and "" not in value


def _plan_problems(plan: Any) -> list[str]:
    if not isinstance(plan, Mapping):
        return ["plan 应为 JSON 对象"]
    problems = [f"plan 缺少 {name}" for name in ("number", "name") if not _is_text(plan.get(name))]
    if isinstance(plan.get("year"), bool) or not isinstance(plan.get("year"), int):
        problems.append("plan.year 应为整数")
    return problems


def _contribution_problems(contributions: Any, participants: Any) -> list[str]:
    if not isinstance(contributions, list) or not all(isinstance(c, Mapping) for c in contributions):
        return ["contributions 应为对象列表"]
    problems = []
    orders = [c.get("order") for c in contributions]
    if orders != list(range(1, len(contributions) + 1)):
        problems.append("contributions 的 order 应依次为 1, 2, 3, …")
    for c in contributions:
        if c.get("role") not in ROLE_LABELS:
            problems.append(f"未知的参与者角色：{c.get('role')!r}")
        if not _is_text(c.get("name")):
            problems.append("每份随机数贡献都应记录贡献人姓名")
        if not isinstance(c.get("digits"), str):
            problems.append("每份随机数贡献都应有数字串 digits")
    roles = {c.get("role") for c in contributions}
    for role in REQUIRED_ROLES:
        if role not in roles:
            problems.append(f"缺少{ROLE_LABELS[role]}（{role}）贡献的随机数")
    if not problems:
        try:
            seed_from_record({"contributions": contributions})
        except SeedError as error:
            problems.append(str(error))
    if not isinstance(participants, Mapping) or not all(
        role in ROLE_LABELS and _is_text_list(names) for role, names in participants.items()
    ):
        problems.append("participants 应为 角色 → 姓名列表 的对象，角色取 " + "、".join(ROLE_LABELS))
    else:
        for c in contributions:
            if c.get("name") not in participants.get(c.get("role"), []):
                problems.append(f"贡献人 {c.get('name')} 未列入 participants 的 {c.get('role')}")
    return problems


def _exclusion_problems(exclusions: Any) -> list[str]:
    if not isinstance(exclusions, list):
        return ["exclusions 应为列表"]
    problems = []
    for exclusion in exclusions:
        if not isinstance(exclusion, Mapping) or not _is_text(exclusion.get("uscc")):
            problems.append("每条排除记录都应有 uscc")
            continue
        if exclusion.get("reason") not in EXCLUSION_REASONS:
            problems.append(f"排除 {exclusion['uscc']} 的原因代码未知：{exclusion.get('reason')!r}")
        matter = exclusion.get("matter")
        if matter is not None and not _is_text(matter):
            problems.append(f"排除 {exclusion['uscc']} 的 matter 应为事项代码或 null")
    return problems


def _task_problems(tasks: Any) -> list[str]:
    if not isinstance(tasks, list):
        return ["tasks 应为列表"]
    problems = []
    numbers = set()
    for task in tasks:
        if not isinstance(task, Mapping) or not _is_text(task.get("number")):
            problems.append("每个任务都应有任务编号 number")
            continue
        number = task["number"]
        if number in numbers:
            problems.append(f"任务编号重复：{number}")
        numbers.add(number)
        if not _is_text(task.get("uscc")):
            problems.append(f"任务 {number} 缺少 uscc")
        if not (isinstance(task.get("ticket"), str) and _TICKET.match(task["ticket"])):
            problems.append(f"任务 {number} 的 ticket 格式错误")
        if not _is_text_list(task.get("matters")) or not task["matters"]:
            problems.append(f"任务 {number} 应列出抽查事项 matters")
        members = task.get("inspectors")
        if not isinstance(members, list) or not all(
            isinstance(m, Mapping)
            and set(m) == {"department", "id"}
            and _is_text(m.get("department"))
            and isinstance(m.get("id"), str)
            and _OPAQUE_ID.match(m["id"])
            for m in members
        ):
            problems.append(f"任务 {number} 的 inspectors 只能含 department 与 16 位十六进制匿名 id")
    return problems
