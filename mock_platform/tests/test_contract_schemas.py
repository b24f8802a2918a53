"""The record schemas of the contract: what loads, and the coded Chinese errors of what does not."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from mock_platform.tests.builders import BUILDERS, draw_result, inspection, make_uscc, plan
from schemas.platform import RECORD_SCHEMAS, flatten_errors, parse_uscc, validate_record

TODAY = date(2024, 12, 31)


def errors_of(kind: str, record: object) -> list[tuple[str | None, str]]:
    loaded, errors = validate_record(kind, record, TODAY)
    assert (loaded is None) == bool(errors)
    assert all(e["message"] for e in errors)
    return [(e["field"], e["code"]) for e in errors]


@pytest.mark.parametrize("kind", RECORD_SCHEMAS)
def test_every_kind_has_a_valid_example(kind: str) -> None:
    assert errors_of(kind, BUILDERS[kind]()) == []


@pytest.mark.parametrize("kind", RECORD_SCHEMAS)
def test_every_required_field_is_reported_missing(kind: str) -> None:
    schema = RECORD_SCHEMAS[kind]()
    required = {name for name, field in schema.fields.items() if field.required}
    assert {field for field, code in errors_of(kind, {}) if code == "missing_field"} == required


@pytest.mark.parametrize("uscc, message", [
    ("91410823000000001", "统一社会信用代码应为 18 位"),
    (make_uscc(1)[:-1] + ("0" if make_uscc(1)[-1] != "0" else "1"), "统一社会信用代码校验位不正确"),
    ("914108AB0000000011", "统一社会信用代码含有不允许的字符"),
])
def test_a_bad_uscc_is_rejected_with_its_reason(uscc: str, message: str) -> None:
    _, errors = validate_record("inspection-results", inspection(uscc=uscc), TODAY)
    assert errors == [{"field": "uscc", "code": "invalid_uscc", "message": message}]


def test_result_codes_are_checked_one_by_one_and_as_a_combination() -> None:
    assert errors_of("inspection-results", inspection(result_codes=["1", "Q"])) == [("result_codes[1]", "unknown_result_code")]
    assert errors_of("inspection-results", inspection(result_codes=["1", "E"])) == [("result_codes", "exclusive_result_code")]
    assert errors_of("inspection-results", inspection(result_codes=["C"])) == [("result_codes", "result_code_parent_missing")]
    assert errors_of("inspection-results", inspection(result_codes=[])) == [("result_codes", "too_short")]
    assert errors_of("inspection-results", inspection(result_codes="1")) == [("result_codes", "invalid_type")]


def test_dates_after_today_are_refused_and_malformed_dates_named() -> None:
    assert errors_of("inspection-results", inspection(completed_on="2025-01-01")) == [("completed_on", "future_date")]
    assert errors_of("inspection-results", inspection(completed_on="2024-12-31")) == []
    assert errors_of("inspection-results", inspection(completed_on="20/05/2024")) == [("completed_on", "invalid_date")]
    assert errors_of("plans", plan(end_date="2024-01-01")) == [("end_date", "date_order")]


def test_choices_lengths_ids_unknown_fields_and_nesting_have_their_codes() -> None:
    assert errors_of("inspection-results", inspection(inspection_type="random")) == [("inspection_type", "invalid_choice")]
    assert errors_of("inspection-results", inspection(target_name="x" * 201)) == [("target_name", "too_long")]
    assert errors_of("inspection-results", inspection(target_name="")) == [("target_name", "too_short")]
    assert errors_of("inspection-results", inspection(id="-bad id")) == [("id", "invalid_format")]
    assert errors_of("inspection-results", inspection(colour="red")) == [("colour", "unknown_field")]
    assert errors_of("plans", plan(year=1999)) == [("year", "out_of_range")]
    assert errors_of("plans", plan(year="2024")) == [("year", "invalid_type")]
    assert errors_of("draw-results", draw_result(targets=[{"uscc": "1", "name": "x"}, "x"])) == [
        ("targets[0].uscc", "invalid_uscc"), ("targets[1]", "not_an_object"),
    ]
    assert errors_of("draw-results", draw_result(record_url="ftp://x")) == [("record_url", "invalid_format")]
    assert errors_of("inspection-results", ["not", "an", "object"]) == [(None, "not_an_object")]


def test_optional_fields_load_as_null_so_equal_records_compare_equal() -> None:
    record = inspection()
    del record["remarks"]
    loaded, _ = validate_record("inspection-results", record, TODAY)
    assert loaded is not None and loaded["remarks"] is None


def test_flatten_errors_keeps_paths_and_tolerates_plain_messages() -> None:
    assert flatten_errors({"a": {0: {"b": ["plain"]}}, "_schema": [{"code": "c", "message": "m"}]}) == [
        {"field": "a[0].b", "code": "invalid_value", "message": "plain"},
        {"field": None, "code": "c", "message": "m"},
    ]


@given(st.integers(min_value=0, max_value=999_999_999))
def test_every_uscc_with_a_correct_check_digit_is_accepted(n: int) -> None:
    assert parse_uscc(make_uscc(n)) == make_uscc(n)


@given(st.integers(min_value=0, max_value=999_999_999), st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"))
def test_every_wrong_check_digit_is_refused(n: int, digit: str) -> None:
    good = make_uscc(n)
    if digit == good[-1]:
        return
    with pytest.raises(ValueError, match="校验位"):
        parse_uscc(good[:-1] + digit)


def test_parse_uscc_compacts_lower_case_and_spaces() -> None:
    code = make_uscc(7)
    assert parse_uscc(" " + code.lower()[:9] + " " + code.lower()[9:]) == code
    assert stdnum_uscc.is_valid(code)
