"""Verifying a ``shuangsui.draw/2`` record (:mod:`gateway.draw.record_v2`): whole and streaming, or
one stratum alone.

The whole record is checked one part at a time: each part's text against its SHA-256 in the index
(a changed part is named), then its stratum re-drawn; only the strata's drawn targets, the key
strata's populations and the targets named by the eligibility changes are kept between parts, so
memory follows the largest stratum, not the population. One stratum is checked from the index and
its part alone, and tied to the frozen populations through ``strata_sha256``.
Pure: no Flask, no database.
"""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping

from gateway.draw.eligibility import KEY_RATIO, KEY_STRATUM
from gateway.draw.record import (
    FORMAT_V2,
    _task_problems,  # noqa: E402  (shape of one tasks part)
    canonical_json,
    canonical_sha256,
    ratio_text,
    record_problems,
    stratum_problems,
)
from gateway.draw.record_v2 import LayoutError, index_of_whole, read_index, read_parts, strata_sha256
from gateway.draw.sampler import sample_size
from gateway.draw.strata import merge_selected
from gateway.draw.verify import (
    _MAX_LISTED,
    MATCH,
    Finding,
    VerifyReport,
    _composition_reasons,
    _matter_departments,
    _move_problems,
    _seed_finding,
    _stratum_finding,
    caps_finding,
)

CHECK_LABELS_V2 = {"parts": "记录分块", "strata_sha256": "分层摘要链"}


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
            and all(isinstance(d, Mapping) and isinstance(d.get("sha256"), str) for d in [*parts["strata"], *parts["tasks"]])):
        return ["parts 应列出 strata 与 tasks 两组分块，每块带 sha256"]
    view = {**index, "strata": [{"key": d.get("key")} for d in parts["strata"]], "tasks": []}
    return record_problems(view, strata=False)


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
        self.task_descriptors = list(parts["tasks"])
        self.strata: list[Finding] = []
        self.whole = hashlib.sha256(b"[")
        self.complete = True
        self.selected: list[tuple[str, str, list[str]]] = []
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
        self.targets: list | None = None
        self.strata_done = False

    # ------------------------------------------------------------------------------ strata
    def add_stratum(self, text: bytes) -> None:
        position = len(self.strata) + 1
        descriptor = self.descriptors[position - 1] if position <= len(self.descriptors) else None
        name = _part_name(descriptor, position, "stratum")
        if descriptor is None:
            self.strata.append(Finding(name, False, "索引中没有这一分块"))
            self.complete = False
            return
        tampered = hashlib.sha256(text).hexdigest() != descriptor["sha256"]
        if tampered:
            self.part_reasons.append(f"分层 {name} 的分块内容与索引中的 SHA-256 不符（该分块被改动）")
            self.complete = False
        try:
            entry = json.loads(text)
        except ValueError as error:
            self.strata.append(Finding(name, False, f"分块不是有效的 JSON：{error}"))
            self.complete = False
            return
        self.add_entry(entry, position, descriptor)
        if tampered:
            # Still re-drawn, so that the report also says what in it is wrong.
            finding = self.strata[-1]
            reason = "分块内容与索引中的 SHA-256 不符，该分块被改动" + ("" if finding.ok else "；" + finding.reason)
            self.strata[-1] = Finding(finding.subject, False, reason)

    def add_entry(self, entry: Any, position: int, descriptor: Mapping[str, Any] | None) -> None:
        problems = stratum_problems(entry)
        if not problems and descriptor is not None:
            for name, value in (("key", entry["key"]), ("ratio", entry["ratio"]), ("sample_size", entry["sample_size"]),
                                ("population_sha256", entry["population_sha256"]),
                                ("population_size", len(entry["population"]))):
                if descriptor.get(name) != value:
                    problems.append(f"索引中的 {name} 与分块不符")
        if problems:
            name = str(entry.get("key")) if isinstance(entry, Mapping) else f"#{position}"
            self.strata.append(Finding(name, False, "格式错误：" + "；".join(problems)))
            self.complete = False
            return
        population = canonical_json(entry["population"])
        own = hashlib.sha256(population).hexdigest()
        self.whole.update(b"," if len(self.chain) else b"")
        self.whole.update(b'{"key":' + canonical_json(entry["key"]) + b',"population":' + population
                          + b',"ratio":' + canonical_json(entry["ratio"]) + b"}")
        self.chain.append({"key": entry["key"], "population_sha256": own, "ratio": entry["ratio"]})
        self.strata.append(_stratum_finding(entry, position, [], own, self.seed, self.cache))
        self.selected.append((entry["matter"], entry["key"], list(entry["selected"])))
        self._key_check(entry)
        if self.moved:
            self.members[entry["key"]] = self.moved.intersection(entry["population"])

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
        for descriptor in self.descriptors[len(self.strata):]:
            self.strata.append(Finding(str(descriptor.get("key")), False, "缺少该分层的分块"))
            self.complete = False
        self.targets = merge_selected(self.selected, self.seed, self.cache) if self.seed else []
        self.by_uscc = {t.uscc: t for t in self.targets}
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
            self.task_position += descriptor.get("count", 0) if descriptor else 0
            return
        tasks = json.loads(text)
        self.add_task_list(tasks, name)

    def add_task_list(self, tasks: Any, name: str) -> None:
        problems = _task_problems(tasks)
        if problems:
            self.task_reasons.append(f"{name}：" + "；".join(problems[:_MAX_LISTED]))
            self.task_position += len(tasks) if isinstance(tasks, list) else 0
            return
        expected = self.targets[self.task_position:self.task_position + len(tasks)]
        self.task_position += len(tasks)
        if [t["uscc"] for t in tasks] != [target.uscc for target in expected]:
            self.task_reasons.append("任务应为每个抽中对象各一项，并按票号升序排列")
        lead = self.plan.get("lead_department")
        for task in tasks:
            target = self.by_uscc.get(task["uscc"])
            if target is not None and list(target.matters) != task.get("matters"):
                self.task_reasons.append(f"任务 {task.get('number')} 的事项应为 {list(target.matters)}")
            if target is not None and task.get("ticket") != target.ticket:
                self.task_reasons.append(f"任务 {task.get('number')} 的票号与重新计算结果不同")
            if lead and self.departments and target is not None:
                self.task_reasons += _composition_reasons(task, lead, target.matters, self.departments)

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
        if self.task_position != len(self.targets or []) and not reasons:
            reasons.append("任务应为每个抽中对象各一项，并按票号升序排列")
        if len(reasons) > _MAX_LISTED:
            reasons = reasons[:_MAX_LISTED] + ["……"]
        checks.append(Finding("tasks", not reasons, "；".join(reasons) or MATCH))
        checks.append(self._key_strata())
        checks.append(caps_finding(self.index))
        checks.append(self._eligibility())
        return VerifyReport(tuple(checks), tuple(self.strata))

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
        if section is None:
            return Finding("eligibility_changes", True, "本记录未列抽取资格变更（早于该部分的记录）")
        if not isinstance(section, Mapping) or not isinstance(section.get("moves"), list):
            return Finding("eligibility_changes", False, "eligibility_changes 格式错误")
        reasons = []
        if canonical_sha256(section["moves"]) != section.get("moves_sha256"):
            reasons.append("变更列表与 moves_sha256 不符")
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
    out = {}
    for entry in entries:
        if isinstance(entry, Mapping) and isinstance(entry.get("matter"), str) \
                and entry.get("key") == f"{entry['matter']}:{KEY_STRATUM}" and isinstance(entry.get("population"), list):
            out[entry["matter"]] = set(entry["population"])
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
    wanted = {d.get("part") for d in descriptors
              if isinstance(d, Mapping) and d.get("key") == f"{d.get('matter')}:{KEY_STRATUM}"}
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
            else:
                verifier.add_tasks(text)
    except LayoutError as error:
        return VerifyReport((Finding("format", False, f"记录文本不完整或格式错误：{error}"),), ())
    return verifier.report()


def verify_stratum(index: Any, key: str, text: bytes) -> VerifyReport:
    """Verify one stratum from the index and that stratum's part alone: the part's SHA-256, its
    population against its own hash, its sample size and its selection; and the index's strata
    against ``strata_sha256``, which ties the stratum to the frozen populations."""
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
    if hashlib.sha256(text).hexdigest() != descriptor["sha256"]:
        return VerifyReport(tuple(checks), (Finding(key, False, "分块内容与索引中的 SHA-256 不符，该分块被改动"),))
    verifier = StreamVerifier(index)
    verifier.add_entry(json.loads(text), position, descriptor)
    finding = verifier.strata[0]
    if finding.ok and descriptor.get("sample_size") != sample_size(descriptor["ratio"], descriptor["population_size"]):
        finding = Finding(key, False, "索引中的抽取数量与比例不符")
    return VerifyReport(tuple(checks), (finding,))
