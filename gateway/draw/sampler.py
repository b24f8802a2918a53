"""Tickets, sample sizes, selection and the witnessed seed.

A target's ticket is Ronald Rivest's consistent-sampling "first fraction", computed exactly as
PyPI ``consistent-sampler==1.0.10`` does (``first_fraction(id, seed)``)::

    sha256_hex(x)     = hex SHA-256 of the UTF-8 bytes of x
    sha256_uniform(x) = "0." + reversed("{:064d}".format(int(sha256_hex(x), 16)))
    ticket(id, seed)  = sha256_uniform(sha256_hex(seed) + id)

Tickets are decimal fractions in (0, 1) with 64 to 78 digits after the point. They compare as
numbers: :func:`ticket_key` pads the digits on the right with zeros to :data:`TICKET_DIGITS`, so
that plain string comparison of keys is numeric comparison of tickets. Two ids whose tickets are
numerically equal (which needs a SHA-256 coincidence) are ordered by the id itself, in Unicode
code point order. ``consistent-sampler`` compares (ticket text, id) pairs, which agrees with this
except for tickets equal as numbers but written with different numbers of trailing zeros.

This module is pure: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from fractions import Fraction
from itertools import islice
from typing import Iterable, MutableMapping, Sequence

TICKET_DIGITS = 78
"""Decimal digits of the largest SHA-256 value, 2**256 - 1: the longest a ticket can be."""

MIN_CONTRIBUTIONS = 3
MIN_SEED_DIGITS = 20
SEED_SEPARATOR = "-"

_ASCII_DIGITS = frozenset("0123456789")
_CHUNK = 1 << 16


def sha256_hex(text: str) -> str:
    """Return the 64-character lower-case hex SHA-256 of the UTF-8 encoding of ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_uniform(text: str) -> str:
    """Return SHA-256 of ``text`` as a decimal fraction ``"0.ddd…"`` (reversed decimal digits)."""
    return "0." + "{:064d}".format(int(sha256_hex(text), 16))[::-1]


def ticket(item_id: str, seed: str) -> str:
    """Return the ticket of ``item_id`` (a USCC or certificate number) under ``seed``."""
    return sha256_uniform(sha256_hex(seed) + item_id)


def ticket_key(ticket_text: str) -> str:
    """Return a fixed-width string whose order is the numeric order of the ticket."""
    if not ticket_text.startswith("0."):
        raise ValueError(f"票号格式错误，应以 0. 开头：{ticket_text!r}")
    return ticket_text[2:].ljust(TICKET_DIGITS, "0")


def ticket_from_key(key: str) -> str:
    """Return the ticket text a :func:`ticket_key` came from.

    A ticket has 64 digits, or more when the hash needs more (up to 78), and then its last digit,
    the hash's leading digit, is not 0. So the padding is exactly the zeros beyond
    ``max(64, length without trailing zeros)``.
    """
    return "0." + key[: max(64, len(key.rstrip("0")))]


class Ticketer:
    """Tickets under one seed, with the seed's hash computed once.

    ``sha256_hex(seed)`` is 64 ASCII characters, exactly one SHA-256 block, so the hash state
    after it is computed once and copied for every id.
    """

    __slots__ = ("seed", "_prefix")

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self._prefix = hashlib.sha256(sha256_hex(seed).encode("ascii"))

    def _value(self, item_id: str) -> int:
        state = self._prefix.copy()
        state.update(item_id.encode("utf-8"))
        return int.from_bytes(state.digest(), "big")

    def ticket(self, item_id: str) -> str:
        """Return the ticket text of ``item_id``, identical to :func:`ticket`."""
        return "0." + str(self._value(item_id)).zfill(64)[::-1]

    def key(self, item_id: str) -> str:
        """Return the sort key of ``item_id``'s ticket (see :func:`ticket_key`)."""
        return str(self._value(item_id)).zfill(64)[::-1].ljust(TICKET_DIGITS, "0")

    def entry(self, item_id: str) -> str:
        """Return the ticket key followed by the id: one string that sorts in draw order.

        The key has a fixed width, so comparing entries compares tickets first and ids on ties,
        and sorting plain strings is much faster than sorting (key, id) tuples.
        """
        return str(self._value(item_id)).zfill(64)[::-1].ljust(TICKET_DIGITS, "0") + item_id


def select(
    ids: Iterable[str],
    seed: str,
    k: int,
    *,
    cache: MutableMapping[str, str] | None = None,
) -> list[str]:
    """Return the ``k`` ids with the smallest tickets, in ticket order.

    Ties (numerically equal tickets) go to the smaller id. ``ids`` must be distinct. ``cache``
    maps an id to its :meth:`Ticketer.entry` under this seed; passing one dict to several calls
    computes each id's ticket once even when it is drawn from several lists.
    """
    return [e[TICKET_DIGITS:] for e in smallest_entries(ids, seed, k, cache=cache)]


def smallest_entries(
    ids: Iterable[str],
    seed: str,
    k: int,
    *,
    cache: MutableMapping[str, str] | None = None,
) -> list[str]:
    """:func:`select`, returning the :meth:`Ticketer.entry` strings (ticket key, then id).

    One pass over ``ids`` in chunks of ``C = max(k, 65536)``: each chunk keeps only the entries
    below the current k-th smallest, then the survivors are sorted and cut back to ``k``. That is
    O(N log(k + C)) time in the worst case and O(k + C) memory, and in CPython it is faster than a
    ``heapq`` loop because filtering and sorting run in C.
    """
    if k < 0:
        raise ValueError(f"抽取数量不能为负数：{k}")
    if k == 0:
        return []
    ticketer = Ticketer(seed)
    entry = ticketer.entry
    if cache is None and isinstance(ids, Sequence) and k < len(ids):
        found = _below_bound(ids, ticketer, k)
        if found is not None:
            return found
    best: list[str] = []
    chunks = iter(ids)
    chunk_size = max(k, _CHUNK)
    while chunk := list(islice(chunks, chunk_size)):
        if cache is not None:
            known, remember = cache.get, cache.setdefault
            entries = [known(item_id) or remember(item_id, entry(item_id)) for item_id in chunk]
        else:
            entries = list(map(entry, chunk))
        if len(best) < k:
            best += entries
        else:
            limit = best[-1]
            best += [e for e in entries if e < limit]
        if len(best) >= k:
            best.sort()
            del best[k:]
    best.sort()
    return best


def _below_bound(ids: Sequence[str], ticketer: "Ticketer", k: int) -> list[str] | None:
    """The ``k`` smallest entries of ``ids``, found by keeping only the entries below a bound and
    sorting those, or None when fewer than ``k`` fall below it.

    Tickets are uniform on (0, 1), so the k-th smallest of N lies near k/N; the bound sits six
    standard deviations above. Whatever the bound, if at least ``k`` entries fall below it the
    ``k`` smallest are among them, so the answer is exact; the rare miss is left to the caller.
    Most ids are ruled out by their hash's last decimal digits alone (see :func:`_prefix_filter`),
    and only the few left get a whole ticket.
    """
    share = k / len(ids)
    bound = share + 6 * math.sqrt(share * (1 - share) / len(ids)) + 16 / len(ids)
    if bound >= 1:
        return None
    limit = f"{bound:.15f}"[2:]
    below = [e for e in map(ticketer.entry, _prefix_filter(ids, ticketer, limit)) if e < limit]
    if len(below) < k:
        return None
    below.sort()
    del below[k:]
    return below


_PREFIX_DIGITS = 4


def _prefix_filter(ids: Iterable[str], ticketer: "Ticketer", limit: str) -> list[str]:
    """The ids whose tickets may lie below ``limit`` (ticket digits after "0."), a superset of
    those that do.

    A ticket's first d digits are its hash value's last d decimal digits, reversed, so they
    follow from ``value % 10**d``. Residues whose reversed digits exceed the limit's first d
    digits can only give larger tickets; the rest are kept for the exact comparison. That test
    is one modulo and one set lookup, much cheaper than writing out all 78 digits.
    """
    digits = _PREFIX_DIGITS
    head = limit[:digits].ljust(digits, "0")
    admitted = frozenset(r for r in range(10**digits) if f"{r:0{digits}d}"[::-1] <= head)
    modulus = 10**digits
    copy, from_bytes = ticketer._prefix.copy, int.from_bytes
    kept = []
    for item_id in ids:  # Ticketer._value inlined: a method call per id is a third of the loop
        state = copy()
        state.update(item_id.encode("utf-8"))
        if from_bytes(state.digest(), "big") % modulus in admitted:
            kept.append(item_id)
    return kept


def ranked(ids: Iterable[str], seed: str) -> list[str]:
    """Return all ``ids`` in ticket order (ties by id)."""
    return [e[TICKET_DIGITS:] for e in sorted(map(Ticketer(seed).entry, ids))]


def sample_size(ratio: Decimal | int | str, population: int) -> int:
    """Return ``ceil(ratio × population)``, computed exactly.

    ``ratio`` is a :class:`~decimal.Decimal` (or an int, or a decimal string such as ``"0.05"``)
    between 0 and 1. Floats are refused: ``0.1`` is not one tenth, and a draw must not depend on
    binary rounding.
    """
    exact = exact_ratio(ratio)
    if isinstance(population, bool) or not isinstance(population, int) or population < 0:
        raise ValueError(f"总体数量必须是非负整数：{population!r}")
    return math.ceil(exact * population)


def exact_ratio(ratio: Decimal | int | str) -> Fraction:
    """Return ``ratio`` as an exact fraction, checking that it lies in [0, 1]."""
    if isinstance(ratio, bool) or isinstance(ratio, float):
        raise TypeError(f"抽查比例必须是 Decimal 或十进制字符串，不能是 {type(ratio).__name__}")
    if isinstance(ratio, str):
        try:
            ratio = Decimal(ratio)
        except ArithmeticError:
            raise ValueError(f"抽查比例不是十进制数：{ratio!r}") from None
    if isinstance(ratio, Decimal) and not ratio.is_finite():
        raise ValueError(f"抽查比例必须是有限数：{ratio}")
    if not isinstance(ratio, (Decimal, int)):
        raise TypeError(f"抽查比例必须是 Decimal 或十进制字符串，不能是 {type(ratio).__name__}")
    exact = Fraction(ratio)
    if not 0 <= exact <= 1:
        raise ValueError(f"抽查比例必须在 0 到 1 之间：{ratio}")
    return exact


class SeedError(ValueError):
    """The seed contributions do not make a valid seed; the message says why, in Chinese."""


def build_seed(contributions: Sequence[str]) -> str:
    """Join the participants' digit strings with ``-``, in the recorded order.

    At least :data:`MIN_CONTRIBUTIONS` contributions, each a non-empty string of ASCII decimal
    digits, with at least :data:`MIN_SEED_DIGITS` digits in all.
    """
    if isinstance(contributions, str):
        raise SeedError("随机种子贡献应为多个数字串组成的列表，而不是单个字符串")
    contributions = list(contributions)
    if len(contributions) < MIN_CONTRIBUTIONS:
        raise SeedError(
            f"随机种子至少需要 {MIN_CONTRIBUTIONS} 名参与者各自贡献一串数字，当前只有 {len(contributions)} 串"
        )
    for position, digits in enumerate(contributions, start=1):
        if not isinstance(digits, str) or not digits or not set(digits) <= _ASCII_DIGITS:
            raise SeedError(f"第 {position} 串随机种子贡献只能由数字 0–9 组成且不能为空：{digits!r}")
    total = sum(len(digits) for digits in contributions)
    if total < MIN_SEED_DIGITS:
        raise SeedError(f"随机种子合计至少需要 {MIN_SEED_DIGITS} 位数字，当前只有 {total} 位")
    return SEED_SEPARATOR.join(contributions)
