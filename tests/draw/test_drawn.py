"""The run's compact drawn targets (gateway.draw.drawn) against the reference selection and merge."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.draw.drawn import Drawn
from gateway.draw.strata import Stratum, draw_targets
from tests.draw import strategies

stratum_specs = strategies.stratum_specs(["high", "medium", "low", ""])
universe = strategies.UNIVERSE


@settings(max_examples=60, deadline=None)
@given(specs=stratum_specs, seed=strategies.SEEDS, sort_first=st.booleans())
def test_the_same_joint_targets_as_the_reference_with_ids_and_key_flags(specs, seed, sort_first):
    # As the freeze makes them: a key target (here every third) sits in its matters' key strata
    # only, which list their whole population as key targets; the other strata list none.
    key = set(universe[::3])
    strata = [Stratum(f"{m}:{r or 'key'}", m, ratio, [u for u in pop if (u in key) == (not r)], r)
              for m, r, ratio, pop in specs]
    key_targets = [s.population if not s.risk_class else () for s in strata]
    ids = {uscc: n for n, uscc in enumerate(universe, start=100)}
    drawn = Drawn(seed)
    selected = [drawn.select(stratum, keyed) for stratum, keyed in zip(strata, key_targets)]
    selections, reference = draw_targets(strata, seed)
    assert selected == [s.selected for s in selections]
    assert [(s.key, s.matter, s.sample_size) for s in drawn.strata] == \
        [(s.key, s.stratum.matter, s.sample_size) for s in selections]
    assert drawn.count == sum(len(s) for s in selected)
    if sort_first:  # as the run does, while the last lookups run
        drawn.sort()
    targets = list(drawn.targets([[ids[u] for u in chosen] for chosen in selected]))
    assert [d.target for d in targets] == reference
    assert [d.target_id for d in targets] == [ids[t.uscc] for t in reference]
    union = {u for keyed in key_targets for u in keyed}
    assert [d.key for d in targets] == [t.uscc in union for t in reference]


def test_key_flags_of_a_stratum_listing_some_of_its_members():
    everyone = [f"91410822000000{n:04d}" for n in range(10)]
    drawn = Drawn("3141592653-5897932384-62643383")
    chosen = drawn.select(Stratum("A:high", "A", "1", everyone, "high"), everyone[:3])
    targets = list(drawn.targets([list(range(len(chosen)))]))
    assert {d.target.uscc for d in targets if d.key} == set(everyone[:3])
    assert [d.target_id for d in targets] == list(range(10))


def test_repeated_stratum_keys_are_refused():
    drawn = Drawn("1")
    stratum = Stratum("A:high", "A", "0.5", ["a", "b"], "high")
    drawn.select(stratum, ())
    with pytest.raises(ValueError, match="重复"):
        drawn.select(stratum, ())


def test_a_tasks_part_is_written_as_the_canonical_json_of_its_task_entries():
    from gateway.draw.drawn import DrawnTarget
    from gateway.draw.record import task_entry
    from gateway.draw.record_v2 import RecordParts, _canonical
    from gateway.draw.service import _TaskEntries
    from gateway.draw.strata import JointTarget
    from gateway.draw.teams import Inspector, Team

    inspectors = [Inspector("7", "证-1", "市场监管"), Inspector("12", "C-2", 'agri"culture')]
    by_id = {p.id: p for p in inspectors}
    targets = [DrawnTarget(JointTarget("91410822MA00000001", "0." + "3" * 64, ("SCJG-01", "NY-01"), ("a", "b")), 5, True),
               DrawnTarget(JointTarget("91410822MA00000002", "0." + "4" * 70, ("NY-01",), ("b",)), 6, False)]
    rows = [(101, "嘉应〔2027〕1号-0001", 0, 0, 5, "", "", True), (102, "嘉应〔2027〕1号-0002", 0, 0, 6, "", "", False)]
    teams = [Team("91410822MA00000001", ("7", "12")), Team("91410822MA00000002", ("12", "7"))]
    key = b"secret"
    text = _TaskEntries(inspectors, "410822-draw-3", key)(rows, targets, teams)
    entries = [{**task_entry(row[1], d.target, team, by_id, "410822-draw-3", key), "key_inspection": row[7]}
               for row, d, team in zip(rows, targets, teams)]
    assert text == _canonical(entries)
    one, other = RecordParts({}), RecordParts({})
    assert one.add_tasks(entries) == other.add_tasks_text(text, 2, rows[0][1], rows[-1][1])
    assert one.tasks == other.tasks and one.finish() == other.finish()
    with pytest.raises(ValueError):
        _TaskEntries(inspectors, "410822-draw-3", key)(rows, targets, teams[::-1])
