"""The SAMR result-code table and its combination rules."""
from __future__ import annotations

import json

import pytest

from schemas import result_codes as rc


def test_the_table_holds_every_code_of_the_design_with_its_chinese_label() -> None:
    assert {code: entry.label for code, entry in rc.RESULT_CODES.items()} == {
        "1": "未发现问题",
        "F": "未发现开展本次抽查涉及的经营活动",
        "E": "发现问题已责令改正",
        "A": "发现问题待后续处理",
        "B": "未按规定公示应当公示的信息",
        "C": "公示信息隐瞒真实情况弄虚作假",
        "6": "通过登记的住所（经营场所）无法联系",
        "D": "违反其他规定",
        "8": "不配合检查情节严重",
        "7": "已关闭停业或正在组织清算",
        "9": "注销",
        "10": "被吊销",
        "11": "被撤销",
        "12": "迁出",
    }
    assert {c for c, e in rc.RESULT_CODES.items() if e.parent == "A"} == {"B", "C", "6", "D"}


@pytest.mark.parametrize("codes", [["1"], ["F"], ["E"], ["A"], ["A", "B", "D"], ["E", "A", "6"], ["12"]])
def test_valid_combinations_pass(codes: list[str]) -> None:
    assert rc.check_codes(codes) == []


@pytest.mark.parametrize("codes, problem, index", [
    ([], "too_short", None),
    (["Z"], "unknown_result_code", 0),
    (["A", "A"], "duplicate_result_code", 1),
    (["1", "E"], "exclusive_result_code", None),
    (["9", "A"], "exclusive_result_code", None),
    (["B"], "result_code_parent_missing", None),
])
def test_invalid_combinations_say_why(codes: list[str], problem: str, index: int | None) -> None:
    problems = rc.check_codes(codes)
    assert [(p.code, p.index) for p in problems][:1] == [(problem, index)]
    assert all(p.message for p in problems)


def test_describe_shows_sub_codes_after_their_parent() -> None:
    assert rc.describe(["A", "B", "D"]) == "发现问题待后续处理：未按规定公示应当公示的信息、违反其他规定"
    assert rc.describe(["E"]) == "发现问题已责令改正"
    assert rc.describe(["E", "A"]) == "发现问题已责令改正；发现问题待后续处理"


def test_follow_up_is_required_for_pending_problems_only() -> None:
    assert rc.requires_follow_up(["A", "B"])
    assert not rc.requires_follow_up(["1"])
    assert rc.label("8") == "不配合检查情节严重"


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d["codes"].append(dict(d["codes"][0])), "twice"),
    (lambda d: d["codes"].append({**d["codes"][4], "code": "X", "parent": "Q"}), "unknown parent"),
])
def test_an_inconsistent_table_is_refused(mutate, message: str) -> None:
    from importlib import resources

    document = json.loads(resources.files("schemas").joinpath("data/result_codes.json").read_text(encoding="utf-8"))
    mutate(document)
    with pytest.raises(ValueError, match=message):
        rc.parse_table(document)
