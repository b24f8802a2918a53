"""Per-stratum selection and the merge into joint targets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings

from gateway.draw.sampler import sample_size, select, ticket, ticket_key
from gateway.draw.strata import Stratum, draw_targets, merge_targets, select_strata
from tests.draw import strategies

SEED = "3141592653-5897932384-62643383"


def test_stratum_sorts_its_population_and_refuses_repeats():
    stratum = Stratum("A:high", "A", "0.5", ["c", "a", "b"], "high")
    assert stratum.population == ("a", "b", "c")
    assert stratum.ratio == Decimal("0.5")
    assert stratum.sample_size == 2
    with pytest.raises(ValueError, match="重复"):
        Stratum("A:high", "A", Decimal("0.5"), ["a", "b", "a"])
    with pytest.raises(TypeError):
        Stratum("A:high", "A", 0.5, ["a"])
    with pytest.raises(ValueError):
        Stratum("A:high", "A", Decimal("2"), ["a"])


def test_select_strata_refuses_repeated_keys():
    stratum = Stratum("A:high", "A", Decimal("0.5"), ["a", "b"])
    with pytest.raises(ValueError, match="重复"):
        select_strata([stratum, stratum], SEED)


def test_joint_target_covers_every_matter_it_was_drawn_for():
    everyone = [f"91410822000000{n:04d}" for n in range(10)]
    strata = [
        Stratum("A:high", "A", Decimal("1"), everyone[:6], "high"),
        Stratum("B:low", "B", Decimal("1"), everyone[4:], "low"),
    ]
    targets = merge_targets(select_strata(strata, SEED), SEED)
    assert [t.uscc for t in targets] == sorted(everyone, key=lambda u: ticket_key(ticket(u, SEED)))
    by_uscc = {t.uscc: t for t in targets}
    assert by_uscc[everyone[0]].matters == ("A",)
    assert by_uscc[everyone[5]].matters == ("A", "B")
    assert by_uscc[everyone[5]].strata == ("A:high", "B:low")
    assert by_uscc[everyone[9]].matters == ("B",)
    assert by_uscc[everyone[9]].ticket == ticket(everyone[9], SEED)


stratum_specs = strategies.stratum_specs(["high", "medium", "low"])
universe = strategies.UNIVERSE


@settings(max_examples=60, deadline=None)
@given(specs=stratum_specs, seed=strategies.SEEDS)
def test_each_stratum_meets_its_ratio_and_tasks_merge(specs, seed):
    strata = [Stratum(f"{m}:{r}", m, ratio, pop, r) for m, r, ratio, pop in specs]
    selections = select_strata(strata, seed)
    for stratum, selection in zip(strata, selections):
        assert selection.sample_size == sample_size(stratum.ratio, len(stratum.population))
        assert list(selection.selected) == select(stratum.population, seed, selection.sample_size)
    targets = merge_targets(selections, seed)
    drawn = {u for s in selections for u in s.selected}
    assert sorted(t.uscc for t in targets) == sorted(drawn)
    keys = [ticket_key(t.ticket) for t in targets]
    assert keys == sorted(keys)
    for target in targets:
        expected = []
        for selection in selections:
            if target.uscc in selection.selected and selection.stratum.matter not in expected:
                expected.append(selection.stratum.matter)
        assert list(target.matters) == expected
    assert draw_targets(strata, seed) == (selections, targets)
