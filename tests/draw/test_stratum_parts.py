"""A stratum's record parts are built from the frozen population's own text (issue 20): the freeze
stores each record chunk's members as a gzip member of their own, and the run copies it into the
part, compressing only the text around it. The parts' texts are exactly the canonical JSON of their
entries, as before; a population frozen in another layout is serialised again."""
from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.draw import frozen, record_v2
from gateway.draw.record_v2 import RecordParts, _canonical, members_text, part_text, stratum_parts
from gateway.draw.sampler import select

SEED = "2718281828-4590452353-60287471"
CODES = [f"91410822MA{n:08d}" for n in range(60)]


def _reference(entry: dict, size: int) -> list[bytes]:
    """The parts' texts as the record format defines them: the entry whole, or each chunk's dict
    with its members' selection (in ticket order) and key targets found by scanning the members."""
    population = entry["population"]
    if len(population) <= size:
        return [_canonical(entry)]
    chosen = {u: n for n, u in enumerate(entry["selected"])}
    keyed = set(entry["key_targets"])
    out = []
    for number, start in enumerate(range(0, len(population), size), start=1):
        members = population[start:start + size]
        out.append(_canonical({"chunk": number, "key": entry["key"], "matter": entry["matter"], "population": members,
                               "selected": sorted((u for u in members if u in chosen), key=chosen.__getitem__),
                               "key_targets": [u for u in members if u in keyed]}))
    return out


def _entry(population: list[str], sample: int, keyed: str) -> dict:
    key_targets = {"none": [], "all": population, "some": population[::3]}[keyed]
    selected = select(population, SEED, min(sample, len(population)))
    return {"key": "SCJG-01:high", "matter": "SCJG-01", "risk_class": "high", "ratio": "0.3", "population": population,
            "population_sha256": "a" * 64, "sample_size": len(selected), "selected": selected, "key_targets": key_targets}


@settings(max_examples=150, deadline=None)
@given(population=st.lists(st.sampled_from(CODES), unique=True, max_size=40).map(sorted),
       sample=st.integers(0, 12), size=st.integers(1, 12), keyed=st.sampled_from(["none", "all", "some"]))
def test_a_stratum_parts_pieces_are_its_parts_canonical_json(population, sample, size, keyed):
    entry = _entry(population, sample, keyed)
    parts = stratum_parts(entry, size)
    assert [part_text(part, population) for part in parts] == _reference(entry, size)
    assert [p.members for p in parts] == [range(s, min(s + size, len(population))) for s in range(0, max(len(population), 1), size)]
    # A key stratum's key targets are its members: a range, not a copy of them.
    ranges = [p for part in parts for p in part.pieces if isinstance(p, range)]
    assert len(ranges) == len(parts) * (2 if keyed == "all" else 1)


def test_a_selected_code_outside_the_population_is_refused():
    entry = _entry(CODES[:10], 3, "none")
    entry["selected"] = [*entry["selected"][:2], "91410822MA99999999"]
    with pytest.raises(ValueError, match="不在其总体名单中"):
        stratum_parts(entry, 4)


@pytest.mark.parametrize("count", [0, 1, 3, 4, 9, 10])
def test_a_frozen_population_is_stored_a_record_chunk_to_a_gzip_member(monkeypatch, count):
    monkeypatch.setattr(record_v2, "STRATUM_CHUNK", 3)
    population = CODES[:count]
    body, packed = frozen.pack_population(population)
    assert body == _canonical(population) == gzip.decompress(packed)
    stored = frozen.unpack_population(packed)
    assert (stored.text, stored.population) == (body, population)
    parts = stratum_parts(_entry(population, 2, "all"), 3)
    assert list(stored.chunks) == [part.members for part in parts]
    for members, (text, member) in stored.chunks.items():
        assert stored.text[text] == members_text(population, members) == gzip.decompress(packed[member])


def test_a_population_frozen_in_another_layout_has_no_chunks_to_copy(monkeypatch):
    monkeypatch.setattr(record_v2, "STRATUM_CHUNK", 3)
    population = CODES[:8]
    _, packed = frozen.pack_population(population)
    whole = frozen.pack(_canonical(population))  # one member, as draws frozen before the chunks were
    for stored in (frozen.unpack_population(whole), _unpacked_with_chunk(monkeypatch, packed, 4)):
        assert stored.population == population and stored.chunks == {}
    with pytest.raises(ValueError, match="cut short"):
        frozen.unpack_population(packed[:-3])


def _unpacked_with_chunk(monkeypatch, packed: bytes, size: int):
    monkeypatch.setattr(record_v2, "STRATUM_CHUNK", size)
    return frozen.unpack_population(packed)


def test_parts_hashed_from_the_frozen_text_are_those_serialised_again(monkeypatch):
    monkeypatch.setattr(record_v2, "STRATUM_CHUNK", 4)
    population = CODES[:14]
    stored = frozen.unpack_population(frozen.pack_population(population)[1])
    entries = [_entry(population, 5, "all"), _entry(population[:3], 2, "none")]
    again, copied = RecordParts({"title": "x"}), RecordParts({"title": "x"})
    texts = [text for entry in entries for _, _, text in again.add_stratum(entry)]

    def frozen_text(entry):
        if entry["population"] is not population:
            return lambda members: members_text(entry["population"], members)
        return lambda members: memoryview(stored.text)[stored.chunks[members][0]]

    pieces = [b"".join(t) for entry in entries for *_, t in copied.add_stratum_parts(entry, frozen_text(entry))]
    assert pieces == texts and copied.strata == again.strata and copied.finish() == again.finish()
