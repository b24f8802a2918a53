#!/usr/bin/env python3
"""Re-run the target selection of a Shuangsui Gateway public draw record (shuangsui.draw/1), or
the choice of a replacement inspector in a reassignment record (shuangsui.reassignment/1).

Usage:  python verify_draw.py RECORD.json [--population-sha256 HEX]

Needs only the Python standard library (3.8 or later). Prints one line per check and per stratum.
Exit status: 0 everything matches, 1 something does not match, 2 the file cannot be read.
"""

import argparse
import hashlib
import heapq
import json
import math
import sys
from decimal import Decimal
from fractions import Fraction

FORMAT = "shuangsui.draw/1"
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


def sample_size(ratio_text, population_size):
    """ceil(ratio × N), exactly: the ratio is a decimal string, never a binary float."""
    return math.ceil(Fraction(Decimal(ratio_text)) * population_size)


def canonical_sha256(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_record(record, announced_sha256=None):
    """Return (lines, mismatching stratum keys, everything matches)."""
    lines, bad_strata, ok = [], [], True
    if record.get("format") != FORMAT:
        lines.append("记录格式：不是 {}".format(FORMAT))
        ok = False
    seed = record.get("seed")
    rebuilt = rebuild_seed(record)
    if rebuilt is not None and rebuilt == seed:
        lines.append("随机种子：一致（{}）".format(seed))
    else:
        lines.append("随机种子：与各方贡献不符（记录为 {}，由贡献拼接得 {}）".format(seed, rebuilt))
        ok = False
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


def check_stratum(stratum, seed):
    """Return why the stratum does not match (empty if it matches)."""
    try:
        population = stratum["population"]
        reasons = []
        if any(a >= b for a, b in zip(population, population[1:])):
            reasons.append("总体名单未按 USCC 升序排列或有重复")
        if canonical_sha256(population) != stratum["population_sha256"]:
            reasons.append("总体名单与本分层的 population_sha256 不符")
        size = sample_size(stratum["ratio"], len(population))
        if size != stratum["sample_size"]:
            reasons.append("抽取数量应为 {}，记录为 {}".format(size, stratum["sample_size"]))
        if not isinstance(seed, str) or select(population, seed, size) != stratum["selected"]:
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
    matter's department at the per-department cap; each total is the sum of its departments."""
    capped = [e for e in record.get("exclusions") or [] if e.get("reason") == "inspection_cap_reached"]
    section = record.get("inspection_caps")
    if section is None:
        return ["有因检查次数上限排除的对象，但记录没有 inspection_caps 部分"] if capped else None
    try:
        departments = {m["code"]: m["department"] for m in record["plan"]["matters"]}
        reasons = []
        for uscc, counts in sorted(section["counts"].items()):
            if counts["total"] != sum(counts["by_department"].values()):
                reasons.append("对象 {} 的检查次数合计与各部门之和不符".format(uscc))
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
    parser = argparse.ArgumentParser(description="核验双随机抽取记录（shuangsui.draw/1）")
    parser.add_argument("record", help="抽取记录 JSON 文件")
    parser.add_argument("--population-sha256", help="冻结时公布的总体摘要（可选）")
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        with open(args.record, encoding="utf-8") as handle:
            record = json.load(handle)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as error:
        print("无法读取抽取记录：{}".format(error))
        return 2
    if record.get("format") == REASSIGNMENT_FORMAT:
        problems = check_reassignment(record)
        print("人员调整替换记录 {}：{}".format(record.get("id"), "；".join(problems) or "重新计算一致"))
        print("结论：不一致" if problems else "结论：一致，替换人员可复现")
        return 1 if problems else 0
    lines, bad_strata, ok = check_record(record, args.population_sha256)
    print("\n".join(lines))
    if ok:
        print("结论：一致，抽取结果可复现")
        return 0
    print("结论：不一致（不一致的分层：{}）".format("、".join(bad_strata) or "无"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
