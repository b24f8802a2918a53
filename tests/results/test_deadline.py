"""The article 19 publication deadline: 20 working days on the Chinese holiday calendar."""
from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.results import holidays as hol
from gateway.results.deadline import (
    DUE_SOON,
    ON_TRACK,
    OVERDUE,
    PUBLICATION_WORKING_DAYS,
    STATUS_LABELS,
    Deadline,
    add_working_days,
    due_status,
    is_working_day,
    publication_deadline,
    working_days_between,
)
from gateway.results.holidays import (
    DEFAULT_HOLIDAYS_FILE,
    HOLIDAYS_FILE_ENV,
    HolidayDataError,
    WorkingCalendar,
    calendar_for,
    holidays_file_setting,
    library_years,
    load_holiday_file,
    resolve_holidays_file,
)

LAST_LIBRARY_YEAR = max(library_years())
UNKNOWN_YEAR = 2028  # neither chinesecalendar 1.11.0 nor the shipped data file has it


def synthetic_2028() -> dict:
    """A made-up but plausible 2028 arrangement (NOT the State Council's notice) for the tests."""
    return {
        "source": "测试用虚构安排，并非国务院通知",
        "holidays": [
            {"name": "元旦", "start": "2028-01-01", "end": "2028-01-03"},
            {"name": "春节", "start": "2028-01-25", "end": "2028-02-02"},
            {"name": "清明节", "start": "2028-04-04"},
            {"name": "劳动节", "start": "2028-05-01", "end": "2028-05-05"},
            {"name": "端午节", "start": "2028-05-28", "end": "2028-05-30"},
            {"name": "国庆节、中秋节", "start": "2028-10-01", "end": "2028-10-07"},
        ],
        "workdays": [
            {"name": "春节", "date": "2028-02-05"},
            {"name": "劳动节", "date": "2028-04-29"},
            {"name": "国庆节、中秋节", "date": "2028-09-30"},
            {"name": "国庆节、中秋节", "date": "2028-10-08"},
        ],
    }


def write_file(tmp_path, content, name="holidays.json"):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch):
    monkeypatch.delenv(HOLIDAYS_FILE_ENV, raising=False)


# --- what the library knows ----------------------------------------------------------------


def test_library_years_cover_the_current_ones():
    years = library_years()
    assert min(years) == 2004
    assert {2024, 2025, 2026} <= years
    assert UNKNOWN_YEAR not in years
    assert years == frozenset(range(min(years), max(years) + 1))


def test_chinesecalendar_marks_the_dates_the_tests_rely_on():
    # National Day 2026: 1–7 October off; Sunday 20 September and Saturday 10 October worked.
    assert all(chinese_calendar.is_holiday(date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    assert chinese_calendar.is_workday(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6
    # National Day 2025: 1–8 October off; Sunday 28 September and Saturday 11 October worked.
    assert all(chinese_calendar.is_holiday(date(2025, 10, d)) for d in range(1, 9))
    assert chinese_calendar.is_workday(date(2025, 10, 11)) and date(2025, 10, 11).weekday() == 5
    # New Year 2026: 1–3 January off, Sunday 4 January worked.
    assert all(chinese_calendar.is_holiday(date(2026, 1, d)) for d in (1, 2, 3))
    assert chinese_calendar.is_workday(date(2026, 1, 4)) and date(2026, 1, 4).weekday() == 6


# --- National Day and make-up weekends --------------------------------------------------------


def test_national_day_2026_with_make_up_saturday():
    # Completed Wed 30 Sep; 1–7 Oct off; Thu 8 (1), Fri 9 (2), make-up Sat 10 (3), then weekdays.
    assert add_working_days(date(2026, 9, 30), 1) == Deadline(date(2026, 10, 8), False)
    assert add_working_days(date(2026, 9, 30), 3) == Deadline(date(2026, 10, 10), False)
    assert add_working_days(date(2026, 9, 30), 4) == Deadline(date(2026, 10, 12), False)
    # Without the make-up Saturday this would be 4 November.
    assert publication_deadline(date(2026, 9, 30)) == Deadline(date(2026, 11, 3), False)
    assert PUBLICATION_WORKING_DAYS == 20


def test_make_up_sunday_before_national_day_2026():
    # Fri 18 Sep -> the make-up Sunday 20 Sep is the first working day after it.
    assert add_working_days(date(2026, 9, 18), 1).due == date(2026, 9, 20)
    assert add_working_days(date(2026, 9, 18), 2).due == date(2026, 9, 21)
    # Mid-Autumn (Fri 25 Sep) and National Day are skipped: Mon 21..Thu 24, Mon 28..Wed 30, Thu 8 Oct.
    assert add_working_days(date(2026, 9, 20), 8).due == date(2026, 10, 8)


def test_national_day_2025_with_make_up_saturday():
    # Completed Tue 30 Sep 2025; 1–8 Oct off; Thu 9 (1), Fri 10 (2), make-up Sat 11 (3).
    assert add_working_days(date(2025, 9, 30), 3).due == date(2025, 10, 11)
    assert publication_deadline(date(2025, 9, 30)) == Deadline(date(2025, 11, 4), False)
    # The make-up Sunday 28 Sep 2025 counts too.
    assert add_working_days(date(2025, 9, 26), 1).due == date(2025, 9, 28)


def test_completion_on_a_holiday_or_weekend_counts_from_the_next_working_day():
    # Completed during the holiday itself: day 1 is still Thu 8 Oct.
    assert add_working_days(date(2026, 10, 3), 1).due == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 3), 20).due == date(2026, 11, 3)


def test_is_working_day():
    assert not is_working_day(date(2026, 10, 1))
    assert is_working_day(date(2026, 10, 10))  # make-up Saturday
    assert not is_working_day(date(2026, 10, 11))  # ordinary Sunday
    assert is_working_day(date(2026, 10, 12))


# --- year end ---------------------------------------------------------------------------------


def test_across_year_end_with_new_years_day_and_make_up_sunday():
    # Thu 25 Dec 2025: Fri 26 (1), Mon 29 (2), Tue 30 (3), Wed 31 (4), 1–3 Jan off, Sun 4 Jan (5).
    assert add_working_days(date(2025, 12, 25), 5) == Deadline(date(2026, 1, 4), False)
    assert add_working_days(date(2025, 12, 25), 6) == Deadline(date(2026, 1, 5), False)
    assert publication_deadline(date(2025, 12, 20)) == Deadline(date(2026, 1, 19), False)
    assert working_days_between(date(2025, 12, 25), date(2026, 1, 5)) == 6


def test_across_year_end_into_an_unknown_year_is_provisional():
    last = LAST_LIBRARY_YEAR
    # Counting stays inside the known year: exact.
    assert add_working_days(date(last, 12, 1), 5).provisional is False
    # Counting crosses into the next year: 1 January is a fixed-date holiday, but the rest of
    # the arrangement is unknown, so the deadline is provisional.
    start = date(last, 12, 24)
    deadline = add_working_days(start, 10)
    assert deadline.provisional is True
    assert deadline.due.year == last + 1
    assert not is_working_day(date(last + 1, 1, 1))


def test_across_2026_2027_year_end():
    # Fri 25 Dec 2026: Mon 28 (1) .. Thu 31 (4); Fri 1 Jan 2027 is New Year's Day; Mon 4 Jan (5).
    assert add_working_days(date(2026, 12, 25), 5) == Deadline(date(2027, 1, 4), True)
    assert add_working_days(date(2026, 12, 25), 4) == Deadline(date(2026, 12, 31), False)


# --- a year missing from the library ---------------------------------------------------------


def test_unknown_year_is_provisional_then_exact_once_the_file_has_it(tmp_path):
    start = date(2028, 9, 29)  # a Friday
    # Provisional: weekdays minus 1–3 October (Sun, Mon, Tue in 2028).
    provisional = add_working_days(start, 20)
    assert provisional == Deadline(date(2028, 10, 31), True)

    path = write_file(tmp_path, {"years": {"2028": synthetic_2028()}})
    # Exact: make-up Sat 30 Sep (1), 1–7 Oct off, make-up Sun 8 Oct (2), ... Wed 1 Nov (20).
    exact = add_working_days(start, 20, holidays_file=path)
    assert exact == Deadline(date(2028, 11, 1), False)
    assert add_working_days(start, 1, holidays_file=path).due == date(2028, 9, 30)
    assert add_working_days(start, 2, holidays_file=path).due == date(2028, 10, 8)


def test_the_environment_variable_selects_the_file(tmp_path, monkeypatch):
    path = write_file(tmp_path, {"years": {"2028": synthetic_2028()}})
    monkeypatch.setenv(HOLIDAYS_FILE_ENV, str(path))
    assert holidays_file_setting() == path
    assert resolve_holidays_file() == path
    assert resolve_holidays_file("") == path  # an empty Settings.holidays_file means "not set"
    assert publication_deadline(date(2028, 9, 29)) == Deadline(date(2028, 11, 1), False)
    # An explicit path wins over the environment variable.
    assert resolve_holidays_file(DEFAULT_HOLIDAYS_FILE) == DEFAULT_HOLIDAYS_FILE
    assert publication_deadline(date(2028, 9, 29), holidays_file=DEFAULT_HOLIDAYS_FILE).provisional


def test_without_env_the_shipped_file_is_used_and_is_valid():
    assert holidays_file_setting() is None
    assert resolve_holidays_file() == DEFAULT_HOLIDAYS_FILE
    data = load_holiday_file(DEFAULT_HOLIDAYS_FILE)
    assert UNKNOWN_YEAR not in data.years
    assert hol.main([]) == 0


def test_a_file_year_makes_only_that_year_exact(tmp_path):
    path = write_file(tmp_path, {"years": {"2028": synthetic_2028()}})
    calendar = calendar_for(path)
    assert calendar.knows_year(2028) and calendar.knows_year(2026)
    assert not calendar.knows_year(2027)
    # Counting from late 2027 into 2028 still touches unknown 2027 days: provisional.
    assert add_working_days(date(2027, 12, 28), 5, holidays_file=path).provisional
    # Counting wholly inside 2028 is exact; 1–3 Jan 2028 off per the file.
    assert add_working_days(date(2027, 12, 31), 1, holidays_file=path) == Deadline(
        date(2028, 1, 4), False
    )


def test_the_provisional_rule_has_the_fixed_date_holidays_only():
    calendar = calendar_for()
    for day in (date(2028, 1, 1), date(2028, 5, 1), date(2028, 5, 2), date(2028, 10, 2), date(2028, 10, 3)):
        assert not calendar.is_working_day(day), day
    # 元旦 2028 falls on a Saturday; the day off in lieu is up to the notice, so Monday works.
    assert calendar.is_working_day(date(2028, 1, 3))
    info = calendar.day_info(date(2028, 10, 2))
    assert info.provisional and info.name == "国庆节" and info.source == hol.SOURCE_PROVISIONAL
    assert not calendar.is_working_day(date(2028, 4, 4))  # 清明 (solar term), a Tuesday
    assert calendar.day_info(date(2028, 4, 4)).name == "清明节"
    # The Spring Festival cannot be known without the notice: 26 Jan 2028 counts as a working day.
    assert calendar.is_working_day(date(2028, 1, 26))
    assert calendar.is_working_day(date(2028, 10, 4))


def test_the_provisional_qingming_rule_matches_the_library_years():
    calendar = hol.WorkingCalendar()
    for year in range(2008, LAST_LIBRARY_YEAR + 1):  # 清明节 became a public holiday in 2008
        qingming = [d for d, name in hol._provisional_holidays(year).items() if name == "清明节"]
        assert len(qingming) == 1
        assert chinese_calendar.is_holiday(qingming[0]), qingming[0]
        assert not calendar.is_working_day(qingming[0])


def test_the_file_overrides_the_library_for_a_known_year(tmp_path):
    # The office may correct a known year, e.g. a special one-off holiday added late.
    block = {
        "holidays": [
            {"name": "元旦", "start": "2026-01-01", "end": "2026-01-03"},
            {"name": "劳动节", "start": "2026-05-01", "end": "2026-05-05"},
            {"name": "国庆节", "start": "2026-10-01", "end": "2026-10-07"},
            {"name": "临时放假", "start": "2026-10-08"},
        ],
        "workdays": [{"name": "国庆节", "date": "2026-10-10"}],
    }
    path = write_file(tmp_path, {"years": {"2026": block}})
    info = calendar_for(path).day_info(date(2026, 10, 8))
    assert (info.working, info.source, info.name) == (False, hol.SOURCE_FILE, "临时放假")
    assert add_working_days(date(2026, 9, 30), 1, holidays_file=path).due == date(2026, 10, 9)
    # A year in the file is taken wholly from the file: the library's 20 Sep make-up Sunday is
    # not listed here, so it is an ordinary Sunday.
    assert not is_working_day(date(2026, 9, 20), holidays_file=path)


def test_a_new_year_arrangement_may_start_in_the_december_before(tmp_path):
    block = synthetic_2028()
    block["holidays"][0] = {"name": "元旦", "start": "2027-12-31", "end": "2028-01-02"}
    block["workdays"].append({"name": "元旦", "date": "2027-12-26"})  # a Sunday
    path = write_file(tmp_path, {"years": {"2028": block}})
    calendar = calendar_for(path)
    assert not calendar.is_working_day(date(2027, 12, 31))
    assert calendar.day_info(date(2027, 12, 31)).name == "元旦"
    assert calendar.is_working_day(date(2027, 12, 26))
    assert calendar.day_info(date(2027, 12, 30)).provisional  # 2027 itself is still unknown


def test_editing_the_file_is_picked_up_without_restart(tmp_path):
    path = write_file(tmp_path, {"years": {}})
    assert add_working_days(date(2028, 9, 29), 20, holidays_file=path).provisional
    write_file(tmp_path, {"note": "已补 2028 年", "years": {"2028": synthetic_2028()}})
    assert add_working_days(date(2028, 9, 29), 20, holidays_file=path) == Deadline(
        date(2028, 11, 1), False
    )


def test_the_check_command(tmp_path, capsys):
    good = write_file(tmp_path, {"years": {"2028": synthetic_2028()}}, "good.json")
    assert hol.main([str(good)]) == 0
    assert "2028" in capsys.readouterr().out
    bad = write_file(tmp_path, "{", "bad.json")
    assert hol.main([str(bad)]) == 1
    assert "不是有效的 JSON" in capsys.readouterr().err


# --- bad data files -----------------------------------------------------------------------------


def _with(**changes):
    block = synthetic_2028()
    block.update(changes)
    return {"years": {"2028": block}}


def _holidays_with(index, entry):
    block = synthetic_2028()
    block["holidays"][index] = entry
    return {"years": {"2028": block}}


BAD_FILES = [
    pytest.param("{\"years\": {", ["不是有效的 JSON", "第 1 行"], id="not-json"),
    pytest.param("[]", ["顶层必须是 JSON 对象"], id="top-not-object"),
    pytest.param({}, ["缺少顶层字段 \"years\""], id="no-years"),
    pytest.param({"years": {}, "yaers": 1}, ["未知字段 \"yaers\""], id="unknown-top-field"),
    pytest.param({"years": {"28": synthetic_2028()}}, ["年份 \"28\" 无效"], id="bad-year-key"),
    pytest.param(
        '{"years": {"2028": {"holidays": [], "workdays": []}, "2028": {"holidays": [], "workdays": []}}}',
        ["\"2028\" 重复出现"],
        id="duplicate-year",
    ),
    pytest.param({"years": {"2028": []}}, ["2028 年：内容必须是 JSON 对象"], id="year-not-object"),
    pytest.param(
        {"years": {"2028": {"holidays": []}}}, ["2028 年：缺少字段 \"workdays\""], id="missing-workdays"
    ),
    pytest.param(_with(holiday=[]), ["2028 年：未知字段 \"holiday\""], id="unknown-year-field"),
    pytest.param(
        _holidays_with(5, {"name": "国庆节", "start": "2028-10-01", "end": "2028-13-07"}),
        ["2028 年 holidays[5].end", "\"2028-13-07\" 不存在"],
        id="impossible-date",
    ),
    pytest.param(
        _holidays_with(5, {"name": "国庆节", "start": "2028/10/01", "end": "2028-10-07"}),
        ["2028 年 holidays[5].start", "\"2028/10/01\"", "YYYY-MM-DD"],
        id="bad-date-format",
    ),
    pytest.param(
        _holidays_with(5, {"name": "国庆节", "start": "2028-10-07", "end": "2028-10-01"}),
        ["2028 年 holidays[5]", "end 2028-10-01 早于开始日期 start 2028-10-07"],
        id="end-before-start",
    ),
    pytest.param(
        _holidays_with(5, {"name": "国庆节", "start": "2028-10-01", "end": "2028-12-07"}),
        ["2028 年 holidays[5]", "超过 15 天"],
        id="span-too-long",
    ),
    pytest.param(
        _holidays_with(5, {"name": "国庆节", "start": "2027-10-01", "end": "2027-10-07"}),
        ["2028 年 holidays[5].start", "2027-10-01 不属于 2028 年"],
        id="date-in-wrong-year",
    ),
    pytest.param(
        _holidays_with(5, {"name": "", "start": "2028-10-01", "end": "2028-10-07"}),
        ["2028 年 holidays[5].name"],
        id="empty-name",
    ),
    pytest.param(
        _holidays_with(5, {"name": None, "start": None, "end": "2028-10-07"}),
        ["2028 年 holidays[5].name：节日名称必须是非空文字", "2028 年 holidays[5].start：日期 null 格式无效"],
        id="null-values",
    ),
    pytest.param(
        _with(source=None), ["2028 年：字段 \"source\" 必须是文字"], id="null-source"
    ),
    pytest.param(
        _holidays_with(5, {"start": "2028-10-01", "end": "2028-10-07"}),
        ["2028 年 holidays[5]：缺少字段 \"name\""],
        id="missing-name",
    ),
    pytest.param(
        _holidays_with(5, {"name": "国庆节", "start": "2028-10-04", "end": "2028-10-07"}),
        ["2028 年：缺少法定节假日 2028-10-01（国庆节）", "2028-10-03（国庆节）"],
        id="missing-statutory-days",
    ),
    pytest.param(
        _holidays_with(3, {"name": "劳动节", "start": "2028-01-01", "end": "2028-01-03"}),
        ["2028 年 holidays[3]", "2028-01-01 重复列为放假日"],
        id="overlapping-holidays",
    ),
    pytest.param(
        _with(workdays=[{"name": "春节", "date": "2028-02-07"}]),
        ["2028 年 workdays[0].date", "2028-02-07 是星期一", "只能是星期六或星期日"],
        id="make-up-day-on-a-weekday",
    ),
    pytest.param(
        _with(workdays=[{"name": "国庆节", "date": "2028-10-07"}]),
        ["2028 年 workdays[0].date", "2028-10-07 同时列为放假日"],
        id="both-holiday-and-workday",
    ),
    pytest.param(
        _with(workdays=[{"name": "国庆节", "day": "2028-10-08"}]),
        ["2028 年 workdays[0]", "未知字段 \"day\"", "缺少字段 \"date\""],
        id="workday-wrong-field",
    ),
    pytest.param(
        _with(holidays="2028-10-01"), ["2028 年：字段 \"holidays\" 必须是列表"], id="holidays-not-list"
    ),
]


@pytest.mark.parametrize("content, fragments", BAD_FILES)
def test_bad_data_files_are_rejected_naming_the_problem(tmp_path, content, fragments):
    path = write_file(tmp_path, content)
    with pytest.raises(HolidayDataError) as excinfo:
        add_working_days(date(2028, 9, 29), 20, holidays_file=path)
    message = str(excinfo.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_every_problem_is_reported_at_once(tmp_path):
    block = synthetic_2028()
    block["holidays"][5]["end"] = "2028-10-32"
    block["workdays"][0]["date"] = "2028-02-07"
    path = write_file(tmp_path, {"years": {"2028": block, "2029": {"holidays": [], "workdays": []}}})
    with pytest.raises(HolidayDataError) as excinfo:
        load_holiday_file(path)
    problems = excinfo.value.problems
    assert any("2028 年 holidays[5].end" in p for p in problems)
    assert any("2028 年 workdays[0].date" in p for p in problems)
    assert any("2029 年：缺少法定节假日 2029-01-01（元旦）" in p for p in problems)


def test_a_date_listed_by_two_years_is_rejected(tmp_path):
    y2027 = synthetic_2028()
    y2027 = json.loads(json.dumps(y2027).replace("2028-", "2027-"))
    y2027["workdays"] = []
    y2028 = synthetic_2028()
    y2028["holidays"][0] = {"name": "元旦", "start": "2027-12-31", "end": "2028-01-02"}
    y2027["holidays"].append({"name": "元旦", "start": "2027-12-31"})
    path = write_file(tmp_path, {"years": {"2027": y2027, "2028": y2028}})
    with pytest.raises(HolidayDataError, match="2028 年：2027-12-31 已在 2027 年中列为放假日"):
        load_holiday_file(path)


def test_missing_and_non_utf8_files(tmp_path, monkeypatch):
    monkeypatch.setenv(HOLIDAYS_FILE_ENV, str(tmp_path / "nope.json"))
    with pytest.raises(HolidayDataError, match="文件不存在"):
        add_working_days(date(2028, 9, 29), 20)
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"note": "é"}'.encode("latin-1"))
    with pytest.raises(HolidayDataError, match="UTF-8"):
        load_holiday_file(latin)


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_text(json.dumps({"years": {"2028": synthetic_2028()}}, ensure_ascii=False), encoding="utf-8-sig")
    assert load_holiday_file(path).years[2028].workdays[date(2028, 9, 30)] == "国庆节、中秋节"


# --- argument checks, status ---------------------------------------------------------------


def test_deadline_is_frozen():
    deadline = add_working_days(date(2026, 3, 2), 1)
    with pytest.raises(FrozenInstanceError):
        deadline.due = date(2026, 3, 4)


@pytest.mark.parametrize("n", [0, -1])
def test_n_must_be_positive(n):
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), n)


@pytest.mark.parametrize("n", [1.0, True, "20"])
def test_n_must_be_an_int(n):
    with pytest.raises(TypeError):
        add_working_days(date(2026, 3, 2), n)


def test_datetimes_are_refused():
    with pytest.raises(TypeError):
        add_working_days(datetime(2026, 3, 2, 23, 0), 1)
    with pytest.raises(TypeError):
        is_working_day(datetime(2026, 3, 2))


def test_working_days_between():
    assert working_days_between(date(2026, 9, 30), date(2026, 9, 30)) == 0
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3


def test_due_status():
    due = date(2026, 11, 3)  # Tuesday
    assert due_status(due, date(2026, 11, 4)) == OVERDUE
    assert due_status(due, due) == DUE_SOON
    assert due_status(due, date(2026, 10, 29)) == DUE_SOON  # Thu: Fri 30, Mon 2, Tue 3 left
    assert due_status(due, date(2026, 10, 28)) == ON_TRACK  # four working days left
    assert due_status(due, date(2026, 10, 28), soon_days=4) == DUE_SOON
    assert due_status(due, date(2026, 11, 2), soon_days=0) == ON_TRACK
    assert due_status(Deadline(due, False), date(2026, 11, 5)) == OVERDUE
    # Counted in working days: over National Day, ten calendar days can be only three working days.
    assert due_status(date(2026, 10, 10), date(2026, 9, 30)) == DUE_SOON
    assert STATUS_LABELS == {OVERDUE: "已逾期", DUE_SOON: "即将到期", ON_TRACK: "正常"}
    with pytest.raises(ValueError):
        due_status(due, due, soon_days=-1)


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(2004, 1, 1), max_value=date(2030, 12, 31)),
    n=st.integers(min_value=1, max_value=60),
)
def test_property_due_is_a_working_day_with_exactly_n_working_days_after_start(start, n):
    deadline = add_working_days(start, n)
    assert deadline.due > start
    assert is_working_day(deadline.due)
    assert working_days_between(start, deadline.due) == n
    days = [start + timedelta(days=i) for i in range(1, (deadline.due - start).days + 1)]
    assert sum(is_working_day(d) for d in days) == n
    # Provisional exactly when the count passes through a year the library does not know.
    assert deadline.provisional == any(d.year not in library_years() for d in days)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(min(library_years()), 1, 1), max_value=date(LAST_LIBRARY_YEAR, 12, 31)))
def test_property_known_years_follow_chinesecalendar(day):
    assert is_working_day(day) == chinese_calendar.is_workday(day)
    assert calendar_for().day_info(day).provisional is False


@settings(max_examples=100, deadline=None)
@given(
    start=st.dates(min_value=date(2028, 1, 1), max_value=date(2028, 11, 30)),
    n=st.integers(min_value=1, max_value=20),
)
def test_property_file_year_deadlines_are_exact_working_days(tmp_path_factory, start, n):
    path = tmp_path_factory.getbasetemp() / "property-2028.json"
    if not path.exists():
        path.write_text(json.dumps({"years": {"2028": synthetic_2028()}}), encoding="utf-8")
    deadline = add_working_days(start, n, holidays_file=path)
    assert not deadline.provisional
    assert is_working_day(deadline.due, holidays_file=path)
    assert working_days_between(start, deadline.due, holidays_file=path) == n


def test_the_example_in_the_docs_is_a_valid_file():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "holidays.md").read_text(encoding="utf-8")
    example = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    data = hol.parse_holiday_data(json.loads(example), "docs/holidays.md")
    assert list(data.years) == [2027]
    assert WorkingCalendar(data).is_working_day(date(2027, 10, 9))
