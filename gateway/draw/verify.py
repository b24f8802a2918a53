"""Re-running a draw: the public record check, and the internal team check for supervisors.

:func:`verify_record` needs nothing but the public record: it rebuilds the seed from the
contributions, re-hashes the populations, recomputes every stratum's sample size and selection,
and re-derives the joint tasks. :func:`verify_teams` re-runs the team matching from the internal
inputs (inspector directory, conflicts, loads) that only supervisors may see.
Pure: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import orjson

from gateway.draw.eligibility import CAPS_REASON, KEY_RATIO, KEY_STRATUM, YearCaps
from gateway.draw.record import (
    FORMAT_V2,
    _exclusion_problems,
    _task_problems,
    canonical_json,
    canonical_sha256,
    opaque_inspector_id,
    population_digests,
    ratio_text,
    record_problems,
    seed_from_record,
    stratum_problems,
)
from gateway.draw.record_v2 import (
    LayoutError,
    descriptor_parts,
    index_of_whole,
    is_chunked,
    population_view,
    read_index,
    read_parts,
    strata_sha256,
)
from gateway.draw.sampler import TICKET_DIGITS, SeedError, Ticketer, _prefix_filter, sample_size, select, ticket_from_key
from gateway.draw.strata import merge_selected
from gateway.draw.teams import (
    Conflicts,
    Inspector,
    NoFeasibleTeam,
    Team,
    TeamRequest,
    conflicts_by_target,
    match_teams,
    team_size,
    team_violations,
)

MATCH = "一致"
CHECK_LABELS = {
    "format": "记录格式",
    "seed": "随机种子",
    "population_sha256": "总体摘要",
    "tasks": "检查任务",
    "key_strata": "重点抽查分层",
    "inspection_caps": "检查次数上限",
    "eligibility_changes": "冻结前抽取资格变更",
    "parts": "记录分块",
    "strata_sha256": "分层摘要链",
}
_MAX_LISTED = 5


@dataclass(frozen=True, slots=True)
class Finding:
    """The outcome of one check: ``subject`` is a stratum key, a USCC or a check name."""

    subject: str
    ok: bool
    reason: str = MATCH


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Record-wide checks (format, seed, population_sha256, tasks) and one finding per stratum."""

    checks: tuple[Finding, ...]
    strata: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.checks) and all(f.ok for f in self.strata)

    @property
    def mismatched_strata(self) -> list[str]:
        return [f.subject for f in self.strata if not f.ok]

    def lines(self) -> list[str]:
        """Human-readable lines (Chinese), ending with the verdict."""
        lines = [f"{CHECK_LABELS.get(f.subject, f.subject)}：{f.reason}" for f in self.checks]
        lines += [f"分层 {f.subject}：{f.reason}" for f in self.strata]
        if self.ok:
            lines.append("结论：一致，抽取结果可复现")
        else:
            named = "、".join(self.mismatched_strata) or "无"
            lines.append(f"结论：不一致（不一致的分层：{named}）")
        return lines


@dataclass(frozen=True, slots=True)
class TeamReport:
    """One finding per task of the team check."""

    tasks: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.tasks)

    @property
    def mismatched(self) -> list[str]:
        return [f.subject for f in self.tasks if not f.ok]


def verify_record(record: Any, *, expected_population_sha256: str | None = None) -> VerifyReport:
    """Re-run the target selection of a public draw record, from the record alone.

    ``expected_population_sha256`` is the value announced at freeze time, if the caller has it.
    A whole ``shuangsui.draw/2`` record goes to :func:`gateway.draw.verify_v2.verify_whole`.
    """
    if isinstance(record, Mapping) and record.get("format") == FORMAT_V2:
        return verify_whole(record, expected_population_sha256=expected_population_sha256)
    problems = record_problems(record, strata=False)
    checks = [Finding("format", not problems, "；".join(problems) or MATCH)]
    if not isinstance(record, Mapping) or not isinstance(record.get("strata"), list):
        return VerifyReport(tuple(checks), ())
    seed = record.get("seed") if isinstance(record.get("seed"), str) else ""
    checks.append(_seed_finding(record, seed))
    entries = record["strata"]
    shape = [stratum_problems(entry) for entry in entries]
    well_formed = [entry for entry, problems in zip(entries, shape) if not problems]
    whole, own = population_digests(well_formed)
    checks.append(_population_finding(record, whole, len(well_formed) == len(entries), expected_population_sha256))
    own_by_entry = dict(zip(map(id, well_formed), own))
    cache: dict[str, str] = {}
    strata = tuple(
        _stratum_finding(entry, position, problems, own_by_entry.get(id(entry)), seed, cache)
        for position, (entry, problems) in enumerate(zip(entries, shape), start=1)
    )
    checks.append(_tasks_finding(record, well_formed, seed, cache))
    checks.append(_key_strata_finding(record, well_formed))
    checks.append(caps_finding(record))
    checks.append(eligibility_finding(record, well_formed))
    return VerifyReport(tuple(checks), strata)


def _seed_finding(record: Mapping[str, Any], seed: str) -> Finding:
    try:
        rebuilt = seed_from_record(record)
    except (SeedError, KeyError, TypeError) as error:
        return Finding("seed", False, f"无法由贡献重建随机种子：{error}")
    if rebuilt != seed:
        return Finding("seed", False, f"随机种子与各方贡献拼接结果不符：应为 {rebuilt}，记录为 {seed}")
    return Finding("seed", True)


def _population_finding(
    record: Mapping[str, Any], computed: str, complete: bool, expected: str | None
) -> Finding:
    if not complete:
        return Finding("population_sha256", False, "部分分层格式错误，无法核对总体摘要")
    if computed != record.get("population_sha256"):
        return Finding("population_sha256", False, f"总体摘要不符：重新计算为 {computed}")
    if expected is not None and computed != expected:
        return Finding("population_sha256", False, f"总体摘要与冻结时公布的 {expected} 不符")
    return Finding("population_sha256", True)


def _stratum_finding(
    entry: Any, position: int, problems: list[str], own_sha256: str | None, seed: str, cache: dict[str, str] | None
) -> Finding:
    name = str(entry.get("key")) if isinstance(entry, Mapping) else f"#{position}"
    if problems:
        return Finding(name, False, "格式错误：" + "；".join(problems))
    reasons = []
    population = entry["population"]
    if own_sha256 != entry["population_sha256"]:
        reasons.append("总体名单与本分层的 population_sha256 不符")
    size = sample_size(entry["ratio"], len(population))
    if size != entry["sample_size"]:
        reasons.append(f"抽取数量应为 ceil({entry['ratio']} × {len(population)}) = {size}，记录为 {entry['sample_size']}")
    if not selection_matches(population, seed, size, entry["selected"]):
        expected = select(population, seed, size, cache=cache)
        if expected != entry["selected"]:
            reasons.append("抽中名单与重新计算结果不同：" + _first_difference(expected, entry["selected"]))
    return Finding(name, not reasons, "；".join(reasons) or MATCH)


def selection_matches(population: Sequence[str], seed: str, size: int, selected: Any) -> bool:
    """Whether ``selected`` is exactly ``select(population, seed, size)``, for a population of
    distinct USCCs, without building the ``size`` smallest tickets (a province's stratum draws
    hundreds of thousands): ``selected`` has ``size`` members of the population in strictly
    increasing ticket order (ties to the smaller USCC, as :meth:`Ticketer.entry` sorts), and no
    other member's ticket comes before the last of them. False says only "recompute to know why"."""
    if not isinstance(selected, list) or len(selected) != size or not all(isinstance(u, str) for u in selected):
        return False
    if size == 0:
        return True
    ticketer = Ticketer(seed)
    entry = ticketer.entry
    last = ""
    for uscc in selected:
        current = entry(uscc)
        if current <= last:
            return False
        last = current
    chosen = set(selected)
    if sum(map(chosen.__contains__, population)) != size:
        return False
    # Only ids whose tickets may lie at or below the last chosen one's need a whole ticket.
    return not any(uscc not in chosen and entry(uscc) < last
                   for uscc in _prefix_filter(population, ticketer, last[:TICKET_DIGITS]))


def _key_strata_finding(record: Mapping[str, Any], well_formed: list) -> Finding:
    """Key targets (article 15/28) sit in their matter's ``<matter>:key`` stratum only, drawn at the
    plan's key ratio for the matter (all of them unless ``key_rule.ratios`` names one), never below
    an ordinary stratum's ratio of the matter. Records made before key strata existed have none."""
    suffix = ":" + KEY_STRATUM
    key_entries = {e["matter"]: e for e in well_formed if e["key"] == e["matter"] + suffix}
    if not key_entries:
        return Finding("key_strata", True, "本记录未设重点抽查分层")
    rule = record.get("key_rule") if isinstance(record.get("key_rule"), Mapping) else {}
    ratios = rule.get("ratios") if isinstance(rule.get("ratios"), Mapping) else {}
    reasons = []
    for matter in dict.fromkeys(e["matter"] for e in well_formed):
        entry = key_entries.get(matter)
        ordinary = [e for e in well_formed if e["matter"] == matter and e is not entry]
        if entry is None:
            reasons.append(f"事项 {matter} 缺少重点抽查分层 {matter}{suffix}")
            continue
        try:
            expected = max(Decimal(str(ratios.get(matter, KEY_RATIO))), *(Decimal(e["ratio"]) for e in ordinary))
        except (ArithmeticError, ValueError):
            reasons.append(f"事项 {matter} 的重点抽查比例格式错误")
            continue
        if Decimal(entry["ratio"]) != expected:
            reasons.append(f"分层 {entry['key']} 的比例应为 {format(expected.normalize(), 'f')}，记录为 {entry['ratio']}")
        keyed = set(entry["population"])
        if any(keyed.intersection(e["population"]) or e.get("key_targets") for e in ordinary):
            reasons.append(f"事项 {matter} 的重点抽查对象应只在分层 {entry['key']} 中")
    return Finding("key_strata", not reasons, "；".join(reasons[:_MAX_LISTED]) or MATCH)


def _caps_problems(section: Any) -> list[str]:
    """Shape problems of the ``inspection_caps`` section."""
    if not isinstance(section, Mapping):
        return ["inspection_caps 应为 JSON 对象"]
    problems = [f"inspection_caps.{name} 应为正整数" for name in ("per_department", "total")
                if not (type(section.get(name)) is int and section[name] > 0)]
    counts = section.get("counts")
    if not isinstance(counts, Mapping):
        return problems + ["inspection_caps.counts 应为 JSON 对象"]
    for uscc, entry in counts.items():
        by_department = entry.get("by_department") if isinstance(entry, Mapping) else None
        if not (isinstance(by_department, Mapping) and all(type(n) is int and n >= 0 for n in by_department.values())
                and type(entry.get("total")) is int):
            problems.append(f"对象 {uscc} 的检查次数格式错误")
        elif not max(by_department.values(), default=0) <= entry["total"] <= sum(by_department.values()):
            # a joint visit (综合查一次) counts once in the total and once for each department in it
            problems.append(f"对象 {uscc} 的检查次数合计 {entry['total']} 应不少于任一部门的次数、"
                            f"不多于各部门次数之和 {sum(by_department.values())}")
    return problems


def caps_finding(record: Mapping[str, Any]) -> Finding:
    """Each exclusion for the county's yearly caps (2025 rules) is justified by the counts the record
    carries: one naming no matter by the target's total at the total cap, one naming a matter by the
    count of the matter's department at the per-department cap. Records of years without published
    caps have no ``inspection_caps`` section and no such exclusion."""
    capped = [e for e in record.get("exclusions") or () if isinstance(e, Mapping) and e.get("reason") == CAPS_REASON]
    section = record.get("inspection_caps")
    if section is None:
        if capped:
            return Finding("inspection_caps", False, "记录有因检查次数上限排除的对象，但没有 inspection_caps 部分")
        return Finding("inspection_caps", True, "本记录未适用检查次数上限")
    problems = _caps_problems(section)
    if problems:
        return Finding("inspection_caps", False, "；".join(problems[:_MAX_LISTED]))
    caps = YearCaps(section["per_department"], section["total"])
    departments = _matter_departments(record.get("plan"))
    reasons = []
    for exclusion in capped:
        uscc, matter = exclusion["uscc"], exclusion.get("matter")
        counts = section["counts"].get(uscc)
        if counts is None:
            reasons.append(f"对象 {uscc} 因检查次数上限被排除，但记录未列出其检查次数")
            continue
        whole, matters = caps.barred(counts["total"], counts["by_department"], departments)
        if matter is None and not whole:
            reasons.append(f"对象 {uscc} 本年度计入次数 {counts['total']} 未达合计上限 {caps.total}，不应排除")
        elif matter is not None and matter not in matters:
            department = departments.get(matter, "?")
            reasons.append(f"对象 {uscc} 在部门 {department} 的计入次数 {counts['by_department'].get(department, 0)} "
                           f"未达每部门上限 {caps.per_department}，不应排除出事项 {matter}")
        if len(reasons) >= _MAX_LISTED:
            reasons.append("……")
            break
    ok = not reasons
    return Finding("inspection_caps", ok, "；".join(reasons) if reasons else f"{MATCH}（{len(capped)} 项排除）")


def _moves_section(section: Any) -> tuple[Finding | None, list[str]]:
    """The first checks of an ``eligibility_changes`` section, for both record formats: a finding
    when they settle it (absent: a record older than the section; malformed), else the reasons so far."""
    if section is None:
        return Finding("eligibility_changes", True, "本记录未列抽取资格变更（早于该部分的记录）"), []
    if not isinstance(section, Mapping) or not isinstance(section.get("moves"), list):
        return Finding("eligibility_changes", False, "eligibility_changes 格式错误"), []
    return None, ["变更列表与 moves_sha256 不符"] if canonical_sha256(section["moves"]) != section.get("moves_sha256") else []


def eligibility_finding(record: Mapping[str, Any], well_formed: list) -> Finding:
    """The ``eligibility_changes`` section (:mod:`gateway.draw.moves`): its moves hash to
    ``moves_sha256``; each listed target is in every stratum it moved into and in none it moved out
    of, each named stratum exists, and each change has a known reason and falls in the window.
    Records made before the section existed have none and pass."""
    section = record.get("eligibility_changes")
    settled, reasons = _moves_section(section)
    if settled:
        return settled
    members = {e["key"]: set(e["population"]) for e in well_formed}
    known = section.get("reasons") if isinstance(section.get("reasons"), Mapping) else {}
    window = section.get("window") if isinstance(section.get("window"), Mapping) else {}
    for move in section["moves"]:
        reasons += _move_problems(move, members, known, window)
    return Finding("eligibility_changes", not reasons, "；".join(reasons[:_MAX_LISTED]) or MATCH)


def _move_problems(move: Any, members: Mapping[str, set], known: Mapping[str, Any], window: Mapping[str, Any]) -> list[str]:
    try:
        uscc, moved_in, moved_out, changes = move["uscc"], move["moved_in"], move["moved_out"], move["changes"]
        problems = [f"{uscc} 列为移入 {key}，但不在该分层中" for key in moved_in if uscc not in members.get(key, ())]
        problems += [f"{uscc} 列为移出 {key}，但该分层不存在或仍含该对象" for key in moved_out
                     if key not in members or uscc in members[key]]
        if not changes:
            problems.append(f"{uscc} 未列出引起变动的变更")
        for change in changes:
            if change["reason"] not in known:
                problems.append(f"{uscc} 的变更原因代码未知：{change['reason']!r}")
            if not window.get("from", "") <= change["at"] <= window.get("to", ""):
                problems.append(f"{uscc} 的变更时间 {change['at']} 不在公布至冻结的期间内")
        return problems
    except (KeyError, TypeError):
        return ["eligibility_changes 中有格式错误的条目"]


def _first_difference(expected: Sequence[str], recorded: Sequence[str]) -> str:
    for position, (want, got) in enumerate(zip(expected, recorded), start=1):
        if want != got:
            return f"第 {position} 位应为 {want}，记录为 {got}"
    return f"应抽 {len(expected)} 户，记录 {len(recorded)} 户"


def _tasks_finding(record: Mapping[str, Any], well_formed: list, seed: str, cache: dict[str, str]) -> Finding:
    tasks = record.get("tasks")
    if not isinstance(tasks, list) or not all(isinstance(t, Mapping) for t in tasks):
        return Finding("tasks", False, "tasks 格式错误")
    targets = merge_selected(((e["matter"], e["key"], e["selected"]) for e in well_formed), seed, cache)
    reasons = []
    if [t.get("uscc") for t in tasks] != [target.uscc for target in targets]:
        reasons.append("任务应为每个抽中对象各一项，并按票号升序排列")
    matter_departments = _matter_departments(record.get("plan"))
    lead = record.get("plan", {}).get("lead_department") if isinstance(record.get("plan"), Mapping) else None
    by_uscc = {target.uscc: target for target in targets}
    for task in tasks:
        uscc = task.get("uscc")
        target = by_uscc.get(uscc)
        if target is not None and list(target.matters) != task.get("matters"):
            reasons.append(f"任务 {task.get('number')} 的事项应为 {list(target.matters)}")
        if target is not None and task.get("ticket") != target.ticket:
            reasons.append(f"任务 {task.get('number')} 的票号与重新计算结果不同")
        if lead and matter_departments and target is not None:
            reasons += _composition_reasons(task, lead, target.matters, matter_departments)
        if len(reasons) >= _MAX_LISTED:
            reasons.append("……")
            break
    return Finding("tasks", not reasons, "；".join(reasons) or MATCH)


def _matter_departments(plan: Any) -> dict[str, str]:
    """Matter code -> leading department, from the optional ``plan.matters`` list."""
    if not isinstance(plan, Mapping) or not isinstance(plan.get("matters"), list):
        return {}
    return {
        m["code"]: m["department"]
        for m in plan["matters"]
        if isinstance(m, Mapping) and isinstance(m.get("code"), str) and isinstance(m.get("department"), str)
    }


def _composition_reasons(
    task: Mapping[str, Any], lead: str, matters: Iterable[str], matter_departments: Mapping[str, str]
) -> list[str]:
    departments = [lead] + [matter_departments.get(m, "?") for m in matters]
    required = list(dict.fromkeys(departments))
    members = task.get("inspectors") or []
    present = {m.get("department") for m in members if isinstance(m, Mapping)}
    ids = [m.get("id") for m in members if isinstance(m, Mapping)]
    reasons = []
    if len(set(ids)) < team_size(required):
        reasons.append(f"任务 {task.get('number')} 的检查组应至少 {team_size(required)} 名不同人员")
    missing = [d for d in required if d not in present]
    if missing:
        reasons.append(f"任务 {task.get('number')} 的检查组缺少部门：{'、'.join(missing)}")
    return reasons


def verify_teams(
    requests: Sequence[TeamRequest],
    inspectors: Sequence[Inspector],
    seed: str,
    recorded: Iterable[Team],
    conflicts: Conflicts = (),
    initial_load: Mapping[str, int] | None = None,
) -> TeamReport:
    """Re-run the team matching from the internal inputs and compare with the recorded teams.

    Teams are compared as sets of members (the pick order is not significant); each recorded team
    is also checked against the rules on its own, so a report says *why* a team is wrong.
    Teams changed later by an approved article 14 reassignment must be compared as drawn.
    """
    conflicts = list(conflicts)
    by_id = {inspector.id: inspector for inspector in inspectors}
    conflicted = conflicts_by_target(conflicts)
    recorded_by_uscc = {team.uscc: team for team in recorded}
    try:
        expected = match_teams(requests, inspectors, seed, conflicts, initial_load)
    except NoFeasibleTeam as error:
        return TeamReport((Finding(error.uscc, False, f"重新匹配失败：{error}"),))
    findings = []
    for request, team in zip(requests, expected):
        actual = recorded_by_uscc.pop(request.uscc, None)
        if actual is None:
            findings.append(Finding(request.uscc, False, "缺少该检查对象的检查组记录"))
            continue
        reasons = team_violations(request, actual.members, by_id, conflicted.get(request.uscc, ()))
        if sorted(actual.members) != sorted(team.members):
            reasons.append(f"检查组应为 {sorted(team.members)}，记录为 {sorted(actual.members)}")
        findings.append(Finding(request.uscc, not reasons, "；".join(reasons) or MATCH))
    for uscc in recorded_by_uscc:
        findings.append(Finding(uscc, False, "该检查对象未被抽中，却有检查组记录"))
    return TeamReport(tuple(findings))


def verify_public_inspectors(
    record: Mapping[str, Any], teams: Iterable[Team], inspectors: Sequence[Inspector], key: bytes
) -> TeamReport:
    """Check that the record's opaque inspector ids and departments match the internal teams."""
    by_id = {inspector.id: inspector for inspector in inspectors}
    teams_by_uscc = {team.uscc: team for team in teams}
    findings = []
    for task in record["tasks"]:
        team = teams_by_uscc.get(task["uscc"])
        if team is None:
            findings.append(Finding(task["uscc"], False, "内部记录中没有该任务的检查组"))
            continue
        expected = sorted(
            (by_id[m].department, opaque_inspector_id(record["draw_id"], m, key)) for m in team.members
        )
        published = sorted((m["department"], m["id"]) for m in task["inspectors"])
        ok = expected == published
        findings.append(Finding(task["uscc"], ok, MATCH if ok else "公开记录中的检查人员与内部记录不符"))
    return TeamReport(tuple(findings))


# ------------------------------------------------------------------------- shuangsui.draw/2
# The whole record checked one part at a time (gateway.draw.record_v2): each part's text against
# its SHA-256 in the index (a changed part is named), then its stratum re-drawn; only the strata's
# drawn targets, the key strata's populations and the targets named by the eligibility changes are
# kept between parts, so memory follows the largest stratum, not the population. One stratum is
# checked from the index and its part alone, tied to the frozen populations by strata_sha256.



def _part_name(descriptor: Mapping[str, Any] | None, position: int, kind: str) -> str:
    if kind == "tasks":
        return f"任务分块 {position}"
    return str(descriptor.get("key")) if isinstance(descriptor, Mapping) else f"分层分块 {position}"


def _index_problems(index: Any) -> list[str]:
    if not isinstance(index, Mapping):
        return ["索引应为 JSON 对象"]
    if index.get("format") != FORMAT_V2:
        return [f"format 应为 {FORMAT_V2}，实际为 {index.get('format')!r}"]
    parts = index.get("parts")
    if not (isinstance(parts, Mapping) and isinstance(parts.get("strata"), list) and isinstance(parts.get("tasks"), list)
            and all(isinstance(d, Mapping) and (not is_chunked(d) or d["chunks"]) for d in parts["strata"])
            and all(isinstance(d, Mapping) and isinstance(d.get("sha256"), str)
                    for d in [*(c for s in parts["strata"] for c in descriptor_parts(s)), *parts["tasks"]])):
        return ["parts 应列出 strata 与 tasks 两组分块，每块带 sha256"]
    view = {**index, "strata": [{"key": d.get("key")} for d in parts["strata"]], "tasks": []}
    if parts.get("exclusions"):  # the exclusions are in parts of their own, checked as they come
        view["exclusions"] = []
    return record_problems(view, strata=False)


class _Chunked:
    """A large stratum read one chunk at a time (its population sorted by USCC, cut into ranges).

    Its selection is checked without the whole list: with T the ticket of the index's
    ``last_selected``, the chunks' selected members must number ``sample_size``, each be a member
    of its chunk, in strictly increasing ticket order within it, none above T, T among them; and
    no other member's ticket may lie below T. Those are exactly the ``sample_size`` smallest."""

    def __init__(self, descriptor: Mapping[str, Any], seed: str) -> None:
        self.descriptor = descriptor
        self.ticketer = Ticketer(seed)
        last = descriptor.get("last_selected")
        self.threshold = self.ticketer.entry(last) if isinstance(last, str) else None
        self.own = hashlib.sha256(b"[")
        self.reasons: list[str] = []
        self.broken = False  # the population's hash cannot be completed
        self.bad_selection = False
        self.chunks_seen = self.count = self.selected = 0
        self.threshold_seen = False
        self.last_uscc = ""
        self.key_population: list[str] = []

    def chunk_problems(self, piece: Any, number: int, part: Mapping[str, Any]) -> list[str]:
        self.chunks_seen += 1
        name = f"分块 {part.get('part')}"
        if not isinstance(piece, Mapping) or piece.get("chunk") != number or piece.get("key") != self.descriptor.get("key"):
            return [f"{name} 不是本分层的第 {number} 块"]
        population = piece.get("population")
        if not (_texts(population) and _texts(piece.get("selected")) and _texts(piece.get("key_targets"))):
            return [f"{name} 的 population、selected、key_targets 应为 USCC 字符串列表"]
        if not population or not all(a < b for a, b in zip([self.last_uscc, *population], population)):
            return [f"{name} 的总体名单应按 USCC 升序接续上一块且不得重复"]
        if (len(population), population[0], population[-1]) != (part.get("count"), part.get("first"), part.get("last")):
            return [f"索引中 {name} 的 count、first、last 与分块不符"]
        return []

    def add_members(self, inner: bytes | memoryview, piece: Mapping[str, Any]) -> None:
        """A well-formed chunk: ``inner`` its population's canonical JSON without the brackets."""
        self.own.update(b"," if self.count else b"")
        self.own.update(inner)
        population, selected = piece["population"], piece["selected"]
        self.count += len(population)
        self.last_uscc = population[-1]
        self.selected += len(selected)
        if not self._selection_ok(population, selected):
            self.bad_selection = True

    def _selection_ok(self, population: list[str], selected: list[str]) -> bool:
        if self.threshold is None:
            return not selected
        entry, last, members = self.ticketer.entry, "", set(population)
        for uscc in selected:
            current = entry(uscc)
            if uscc not in members or current <= last or current > self.threshold:
                return False
            last = current
        self.threshold_seen = self.threshold_seen or last == self.threshold
        chosen = set(selected)
        return not any(uscc not in chosen and entry(uscc) < self.threshold
                       for uscc in _prefix_filter(population, self.ticketer, self.threshold[:TICKET_DIGITS]))

    def finish(self) -> list[str]:
        """The stratum's reasons (empty: it matches)."""
        descriptor, reasons = self.descriptor, list(self.reasons)
        if self.chunks_seen < len(descriptor["chunks"]):
            self.broken = True
            reasons.append(f"缺少该分层的分块（读到 {self.chunks_seen} 块，索引列出 {len(descriptor['chunks'])} 块）")
        if self.broken:
            return reasons
        self.own.update(b"]")
        if self.own.hexdigest() != descriptor.get("population_sha256"):
            reasons.append("总体名单与本分层的 population_sha256 不符")
        if self.count != descriptor.get("population_size"):
            reasons.append("索引中的 population_size 与分块不符")
        try:
            size = sample_size(descriptor["ratio"], self.count)
        except (ArithmeticError, ValueError, TypeError, KeyError):
            return reasons + ["ratio 格式错误"]
        if size != descriptor.get("sample_size"):
            reasons.append(f"抽取数量应为 ceil({descriptor['ratio']} × {self.count}) = {size}，"
                           f"记录为 {descriptor.get('sample_size')}")
        if self.bad_selection or self.selected != size or (size > 0) != self.threshold_seen:
            reasons.append("抽中名单与重新计算结果不同")
        return reasons


def _code_range(descriptor: Mapping[str, Any], population: list[str]) -> list[tuple[str, Any]]:
    """The first and last code of a part's population, to compare with the index (which a lookup
    trusts to skip the parts that do not hold an enterprise); records older than them have none."""
    if "first" not in descriptor and "last" not in descriptor:
        return []
    return [("first", population[0] if population else None), ("last", population[-1] if population else None)]


def _exclusions_in_range(exclusions: list[Mapping[str, Any]], descriptor: Mapping[str, Any]) -> bool:
    """Whether an exclusions part's codes run in order from the index's ``first`` to its ``last``
    (a lookup fetches only the part whose range holds an enterprise); older records have neither."""
    if "first" not in descriptor and "last" not in descriptor:
        return True
    codes = [e["uscc"] for e in exclusions]
    return (bool(codes) and all(a <= b for a, b in zip(codes, codes[1:]))
            and [descriptor.get("first"), descriptor.get("last")] == [codes[0], codes[-1]])


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


class StreamVerifier:
    """Feed the index, then every stratum part's text in order, then every tasks part's text;
    :meth:`report` gives the verdict. ``key_populations``: matter -> its key stratum's population
    (read beforehand: the key strata come after the ordinary strata they are checked against)."""

    def __init__(self, index: Mapping[str, Any], *, key_populations: Mapping[str, set[str]] | None = None,
                 expected_population_sha256: str | None = None) -> None:
        self.index = index
        problems = _index_problems(index)
        self.checks = [Finding("format", not problems, "；".join(problems) or MATCH)]
        self.ok_index = not problems
        self.seed = index.get("seed") if isinstance(index, Mapping) and isinstance(index.get("seed"), str) else ""
        if isinstance(index, Mapping) and isinstance(index.get("contributions"), list):
            self.checks.append(_seed_finding(index, self.seed))
        self.expected = expected_population_sha256
        parts = index.get("parts") if self.ok_index else {"strata": [], "tasks": []}
        self.descriptors = list(parts["strata"])
        # Each stratum part in order: (stratum position, its descriptor, chunk number or 0, the part's descriptor).
        self.plan = [(position, d, number if is_chunked(d) else 0, part)
                     for position, d in enumerate(self.descriptors, start=1)
                     for number, part in enumerate(descriptor_parts(d), start=1)]
        self.parts_seen = 0
        self.current: _Chunked | None = None
        self.task_descriptors = list(parts["tasks"])
        self.strata: list[Finding] = []
        self.whole = hashlib.sha256(b"[")
        self.complete = True
        # The drawn targets, USCC -> index of its matters in ``matter_lists`` (the matters in record
        # order, as :func:`merge_selected` lists them): the tasks are checked against this alone, in
        # ticket order, each task popping its target. A target's ticket is recomputed from its task.
        self.drawn: dict[str, int] = {}
        self.matter_lists: list[tuple[str, ...]] = []
        self._matter_numbers: dict[tuple[str, ...], int] = {}
        self.last_entry = ""
        self.skipped_tasks = 0
        self.chain: list[dict[str, str]] = []
        # No ticket cache across strata: it would grow with the population (the merge of the
        # drawn targets recomputes their tickets, a small share).
        self.cache: dict[str, str] | None = None
        self.key_populations = key_populations
        self.key_reasons: list[str] = []
        self.seen_key: dict[str, Mapping[str, Any]] = {}
        self.ordinary: dict[str, list[dict[str, Any]]] = {}
        section = index.get("eligibility_changes") if isinstance(index, Mapping) else None
        self.moves = section.get("moves") if isinstance(section, Mapping) and isinstance(section.get("moves"), list) else []
        self.moved = {m.get("uscc") for m in self.moves if isinstance(m, Mapping)}
        self.members: dict[str, set[str]] = {}
        self.task_position = 0
        self.task_reasons: list[str] = []
        self.part_reasons: list[str] = []
        self.strata_done = False
        # The exclusions in parts (a province's record): each part's caps check, in turn.
        self.exclusion_descriptors = list(parts.get("exclusions") or [])
        self.exclusions_seen = self.capped = 0
        self.caps_reasons: list[str] = []

    # ------------------------------------------------------------------------------ strata
    def add_stratum(self, text: bytes) -> None:
        """The next stratum part's exact text (a whole stratum, or a chunk of a large one)."""
        self.parts_seen += 1
        if self.parts_seen > len(self.plan):
            self.strata.append(Finding(f"分层分块 {self.parts_seen}", False, "索引中没有这一分块"))
            self.complete = False
            return
        position, descriptor, number, part = self.plan[self.parts_seen - 1]
        if number:
            self._add_chunk(text, position, descriptor, number, part)
            return
        self._close_current()
        name = _part_name(descriptor, position, "stratum")
        tampered = hashlib.sha256(text).hexdigest() != descriptor["sha256"]
        if tampered:
            self.part_reasons.append(f"分层 {name} 的分块内容与索引中的 SHA-256 不符（该分块被改动）")
            self.complete = False
        try:
            entry = json.loads(text)  # the standard library peaks lower than orjson on a large part
        except ValueError as error:
            self.strata.append(Finding(name, False, f"分块不是有效的 JSON：{error}"))
            self.complete = False
            return
        self.add_entry(entry, position, descriptor, text)
        if tampered:
            # Still re-drawn, so that the report also says what in it is wrong.
            finding = self.strata[-1]
            reason = "分块内容与索引中的 SHA-256 不符，该分块被改动" + ("" if finding.ok else "；" + finding.reason)
            self.strata[-1] = Finding(finding.subject, False, reason)

    def _add_chunk(self, text: bytes, position: int, descriptor: Mapping[str, Any], number: int,
                   part: Mapping[str, Any]) -> None:
        """One chunk of a large stratum: its hash, its place in the stratum's sorted population, and
        its members' selection against the stratum's last selected ticket (see :class:`_Chunked`)."""
        if number == 1 or self.current is None or self.current.descriptor is not descriptor:
            self._close_current()
            self.current = _Chunked(descriptor, self.seed)
            self.whole.update(b"," if len(self.chain) else b"")
            self.whole.update(b'{"key":' + canonical_json(descriptor.get("key")) + b',"population":[')
        state = self.current
        if hashlib.sha256(text).hexdigest() != part["sha256"]:
            state.reasons.append(f"分块 {part.get('part')} 内容与索引中的 SHA-256 不符，该分块被改动")
            self.part_reasons.append(f"分层 {descriptor.get('key')} 的分块 {part.get('part')} 内容与索引中的 "
                                     "SHA-256 不符（该分块被改动）")
            self.complete = False
        try:
            piece = json.loads(text)
        except ValueError as error:
            piece, state.broken = None, True
            state.reasons.append(f"分块 {part.get('part')} 不是有效的 JSON：{error}")
        problems = state.chunk_problems(piece, number, part) if piece is not None else ["格式错误"]
        if problems:
            state.broken = True
            state.reasons += problems
        else:
            view = population_view(text)
            inner = (canonical_json(piece["population"]) if view is None else view)[1:-1]
            state.add_members(inner, piece)
            self.whole.update(b"," if number > 1 else b"")
            self.whole.update(inner)
            del inner, view
            self._add_drawn(descriptor["matter"], piece["selected"])
            self._chunk_key_check(descriptor, piece)
            if self.moved:
                self.members.setdefault(descriptor["key"], set()).update(self.moved.intersection(piece["population"]))
        if number == len(descriptor["chunks"]):
            self._close_current()

    def _chunk_key_check(self, descriptor: Mapping[str, Any], piece: Mapping[str, Any]) -> None:
        matter = descriptor["matter"]
        if descriptor["key"] == f"{matter}:{KEY_STRATUM}":
            self.current.key_population += piece["population"]
            return
        keyed = (self.key_populations or {}).get(matter, set())
        if (keyed and not keyed.isdisjoint(piece["population"])) or piece.get("key_targets"):
            self.key_reasons.append(f"事项 {matter} 的重点抽查对象应只在分层 {matter}:{KEY_STRATUM} 中")

    def _close_current(self) -> None:
        """The finding of the large stratum being read, once its last chunk is in (or known missing)."""
        state, self.current = self.current, None
        if state is None:
            return
        descriptor = state.descriptor
        self.whole.update(b'],"ratio":' + canonical_json(descriptor.get("ratio")) + b"}")
        reasons = state.finish()
        if state.broken:
            self.complete = False
        matter, key = descriptor["matter"], descriptor["key"]
        self.chain.append({"key": key, "population_sha256": state.own.hexdigest(), "ratio": descriptor["ratio"]})
        self.strata.append(Finding(str(key), not reasons, "；".join(reasons[:_MAX_LISTED]) or MATCH))
        if key == f"{matter}:{KEY_STRATUM}":
            self.seen_key[matter] = {"key": key, "ratio": descriptor["ratio"], "population": state.key_population}
        else:
            self.ordinary.setdefault(matter, []).append({"key": key, "ratio": descriptor["ratio"]})

    def add_entry(self, entry: Any, position: int, descriptor: Mapping[str, Any] | None,
                  text: bytes | None = None) -> None:
        problems = stratum_problems(entry)
        if not problems and descriptor is not None:
            for name, value in (("key", entry["key"]), ("ratio", entry["ratio"]), ("sample_size", entry["sample_size"]),
                                ("population_sha256", entry["population_sha256"]),
                                ("population_size", len(entry["population"])), *_code_range(descriptor, entry["population"])):
                if descriptor.get(name) != value:
                    problems.append(f"索引中的 {name} 与分块不符")
        if problems:
            name = str(entry.get("key")) if isinstance(entry, Mapping) else f"#{position}"
            self.strata.append(Finding(name, False, "格式错误：" + "；".join(problems)))
            self.complete = False
            return
        view = population_view(text) if text is not None else None
        population = canonical_json(entry["population"]) if view is None else view
        own = hashlib.sha256(population).hexdigest()
        self.whole.update(b"," if len(self.chain) else b"")
        self.whole.update(b'{"key":' + canonical_json(entry["key"]) + b',"population":')
        self.whole.update(population)
        self.whole.update(b',"ratio":' + canonical_json(entry["ratio"]) + b"}")
        del population, view
        self.chain.append({"key": entry["key"], "population_sha256": own, "ratio": entry["ratio"]})
        self.strata.append(_stratum_finding(entry, position, [], own, self.seed, self.cache))
        self._add_drawn(entry["matter"], entry["selected"])
        self._key_check(entry)
        if self.moved:
            self.members[entry["key"]] = self.moved.intersection(entry["population"])

    def _matters_number(self, matters: tuple[str, ...]) -> int:
        number = self._matter_numbers.get(matters)
        if number is None:
            number = self._matter_numbers[matters] = len(self.matter_lists)
            self.matter_lists.append(matters)
        return number

    def _add_drawn(self, matter: str, selected: Iterable[str]) -> None:
        drawn, lists = self.drawn, self.matter_lists
        alone = self._matters_number((matter,))
        for uscc in selected:
            number = drawn.get(uscc)
            if number is None:
                drawn[uscc] = alone
            elif matter not in lists[number]:
                drawn[uscc] = self._matters_number(lists[number] + (matter,))

    def _key_check(self, entry: Mapping[str, Any]) -> None:
        matter = entry["matter"]
        if entry["key"] == matter + ":" + KEY_STRATUM:
            self.seen_key[matter] = entry
            return
        self.ordinary.setdefault(matter, []).append({"key": entry["key"], "ratio": entry["ratio"]})
        keyed = (self.key_populations or {}).get(matter, set())
        if (keyed and not keyed.isdisjoint(entry["population"])) or entry.get("key_targets"):
            self.key_reasons.append(f"事项 {matter} 的重点抽查对象应只在分层 {matter}:{KEY_STRATUM} 中")

    # ------------------------------------------------------------------------------- tasks
    def _finish_strata(self) -> None:
        if self.strata_done:
            return
        self.strata_done = True
        self._close_current()
        for descriptor in self.descriptors[len(self.strata):]:
            self.strata.append(Finding(str(descriptor.get("key")), False, "缺少该分层的分块"))
            self.complete = False
        if not self.seed:
            self.drawn.clear()
        self.entry = Ticketer(self.seed).entry
        self.plan = self.index.get("plan") if isinstance(self.index.get("plan"), Mapping) else {}
        self.departments = _matter_departments(self.plan)

    def add_tasks(self, text: bytes) -> None:
        self._finish_strata()
        position = len([r for r in self.task_reasons if r is None]) + 1
        self.task_reasons.append(None)  # marks one part seen
        descriptor = self.task_descriptors[position - 1] if position <= len(self.task_descriptors) else None
        name = _part_name(descriptor, position, "tasks")
        if descriptor is None or hashlib.sha256(text).hexdigest() != descriptor["sha256"]:
            self.part_reasons.append(f"{name} 的内容与索引中的 SHA-256 不符（该分块被改动）")
            count = descriptor.get("count", 0) if descriptor else 0
            self.task_position += count
            self.skipped_tasks += count if isinstance(count, int) else 0
            return
        tasks = orjson.loads(text)
        self.add_task_list(tasks, name)

    def add_task_list(self, tasks: Any, name: str) -> None:
        problems = _task_problems(tasks)
        if problems:
            self.task_reasons.append(f"{name}：" + "；".join(problems[:_MAX_LISTED]))
            self.task_position += len(tasks) if isinstance(tasks, list) else 0
            return
        self.task_position += len(tasks)
        # The tasks are every drawn target once, in ticket order, iff each pops a drawn target, their
        # tickets strictly increase, and no drawn target is left at the end (see report()).
        lead = self.plan.get("lead_department")
        in_order = True
        for task in tasks:
            uscc = task["uscc"]
            number = self.drawn.pop(uscc, None)
            current = self.entry(uscc) if isinstance(uscc, str) else ""
            if number is None or current <= self.last_entry:
                in_order = False
            self.last_entry = max(self.last_entry, current)
            if number is None:
                continue
            matters = self.matter_lists[number]
            if list(matters) != task.get("matters"):
                self.task_reasons.append(f"任务 {task.get('number')} 的事项应为 {list(matters)}")
            if task.get("ticket") != ticket_from_key(current[:TICKET_DIGITS]):
                self.task_reasons.append(f"任务 {task.get('number')} 的票号与重新计算结果不同")
            if lead and self.departments:
                self.task_reasons += _composition_reasons(task, lead, matters, self.departments)
        if not in_order:
            self.task_reasons.append("任务应为每个抽中对象各一项，并按票号升序排列")

    # ------------------------------------------------------------------------------ report
    def report(self) -> VerifyReport:
        self._finish_strata()
        checks = list(self.checks)
        seen_task_parts = len([r for r in self.task_reasons if r is None])
        if seen_task_parts < len(self.task_descriptors):
            self.part_reasons.append(f"缺少任务分块 {seen_task_parts + 1} 及以后")
        checks.append(Finding("parts", not self.part_reasons, "；".join(self.part_reasons[:_MAX_LISTED]) or MATCH))
        whole = self.whole.copy()
        whole.update(b"]")
        if not self.complete:
            checks.append(Finding("population_sha256", False, "部分分层缺失、被改动或格式错误，无法核对总体摘要"))
            checks.append(Finding("strata_sha256", False, "部分分层缺失、被改动或格式错误，无法核对分层摘要链"))
        else:
            checks.append(_population(whole.hexdigest(), self.index.get("population_sha256"), self.expected))
            computed = strata_sha256(self.chain)
            ok = computed == self.index.get("strata_sha256") == strata_sha256(self.descriptors)
            checks.append(Finding("strata_sha256", ok, MATCH if ok else f"分层摘要链不符：重新计算为 {computed}"))
        reasons = [r for r in self.task_reasons if r is not None]
        if len(self.drawn) != self.skipped_tasks and not reasons:
            reasons.append("任务应为每个抽中对象各一项，并按票号升序排列")
        if len(reasons) > _MAX_LISTED:
            reasons = reasons[:_MAX_LISTED] + ["……"]
        checks.append(Finding("tasks", not reasons, "；".join(reasons) or MATCH))
        checks.append(self._key_strata())
        checks.append(self._caps() if self.exclusion_descriptors else caps_finding(self.index))
        checks.append(self._eligibility())
        return VerifyReport(tuple(checks), tuple(self.strata))

    def add_exclusions(self, text: bytes) -> None:
        """One exclusions part: its hash, then its exclusions checked against its caps counts."""
        self._finish_strata()
        self.exclusions_seen += 1
        position = self.exclusions_seen
        descriptor = self.exclusion_descriptors[position - 1] if position <= len(self.exclusion_descriptors) else None
        if descriptor is None or hashlib.sha256(text).hexdigest() != descriptor.get("sha256"):
            self.part_reasons.append(f"排除分块 {position} 的内容与索引中的 SHA-256 不符（该分块被改动）")
            return
        piece = json.loads(text)
        problems = _exclusion_problems(piece.get("exclusions")) if isinstance(piece, Mapping) else ["格式错误"]
        if not problems and not _exclusions_in_range(piece["exclusions"], descriptor):
            self.part_reasons.append(f"索引中排除分块 {position} 的 first、last 与分块不符")
        if problems:
            self.caps_reasons.append(f"排除分块 {position}：" + "；".join(problems[:_MAX_LISTED]))
            return
        caps = self.index.get("inspection_caps")
        section = {**caps, "counts": piece.get("counts")} if isinstance(caps, Mapping) else None
        finding = caps_finding({"exclusions": piece["exclusions"], "plan": self.index.get("plan"),
                                **({"inspection_caps": section} if section is not None else {})})
        self.capped += sum(1 for e in piece["exclusions"] if e.get("reason") == CAPS_REASON)
        if not finding.ok:
            self.caps_reasons.append(finding.reason)

    def _caps(self) -> Finding:
        reasons = list(self.caps_reasons)
        if self.exclusions_seen < len(self.exclusion_descriptors):
            self.part_reasons.append(f"缺少排除分块 {self.exclusions_seen + 1} 及以后")
            reasons.append("排除分块不全，无法逐条核对")
        if reasons:
            return Finding("inspection_caps", False, "；".join(reasons[:_MAX_LISTED]))
        if "inspection_caps" not in self.index:
            return Finding("inspection_caps", True, "本记录未适用检查次数上限")
        return Finding("inspection_caps", True, f"{MATCH}（{self.capped} 项排除）")

    def _key_strata(self) -> Finding:
        if not self.seen_key:
            return Finding("key_strata", True, "本记录未设重点抽查分层")
        rule = self.index.get("key_rule") if isinstance(self.index.get("key_rule"), Mapping) else {}
        ratios = rule.get("ratios") if isinstance(rule.get("ratios"), Mapping) else {}
        reasons = list(dict.fromkeys(self.key_reasons))
        for matter in dict.fromkeys([*self.ordinary, *self.seen_key]):
            entry = self.seen_key.get(matter)
            if entry is None:
                reasons.append(f"事项 {matter} 缺少重点抽查分层 {matter}:{KEY_STRATUM}")
                continue
            try:
                expected = max(Decimal(str(ratios.get(matter, KEY_RATIO))),
                               *(Decimal(e["ratio"]) for e in self.ordinary.get(matter, [])))
            except (ArithmeticError, ValueError):
                reasons.append(f"事项 {matter} 的重点抽查比例格式错误")
                continue
            if Decimal(entry["ratio"]) != expected:
                reasons.append(f"分层 {entry['key']} 的比例应为 {ratio_text(expected)}，记录为 {entry['ratio']}")
            if self.key_populations is None or set(entry["population"]) != self.key_populations.get(matter, set()):
                if self.key_populations is not None:
                    reasons.append(f"事项 {matter} 的重点抽查分层在两次读取中不同")
        return Finding("key_strata", not reasons, "；".join(reasons[:_MAX_LISTED]) or MATCH)

    def _eligibility(self) -> Finding:
        section = self.index.get("eligibility_changes")
        settled, reasons = _moves_section(section)
        if settled:
            return settled
        known = section.get("reasons") if isinstance(section.get("reasons"), Mapping) else {}
        window = section.get("window") if isinstance(section.get("window"), Mapping) else {}
        for move in section["moves"]:
            reasons += _move_problems(move, self.members, known, window)
        return Finding("eligibility_changes", not reasons, "；".join(reasons[:_MAX_LISTED]) or MATCH)


def _population(computed: str, recorded: Any, expected: str | None) -> Finding:
    if computed != recorded:
        return Finding("population_sha256", False, f"总体摘要不符：重新计算为 {computed}")
    if expected is not None and computed != expected:
        return Finding("population_sha256", False, f"总体摘要与冻结时公布的 {expected} 不符")
    return Finding("population_sha256", True)


def _key_populations(entries: Iterable[Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for entry in entries:  # a large key stratum's chunks each hold part of its population
        if isinstance(entry, Mapping) and isinstance(entry.get("matter"), str) \
                and entry.get("key") == f"{entry['matter']}:{KEY_STRATUM}" and isinstance(entry.get("population"), list):
            out.setdefault(entry["matter"], set()).update(entry["population"])
    return out


def verify_whole(record: Mapping[str, Any], *, expected_population_sha256: str | None = None) -> VerifyReport:
    """Verify a loaded whole version 2 record (a dict): each stratum entry and each tasks part is
    re-serialised and checked against its SHA-256 in the index, then re-drawn."""
    index = index_of_whole(record)
    entries = record.get("strata") if isinstance(record.get("strata"), list) else []
    verifier = StreamVerifier(index, key_populations=_key_populations(entries),
                              expected_population_sha256=expected_population_sha256)
    for entry in entries:
        verifier.add_stratum(canonical_json(entry))
    tasks = record.get("tasks") if isinstance(record.get("tasks"), list) else []
    start = 0
    for descriptor in verifier.task_descriptors:
        count = descriptor.get("count", 0) if isinstance(descriptor.get("count"), int) else 0
        verifier.add_tasks(canonical_json(tasks[start:start + count]))
        start += count
    if start < len(tasks):
        verifier._finish_strata()
        verifier.part_reasons.append(f"记录中有 {len(tasks) - start} 个任务不在索引列出的任务分块中")
    for piece in record.get("exclusion_parts") if isinstance(record.get("exclusion_parts"), list) else []:
        verifier.add_exclusions(canonical_json(piece))
    return verifier.report()


def verify_file(path: Path, *, expected_population_sha256: str | None = None) -> VerifyReport:
    """Verify a whole version 2 record file streaming, one part at a time: the index from its last
    line, then the key strata (the ordinary strata are checked against them), then every part in
    turn. A file not in the line layout is loaded whole."""
    try:
        index = json.loads(read_index(path))
    except (LayoutError, ValueError):
        return verify_whole(json.loads(path.read_text(encoding="utf-8")),
                            expected_population_sha256=expected_population_sha256)
    descriptors = (index.get("parts") or {}).get("strata", []) if isinstance(index, Mapping) else []
    wanted = {part.get("part") for d in descriptors if isinstance(d, Mapping) and d.get("key") == f"{d.get('matter')}:{KEY_STRATUM}"
              for part in descriptor_parts(d) if isinstance(part, Mapping)}
    try:
        key_entries = []
        if wanted:
            position = 0
            for kind, text in read_parts(path):
                if kind != "stratum":
                    break
                position += 1
                if position in wanted:
                    try:
                        key_entries.append(json.loads(text))
                    except ValueError:
                        pass
        verifier = StreamVerifier(index, key_populations=_key_populations(key_entries),
                                  expected_population_sha256=expected_population_sha256)
        for kind, text in read_parts(path):
            if kind == "stratum":
                verifier.add_stratum(text)
            elif kind == "tasks":
                verifier.add_tasks(text)
            else:
                verifier.add_exclusions(text)
    except LayoutError as error:
        return VerifyReport((Finding("format", False, f"记录文本不完整或格式错误：{error}"),), ())
    return verifier.report()


def verify_stratum(index: Any, key: str, texts: bytes | Sequence[bytes]) -> VerifyReport:
    """Verify one stratum from the index and that stratum's parts alone (one part, or each chunk
    of a large stratum in order): each part's SHA-256, its population against its own hash, its
    sample size and its selection; and the index's strata against ``strata_sha256``, which ties
    the stratum to the frozen populations."""
    problems = _index_problems(index)
    checks = [Finding("format", not problems, "；".join(problems) or MATCH)]
    if problems:
        return VerifyReport(tuple(checks), ())
    seed = index.get("seed") if isinstance(index.get("seed"), str) else ""
    checks.append(_seed_finding(index, seed))
    descriptors = index["parts"]["strata"]
    computed = strata_sha256(descriptors)
    ok = computed == index.get("strata_sha256")
    checks.append(Finding("strata_sha256", ok, MATCH if ok else f"分层摘要链不符：重新计算为 {computed}"))
    found = [(n, d) for n, d in enumerate(descriptors, start=1) if d.get("key") == key]
    if not found:
        return VerifyReport(tuple(checks), (Finding(key, False, "索引中没有这一分层"),))
    position, descriptor = found[0]
    texts = [texts] if isinstance(texts, bytes) else list(texts)
    expected = len(descriptor_parts(descriptor))
    if len(texts) != expected:
        return VerifyReport(tuple(checks), (Finding(key, False, f"该分层有 {expected} 个分块，给出了 {len(texts)} 个"),))
    verifier = StreamVerifier(index)
    verifier.parts_seen = next(n for n, step in enumerate(verifier.plan) if step[0] == position)
    for text in texts:
        verifier.add_stratum(text)
    verifier._close_current()
    finding = verifier.strata[0]
    if finding.ok and descriptor.get("sample_size") != sample_size(descriptor["ratio"], descriptor["population_size"]):
        finding = Finding(key, False, "索引中的抽取数量与比例不符")
    return VerifyReport(tuple(checks), (finding,))
