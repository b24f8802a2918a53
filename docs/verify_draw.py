#!/usr/bin/env python3
"""Re-run the target selection of a Shuangsui Gateway public draw record (shuangsui.draw/1 or
shuangsui.draw/2), or the choice of a replacement inspector in a reassignment record
(shuangsui.reassignment/1).

Usage:  python verify_draw.py RECORD.json [--population-sha256 HEX]
        python verify_draw.py INDEX.json PART.json... --stratum KEY   (one stratum of a /2 record;
                                                                      a large stratum's parts in order)

A whole shuangsui.draw/2 record is read one part (one line) at a time; a large stratum is cut
into parts (chunks) of a bounded number of members, so memory stays bounded, whatever the
population. Each part's SHA-256 is checked against the index: a
changed part is named. Needs only the Python standard library (3.8 or later). Prints one line per
check and per stratum. Exit status: 0 everything matches, 1 something does not match, 2 the file
cannot be read.
"""

import argparse
import hashlib
import heapq
import json
import math
import re
import sys
from decimal import Decimal
from fractions import Fraction
from itertools import islice

FORMAT = "shuangsui.draw/1"
FORMAT_V2 = "shuangsui.draw/2"
HEAD = b'{"strata":['
TASKS_OPEN = b'],"tasks":['
EXCLUSIONS_OPEN = b'],"exclusion_parts":['
INDEX_OPEN = b"],"
TICKET_DIGITS = 78  # decimal digits of 2**256 - 1, the longest ticket


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ticket(uscc, seed_hash):
    """consistent-sampler 1.0.10: first_fraction(uscc, seed), given seed_hash = sha256_hex(seed)."""
    digits = "{:064d}".format(int(sha256_hex(seed_hash + uscc), 16))
    return "0." + digits[::-1]


def ticket_key(ticket_text):
    """Tickets have 64 to 78 digits; padding them to one width makes string order numeric order."""
    return ticket_text[2:].ljust(TICKET_DIGITS, "0")


def select(population, seed, k):
    """The k USCCs with the smallest tickets, in ticket order (equal tickets: smaller USCC first)."""
    seed_hash = sha256_hex(seed)
    keyed = ((ticket_key(ticket(uscc, seed_hash)), uscc) for uscc in population)
    return [uscc for _, uscc in heapq.nsmallest(k, keyed)]


def selection_matches(population, seed, k, selected):
    """Whether ``selected == select(population, seed, k)`` for a population of distinct USCCs,
    without holding the k smallest tickets (a province's stratum draws hundreds of thousands):
    ``selected`` is k members of the population in strictly increasing ticket order, and no other
    member's ticket comes before the last of them."""
    if not isinstance(selected, list) or len(selected) != k or not all(isinstance(u, str) for u in selected):
        return False
    if k == 0:
        return True
    seed_hash = sha256_hex(seed)
    last = None
    for uscc in selected:
        current = (ticket_key(ticket(uscc, seed_hash)), uscc)
        if last is not None and current <= last:
            return False
        last = current
    chosen = set(selected)
    if sum(map(chosen.__contains__, population)) != k:
        return False
    return not any(uscc not in chosen and (ticket_key(ticket(uscc, seed_hash)), uscc) < last for uscc in population)


def sample_size(ratio_text, population_size):
    """ceil(ratio × N), exactly: the ratio is a decimal string, never a binary float."""
    return math.ceil(Fraction(Decimal(ratio_text)) * population_size)


def canonical_json(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def canonical_sha256(value):
    return hashlib.sha256(canonical_json(value)).hexdigest()


def seed_line(seed, rebuilt):
    """Return (the line on the recorded seed, whether it is the one the contributions rebuild)."""
    if rebuilt is not None and rebuilt == seed:
        return "随机种子：一致（{}）".format(seed), True
    return "随机种子：与各方贡献不符（记录为 {}，由贡献拼接得 {}）".format(seed, rebuilt), False


def check_record(record, announced_sha256=None):
    """Return (lines, mismatching stratum keys, everything matches)."""
    lines, bad_strata, ok = [], [], True
    if record.get("format") != FORMAT:
        lines.append("记录格式：不是 {}".format(FORMAT))
        ok = False
    seed = record.get("seed")
    line, seed_ok = seed_line(seed, rebuild_seed(record))
    lines.append(line)
    ok = ok and seed_ok
    strata = record.get("strata") or []
    if not isinstance(strata, list) or not strata:
        lines.append("分层：记录中没有分层")
        return lines, bad_strata, False
    try:
        population_sha256 = canonical_sha256(
            [{"key": s["key"], "population": s["population"], "ratio": s["ratio"]} for s in strata]
        )
    except (KeyError, TypeError):
        population_sha256 = None
    if population_sha256 is None or population_sha256 != record.get("population_sha256"):
        lines.append("总体摘要：不符（重新计算为 {}）".format(population_sha256))
        ok = False
    elif announced_sha256 is not None and population_sha256 != announced_sha256.lower():
        lines.append("总体摘要：与冻结时公布的 {} 不符".format(announced_sha256))
        ok = False
    else:
        lines.append("总体摘要：一致（{}）".format(population_sha256))
    key_reasons = check_key_strata(record, strata)
    if key_reasons:
        lines.append("重点抽查分层：不一致（{}）".format("；".join(key_reasons)))
        ok = False
    else:
        lines.append("重点抽查分层：一致")
    caps_reasons = check_caps(record)
    if caps_reasons is None:
        lines.append("检查次数上限：本记录未适用")
    elif caps_reasons:
        lines.append("检查次数上限：不一致（{}）".format("；".join(caps_reasons)))
        ok = False
    else:
        lines.append("检查次数上限：一致")
    if record.get("eligibility_changes") is None:
        lines.append("冻结前抽取资格变更：本记录未列（早于该部分的记录）")
    else:
        move_reasons = check_eligibility_changes(record["eligibility_changes"], strata)
        lines.append("冻结前抽取资格变更：" + ("不一致（{}）".format("；".join(move_reasons)) if move_reasons else "一致"))
        ok = ok and not move_reasons
    for position, stratum in enumerate(strata, start=1):
        key = stratum.get("key", "#{}".format(position)) if isinstance(stratum, dict) else "#{}".format(position)
        reasons = check_stratum(stratum, seed)
        if reasons:
            lines.append("分层 {}：不一致（{}）".format(key, "；".join(reasons)))
            bad_strata.append(str(key))
            ok = False
        else:
            lines.append("分层 {}：一致".format(key))
    return lines, bad_strata, ok


def rebuild_seed(record):
    """The contributions' digits joined with "-" in their order; None if they make no valid seed."""
    try:
        digits = [c["digits"] for c in sorted(record["contributions"], key=lambda c: c["order"])]
    except (KeyError, TypeError):
        return None
    if len(digits) < 3 or sum(len(d) for d in digits if isinstance(d, str)) < 20:
        return None
    if not all(isinstance(d, str) and d and set(d) <= set("0123456789") for d in digits):
        return None
    return "-".join(digits)


def check_stratum(stratum, seed, own_sha256=None):
    """Return why the stratum does not match (empty if it matches); ``own_sha256``: the hash of
    its population, if already computed."""
    try:
        population = stratum["population"]
        reasons = []
        distinct = all(a < b for a, b in zip(population, islice(population, 1, None)))
        if not distinct:
            reasons.append("总体名单未按 USCC 升序排列或有重复")
        if (own_sha256 or canonical_sha256(population)) != stratum["population_sha256"]:
            reasons.append("总体名单与本分层的 population_sha256 不符")
        size = sample_size(stratum["ratio"], len(population))
        if size != stratum["sample_size"]:
            reasons.append("抽取数量应为 {}，记录为 {}".format(size, stratum["sample_size"]))
        if not isinstance(seed, str) or not (selection_matches(population, seed, size, stratum["selected"]) if distinct
                                              else select(population, seed, size) == stratum["selected"]):
            reasons.append("抽中名单与重新计算结果不同")
        return reasons
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        return ["格式错误：{!r}".format(error)]


def check_key_strata(record, strata):
    """Why the key strata do not match (empty if they do). Key targets (article 15/28) sit only in
    their matter's "<matter>:key" stratum, whose ratio is the plan's key ratio for the matter
    (key_rule.ratios; "1", all of them, if not named), never below an ordinary stratum's ratio of
    the matter. A record made before key strata existed has none, and nothing to check here."""
    try:
        key_strata = {s["matter"]: s for s in strata if s["key"] == s["matter"] + ":key"}
        if not key_strata:
            return []
        ratios = (record.get("key_rule") or {}).get("ratios") or {}
        reasons = []
        for matter in sorted({s["matter"] for s in strata}):
            key_stratum = key_strata.get(matter)
            if key_stratum is None:
                reasons.append("事项 {} 缺少重点抽查分层".format(matter))
                continue
            ordinary = [s for s in strata if s["matter"] == matter and s is not key_stratum]
            expected = max([Decimal(str(ratios.get(matter, "1")))] + [Decimal(s["ratio"]) for s in ordinary])
            if Decimal(key_stratum["ratio"]) != expected:
                reasons.append("分层 {} 的比例应为 {}，记录为 {}".format(
                    key_stratum["key"], format(expected.normalize(), "f"), key_stratum["ratio"]))
            keyed = set(key_stratum["population"])
            if any(keyed.intersection(s["population"]) or s.get("key_targets") for s in ordinary):
                reasons.append("事项 {} 的重点抽查对象应只在分层 {} 中".format(matter, key_stratum["key"]))
        return reasons
    except (KeyError, TypeError, AttributeError, ValueError, ArithmeticError) as error:
        return ["格式错误：{!r}".format(error)]


def check_caps(record):
    """Why the exclusions for the county's yearly inspection caps are not justified by the counts
    the record carries (empty if they are; None if the record applied no caps). An exclusion naming
    no matter needs the target's total at the total cap; one naming a matter needs the count of the
    matter's department at the per-department cap; each total lies between its largest department's
    count and the sum of its departments (a joint visit counts once in the total)."""
    capped = [e for e in record.get("exclusions") or [] if e.get("reason") == "inspection_cap_reached"]
    section = record.get("inspection_caps")
    if section is None:
        return ["有因检查次数上限排除的对象，但记录没有 inspection_caps 部分"] if capped else None
    try:
        departments = {m["code"]: m["department"] for m in record["plan"]["matters"]}
        reasons = []
        for uscc, counts in sorted(section["counts"].items()):
            parts = counts["by_department"].values()
            if not max(parts, default=0) <= counts["total"] <= sum(parts):  # a joint visit counts once in the total
                reasons.append("对象 {} 的检查次数合计应不少于任一部门的次数、不多于各部门之和".format(uscc))
        for exclusion in capped:
            counts = section["counts"].get(exclusion["uscc"])
            matter = exclusion.get("matter")
            if counts is None:
                reasons.append("对象 {} 未列出检查次数".format(exclusion["uscc"]))
            elif matter is None and counts["total"] < section["total"]:
                reasons.append("对象 {} 未达合计上限 {}".format(exclusion["uscc"], section["total"]))
            elif matter is not None and counts["total"] < section["total"] and \
                    counts["by_department"].get(departments[matter], 0) < section["per_department"]:
                reasons.append("对象 {} 未达每部门上限 {}（事项 {}）".format(
                    exclusion["uscc"], section["per_department"], matter))
        return reasons
    except (KeyError, TypeError, AttributeError) as error:
        return ["格式错误：{!r}".format(error)]


def check_eligibility_changes(section, strata):
    """Why the "eligibility_changes" section does not match (empty if it does): its moves hash to
    moves_sha256; a target listed as moved into a stratum is in it, one moved out of a stratum is
    not (and the stratum exists); every change has a listed reason and falls between the plan's
    publication and the freeze (the section's window)."""
    try:
        reasons = []
        if canonical_sha256(section["moves"]) != section["moves_sha256"]:
            reasons.append("变更列表与 moves_sha256 不符")
        members = {s["key"]: set(s["population"]) for s in strata}
        window = section["window"]
        for move in section["moves"]:
            uscc = move["uscc"]
            reasons += ["{} 列为移入 {}，但不在该分层中".format(uscc, key)
                        for key in move["moved_in"] if uscc not in members.get(key, ())]
            reasons += ["{} 列为移出 {}，但该分层不存在或仍含该对象".format(uscc, key)
                        for key in move["moved_out"] if key not in members or uscc in members[key]]
            if not move["changes"]:
                reasons.append("{} 未列出引起变动的变更".format(uscc))
            for change in move["changes"]:
                if change["reason"] not in section["reasons"]:
                    reasons.append("{} 的变更原因代码未知：{!r}".format(uscc, change["reason"]))
                if not window["from"] <= change["at"] <= window["to"]:
                    reasons.append("{} 的变更时间 {} 不在公布至冻结的期间内".format(uscc, change["at"]))
        return reasons
    except (KeyError, TypeError, AttributeError) as error:
        return ["格式错误：{!r}".format(error)]


# ------------------------------------------------------------------- shuangsui.draw/2 (split)

def read_index(path, handle):
    """The index of a whole /2 record in its line layout: its last line. ``handle`` is the file,
    open for binary reading, its first line already read and found to be the layout's."""
    with handle:
        handle.seek(0, 2)
        position, tail = handle.tell(), b""
        while position > 0 and b"\n" not in tail.rstrip(b"\r\n"):
            start = max(0, position - 65536)
            handle.seek(start)
            tail = handle.read(position - start) + tail
            position = start
    line = tail.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    if not line.startswith(INDEX_OPEN + b'"'):
        raise ValueError("记录文本不完整")
    return b"{" + line[len(INDEX_OPEN):]


def read_parts(path):
    """The parts of a whole /2 record, one line at a time: ("stratum", text) per stratum part,
    then ("tasks", text) per tasks part, then ("exclusions", text) per exclusions part, each the
    part's exact text."""
    with open(path, "rb") as handle:
        handle.readline()
        section = "stratum"
        for raw in handle:
            line = raw.rstrip(b"\r\n")
            if line == TASKS_OPEN and section == "stratum":
                section = "tasks"
            elif line == EXCLUSIONS_OPEN and section == "tasks":
                section = "exclusions"
            elif line.startswith(INDEX_OPEN + b'"'):
                return
            elif not line:
                raise ValueError("记录文本中有空行")
            else:
                # One copy of a part at a time: a part of a province's stratum is tens of megabytes.
                if section == "tasks":
                    text = b"[" + (line[:-1] if line.endswith(b",") else line) + b"]"
                else:
                    text = line[:-1] if line.endswith(b",") else line
                del raw, line
                yield section, text
                del text
    raise ValueError("记录文本不完整")


PLAIN = re.compile(rb'[0-9A-Z",\[\]]*')


def population_text(text, population):
    """The canonical JSON of a stratum part's population: cut out of the part's text when it is a
    plain list of digits-and-capitals USCCs (then it is its own canonical form), so that a list of
    millions is not serialised again (nor copied: a view into the text); else serialised."""
    start = text.find(b'"population":[')
    end = text.find(b'],"population_sha256":', start)
    if end < 0:  # a chunk of a large stratum: its population comes before "selected"
        end = text.find(b'],"selected":', start)
    if start >= 0 and end >= 0:
        piece = memoryview(text)[start + len(b'"population":'):end + 1]
        if PLAIN.fullmatch(piece):
            return piece
    return canonical_json(population)


def strata_sha256(entries):
    return canonical_sha256([{"key": e["key"], "population_sha256": e["population_sha256"], "ratio": e["ratio"]}
                             for e in entries])


def is_key_stratum(entry):
    return entry.get("key") == "{}:key".format(entry.get("matter"))


def stratum_parts(descriptor):
    """The parts of one stratum: the "chunks" of a large stratum, else the descriptor itself."""
    return descriptor["chunks"] if isinstance(descriptor.get("chunks"), list) else [descriptor]


class ChunkedStratum:
    """A large stratum, read one chunk (one part) at a time: its population is sorted by USCC and
    cut into ranges, each chunk with its own members' selection. With T the ticket of the index's
    "last_selected", the selected members must number sample_size, each be in its chunk, in
    increasing ticket order, none above T, T among them, and no other member below T: exactly the
    sample_size smallest tickets."""

    def __init__(self, descriptor, seed):
        self.descriptor, self.seed_hash = descriptor, sha256_hex(seed if isinstance(seed, str) else "")
        last = descriptor.get("last_selected")
        self.threshold = self.entry(last) if isinstance(last, str) else None
        self.own = hashlib.sha256(b"[")
        self.reasons, self.broken, self.bad_selection = [], False, False
        self.seen = self.count = self.selected = 0
        self.threshold_seen, self.last_uscc, self.kept, self.key_targets = False, "", [], False

    def entry(self, uscc):
        return (ticket_key(ticket(uscc, self.seed_hash)), uscc)

    def add(self, text, number, part, keep, whole):
        """One chunk's exact text; ``whole`` is the population chain being hashed."""
        self.seen += 1
        name = "分块 {}".format(part.get("part"))
        if hashlib.sha256(text).hexdigest() != part.get("sha256"):
            self.reasons.append(name + " 内容与索引中的 SHA-256 不符，该分块被改动")
            self.broken = True
        try:
            chunk = json.loads(text.decode("utf-8"))
            population, selected = chunk["population"], chunk["selected"]
            if chunk.get("chunk") != number or chunk.get("key") != self.descriptor.get("key"):
                raise ValueError("不是本分层的第 {} 块".format(number))
            if not population or not all(a < b for a, b in zip([self.last_uscc] + population, population)):
                raise ValueError("总体名单应按 USCC 升序接续上一块且不得重复")
            if (len(population), population[0], population[-1]) != (part.get("count"), part.get("first"), part.get("last")):
                raise ValueError("索引中的 count、first、last 与分块不符")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            self.reasons.append("{} 格式错误：{}".format(name, error))
            self.broken = True
            return None
        inner = population_text(text, population)[1:-1]
        self.own.update((b"," if self.count else b"") + inner)
        whole.update((b"," if number > 1 else b"") + inner)
        self.count += len(population)
        self.last_uscc = population[-1]
        self.selected += len(selected)
        self.bad_selection = self.bad_selection or not self.selection_ok(population, selected)
        self.kept += population if is_key_stratum(self.descriptor) else [u for u in population if u in keep]
        return chunk

    def selection_ok(self, population, selected):
        if self.threshold is None:
            return not selected
        last, members = None, set(population)
        for uscc in selected:
            current = self.entry(uscc)
            if uscc not in members or (last is not None and current <= last) or current > self.threshold:
                return False
            last = current
        self.threshold_seen = self.threshold_seen or last == self.threshold
        chosen = set(selected)
        return not any(uscc not in chosen and self.entry(uscc) < self.threshold for uscc in population)

    def finish(self):
        """The stratum's reasons (empty: it matches)."""
        descriptor, reasons = self.descriptor, list(self.reasons)
        if self.seen < len(descriptor["chunks"]):
            self.broken = True
            reasons.append("缺少该分层的分块（读到 {} 块，索引列出 {} 块）".format(self.seen, len(descriptor["chunks"])))
        if self.broken:
            return reasons
        self.own.update(b"]")
        if self.own.hexdigest() != descriptor.get("population_sha256"):
            reasons.append("总体名单与本分层的 population_sha256 不符")
        if self.count != descriptor.get("population_size"):
            reasons.append("索引中的 population_size 与分块不符")
        size = sample_size(descriptor["ratio"], self.count)
        if size != descriptor.get("sample_size"):
            reasons.append("抽取数量应为 {}，记录为 {}".format(size, descriptor.get("sample_size")))
        if self.bad_selection or self.selected != size or (size > 0) != self.threshold_seen:
            reasons.append("抽中名单与重新计算结果不同")
        return reasons


def code_range(descriptor, population):
    """The first and last code of a part's population, to compare with the index (a lookup trusts
    them to skip the parts that do not hold an enterprise); older records have none."""
    if "first" not in descriptor and "last" not in descriptor:
        return ()
    return (("first", population[0] if population else None), ("last", population[-1] if population else None))


class V2Strata:
    """The stratum parts of a /2 record, fed one at a time (a whole stratum, or a chunk of a large
    one): each checked, the population chain hashed; between parts only the key strata's
    populations and the targets in ``keep`` (named by the eligibility changes) are kept."""

    def __init__(self, descriptors, seed, keep):
        self.descriptors, self.seed, self.keep = descriptors, seed, keep
        self.plan = [(d, number if isinstance(d.get("chunks"), list) else 0, part)
                     for d in descriptors for number, part in enumerate(stratum_parts(d), start=1)]
        self.position, self.current = 0, None
        self.whole = hashlib.sha256(b"[")
        self.chain, self.light, self.lines, self.bad, self.complete = [], [], [], [], True

    def result(self, key, reasons):
        self.lines.append("分层 {}：".format(key) + ("不一致（{}）".format("；".join(reasons)) if reasons else "一致"))
        if reasons:
            self.bad.append(str(key))

    def add(self, text):
        self.position += 1
        descriptor, number, part = self.plan[self.position - 1] if self.position <= len(self.plan) else ({}, 0, {})
        if not number:
            self.close()
            self.add_whole(text, descriptor)
            return
        if number == 1 or self.current is None or self.current.descriptor is not descriptor:
            self.close()
            self.current = ChunkedStratum(descriptor, self.seed)
            self.whole.update(b"," if self.chain else b"")
            self.whole.update(b'{"key":' + canonical_json(descriptor.get("key")) + b',"population":[')
        chunk = self.current.add(text, number, part, self.keep, self.whole)
        if chunk is not None and chunk.get("key_targets"):
            self.current.key_targets = True
        if number == len(descriptor["chunks"]):
            self.close()

    def close(self):
        state, self.current = self.current, None
        if state is None:
            return
        descriptor = state.descriptor
        self.whole.update(b'],"ratio":' + canonical_json(descriptor.get("ratio")) + b"}")
        self.result(descriptor.get("key"), state.finish())
        self.complete = self.complete and not state.broken
        self.chain.append({"key": descriptor.get("key"), "population_sha256": state.own.hexdigest(),
                           "ratio": descriptor.get("ratio")})
        self.light.append({"key": descriptor.get("key"), "matter": descriptor.get("matter"), "ratio": descriptor.get("ratio"),
                           "key_targets": state.key_targets, "population": state.kept})

    def add_whole(self, text, descriptor):
        """A stratum in one part."""
        key = descriptor.get("key", "#{}".format(self.position))
        tampered = hashlib.sha256(text).hexdigest() != descriptor.get("sha256")
        if tampered:
            self.complete = False
        try:
            stratum = json.loads(text.decode("utf-8"))
            population = stratum["population"]
        except (ValueError, KeyError, TypeError) as error:
            self.result(key, ["格式错误：{!r}".format(error)])
            self.complete = False
            return
        listed = population_text(text, population)
        own = hashlib.sha256(listed).hexdigest()
        reasons = (["分块内容与索引中的 SHA-256 不符，该分块被改动"] if tampered else []) + check_stratum(stratum, self.seed, own)
        for name, value in (("key", stratum.get("key")), ("ratio", stratum.get("ratio")),
                            ("population_sha256", stratum.get("population_sha256")),
                            ("sample_size", stratum.get("sample_size")), ("population_size", len(population))) \
                + code_range(descriptor, population):
            if descriptor.get(name) != value:
                reasons.append("索引中的 {} 与分块不符".format(name))
        self.result(key, reasons)
        self.whole.update(b"," if self.chain else b"")
        self.whole.update(b'{"key":' + canonical_json(stratum["key"]) + b',"population":')
        self.whole.update(listed)
        self.whole.update(b',"ratio":' + canonical_json(stratum["ratio"]) + b"}")
        del listed
        self.chain.append({"key": stratum["key"], "population_sha256": own, "ratio": stratum["ratio"]})
        self.light.append({"key": stratum["key"], "matter": stratum.get("matter"), "ratio": stratum["ratio"],
                           "key_targets": stratum.get("key_targets"),
                           "population": population if is_key_stratum(stratum) else [u for u in population if u in self.keep]})

    def finish(self):
        """(population chain hash, chain, light strata, stratum lines, bad strata, complete)."""
        self.close()
        for descriptor in self.descriptors[len(self.lines):]:
            self.result(descriptor.get("key"), ["缺少该分层的分块"])
            self.complete = False
        self.whole.update(b"]")
        return self.whole, self.chain, self.light, self.lines, self.bad, self.complete


class ExclusionParts:
    """The exclusions of a /2 record kept in parts of their own (a province's caps exclude hundreds
    of thousands): each part holds some exclusions and the caps counts of their targets, checked
    part by part against the index's caps."""

    def __init__(self, index):
        self.index = index
        self.descriptors = (index.get("parts") or {}).get("exclusions") or []
        self.seen, self.bad, self.reasons = 0, [], []

    def add(self, text):
        self.seen += 1
        descriptor = self.descriptors[self.seen - 1] if self.seen <= len(self.descriptors) else {}
        if hashlib.sha256(text).hexdigest() != descriptor.get("sha256"):
            self.bad.append(self.seen)
            return
        try:
            piece = json.loads(text.decode("utf-8"))
            caps = self.index.get("inspection_caps")
            record = {"exclusions": piece["exclusions"], "plan": self.index.get("plan")}
            if caps is not None:
                record["inspection_caps"] = dict(caps, counts=piece["counts"])
            codes = [e["uscc"] for e in piece["exclusions"]]
        except (ValueError, KeyError, TypeError) as error:
            self.reasons.append("排除分块 {} 格式错误：{!r}".format(self.seen, error))
            return
        # first and last (absent in older records) let a lookup fetch one part: they must hold.
        if ("first" in descriptor or "last" in descriptor) and not (
                codes == sorted(codes) and codes and [descriptor.get("first"), descriptor.get("last")] == [codes[0], codes[-1]]):
            self.reasons.append("索引中排除分块 {} 的 first、last 与分块不符".format(self.seen))
        self.reasons += check_caps(record) or []

    def bad_parts(self):
        missing = ["排除分块 {} 及以后（缺少）".format(self.seen + 1)] if self.seen < len(self.descriptors) else []
        return ["排除分块 {}".format(n) for n in self.bad] + missing

    def caps_reasons(self):
        """Like check_caps: None when the record applied no caps and nothing says otherwise."""
        if self.bad_parts():
            return self.reasons + ["排除分块不全或被改动，无法逐条核对"]
        if "inspection_caps" not in self.index and not self.reasons:
            return None
        return self.reasons


def check_v2(index, pieces, key_populations, announced_sha256=None):
    """Check a /2 record one part at a time. Between parts only the key strata's populations and
    the targets named by the eligibility changes are kept. ``pieces``: ("stratum", text) for each
    stratum part in order, then ("tasks", text) for each tasks part. Return (lines, bad strata, ok)."""
    lines, ok = [], True
    parts = index.get("parts") or {}
    descriptors, task_descriptors = parts.get("strata") or [], parts.get("tasks") or []
    if index.get("format") != FORMAT_V2 or not descriptors:
        return ["记录格式：不是 {}，或索引没有列出分层分块".format(FORMAT_V2)], [], False
    seed = index.get("seed")
    line, seed_ok = seed_line(seed, rebuild_seed(index))
    lines.append(line)
    ok = ok and seed_ok
    section = index.get("eligibility_changes")
    moved = {m.get("uscc") for m in section.get("moves", [])} if isinstance(section, dict) else set()
    keep = moved.union(*key_populations.values()) if key_populations else moved
    strata = V2Strata(descriptors, seed, keep)
    exclusions = ExclusionParts(index)
    count, bad_tasks = 0, []
    for kind, text in pieces:
        if kind == "stratum":
            strata.add(text)
            continue
        if kind == "exclusions":
            exclusions.add(text)
            continue
        count += 1
        descriptor = task_descriptors[count - 1] if count <= len(task_descriptors) else {}
        if hashlib.sha256(text).hexdigest() != descriptor.get("sha256"):
            bad_tasks.append(str(count))
    whole, chain, light, stratum_lines, bad_strata, complete = strata.finish()
    if count != len(task_descriptors):
        bad_tasks.append("共 {} 块，索引列出 {} 块".format(count, len(task_descriptors)))
    bad_parts = ["任务分块 {}".format(n) for n in bad_tasks] + exclusions.bad_parts()
    lines.append("记录分块：" + ("一致" if not bad_parts else "{} 与索引中的 SHA-256 不符".format("、".join(bad_parts))))
    ok = ok and not bad_parts
    if not complete:
        lines.append("总体摘要：部分分层缺失或被改动，无法核对")
        ok = False
    elif whole.hexdigest() != index.get("population_sha256"):
        lines.append("总体摘要：不符（重新计算为 {}）".format(whole.hexdigest()))
        ok = False
    elif announced_sha256 is not None and whole.hexdigest() != announced_sha256.lower():
        lines.append("总体摘要：与冻结时公布的 {} 不符".format(announced_sha256))
        ok = False
    else:
        lines.append("总体摘要：一致（{}）".format(whole.hexdigest()))
    if complete and not (strata_sha256(chain) == strata_sha256(descriptors) == index.get("strata_sha256")):
        lines.append("分层摘要链：不符（重新计算为 {}）".format(strata_sha256(chain)))
        ok = False
    elif complete:
        lines.append("分层摘要链：一致（{}）".format(index.get("strata_sha256")))
    key_reasons = check_key_strata(index, light)
    lines.append("重点抽查分层：" + ("不一致（{}）".format("；".join(key_reasons)) if key_reasons else "一致"))
    caps_reasons = exclusions.caps_reasons() if exclusions.descriptors else check_caps(index)
    if caps_reasons is None:
        lines.append("检查次数上限：本记录未适用")
    else:
        lines.append("检查次数上限：" + ("不一致（{}）".format("；".join(caps_reasons)) if caps_reasons else "一致"))
    if section is None:
        lines.append("冻结前抽取资格变更：本记录未列（早于该部分的记录）")
    else:
        move_reasons = check_eligibility_changes(section, light)
        lines.append("冻结前抽取资格变更：" + ("不一致（{}）".format("；".join(move_reasons)) if move_reasons else "一致"))
        ok = ok and not move_reasons
    ok = ok and not key_reasons and not caps_reasons and not bad_strata
    return lines + stratum_lines, bad_strata, ok


def check_v2_file(path, index_text, announced_sha256=None):
    """A whole /2 record in the line layout, read twice: first only its key strata (the ordinary
    strata are checked against them), then every part in turn."""
    index = json.loads(index_text.decode("utf-8"))
    wanted = {part.get("part") for d in (index.get("parts") or {}).get("strata", []) if is_key_stratum(d)
              for part in stratum_parts(d)}
    key_populations, position = {}, 0
    if wanted:
        for kind, text in read_parts(path):
            if kind != "stratum":
                break
            position += 1
            if position in wanted:
                try:  # a large key stratum's chunks each hold part of its population
                    entry = json.loads(text.decode("utf-8"))
                    key_populations.setdefault(entry["matter"], set()).update(entry["population"])
                except (ValueError, KeyError, TypeError):
                    pass
    return check_v2(index, read_parts(path), key_populations, announced_sha256)


def check_v2_whole(record, announced_sha256=None):
    """A whole /2 record loaded as one document: each part is re-serialised to check its hash."""
    index = {k: v for k, v in record.items() if k not in ("strata", "tasks", "exclusion_parts")}
    strata = record.get("strata") or []
    keys = {}
    for s in strata:
        if isinstance(s, dict) and is_key_stratum(s) and isinstance(s.get("population"), list):
            keys.setdefault(s["matter"], set()).update(s["population"])
    tasks, chunks, start = record.get("tasks") or [], [], 0
    for descriptor in (index.get("parts") or {}).get("tasks", []):
        chunks.append(canonical_json(tasks[start:start + descriptor.get("count", 0)]))
        start += descriptor.get("count", 0)
    if start < len(tasks):
        chunks.append(canonical_json(tasks[start:]))
    pieces = [("stratum", canonical_json(s)) for s in strata] + [("tasks", chunk) for chunk in chunks] \
        + [("exclusions", canonical_json(p)) for p in record.get("exclusion_parts") or []]
    return check_v2(index, pieces, keys, announced_sha256)


def check_one_stratum(index, key, texts):
    """One stratum of a /2 record from the index and its parts alone (one part, or each chunk of a
    large stratum, in order)."""
    descriptors = (index.get("parts") or {}).get("strata") or []
    lines, ok = [], True
    if index.get("format") != FORMAT_V2:
        return ["记录格式：不是 {} 的索引".format(FORMAT_V2)], False
    seed = index.get("seed")
    if rebuild_seed(index) != seed:
        lines.append("随机种子：与各方贡献不符")
        ok = False
    else:
        lines.append("随机种子：一致（{}）".format(seed))
    if strata_sha256(descriptors) != index.get("strata_sha256"):
        lines.append("分层摘要链：不符")
        ok = False
    else:
        lines.append("分层摘要链：一致（{}）".format(index.get("strata_sha256")))
    found = [d for d in descriptors if d.get("key") == key]
    if not found:
        return lines + ["分层 {}：索引中没有这一分层".format(key)], False
    descriptor = found[0]
    if len(texts) != len(stratum_parts(descriptor)):
        return lines + ["分层 {}：该分层有 {} 个分块，给出了 {} 个".format(
            key, len(stratum_parts(descriptor)), len(texts))], False
    strata = V2Strata([descriptor], seed, set())
    for text in texts:
        strata.add(text)
    stratum_lines = strata.finish()[3]
    return lines + stratum_lines, ok and not strata.bad


REASSIGNMENT_FORMAT = "shuangsui.reassignment/1"


def check_reassignment(record):
    """Why a reassignment record does not re-run (empty if it does): the nonce matches the
    commitment published at the request, the seed is draw seed|record id|nonce, and the replacement
    is the candidate outside the barred ids with the lowest (load, ticket of its id under the seed)."""
    try:
        problems = []
        if sha256_hex(record["nonce"]) != record["nonce_commitment"]:
            problems.append("揭示的随机值与申请时公布的承诺值不符")
        if "|".join([record["draw_seed"], record["id"], record["nonce"]]) != record["seed"]:
            problems.append("替换种子应为 抽取种子|调整记录编号|随机值")
        if record["leaving"] not in record["barred"]:
            problems.append("被替换人员应在排除名单中")
        seed_hash = sha256_hex(record["seed"])
        ranked = sorted((c["load"], ticket_key(ticket(c["id"], seed_hash)), c["id"])
                        for c in record["candidates"] if c["id"] not in set(record["barred"]))
        chosen = ranked[0][2] if ranked else None
        if chosen != record["replacement"]:
            problems.append("按记录重新计算的替换人员为 {}，记录为 {}".format(chosen, record["replacement"]))
        return problems
    except (KeyError, TypeError, ValueError) as error:
        return ["格式错误：{!r}".format(error)]


def main(argv=None):
    parser = argparse.ArgumentParser(description="核验双随机抽取记录（shuangsui.draw/1 或 /2）")
    parser.add_argument("record", help="抽取记录 JSON 文件（与 --stratum 同用时为索引文件）")
    parser.add_argument("part", nargs="*", help="与 --stratum 同用：该分层的分块文件（大的分层有多个分块，依次给出）")
    parser.add_argument("--population-sha256", help="冻结时公布的总体摘要（可选）")
    parser.add_argument("--stratum", help="只核验这一分层（如 food_safety:B），需给出索引文件与分块文件")
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.stratum is not None:
        try:
            with open(args.record, "rb") as handle:
                index = json.loads(handle.read().decode("utf-8"))
            texts = []
            for name in args.part:
                with open(name, "rb") as handle:
                    texts.append(handle.read().rstrip(b"\r\n"))
        except (OSError, ValueError, TypeError) as error:
            print("无法读取索引或分块：{}".format(error))
            return 2
        lines, ok = check_one_stratum(index, args.stratum, texts)
        print("\n".join(lines))
        print("结论：一致，该分层的抽取结果可复现" if ok else "结论：不一致（不一致的分层：{}）".format(args.stratum))
        return 0 if ok else 1
    try:
        handle = open(args.record, "rb")
        first = handle.readline()
        if first.rstrip(b"\r\n") == HEAD:
            # A whole /2 record in its line layout: read one part at a time.
            lines, bad_strata, ok = check_v2_file(args.record, read_index(args.record, handle), args.population_sha256)
            record = None
        else:
            with handle:
                record = json.loads((first + handle.read()).decode("utf-8"))
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
    except (OSError, ValueError) as error:
        print("无法读取抽取记录：{}".format(error))
        return 2
    if record is not None and record.get("format") == REASSIGNMENT_FORMAT:
        problems = check_reassignment(record)
        print("人员调整替换记录 {}：{}".format(record.get("id"), "；".join(problems) or "重新计算一致"))
        print("结论：不一致" if problems else "结论：一致，替换人员可复现")
        return 1 if problems else 0
    if record is not None and record.get("format") == FORMAT_V2:
        lines, bad_strata, ok = check_v2_whole(record, args.population_sha256)
    elif record is not None:
        lines, bad_strata, ok = check_record(record, args.population_sha256)
    print("\n".join(lines))
    if ok:
        print("结论：一致，抽取结果可复现")
        return 0
    print("结论：不一致（不一致的分层：{}）".format("、".join(bad_strata) or "无"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
