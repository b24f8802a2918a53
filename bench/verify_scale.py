"""Benchmark: verifying a province-scale ``shuangsui.draw/2`` record, without a database.

    python bench/verify_scale.py [--targets 10000000] [--matters 2]

Writes a synthetic whole record (``--targets`` targets, a quarter of them in each of ``--matters``
matters, overlapping, so 10M targets make about 5M stratum memberships as the issue's draw had;
uneven credit-risk classes, most in D, and a key stratum per matter, ratios 0.03/0.05/0.1/0.2, tasks
merged as the draw merges them, 2.8% of the targets excluded for the inspection caps) one stratum at a time, then verifies it in child processes, each
measuring its own peak memory: ``shuangsui verify``'s streaming verifier
(:func:`gateway.draw.verify.verify_file`), ``docs/verify_draw.py`` (standard library), and one
stratum alone from the index and its part. Prints sizes, times and peaks with the load average.
Aim (issue 20): whole-record verification within 500 MB at 10M targets.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import peak_rss_mb, run_child  # noqa: E402

RATIOS = {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.2"}
SEED = "31415926535-89793238-46264338"


def _uscc(i: int) -> str:
    return f"914108{i:011d}X"  # increasing with i: a range is already in USCC order


def _strata(targets: int, matters: int):
    """(key, matter, risk class, ratio, population generator) per stratum, in record order."""
    for m in range(matters):
        matter = f"matter_{m}"
        for risk_class in (*RATIOS, "key"):
            def population(m=m, risk_class=risk_class):
                for i in range(targets):
                    if i % 8 not in (m % 8, (m + 1) % 8):  # a quarter per matter, overlapping
                        continue
                    key = i % 97 == 0
                    r = (i // 8) % 20
                    # Uneven classes, as a county's are: most targets in D, few in A.
                    cls = "A" if r == 0 else "B" if r < 3 else "C" if r < 6 else "D"
                    if (risk_class == "key") != key or (not key and cls != risk_class):
                        continue
                    yield _uscc(i)
            yield (f"{matter}:{risk_class}", matter, "" if risk_class == "key" else risk_class,
                   "1" if risk_class == "key" else RATIOS[risk_class], population)


def _capped(targets: int) -> dict:
    """Exclusions for the yearly inspection caps, about 2.8% of the targets as a province's draw had
    (278,398 at 10M), each with its counts in the record's ``inspection_caps`` section."""
    excluded = [f"914109{i:011d}X" for i in range(targets * 28 // 1000)]
    return {"exclusions": [{"uscc": u, "reason": "inspection_cap_reached", "matter": None} for u in excluded],
            "inspection_caps": {"year": 2027, "version": 1, "per_department": 2, "total": 4, "exempt_channels": [],
                                "key_targets_exempt": True, "basis": "基准",
                                "counts": {u: {"total": 4, "by_department": {"market": 4}} for u in excluded}}}


def write(path: str, targets: int, matters: int, chunk: int | None = None, exclusions_per_part: int | None = None) -> dict:
    """``chunk``: members per stratum part (default :data:`gateway.draw.record_v2.STRATUM_CHUNK`),
    ``exclusions_per_part`` likewise (:data:`~gateway.draw.record_v2.EXCLUSIONS_PER_PART`). Beside
    ``path`` go ``index.json``, ``stratum-N.json`` and ``exclusions-N.json``, each part's text."""
    from gateway.draw.record import ALGORITHM, canonical_json
    from gateway.draw.record_v2 import RecordParts, task_chunks, whole_record_chunks
    from gateway.draw.sampler import TICKET_DIGITS, sample_size, smallest_entries
    from gateway.draw.strata import merge_selected

    start = time.perf_counter()
    contributions = [{"order": n, "role": role, "name": name, "digits": digits} for n, (role, name, digits) in
                     enumerate([("organiser", "甲", "31415926535"), ("operator", "乙", "89793238"),
                                ("supervisor", "丙", "46264338")], start=1)]
    fields = {"draw_id": "410823-draw-bench", "algorithm": dict(ALGORITHM), "seed": SEED, "contributions": contributions,
              "participants": {c["role"]: [c["name"]] for c in contributions}, **_capped(targets),
              "plan": {"number": "基准〔2027〕1号", "name": "规模基准", "year": 2027,
                       "matters": [{"code": f"matter_{m}", "department": "market"} for m in range(matters)]},
              "key_rule": {}}
    whole = hashlib.sha256(b"[")
    chunks: list[bytes] = []
    selected = []
    parts = RecordParts(fields)
    folder = Path(path).parent
    stratum_files = []
    biggest = (0, "", [])  # the largest stratum: members, key, its parts' files
    for position, (key, matter, risk_class, ratio, population) in enumerate(_strata(targets, matters)):
        members = list(population())
        size = sample_size(ratio, len(members))
        chosen = [e[TICKET_DIGITS:] for e in smallest_entries(members, SEED, size)]
        listed = canonical_json(members)
        whole.update((b"," if position else b"") + b'{"key":' + canonical_json(key) + b',"population":' + listed
                     + b',"ratio":' + canonical_json(ratio) + b"}")
        entry = {"key": key, "matter": matter, "risk_class": risk_class, "ratio": ratio, "population": members,
                 "population_sha256": hashlib.sha256(listed).hexdigest(), "sample_size": size, "selected": chosen,
                 "key_targets": members if risk_class == "" else []}
        files = []
        for number, _, text in parts.add_stratum(entry, chunk):
            files.append(folder / f"stratum-{number}.json")
            files[-1].write_bytes(text)
        stratum_files += files
        if len(members) >= biggest[0]:
            biggest = (len(members), key, [f.name for f in files])
        selected.append((matter, key, chosen))
        del members, listed, entry
    whole.update(b"]")
    fields["population_sha256"] = whole.hexdigest()
    targets_drawn = merge_selected(selected, SEED)
    tasks = [{"number": f"JH-{n:07d}", "uscc": t.uscc, "ticket": t.ticket, "matters": list(t.matters),
              "key_inspection": False, "inspectors": [{"department": "market", "id": f"{n:016x}"}]}
             for n, t in enumerate(targets_drawn, start=1)]
    chunks = [parts.add_tasks(chunk) for chunk in task_chunks(tasks)]
    excluded = []
    for number, _, text in parts.add_exclusions(*([exclusions_per_part] if exclusions_per_part else [])):
        (folder / f"exclusions-{number}.json").write_bytes(text)
        excluded.append(text)
    index, _ = parts.finish()
    (folder / "index.json").write_bytes(index)
    with open(path, "wb") as handle:
        for piece in whole_record_chunks(index, (f.read_bytes() for f in stratum_files), chunks, excluded):
            handle.write(piece)
    largest = max(stratum_files, key=lambda f: f.stat().st_size)
    return {"seconds": time.perf_counter() - start, "record_mb": Path(path).stat().st_size / 1e6,
            "index_mb": len(index) / 1e6, "largest_part_mb": largest.stat().st_size / 1e6, "parts": len(stratum_files),
            "largest_key": biggest[1], "largest_members": biggest[0], "largest_files": biggest[2],
            "largest_stratum_mb": sum((folder / name).stat().st_size for name in biggest[2]) / 1e6,
            "eligible": sum(d["population_size"] for d in parts.strata), "tasks": len(tasks)}


def verify(path: str) -> dict:
    from gateway.draw.verify import verify_file

    start = time.perf_counter()
    report = verify_file(Path(path))
    return {"seconds": time.perf_counter() - start, "ok": report.ok, "lines": [x for x in report.lines() if "不" in x][:5]}


def script(*args: str) -> dict:
    import contextlib
    import io
    import runpy

    module = runpy.run_path(str(Path(__file__).resolve().parents[1] / "docs" / "verify_draw.py"))
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = module["main"](list(args))
    return {"seconds": time.perf_counter() - start, "ok": code == 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=10_000_000)
    parser.add_argument("--matters", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "draw.json")
        made = run_child("bench.verify_scale", "write", path, str(args.targets), str(args.matters))
        print(f"{args.targets:,} targets: record written in {made['seconds']:.1f} s (peak {made['peak_mb']:.0f} MB): "
              f"{made['eligible']:,} eligible in the strata, {made['tasks']:,} tasks; whole {made['record_mb']:.1f} MB, "
              f"index {made['index_mb']:.2f} MB, {made['parts']} stratum parts, largest part {made['largest_part_mb']:.1f} MB; "
              f"largest stratum {made['largest_key']} ({made['largest_members']:,} members, "
              f"{len(made['largest_files'])} parts, {made['largest_stratum_mb']:.1f} MB)")
        checked = run_child("bench.verify_scale", "verify", path)
        print(f"shuangsui verify (streaming): {checked['seconds']:.1f} s, {'match' if checked['ok'] else 'MISMATCH'}, "
              f"peak {checked['peak_mb']:.0f} MB (aim <= 500)")
        scripted = run_child("bench.verify_scale", "script", path)
        print(f"docs/verify_draw.py (standard library): {scripted['seconds']:.1f} s, "
              f"{'match' if scripted['ok'] else 'MISMATCH'}, peak {scripted['peak_mb']:.0f} MB (aim <= 500)")
        files = [str(Path(tmp) / name) for name in made["largest_files"]]
        alone = run_child("bench.verify_scale", "script", str(Path(tmp) / "index.json"), *files,
                          "--stratum", made["largest_key"])
        print(f"one stratum alone ({made['largest_key']}, {len(files)} parts) with docs/verify_draw.py: "
              f"{alone['seconds']:.1f} s, {'match' if alone['ok'] else 'MISMATCH'}, peak {alone['peak_mb']:.0f} MB; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("write", "verify", "script"):
        step, *rest = sys.argv[1:]
        if step == "write":
            result = write(rest[0], int(rest[1]), int(rest[2]))
        elif step == "verify":
            result = verify(rest[0])
        else:
            result = script(*rest)
        result["peak_mb"] = peak_rss_mb()
        print(json.dumps(result, ensure_ascii=False))
    else:
        main()
