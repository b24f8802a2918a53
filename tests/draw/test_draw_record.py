"""The public draw record: canonical hashes, opaque inspector ids, building and shape checks."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from gateway.draw.record import (
    FORMAT,
    RecordError,
    canonical_json,
    list_sha256,
    opaque_inspector_id,
    population_sha256,
    ratio_text,
    record_problems,
    validate_record,
)
from gateway.draw.strata import Stratum


def test_canonical_json_is_sorted_compact_utf8():
    assert canonical_json({"b": 1, "a": ["武陟", "x"]}) == '{"a":["武陟","x"],"b":1}'.encode("utf-8")
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_population_sha256_definition():
    literal = '[{"key":"M1:high","population":["A1","B2"],"ratio":"0.05"},{"key":"M1:low","population":[],"ratio":"1"}]'
    expected = hashlib.sha256(literal.encode("utf-8")).hexdigest()
    as_objects = [
        Stratum("M1:high", "M1", Decimal("0.050"), ("B2", "A1")),
        Stratum("M1:low", "M1", Decimal("1.00"), ()),
    ]
    as_entries = [
        {"key": "M1:high", "ratio": "0.05", "population": ["A1", "B2"], "matter": "ignored"},
        {"key": "M1:low", "ratio": "1", "population": []},
    ]
    assert population_sha256(as_objects) == expected
    assert population_sha256(as_entries) == expected
    assert list_sha256(["A1", "B2"]) == hashlib.sha256(b'["A1","B2"]').hexdigest()


def test_ratio_text_is_plain_decimal():
    assert ratio_text(Decimal("0.050")) == "0.05"
    assert ratio_text(Decimal("5E-2")) == "0.05"
    assert ratio_text(Decimal("1.00")) == "1"
    assert ratio_text("0.0001") == "0.0001"


def test_opaque_inspector_id_hides_the_inspector():
    key = b"secret"
    opaque = opaque_inspector_id("draw-1", "inspector-17", key)
    message = '["draw-1","inspector-17"]'.encode("utf-8")
    assert opaque == hmac.new(key, message, hashlib.sha256).hexdigest()[:16]
    assert len(opaque) == 16 and int(opaque, 16) >= 0
    assert opaque_inspector_id("draw-2", "inspector-17", key) != opaque
    assert opaque_inspector_id("draw-1", "inspector-17", b"other") != opaque
    with pytest.raises(ValueError):
        opaque_inspector_id("draw-1", "inspector-17", b"")


def test_built_record_has_the_documented_fields(record, draw):
    assert record["format"] == FORMAT
    assert list(record) == [
        "format", "draw_id", "plan", "algorithm", "frozen_at", "drawn_at", "population_sha256",
        "seed", "contributions", "participants", "strata", "exclusions", "tasks",
    ]
    assert record["seed"] == draw["seed"] == "31415926535-89793238-46264338-3279"
    assert record["contributions"][0] == {"order": 1, "role": "organiser", "name": "张三", "digits": "31415926535"}
    assert record["participants"]["witness"] == ["钱七", "赵六"]
    assert record["population_sha256"] == population_sha256(draw["strata"])
    entry = record["strata"][0]
    assert set(entry) == {
        "key", "matter", "risk_class", "ratio", "population", "population_sha256", "sample_size", "selected",
    }
    assert entry["ratio"] == "0.2" and entry["sample_size"] == 8
    assert len(record["tasks"]) == len(draw["targets"])
    task = record["tasks"][0]
    assert set(task) == {"number", "uscc", "ticket", "matters", "inspectors"}
    assert all(set(m) == {"department", "id"} for m in task["inspectors"])
    text = json.dumps(record, ensure_ascii=False)
    for inspector in draw["inspectors"]:
        assert inspector.certificate not in text
        assert f'"{inspector.id}"' not in text
    assert record_problems(record) == []


@pytest.mark.parametrize(
    "tamper, fragment",
    [
        (lambda r: r.update(format="shuangsui.draw/2"), "format"),
        (lambda r: r["contributions"].pop(2), "监督人员"),
        (lambda r: r["contributions"][1].update(order=5), "order"),
        (lambda r: r["contributions"][1].update(digits="12a4"), "只能由数字"),
        (lambda r: r["participants"].update(organiser=["别人"]), "张三"),
        (lambda r: r["strata"][0].update(ratio=0.2), "ratio"),
        (lambda r: r["strata"][0]["population"].reverse(), "升序"),
        (lambda r: r["strata"][0].update(sample_size=-1), "sample_size"),
        (lambda r: r["exclusions"][0].update(reason="because"), "原因代码"),
        (lambda r: r["tasks"][0]["inspectors"][0].update(certificate="豫执法证0001"), "匿名 id"),
        (lambda r: r["tasks"][1].update(number=r["tasks"][0]["number"]), "任务编号重复"),
        (lambda r: r.update(plan={"number": "x", "name": "y"}), "plan.year"),
    ],
)
def test_validate_record_names_the_problem(record, tamper, fragment):
    tamper(record)
    with pytest.raises(RecordError) as caught:
        validate_record(record)
    assert fragment in str(caught.value)
    assert caught.value.problems


def test_validate_record_refuses_non_objects():
    with pytest.raises(RecordError):
        validate_record([])
