"""Re-running a draw: the public record check, and the internal team check for supervisors.

:func:`verify_record` needs nothing but the public record: it rebuilds the seed from the
contributions, re-hashes the populations, recomputes every stratum's sample size and selection,
and re-derives the joint tasks. :func:`verify_teams` re-runs the team matching from the internal
inputs (inspector directory, conflicts, loads) that only supervisors may see.
Pure: no Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from gateway.draw.eligibility import CAPS_REASON, KEY_RATIO, KEY_STRATUM, YearCaps
from gateway.draw.record import (
    FORMAT_V2,
    canonical_sha256,
    opaque_inspector_id,
    population_digests,
    record_problems,
    seed_from_record,
    stratum_problems,
)
from gateway.draw.sampler import SeedError, sample_size, select
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
        from gateway.draw.verify_v2 import verify_whole

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
    expected = select(population, seed, size, cache=cache)
    if expected != entry["selected"]:
        reasons.append("抽中名单与重新计算结果不同：" + _first_difference(expected, entry["selected"]))
    return Finding(name, not reasons, "；".join(reasons) or MATCH)


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
        elif entry["total"] != sum(by_department.values()):
            problems.append(f"对象 {uscc} 的检查次数合计 {entry['total']} 与各部门次数之和 {sum(by_department.values())} 不符")
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
def eligibility_finding(record: Mapping[str, Any], well_formed: list) -> Finding:
    """The ``eligibility_changes`` section (:mod:`gateway.draw.moves`): its moves hash to
    ``moves_sha256``; each listed target is in every stratum it moved into and in none it moved out
    of, each named stratum exists, and each change has a known reason and falls in the window.
    Records made before the section existed have none and pass."""
    section = record.get("eligibility_changes")
    if section is None:
        return Finding("eligibility_changes", True, "本记录未列抽取资格变更（早于该部分的记录）")
    if not isinstance(section, Mapping) or not isinstance(section.get("moves"), list):
        return Finding("eligibility_changes", False, "eligibility_changes 格式错误")
    reasons = []
    if canonical_sha256(section["moves"]) != section.get("moves_sha256"):
        reasons.append("变更列表与 moves_sha256 不符")
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
