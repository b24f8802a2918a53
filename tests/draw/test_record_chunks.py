"""A large stratum's record parts are bounded (issue 20 item 2): its population is cut into chunks of
at most STRATUM_CHUNK members, each its own part with its own SHA-256, the population hash running
on over them; both verifiers check the selection chunk by chunk, verify one stratum from its
parts alone and name a changed chunk. Records made by main's version 2 code (one part per
stratum, tests/draw/fixtures/main-v2-draw.json) still verify, and a change in them is named."""
from __future__ import annotations

import hashlib
import json
import runpy
from pathlib import Path

import pytest

from bench.verify_scale import write
from gateway.draw.record import canonical_json
from gateway.draw.record_v2 import read_index, read_parts, stratum_chunks
from gateway.draw.sampler import select
from gateway.draw.verify import verify_file, verify_record, verify_stratum

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[2] / "docs" / "verify_draw.py"))
FIXTURE = Path(__file__).parent / "fixtures" / "main-v2-draw.json"
SEED = "31415926535-89793238-46264338"
CHUNK = 150


def _script(*args) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = SCRIPT["main"]([str(a) for a in args])
    return code, out.getvalue()


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")


def _part_text(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b",") else line


@pytest.fixture(scope="module")
def chunked(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("chunked") / "draw.json"
    write(str(path), 4000, 2, CHUNK)
    return path


def _index(path: Path) -> dict:
    return json.loads(read_index(path))


def _large(index: dict) -> dict:
    return max((d for d in index["parts"]["strata"] if "chunks" in d), key=lambda d: d["sample_size"])


def test_main_v2_record_still_verifies_and_a_changed_part_is_named(tmp_path):
    assert verify_file(FIXTURE).ok
    assert verify_record(json.loads(FIXTURE.read_bytes())).ok
    assert _script(FIXTURE)[0] == 0
    index = _index(FIXTURE)
    drawn = next(d for d in index["parts"]["strata"] if d["sample_size"] > 0)
    assert "chunks" not in drawn and "first" not in drawn  # the old layout, as main wrote it
    lines = _lines(FIXTURE)
    entry = json.loads(_part_text(lines[drawn["part"]]))
    assert verify_stratum(index, drawn["key"], _part_text(lines[drawn["part"]])).ok
    outsider = next(u for u in entry["population"] if u not in entry["selected"])
    lines[drawn["part"]] = lines[drawn["part"]].replace(entry["selected"][0].encode(), outsider.encode(), 1)
    changed = tmp_path / "changed.json"
    changed.write_bytes(b"\n".join(lines))
    report = verify_file(changed)
    assert not report.ok and report.mismatched_strata == [drawn["key"]]
    parts = next(f for f in report.checks if f.subject == "parts")
    assert not parts.ok and drawn["key"] in parts.reason and "被改动" in parts.reason
    code, out = _script(changed)
    assert code == 1 and f"不一致的分层：{drawn['key']}" in out and "被改动" in out


def test_every_part_is_bounded_and_the_index_gives_each_its_code_range(chunked):
    index = _index(chunked)
    descriptors = index["parts"]["strata"]
    large = [d for d in descriptors if "chunks" in d]
    assert large and all(d["population_size"] > CHUNK for d in large)
    assert all(d["population_size"] <= CHUNK and d["first"] <= d["last"] for d in descriptors if "chunks" not in d)
    texts = [text for kind, text in read_parts(chunked) if kind == "stratum"]
    numbers = [p["part"] for d in descriptors for p in (d["chunks"] if "chunks" in d else [d])]
    assert numbers == list(range(1, len(texts) + 1))
    for d in large:
        population, selected = [], []
        for number, part in enumerate(d["chunks"], start=1):
            text = texts[part["part"] - 1]
            chunk = json.loads(text)
            assert hashlib.sha256(text).hexdigest() == part["sha256"] and chunk["chunk"] == number
            assert len(chunk["population"]) == part["count"] <= CHUNK
            assert (chunk["population"][0], chunk["population"][-1]) == (part["first"], part["last"])
            population += chunk["population"]
            selected += chunk["selected"]
        # The chunks hold the stratum: its population in order (its hash runs on over them), its selection.
        assert population == sorted(population) and hashlib.sha256(canonical_json(population)).hexdigest() == d["population_sha256"]
        right = select(population, SEED, d["sample_size"])
        assert sorted(selected) == sorted(right) and d["last_selected"] == right[-1]


def test_stratum_chunks_put_back_together_give_the_entry():
    population = [f"914108{i:011d}X" for i in range(0, 2000, 3)]
    entry = {"key": "m:D", "matter": "m", "risk_class": "D", "ratio": "0.1", "population": population,
             "population_sha256": "0" * 64, "sample_size": 67, "selected": select(population, SEED, 67),
             "key_targets": population[::50]}
    chunks = stratum_chunks(entry, 100)
    assert [c["chunk"] for c in chunks] == list(range(1, 8)) and all(len(c["population"]) <= 100 for c in chunks)
    assert [u for c in chunks for u in c["population"]] == population
    assert [u for c in chunks for u in c["key_targets"]] == entry["key_targets"]
    order = {u: n for n, u in enumerate(entry["selected"])}
    assert sorted((u for c in chunks for u in c["selected"]), key=order.__getitem__) == entry["selected"]
    assert all(c["selected"] == sorted(c["selected"], key=order.__getitem__) for c in chunks)


def test_a_chunked_record_verifies_whole_and_one_stratum_alone(chunked, tmp_path):
    assert verify_file(chunked).ok
    assert verify_record(json.loads(chunked.read_bytes())).ok  # loaded as one document
    assert _script(chunked)[0] == 0
    index = _index(chunked)
    large = _large(index)
    lines = _lines(chunked)
    texts = [_part_text(lines[p["part"]]) for p in large["chunks"]]
    assert verify_stratum(index, large["key"], texts).ok
    assert not verify_stratum(index, large["key"], texts[:-1]).ok  # a chunk left out
    (tmp_path / "index.json").write_bytes(read_index(chunked))
    files = []
    for number, text in enumerate(texts):
        files.append(tmp_path / f"part-{number}.json")
        files[-1].write_bytes(text)
    code, out = _script(tmp_path / "index.json", *files, "--stratum", large["key"])
    assert code == 0 and f"分层 {large['key']}：一致" in out
    code, out = _script(tmp_path / "index.json", *files[:-1], "--stratum", large["key"])
    assert code == 1


def _swap_selected(chunk: dict) -> dict:
    """The chunk with its last selected member swapped for the member not drawn whose ticket is next."""
    population, chosen = chunk["population"], set(chunk["selected"])
    rest = [u for u in select(population, SEED, len(population)) if u not in chosen]
    return {**chunk, "selected": chunk["selected"][:-1] + [rest[0]]}


def test_a_changed_chunk_is_named_by_both_verifiers(chunked, tmp_path):
    index = _index(chunked)
    large = _large(index)
    part = next(p for p in large["chunks"] if json.loads(_part_text(_lines(chunked)[p["part"]]))["selected"])
    lines = _lines(chunked)
    chunk = json.loads(_part_text(lines[part["part"]]))
    text = canonical_json(_swap_selected(chunk))
    lines[part["part"]] = text + (b"," if lines[part["part"]].endswith(b",") else b"")
    changed = tmp_path / "changed.json"
    changed.write_bytes(b"\n".join(lines))
    report = verify_file(changed)
    assert not report.ok and report.mismatched_strata == [large["key"]]
    reason = next(f.reason for f in report.strata if f.subject == large["key"])
    assert f"分块 {part['part']} 内容与索引中的 SHA-256 不符" in reason
    code, out = _script(changed)
    assert code == 1 and f"不一致的分层：{large['key']}" in out and f"分块 {part['part']}" in out


def test_a_wrong_selection_in_a_chunk_is_found_even_with_its_hash_fixed_in_the_index(chunked):
    """The selection check itself, not only the hashes: a chunk whose selection is wrong but whose
    SHA-256 the index was made to agree with."""
    index = _index(chunked)
    large = _large(index)
    lines = _lines(chunked)
    texts = [_part_text(lines[p["part"]]) for p in large["chunks"]]
    position = next(n for n, t in enumerate(texts) if json.loads(t)["selected"])
    texts[position] = canonical_json(_swap_selected(json.loads(texts[position])))
    large["chunks"][position]["sha256"] = hashlib.sha256(texts[position]).hexdigest()
    report = verify_stratum(index, large["key"], texts)
    assert not report.ok and "抽中名单与重新计算结果不同" in report.strata[0].reason
    lines_out, ok = SCRIPT["check_one_stratum"](index, large["key"], texts)
    assert not ok and any("抽中名单与重新计算结果不同" in line for line in lines_out)
    # and the index's last selected member must be the selection's last
    index = _index(chunked)
    large = _large(index)
    texts = [_part_text(lines[p["part"]]) for p in large["chunks"]]
    population = [u for t in texts for u in json.loads(t)["population"]]
    large["last_selected"] = select(population, SEED, large["sample_size"] + 1)[-1]
    assert not verify_stratum(index, large["key"], texts).ok
    assert not SCRIPT["check_one_stratum"](index, large["key"], texts)[1]


def test_a_changed_code_range_in_the_index_is_found(chunked):
    index = _index(chunked)
    small = next(d for d in index["parts"]["strata"] if "chunks" not in d)
    lines = _lines(chunked)
    text = _part_text(lines[small["part"]])
    assert verify_stratum(index, small["key"], text).ok
    small["last"] = small["first"]
    report = verify_stratum(index, small["key"], text)
    assert not report.ok and "索引中的 last 与分块不符" in report.strata[0].reason


def test_a_member_left_out_below_the_last_selected_is_found(chunked):
    """The k-th smallest swapped for the (k+1)-th, and last_selected moved to it: every selected
    ticket is still at or below last_selected, but a member not drawn lies below it."""
    index = _index(chunked)
    large = _large(index)
    lines = _lines(chunked)
    chunks = [json.loads(_part_text(lines[p["part"]])) for p in large["chunks"]]
    population = [u for c in chunks for u in c["population"]]
    ranked = select(population, SEED, large["sample_size"] + 1)
    wrong = set(ranked[:-2] + ranked[-1:])
    order = {u: n for n, u in enumerate(ranked)}
    texts = []
    for chunk, part in zip(chunks, large["chunks"]):
        chunk["selected"] = sorted((u for u in chunk["population"] if u in wrong), key=order.__getitem__)
        texts.append(canonical_json(chunk))
        part["sha256"] = hashlib.sha256(texts[-1]).hexdigest()
    large["last_selected"] = ranked[-1]
    report = verify_stratum(index, large["key"], texts)
    assert not report.ok and "抽中名单与重新计算结果不同" in report.strata[0].reason
    assert not SCRIPT["check_one_stratum"](index, large["key"], texts)[1]
    # The same rebuild with the right selection verifies: the change above is what was found.
    index = _index(chunked)
    large = _large(index)
    right = set(ranked[:-1])
    texts = []
    for chunk, part in zip(chunks, large["chunks"]):
        chunk["selected"] = sorted((u for u in chunk["population"] if u in right), key=order.__getitem__)
        texts.append(canonical_json(chunk))
        part["sha256"] = hashlib.sha256(texts[-1]).hexdigest()
    assert verify_stratum(index, large["key"], texts).ok and SCRIPT["check_one_stratum"](index, large["key"], texts)[1]


def test_a_draw_writes_large_strata_in_chunks_that_verify_and_serve(gateway, client, settings, tmp_path, monkeypatch):
    """Through the draw, the API, the CLI and the record's readers, with chunks of 4 members."""
    from gateway.draw import record_v2
    from gateway.draw import service as draws
    from tests.draw.test_draw_record_v2 import _cli, _drawn

    monkeypatch.setattr(record_v2, "STRATUM_CHUNK", 4)
    draw_id = _drawn(gateway)
    index = client.get(f"/api/v1/draws/{draw_id}/record/index").json
    large = [d for d in index["parts"]["strata"] if "chunks" in d]
    assert large and all(len(d["chunks"]) == -(-d["population_size"] // 4) for d in large)
    whole = tmp_path / "draw.json"
    assert _cli(settings, "draw", "export", str(draw_id), "-o", str(whole)).exit_code == 0
    assert verify_file(whole).ok and _script(whole)[0] == 0
    drawn = max(large, key=lambda d: d["sample_size"])
    (tmp_path / "index.json").write_bytes(read_index(whole))
    files = []
    for part in drawn["chunks"]:
        served = client.get(f"/draws/{draw_id}/record/strata/{part['part']}.json")
        assert hashlib.sha256(served.data).hexdigest() == part["sha256"]
        files.append(tmp_path / f"part-{part['part']}.json")
        assert _cli(settings, "draw", "export", str(draw_id), "--stratum", str(part["part"]), "-o", str(files[-1])).exit_code == 0
    alone = _cli(settings, "verify", "--stratum", drawn["key"], str(tmp_path / "index.json"), *map(str, files))
    assert alone.exit_code == 0 and f"分层 {drawn['key']}：一致" in alone.output
    # The record's readers (the inspection codes' proofs) get each stratum whole, put back together.
    with gateway.read() as session:
        draw = draws.get_draw(session, draw_id)
        entries = {e["key"]: e for e in draws.record_strata(session, draw)}
        seed = draw.seed
    assert list(entries) == [d["key"] for d in index["parts"]["strata"]]
    entry = entries[drawn["key"]]
    assert len(entry["population"]) == drawn["population_size"]
    assert hashlib.sha256(canonical_json(entry["population"])).hexdigest() == drawn["population_sha256"]
    assert entry["selected"] == select(entry["population"], seed, drawn["sample_size"])


def _with_index(lines: list[bytes], index: dict) -> bytes:
    return b"\n".join(lines[:-1] + [b"]," + canonical_json(index)[1:]])


def test_the_exclusions_and_their_caps_counts_are_parts_of_their_own(chunked, tmp_path):
    index = _index(chunked)
    assert "exclusions" not in index and "counts" not in index["inspection_caps"]
    assert [d["part"] for d in index["parts"]["exclusions"]] == [1] and len(read_index(chunked)) < 20_000
    pieces = [text for kind, text in read_parts(chunked) if kind == "exclusions"]
    assert len(pieces) == 1 and hashlib.sha256(pieces[0]).hexdigest() == index["parts"]["exclusions"][0]["sha256"]
    piece = json.loads(pieces[0])
    assert len(piece["exclusions"]) == index["parts"]["exclusions"][0]["count"] == len(piece["counts"]) > 0
    caps = next(f for f in verify_file(chunked).checks if f.subject == "inspection_caps")
    assert caps.ok and f"{len(piece['exclusions'])} 项排除" in caps.reason
    lines = _lines(chunked)
    at = lines.index(b'],"exclusion_parts":[') + 1
    uscc = piece["exclusions"][0]["uscc"]
    # A changed count is named by its part.
    piece["counts"][uscc]["total"] = 1
    lines[at] = canonical_json(piece)
    changed = tmp_path / "changed.json"
    changed.write_bytes(b"\n".join(lines))
    report = verify_file(changed)
    assert not next(f for f in report.checks if f.subject == "parts").ok
    assert "排除分块 1" in next(f for f in report.checks if f.subject == "parts").reason
    code, out = _script(changed)
    assert code == 1 and "排除分块 1" in out
    # With its hash made to agree in the index, the exclusion is still found unjustified by its count.
    index["parts"]["exclusions"][0]["sha256"] = hashlib.sha256(lines[at]).hexdigest()
    changed.write_bytes(_with_index(lines, index))
    caps = next(f for f in verify_file(changed).checks if f.subject == "inspection_caps")
    assert not caps.ok and uscc in caps.reason
    code, out = _script(changed)
    assert code == 1 and "检查次数上限：不一致" in out and uscc in out


def test_an_exclusions_part_carries_its_code_range_and_both_verifiers_hold_the_index_to_it(chunked, tmp_path):
    index = _index(chunked)
    descriptor = index["parts"]["exclusions"][0]
    piece = json.loads(next(text for kind, text in read_parts(chunked) if kind == "exclusions"))
    codes = [e["uscc"] for e in piece["exclusions"]]
    assert codes == sorted(codes) and (descriptor["first"], descriptor["last"]) == (codes[0], codes[-1])
    # An index whose range leaves out the part's last code would hide that enterprise's exclusion
    # from a lookup: both verifiers say so.
    descriptor["last"] = codes[-2]
    changed = tmp_path / "range.json"
    changed.write_bytes(_with_index(_lines(chunked), index))
    parts = next(f for f in verify_file(changed).checks if f.subject == "parts")
    assert not parts.ok and "索引中排除分块 1 的 first、last 与分块不符" in parts.reason
    code, out = _script(changed)
    assert code == 1 and "索引中排除分块 1 的 first、last 与分块不符" in out


@pytest.mark.parametrize("frozen_as", ["chunks", "one member", "other chunks"])
def test_a_draw_copies_its_frozen_chunks_into_its_parts_or_serialises_them_again(gateway, monkeypatch, frozen_as):
    """The run copies each frozen chunk's compressed members into the chunk's part; a draw frozen
    before the chunks were stored apart (one gzip member), or with other chunks, gets the same
    parts serialised again. Either way the record verifies and each part hashes to its index."""
    import gzip

    from sqlalchemy import select as select_rows

    from gateway.draw import frozen, parts, record_v2
    from gateway.draw import service as draws
    from gateway.draw.models import DrawFrozenStratum, DrawRecordPart
    from tests.drawdb import COUNTY, build_directory, freeze_and_seed, published_plan

    monkeypatch.setattr(record_v2, "STRATUM_CHUNK", 4)
    build_directory(gateway, per_matter=6)
    draw_id = freeze_and_seed(gateway, published_plan(gateway))
    with gateway.write() as session:
        rows = session.scalars(select_rows(DrawFrozenStratum).where(DrawFrozenStratum.draw_id == draw_id)).all()
        originals = {row.key: (row.population_gzip, [place for place, _ in frozen.gzip_members(row.population_gzip)])
                     for row in rows}
        if frozen_as == "one member":
            for row in rows:
                row.population_gzip = frozen.pack(gzip.decompress(row.population_gzip))
    if frozen_as == "other chunks":
        monkeypatch.setattr(record_v2, "STRATUM_CHUNK", 3)
    draws.run_and_record_failure(gateway, COUNTY, draw_id)
    with gateway.read() as session:
        draw = draws.get_draw(session, draw_id)
        whole = b"".join(parts.whole_record_stream(session, draw))
        assert hashlib.sha256(whole).hexdigest() == draw.record_sha256
        index = parts.index(draw)
        bodies = dict(session.execute(select_rows(DrawRecordPart.number, DrawRecordPart.body_gzip).where(
            DrawRecordPart.draw_id == draw_id, DrawRecordPart.kind == parts.STRATUM)).all())
    assert verify_record(json.loads(whole)).ok
    large = [d for d in index["parts"]["strata"] if "chunks" in d]
    assert large
    for descriptor in large:
        packed, places = originals[descriptor["key"]]
        for number, part in enumerate(descriptor["chunks"]):
            body = bodies[part["part"]]
            assert hashlib.sha256(gzip.decompress(body)).hexdigest() == part["sha256"]
            if frozen_as == "chunks":  # the chunk's members, compressed at freeze time, sit in the part as they are
                assert packed[places[2 * number + 1]] in body and len(list(frozen.gzip_members(body))) in (3, 5)
            else:
                assert len(list(frozen.gzip_members(body))) == 1
