#!/usr/bin/env python3
"""Check a Shuangsui Gateway inspection code (检查码, format shuangsui.code/1) offline.

Usage:  python verify_code.py CODE_OR_URL --keys shuangsui-keys.json [--record RECORD.json]

Needs the Python standard library and the `cryptography` package (pip install cryptography).
Checks:
  1. the Ed25519 signature, with the county's published public keys (retired keys included);
  2. the draw proof: the ticket is recomputed from the seed and the USCC as the draw does
     (consistent-sampler 1.0.10), and lies below the cut of every stratum the code names;
  3. with --record: the record is the one the code names (SHA-256 fingerprint), and each cut is the
     stratum's first ticket not drawn, recomputed from the stratum's population.
A changed field (USCC, window, departments, ...) is named: each field's digest is signed with it.
Exit status: 0 genuine, 1 not genuine, 2 the input cannot be read.
"""

import argparse
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "shuangsui.code/1"
FIELDS = ("task", "uscc", "plan", "draw", "fingerprint", "window", "departments", "team",
          "seed", "ticket", "cuts", "issued_at")
LABELS = {"task": "任务编号", "uscc": "统一社会信用代码", "plan": "计划编号", "draw": "抽取编号",
          "fingerprint": "抽取记录指纹", "window": "检查时间窗口", "departments": "检查部门",
          "team": "检查组成员", "seed": "随机种子", "ticket": "票号", "cuts": "分层截止值", "issued_at": "签发时间"}
WIDTH = 78  # decimal digits of 2**256 - 1, the longest ticket


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ticket(uscc, seed):
    """consistent-sampler 1.0.10: first_fraction(uscc, seed)."""
    return "0." + "{:064d}".format(int(sha256_hex(sha256_hex(seed) + uscc), 16))[::-1]


def padded(ticket_text):
    return ticket_text[2:].ljust(WIDTH, "0")


def first_not_drawn(population, seed, size):
    """The cut of a stratum: the (size+1)-th smallest ticket, or "1" when all were drawn."""
    if size >= len(population):
        return "1"
    ordered = sorted((padded(ticket(uscc, seed)), uscc) for uscc in population)
    digits = ordered[size][0]
    return "0." + digits[: max(64, len(digits.rstrip("0")))]


def check(code, keyset, record_bytes=None):
    """Return (claims, problems)."""
    parts = code.strip().split("/code/")[-1].split(".")
    if len(parts) != 3:
        raise ValueError("检查码应由以“.”分隔的三段组成")
    header, claims = json.loads(b64decode(parts[0])), json.loads(b64decode(parts[1]))
    if header.get("typ") != FORMAT or header.get("alg") != "EdDSA":
        raise ValueError("不是 shuangsui.code/1 检查码")
    problems = []
    missing = [name for name in FIELDS if name not in claims]
    if missing:
        return claims, ["缺少：" + "、".join(missing)]
    digests = claims.get("digests") or {}
    changed = [n for n in FIELDS if digests.get(n) != hashlib.sha256(canonical(claims[n])).hexdigest()[:16]]
    keys = {k["kid"]: k for k in keyset.get("keys", [])}
    key = keys.get(header.get("kid"))
    if key is None:
        problems.append("签名密钥 %s 不在公布的公钥中" % header.get("kid"))
    else:
        public_key = Ed25519PublicKey.from_public_bytes(b64decode(key["x"]))
        try:
            public_key.verify(b64decode(parts[2]), (parts[0] + "." + parts[1]).encode("ascii"))
        except InvalidSignature:
            problems += ["%s（%s）被改动，与签名不符" % (LABELS[n], n) for n in changed] or ["签名无效"]
    expected = ticket(claims["uscc"], claims["seed"])
    if claims["ticket"] != expected:
        problems.append("票号与统一社会信用代码、随机种子不符")
    for stratum, cut in sorted(claims["cuts"].items()):
        if cut != "1" and padded(expected) >= padded(cut):
            problems.append("分层 %s：票号不小于截止值" % stratum)
    if not claims["cuts"]:
        problems.append("没有分层截止值，不能证明被抽中")
    if record_bytes is not None:
        problems += against_record(claims, record_bytes)
    return claims, problems


def against_record(claims, record_bytes):
    if hashlib.sha256(record_bytes).hexdigest() != claims["fingerprint"]:
        return ["抽取记录的指纹与检查码不符"]
    record = json.loads(record_bytes.decode("utf-8"))
    problems = [] if record["seed"] == claims["seed"] else ["随机种子与抽取记录不符"]
    strata = {s["key"]: s for s in record["strata"]}
    for stratum, cut in sorted(claims["cuts"].items()):
        entry = strata.get(stratum)
        if entry is None:
            problems.append("抽取记录中没有分层 %s" % stratum)
        elif first_not_drawn(entry["population"], record["seed"], entry["sample_size"]) != cut:
            problems.append("分层 %s 的截止值与抽取记录不符" % stratum)
        elif claims["uscc"] not in entry["selected"]:
            problems.append("分层 %s 的抽中名单中没有 %s" % (stratum, claims["uscc"]))
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description="离线核验双随机检查码")
    parser.add_argument("code", help="检查码，或扫码得到的网址")
    parser.add_argument("--keys", required=True, help="公布的公钥文件 shuangsui-keys.json")
    parser.add_argument("--record", help="公开抽取记录 JSON（可选）")
    args = parser.parse_args(argv)
    try:
        with open(args.keys, encoding="utf-8") as handle:
            keyset = json.load(handle)
        record_bytes = None
        if args.record:
            with open(args.record, "rb") as handle:
                record_bytes = handle.read()
        claims, problems = check(args.code, keyset, record_bytes)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print("无法核验：%s" % exc, file=sys.stderr)
        return 2
    for name in ("task", "uscc", "plan", "draw", "window", "departments"):
        print("%s：%s" % (LABELS[name], claims.get(name)))
    for problem in problems:
        print("不符：" + problem)
    print("结论：检查码真实，签名与抽取证明一致" if not problems else "结论：检查码不可信")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
