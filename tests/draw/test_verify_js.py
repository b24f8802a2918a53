"""The public draw page's in-browser check (gateway/web/static/js/verify.js), run under Node with a
stub window: a shuangsui.draw/2 record is verified per stratum from the index and its parts,
fetched one at a time, and a changed part is named; a version 1 record is still checked whole."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.verify_scale import write

VERIFY_JS = Path(__file__).resolve().parents[2] / "gateway" / "web" / "static" / "js" / "verify.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")

HARNESS = r"""
const fs = require("fs"), vm = require("vm"), path = require("path");
const [script, folder, mode, uscc] = process.argv.slice(2);
const window = { isSecureContext: true, crypto: globalThis.crypto };
const fetched = [];
const context = { window, TextEncoder, BigInt, Promise, JSON, Array, String, Number,
                  document: { addEventListener() {} } };
vm.createContext(context);
vm.runInContext(fs.readFileSync(script, "utf8"), context);
const api = window.shuangsuiVerify;
const read = (name) => fs.readFileSync(path.join(folder, name), "utf8");
const fetchPart = (n) => { fetched.push(n); return Promise.resolve(read(`stratum-${n}.json`)); };
let record = JSON.parse(read("index.json"));
if (mode === "whole") { record = JSON.parse(read("draw.json")); record.format = "shuangsui.draw/1"; }
const excluded = [];
const fetchExclusions = (n) => { excluded.push(n); return Promise.resolve(read(`exclusions-${n}.json`)); };
const checker = new api.Checker(record, fetchPart, fetchExclusions);
const done = mode === "lookup" ? api.strataOf(checker, uscc).then((strata) => ({ keys: strata.map((s) => s.key) }))
           : mode === "excluded" ? api.exclusionsOf(checker, uscc).then((out) => ({ ...out, excluded }))
           : api.verifyAll(checker);
done.then((out) => console.log(JSON.stringify({ ...out, fetched })), (e) => { console.error(e); process.exit(3); });
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("record")
    write(str(where / "draw.json"), 1500, 2)
    (where / "harness.js").write_text(HARNESS, encoding="utf-8")
    return where


def _run(folder: Path, mode: str, uscc: str = "") -> dict:
    out = subprocess.run([NODE, str(folder / "harness.js"), str(VERIFY_JS), str(folder), mode, uscc],
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout)


def test_a_split_record_verifies_per_stratum_one_part_at_a_time(folder):
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    out = _run(folder, "parts")
    assert out["ok"] and out["chain"] is True
    assert [r["key"] for r in out["results"]] == [d["key"] for d in index["parts"]["strata"]]
    assert out["fetched"] == [d["part"] for d in index["parts"]["strata"]]


def test_a_changed_part_is_named(folder, tmp_path):
    for name in folder.iterdir():
        if name.suffix in (".json", ".js") and name.name != "draw.json":
            shutil.copy(name, tmp_path / name.name)
    part = tmp_path / "stratum-2.json"
    entry = json.loads(part.read_text(encoding="utf-8"))
    entry["selected"] = entry["selected"][::-1]
    part.write_text(json.dumps(entry, separators=(",", ":"), sort_keys=True), encoding="utf-8")
    out = _run(tmp_path, "parts")
    bad = [r for r in out["results"] if not r["ok"]]
    assert not out["ok"] and [r["key"] for r in bad] == [entry["key"]]
    assert "分块内容与索引中的 SHA-256 不符，该分块被改动" in bad[0]["reasons"]


def test_an_enterprise_finds_its_strata_from_the_parts(folder):
    entry = json.loads((folder / "stratum-1.json").read_text(encoding="utf-8"))
    uscc = entry["population"][0]
    out = _run(folder, "lookup", uscc)
    assert entry["key"] in out["keys"]


def test_a_version_1_record_is_still_checked_whole(folder):
    out = _run(folder, "whole")
    assert out["ok"] and out["chain"] is None and out["fetched"] == []


@pytest.fixture(scope="module")
def chunked(tmp_path_factory) -> Path:
    """A record whose large strata are cut into chunks of at most 100 members."""
    where = tmp_path_factory.mktemp("chunked")
    write(str(where / "draw.json"), 1500, 2, 100)
    (where / "harness.js").write_text(HARNESS, encoding="utf-8")
    return where


def _numbers(descriptor: dict) -> list[int]:
    return [p["part"] for p in descriptor.get("chunks", [descriptor])]


def test_a_chunked_record_verifies_and_a_changed_chunk_is_named(chunked, tmp_path):
    index = json.loads((chunked / "index.json").read_text(encoding="utf-8"))
    large = [d for d in index["parts"]["strata"] if "chunks" in d]
    assert large
    out = _run(chunked, "parts")
    assert out["ok"] and out["chain"] is True
    assert out["fetched"] == [n for d in index["parts"]["strata"] for n in _numbers(d)]
    for name in chunked.iterdir():
        if name.suffix in (".json", ".js") and name.name != "draw.json":
            shutil.copy(name, tmp_path / name.name)
    target = max(large, key=lambda d: d["sample_size"])
    number = next(n for n in _numbers(target)
                  if json.loads((tmp_path / f"stratum-{n}.json").read_text(encoding="utf-8"))["selected"])
    part = tmp_path / f"stratum-{number}.json"
    chunk = json.loads(part.read_text(encoding="utf-8"))
    chunk["selected"] = chunk["selected"][:-1] + [next(u for u in chunk["population"] if u not in chunk["selected"])]
    part.write_text(json.dumps(chunk, separators=(",", ":"), sort_keys=True), encoding="utf-8")
    out = _run(tmp_path, "parts")
    bad = [r for r in out["results"] if not r["ok"]]
    assert not out["ok"] and [r["key"] for r in bad] == [target["key"]]
    assert f"分块 {number} 内容与索引中的 SHA-256 不符，该分块被改动" in bad[0]["reasons"]


def test_a_lookup_fetches_only_the_parts_whose_code_range_holds_the_enterprise(chunked):
    index = json.loads((chunked / "index.json").read_text(encoding="utf-8"))
    target = max((d for d in index["parts"]["strata"] if "chunks" in d), key=lambda d: d["population_size"])
    chunk = json.loads((chunked / f"stratum-{target['chunks'][-1]['part']}.json").read_text(encoding="utf-8"))
    uscc = chunk["population"][len(chunk["population"]) // 2]
    out = _run(chunked, "lookup", uscc)
    holding = [d for d in index["parts"]["strata"]
               if any(p["first"] <= uscc <= p["last"] for p in d.get("chunks", [d]))]
    assert out["fetched"] == [p["part"] for d in holding for p in d.get("chunks", [d]) if p["first"] <= uscc <= p["last"]]
    assert len(out["fetched"]) <= len(holding) < len(index["parts"]["strata"])
    assert target["key"] in out["keys"]
    assert set(out["keys"]) == {d["key"] for d in holding
                                if any(uscc in json.loads((chunked / f"stratum-{n}.json").read_text(encoding="utf-8"))["population"]
                                       for n in _numbers(d))}


@pytest.fixture(scope="module")
def excluded(tmp_path_factory) -> Path:
    """A record with 42 exclusions for the caps, in exclusions parts of at most 10."""
    where = tmp_path_factory.mktemp("excluded")
    write(str(where / "draw.json"), 1500, 2, None, 10)
    (where / "harness.js").write_text(HARNESS, encoding="utf-8")
    return where


def test_a_lookup_finds_the_enterprises_exclusion_in_the_one_part_whose_code_range_holds_it(excluded, tmp_path):
    index = json.loads((excluded / "index.json").read_text(encoding="utf-8"))
    descriptors = index["parts"]["exclusions"]
    assert len(descriptors) == 5
    piece = json.loads((excluded / "exclusions-3.json").read_text(encoding="utf-8"))
    uscc = piece["exclusions"][4]["uscc"]
    out = _run(excluded, "excluded", uscc)
    assert out["excluded"] == [3] and out["reasons"] == []
    assert out["exclusions"] == [e for e in piece["exclusions"] if e["uscc"] == uscc]
    assert out["exclusions"][0]["reason"] == "inspection_cap_reached"
    # A code in no part's range fetches nothing and finds nothing.
    assert _run(excluded, "excluded", "91410800000000000X") == {"exclusions": [], "reasons": [], "excluded": [], "fetched": []}
    # A changed part is named, not trusted.
    for name in excluded.iterdir():
        if name.suffix in (".json", ".js") and name.name != "draw.json":
            shutil.copy(name, tmp_path / name.name)
    piece["exclusions"][4]["reason"] = "criteria_not_met"
    (tmp_path / "exclusions-3.json").write_text(json.dumps(piece, separators=(",", ":")), encoding="utf-8")
    out = _run(tmp_path, "excluded", uscc)
    assert out["exclusions"] == [] and out["reasons"] == ["排除分块 3 内容与索引中的 SHA-256 不符，该分块被改动"]
