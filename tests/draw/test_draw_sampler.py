"""Tickets, sample sizes, selection and seeds: golden vectors, the reference package as oracle, properties."""

from __future__ import annotations

import random
from decimal import Decimal, localcontext
from unittest import mock

import pytest
from consistent_sampler import first_fraction, sampler
from consistent_sampler import sha256_uniform as reference_uniform
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.draw import sampler as sampler_module
from gateway.draw.sampler import (
    TICKET_DIGITS,
    SeedError,
    Ticketer,
    build_seed,
    ranked,
    sample_size,
    select,
    sha256_hex,
    sha256_uniform,
    ticket,
    ticket_from_key,
    ticket_key,
)

FAST = settings(max_examples=60, deadline=None)
any_text = st.characters(exclude_categories=("Cs",))  # lone surrogates have no UTF-8 encoding

# Computed once with consistent-sampler==1.0.10 (first_fraction(id, seed)) and pasted in.
GOLDEN_TICKETS = [
    (
        "AB-130",
        "01382438112797316654",
        "0.26299714122838008416507544297546663599715395525154425586041245287750224561854",
    ),
    (
        "91410822MA9G5XQ71K",
        "武陟-2026",
        "0.74849405101085501189065824647747651593820619799136978115949674642846424574453",
    ),
    (
        "91410822MA46T0F38Y",
        "武陟-2026",
        "0.84217733941879517651938560718417612939686752949595834162718893543424612597383",
    ),
    (
        "92410822MA9FKJ0Q2L",
        "31415926-53589793-23846264",
        "0.582470984158806530482384459645029555870716653555332304287686784564195258578601",
    ),
    (
        "91410822174300526D",
        "31415926-53589793-23846264",
        "0.58437624493939934575337379606445978041619965208005584207083663920337022099248",
    ),
    (
        "豫执法证-0412",
        "31415926-53589793-23846264",
        "0.75819353644704355897420866372631239359882027108126819893255993694370268387256",
    ),
    (
        "",
        "武陟-2026",
        "0.15121444509861802871054143423052510127139936002707622383372428981270569418303",
    ),
]

GOLDEN_IDS = [
    "91410822MA9G5XQ71K",
    "91410822MA46T0F38Y",
    "92410822MA9FKJ0Q2L",
    "91410822174300526D",
    "91410822MA3X4LWQ0B",
    "52410822MJ6123456X",
]
# consistent_sampler.sampler(GOLDEN_IDS, seed, output="id"), computed once.
GOLDEN_ORDERS = {
    "31415926-53589793-23846264": [
        "52410822MJ6123456X",
        "91410822MA3X4LWQ0B",
        "91410822MA9G5XQ71K",
        "91410822MA46T0F38Y",
        "92410822MA9FKJ0Q2L",
        "91410822174300526D",
    ],
    "武陟-2026": [
        "91410822174300526D",
        "52410822MJ6123456X",
        "91410822MA3X4LWQ0B",
        "91410822MA9G5XQ71K",
        "92410822MA9FKJ0Q2L",
        "91410822MA46T0F38Y",
    ],
}


@pytest.mark.parametrize("item_id, seed, expected", GOLDEN_TICKETS)
def test_golden_tickets(item_id, seed, expected):
    assert ticket(item_id, seed) == expected
    assert Ticketer(seed).ticket(item_id) == expected


def test_golden_hash_helpers():
    assert sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_uniform("abc") == (
        "0.56998071861792858926477341561059638840106636224182943832566300809078486324348"
    )


@pytest.mark.parametrize("seed", sorted(GOLDEN_ORDERS))
def test_golden_orders(seed):
    assert ranked(GOLDEN_IDS, seed) == GOLDEN_ORDERS[seed]
    assert select(GOLDEN_IDS, seed, 3) == GOLDEN_ORDERS[seed][:3]


def test_tickets_of_different_lengths_compare_numerically():
    short = ticket("91410822174300526D", "31415926-53589793-23846264")
    long = ticket("92410822MA9FKJ0Q2L", "31415926-53589793-23846264")
    assert len(short) < len(long)
    assert (Decimal(long) < Decimal(short)) == (ticket_key(long) < ticket_key(short))
    assert ticket_key("0.5") == ticket_key("0.50") == "5".ljust(TICKET_DIGITS, "0")


@pytest.mark.parametrize("value", [0, 7, 10**62, 10**63 - 1, 10**63, 10**64 + 10, 2**256 - 1, 2**255 + 1])
def test_ticket_from_key_restores_the_ticket(value):
    text = "0." + str(value).zfill(64)[::-1]
    assert ticket_from_key(ticket_key(text)) == text


def test_oracle_many_random_ids_and_seeds():
    rng = random.Random(14)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for _ in range(300):
        seed = "-".join("".join(rng.choices("0123456789", k=rng.randint(1, 12))) for _ in range(3))
        ticketer = Ticketer(seed)
        for _ in range(5):
            uscc = "91410822" + "".join(rng.choices(alphabet, k=10))
            expected = first_fraction(uscc, seed)
            assert ticket(uscc, seed) == expected
            assert ticketer.ticket(uscc) == expected
            assert ticketer.key(uscc) == ticket_key(expected)
            assert ticketer.entry(uscc) == ticket_key(expected) + uscc
            assert ticket_from_key(ticketer.key(uscc)) == expected


@FAST
@given(item_id=st.text(any_text, max_size=40), seed=st.text(any_text, max_size=40))
def test_oracle_arbitrary_text(item_id, seed):
    assert ticket(item_id, seed) == first_fraction(item_id, seed)
    assert sha256_uniform(item_id) == reference_uniform(item_id)


@FAST
@given(
    ids=st.lists(st.text(any_text, min_size=1, max_size=12), unique=True, max_size=40),
    seed=st.text(any_text, max_size=20),
)
def test_order_agrees_with_reference_sampler(ids, seed):
    assert ranked(ids, seed) == list(sampler(ids, seed, output="id"))


@FAST
@given(
    ratio=st.decimals(min_value=0, max_value=1, places=6, allow_nan=False, allow_infinity=False),
    population=st.integers(min_value=0, max_value=10**7),
)
def test_sample_size_is_exact_ceiling(ratio, population):
    size = sample_size(ratio, population)
    with localcontext() as context:
        context.prec = 60
        product = ratio * population
    assert size - 1 < product <= size


@pytest.mark.parametrize(
    "ratio, population, expected",
    [
        (Decimal("0.05"), 100, 5),
        (Decimal("0.05"), 101, 6),
        (Decimal("0.1"), 10, 1),
        (Decimal("0.03"), 1_000_000, 30_000),
        (Decimal("0.030000000000000000000000000001"), 1_000_000, 30_001),
        (Decimal("1"), 7, 7),
        (Decimal("0"), 7, 0),
        ("0.2", 3, 1),
        (1, 0, 0),
    ],
)
def test_sample_size_examples(ratio, population, expected):
    assert sample_size(ratio, population) == expected


@pytest.mark.parametrize("ratio", [Decimal("1.01"), Decimal("-0.1"), Decimal("NaN"), Decimal("Infinity"), "abc"])
def test_sample_size_refuses_bad_ratios(ratio):
    with pytest.raises(ValueError, match="抽查比例"):
        sample_size(ratio, 10)


def test_sample_size_refuses_floats_and_bad_populations():
    with pytest.raises(TypeError):
        sample_size(0.1, 10)
    with pytest.raises(ValueError):
        sample_size(Decimal("0.1"), -1)


usccs = st.lists(st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=18, max_size=18), unique=True, max_size=60)
seeds = st.text("0123456789-", min_size=1, max_size=30)


@FAST
@given(ids=usccs, seed=seeds, k=st.integers(min_value=0, max_value=70))
def test_selection_is_the_k_smallest_in_ticket_order(ids, seed, k):
    chosen = select(ids, seed, k)
    everything = sorted(ids, key=lambda i: (Decimal(ticket(i, seed)), i))
    assert chosen == everything[: min(k, len(ids))]
    assert select(list(reversed(ids)), seed, k) == chosen
    assert select(ids, seed, k, cache={}) == chosen
    for chunk in (1, 2, 5):  # many small chunks exercise the pruning between chunks
        with mock.patch.object(sampler_module, "_CHUNK", chunk):
            assert select(ids, seed, k) == chosen
            assert select(iter(ids), seed, k, cache={}) == chosen


@FAST
@given(ids=usccs, extra=usccs, seed=seeds, k=st.integers(min_value=1, max_value=30))
def test_selection_is_stable(ids, extra, seed, k):
    chosen = select(ids, seed, k)
    assert select(ids, seed, k + 1)[:k] == chosen
    if len(chosen) == k:
        threshold = ticket_key(ticket(chosen[-1], seed))
        later = [i for i in extra if i not in ids and ticket_key(ticket(i, seed)) > threshold]
        assert select(ids + later, seed, k) == chosen
    unselected = [i for i in ids if i not in chosen]
    if unselected:
        assert select([i for i in ids if i != unselected[0]], seed, k) == chosen


@FAST
@given(seed=seeds, k=st.integers(min_value=1, max_value=400), salt=st.integers(min_value=0, max_value=10**6))
def test_large_populations_take_the_bounded_path_and_stay_exact(seed, k, salt):
    # Past a few thousand ids the selection keeps only the ids whose hash's last digits can give
    # a ticket below a bound (sampler._below_bound); the answer must equal the plain full sort.
    ids = [f"914108{salt:06d}{n:06d}" for n in range(3000)]
    everything = sorted(map(Ticketer(seed).entry, ids))
    bounded = sampler_module._below_bound(ids, Ticketer(seed), k)
    assert bounded is None or bounded == everything[:k]
    assert select(ids, seed, k) == [e[TICKET_DIGITS:] for e in everything[:k]]


@FAST
@given(ids=usccs, seed=seeds, limit=st.text("0123456789", min_size=1, max_size=15))
def test_prefix_filter_keeps_every_ticket_below_the_limit(ids, seed, limit):
    ticketer = Ticketer(seed)
    kept = sampler_module._prefix_filter(ids, ticketer, limit)
    assert kept == [i for i in ids if i in set(kept)]  # order kept, nothing invented
    assert {i for i in ids if ticketer.entry(i) < limit} <= set(kept)
    # ...and nothing whose first digits already exceed the limit's
    head = limit[:4].ljust(4, "0")
    assert all(ticketer.entry(i)[:4] <= head for i in kept)


def test_equal_tickets_go_to_the_smaller_id():
    ids = ["91410822MA00000003", "91410822MA00000001", "豫执法证-9", "91410822MA00000002"]
    with mock.patch.object(Ticketer, "_value", lambda self, item_id: 10**70):
        assert select(ids, "1", 3) == sorted(ids)[:3]
        assert ranked(ids, "1") == sorted(ids)


def test_select_refuses_negative_k():
    with pytest.raises(ValueError):
        select(["a"], "1", -1)


def test_build_seed_joins_in_order():
    assert build_seed(["3141592653", "5897932384", "62643383"]) == "3141592653-5897932384-62643383"
    assert build_seed(("0" * 7, "1" * 7, "2" * 6)) == "0000000-1111111-222222"


@pytest.mark.parametrize(
    "contributions, message",
    [
        (["12345678901", "123456789012"], "至少需要 3"),
        (["1234567", "1234567", "12345"], "至少需要 20 位"),
        (["1234567890", "12345 67890", "123"], "只能由数字"),
        (["1234567890", "１２３４５６７８９０", "123"], "只能由数字"),
        (["1234567890", "١٢٣٤٥٦٧٨٩٠", "123"], "只能由数字"),
        (["1234567890", "", "1234567890"], "不能为空"),
        ("12345678901234567890123", "列表"),
    ],
)
def test_build_seed_refuses_invalid_contributions(contributions, message):
    with pytest.raises(SeedError, match=message):
        build_seed(contributions)
    assert issubclass(SeedError, ValueError)

