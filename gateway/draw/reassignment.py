"""The public record of an article 14 replacement, and how anyone re-runs it. Pure, standard library.

Nobody who asks for or decides on a reassignment may know who the replacement will be before the
decision. So the gateway draws a random nonce when the request is made and publishes only its
commitment ``sha256_hex(nonce)``; the nonce is revealed by the approval itself. The replacement's
seed is ``<draw seed>|<reassignment record id>|<nonce>``: fixed by the draw, the request and a value
that neither party knew. Each eligible inspector of the department (by the opaque id the draw record
uses) gets the draw's ticket of that id under this seed; the replacement is the candidate with the
lowest (load, ticket) who is not barred (on the team before, or with a declared conflict).

Format ``shuangsui.reassignment/1``:
``{format, id, draw_id, task_number, uscc, department, reason_code, nonce_commitment, nonce,
draw_seed, seed, leaving, barred, candidates: [{id, load}], replacement}`` (ids opaque).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from gateway.draw.sampler import sha256_hex, ticket, ticket_key

FORMAT = "shuangsui.reassignment/1"


def nonce_commitment(nonce: str) -> str:
    return sha256_hex(nonce)


def reassignment_seed(draw_seed: str, record_id: str, nonce: str) -> str:
    return f"{draw_seed}|{record_id}|{nonce}"


def choose(candidates: Iterable[Mapping[str, Any]], barred: Iterable[str], seed: str) -> str | None:
    """The candidate with the lowest (load, ticket under ``seed``) outside ``barred``, or None."""
    excluded = set(barred)
    ranked = sorted((c["load"], ticket_key(ticket(c["id"], seed)), c["id"]) for c in candidates
                    if c["id"] not in excluded)
    return ranked[0][2] if ranked else None


def reassignment_problems(record: Mapping[str, Any]) -> list[str]:
    """Why the record does not re-run (Chinese), empty when it does."""
    try:
        problems = []
        if record.get("format") != FORMAT:
            problems.append(f"格式应为 {FORMAT}")
        if nonce_commitment(record["nonce"]) != record["nonce_commitment"]:
            problems.append("揭示的随机值与申请时公布的承诺值不符")
        if reassignment_seed(record["draw_seed"], record["id"], record["nonce"]) != record["seed"]:
            problems.append("替换种子应为 抽取种子|调整记录编号|随机值")
        if record["leaving"] not in record["barred"]:
            problems.append("被替换人员应在排除名单中")
        chosen = choose(record["candidates"], record["barred"], record["seed"])
        if chosen != record["replacement"]:
            problems.append(f"按记录重新计算的替换人员为 {chosen}，记录为 {record['replacement']}")
        return problems
    except (KeyError, TypeError, ValueError) as error:
        return [f"格式错误：{error!r}"]
