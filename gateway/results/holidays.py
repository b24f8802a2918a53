"""The Chinese working-day calendar behind the publication deadline (article 19).

Three sources, consulted per date in this order:

1. The office's holiday data file (JSON, see ``docs/holidays.md``): the State Council's yearly
   notice (国务院办公厅关于某年部分节假日安排的通知) typed in by the county office. A year present
   in the file is exact, and the file wins over the library for the dates it lists, so the office
   can also correct a year the library already knows.
2. The ``chinesecalendar`` package (import name ``chinese_calendar``), which ships the notices
   for the years it knows (``library_years()``; 2004–2026 in version 1.11.0).
3. For any other year, a provisional rule: Monday to Friday are working days except the statutory
   holidays whose date can be known without the yearly notice — 元旦 (1 January), 劳动节
   (1–2 May), 国庆节 (1–3 October) and 清明节 (the Qingming solar term, 4 or 5 April). The lunar
   holidays (春节, 端午节, 中秋节) and the make-up working weekends (调休上班) depend on the
   notice and cannot be known; dates counted this way are marked provisional.

The holiday days follow the 全国年节及纪念日放假办法 as revised in 2024 (effective 2025):
元旦 1 day, 春节 4, 清明节 1, 劳动节 2, 端午节 1, 中秋节 1, 国庆节 3.

The data file is chosen by :func:`resolve_holidays_file`: an explicit path, else the
``SHUANGSUI_HOLIDAYS_FILE`` environment variable, else the file shipped in this package
(``gateway/results/data/holidays.json``). Run ``python -m gateway.results.holidays [path]`` to
check a file before deploying it.
"""
from __future__ import annotations

import json
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import chinese_calendar
from marshmallow import RAISE, Schema, ValidationError, fields

from schemas.common import BodySchema

HOLIDAYS_FILE_ENV = "SHUANGSUI_HOLIDAYS_FILE"
DEFAULT_HOLIDAYS_FILE = Path(__file__).resolve().parent / "data" / "holidays.json"

SOURCE_FILE = "file"
SOURCE_LIBRARY = "chinesecalendar"
SOURCE_PROVISIONAL = "provisional"

# Bounds for the data file: a holiday block (one notice) spans at most this many days, and the
# years the file may describe.
MAX_HOLIDAY_SPAN_DAYS = 15
MIN_FILE_YEAR = 2000
MAX_FILE_YEAR = 2100

_WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_RE = re.compile(r"^\d{4}$")
_TOP_KEYS = {"note", "years"}

# English names used by chinesecalendar -> the Chinese names shown to users.
_LIBRARY_NAMES_ZH = {h.value: h.chinese for h in chinese_calendar.Holiday}


def holidays_file_setting() -> Path | None:
    """The data file named by the ``SHUANGSUI_HOLIDAYS_FILE`` environment variable, if set."""
    value = os.environ.get(HOLIDAYS_FILE_ENV, "").strip()
    return Path(value) if value else None


def resolve_holidays_file(holidays_file: str | os.PathLike[str] | None = None) -> Path:
    """Which data file to read: ``holidays_file`` if given (an empty string counts as not given,
    so ``Settings.holidays_file`` can be passed straight through), else the environment variable,
    else the file shipped in the package. A relative path is taken from the working directory."""
    if holidays_file is not None and str(holidays_file).strip():
        return Path(holidays_file)
    return holidays_file_setting() or DEFAULT_HOLIDAYS_FILE


def library_years() -> frozenset[int]:
    """The years whose holiday arrangement the installed chinesecalendar knows."""
    return _LIBRARY_YEARS


_LIBRARY_YEARS = frozenset(d.year for d in chinese_calendar.holidays)


class HolidayDataError(ValueError):
    """The holiday data file is missing, unreadable or has invalid content.

    ``problems`` lists every problem found, each naming the year, entry, field and date concerned;
    the message (Chinese, for the office) lists them all."""

    def __init__(self, path: Path | str, problems: Sequence[str]):
        self.path = str(path)
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"节假日数据文件 {self.path} 有误：\n{lines}")


@dataclass(frozen=True)
class YearTable:
    """One year's arrangement as the office typed it from the State Council notice."""

    year: int
    source: str
    holidays: Mapping[date, str]  # rest days, with the holiday name
    workdays: Mapping[date, str]  # make-up working weekends (调休上班), with the holiday name


@dataclass(frozen=True)
class HolidayData:
    """A validated data file: the years it covers and, merged, the dates it declares."""

    path: str
    years: Mapping[int, YearTable] = field(default_factory=dict)
    # date -> (is working day, holiday name), merged over all years
    days: Mapping[date, tuple[bool, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class DayInfo:
    """Whether one date is a working day, and how sure we are."""

    day: date
    working: bool
    provisional: bool
    source: str  # SOURCE_FILE, SOURCE_LIBRARY or SOURCE_PROVISIONAL
    name: str | None = None  # the holiday a rest day or make-up workday belongs to (Chinese)


def _weekday_zh(d: date) -> str:
    return _WEEKDAYS_ZH[d.weekday()]


def _provisional_holidays(year: int) -> dict[date, str]:
    """The statutory holidays of ``year`` whose dates do not depend on the yearly notice: the
    fixed-date ones (劳动节's second day whatever the year) and 清明."""
    days = {**_required_holidays(year), date(year, 5, 2): "劳动节"}
    if 1900 <= year <= 2100:  # the range chinesecalendar's solar-term formula supports
        for day, term in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30)):
            if term == "清明":
                days[day] = "清明节"
    return days


def _required_holidays(year: int) -> dict[date, str]:
    """Fixed-date holidays every year block of the data file must contain (a typo check)."""
    required = {
        date(year, 1, 1): "元旦",
        date(year, 5, 1): "劳动节",
        date(year, 10, 1): "国庆节",
        date(year, 10, 2): "国庆节",
        date(year, 10, 3): "国庆节",
    }
    if year >= 2025:  # 劳动节 has two days since the 2024 revision of the holiday regulation
        required[date(year, 5, 2)] = "劳动节"
    return required


class WorkingCalendar:
    """Working days from the data file, chinesecalendar and the provisional rule (in that order)."""

    def __init__(self, data: HolidayData | None = None):
        self.data = data or HolidayData(path="")

    def knows_year(self, year: int) -> bool:
        """True if dates in ``year`` are exact (the data file or the library has the year)."""
        return year in self.data.years or year in _LIBRARY_YEARS

    def day_info(self, d: date) -> DayInfo:
        require_date(d)
        listed = self.data.days.get(d)
        if listed is not None:
            working, name = listed
            return DayInfo(d, working, provisional=False, source=SOURCE_FILE, name=name)
        if d.year in self.data.years:
            return DayInfo(d, d.weekday() < 5, provisional=False, source=SOURCE_FILE)
        if d.year in _LIBRARY_YEARS:
            rest, name = chinese_calendar.get_holiday_detail(d)
            name_zh = _LIBRARY_NAMES_ZH.get(name, name) if name else None
            return DayInfo(d, not rest, provisional=False, source=SOURCE_LIBRARY, name=name_zh)
        name = _provisional_holidays(d.year).get(d)
        working = d.weekday() < 5 and name is None
        return DayInfo(d, working, provisional=True, source=SOURCE_PROVISIONAL, name=name)

    def is_working_day(self, d: date) -> bool:
        return self.day_info(d).working


def require_date(d: object) -> None:
    # datetime is a subclass of date; refuse it so no caller counts from a UTC timestamp by mistake.
    if not isinstance(d, date) or isinstance(d, datetime):
        raise TypeError(f"expected a datetime.date (not a datetime), got {type(d).__name__}")


# --- the data file -------------------------------------------------------------------------


def parse_holiday_data(raw: Any, path: Path | str = "<数据>") -> HolidayData:
    """Validate the decoded JSON of a data file; raise :class:`HolidayDataError` listing every
    problem (year, entry, field and date named in Chinese)."""
    problems: list[str] = []
    years: dict[int, YearTable] = {}
    if not isinstance(raw, dict):
        raise HolidayDataError(path, ["文件顶层必须是 JSON 对象（{ ... }），其中含 \"years\" 字段"])
    for key in sorted(set(raw) - _TOP_KEYS):
        problems.append(f"顶层有未知字段 \"{key}\"（只允许 \"years\" 和 \"note\"）")
    if "note" in raw and not isinstance(raw["note"], str):
        problems.append("顶层字段 \"note\" 必须是文字")
    if "years" not in raw:
        problems.append("缺少顶层字段 \"years\"")
    elif not isinstance(raw["years"], dict):
        problems.append("顶层字段 \"years\" 必须是 JSON 对象，键为年份，如 {\"2027\": { ... }}")
    else:
        for key, block in raw["years"].items():
            table = _parse_year(key, block, problems)
            if table is not None:
                years[table.year] = table
    days: dict[date, tuple[bool, str]] = {}
    if not problems:
        days = _merge_years(years, problems)
    if problems:
        raise HolidayDataError(path, problems)
    return HolidayData(
        path=str(path),
        years=MappingProxyType(dict(sorted(years.items()))),
        days=MappingProxyType(days),
    )


def _parse_year(key: Any, block: Any, problems: list[str]) -> YearTable | None:
    if not isinstance(key, str) or not _YEAR_RE.match(key):
        problems.append(f"年份 \"{key}\" 无效：键必须是四位数年份，如 \"2027\"")
        return None
    year = int(key)
    where = f"{year} 年"
    if not MIN_FILE_YEAR <= year <= MAX_FILE_YEAR:
        problems.append(f"年份 {year} 超出范围（{MIN_FILE_YEAR}–{MAX_FILE_YEAR}）")
        return None
    loaded = _load(_YearSchema(), block, where, problems, "holidays、workdays、source、note", entry=False)
    if loaded is None:
        return None
    entries_ok = len(problems)
    holiday_schema, workday_schema = _entry_schemas(year)
    holidays = _holiday_days(loaded["holidays"], holiday_schema, where, problems)
    workdays = _workdays(loaded["workdays"], workday_schema, holidays, where, problems)
    if len(problems) == entries_ok:
        for day, name in sorted(_required_holidays(year).items()):
            if day not in holidays:
                problems.append(f"{where}：缺少法定节假日 {day}（{name}），请按国务院通知补全 holidays")
    return YearTable(year, loaded.get("source", ""), MappingProxyType(holidays), MappingProxyType(workdays))


# The year blocks and their entries are checked with marshmallow schemas whose messages are the
# Chinese problems; _load names where each one is.

class _Name(fields.Field):
    default_error_messages = {"null": "节日名称必须是非空文字，如 \"国庆节\""}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("节日名称必须是非空文字，如 \"国庆节\"")
        return value.strip()


class _Day(fields.Field):
    """A YYYY-MM-DD date in ``year``, or in the December before: a year's notice may start the New
    Year holiday, or a make-up day for it, then."""

    default_error_messages = {"null": "日期 null 格式无效，应为 YYYY-MM-DD"}

    def __init__(self, year: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.year = year

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or not _DATE_RE.match(value):
            raise ValidationError(f"日期 {json.dumps(value, ensure_ascii=False)} 格式无效，应为 YYYY-MM-DD")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"日期 \"{value}\" 不存在") from None
        year = self.year
        if day.year != year and not (day.year == year - 1 and day.month == 12):
            raise ValidationError(
                f"日期 {day} 不属于 {year} 年（只允许 {year} 年内的日期，或 {year - 1} 年 12 月里元旦放假调休的日期）"
            )
        return day


def _text(name: str) -> fields.String:
    message = f"字段 \"{name}\" 必须是文字"
    return fields.String(allow_none=False, error_messages={"invalid": message, "null": message})


def _entry_list(name: str) -> fields.List:
    message = f"字段 \"{name}\" 必须是列表 [ ... ]"
    return fields.List(fields.Raw(allow_none=True), required=True, error_messages={
        "required": f"缺少字段 \"{name}\"（没有时写空列表 []）", "invalid": message, "null": message,
    })


class _YearSchema(BodySchema):
    error_messages = {"type": "内容必须是 JSON 对象，含 \"holidays\" 和 \"workdays\""}
    source = _text("source")
    note = _text("note")
    holidays = _entry_list("holidays")
    workdays = _entry_list("workdays")


@lru_cache(maxsize=None)
def _entry_schemas(year: int) -> tuple[Schema, Schema]:
    """The schemas of one holiday block (name, start, end) and one make-up working day (name, date)."""
    def entry(**fields_: fields.Field) -> Schema:
        schema_class = Schema.from_dict(fields_)
        schema_class.error_messages = {"type": f"每一项必须是 JSON 对象，字段为 {'、'.join(sorted(fields_))}"}
        return schema_class(unknown=RAISE)

    return (
        entry(name=_Name(**_required("name")), start=_Day(year, **_required("start")), end=_Day(year)),
        entry(name=_Name(**_required("name")), date=_Day(year, **_required("date"))),
    )


def _required(name: str) -> dict[str, Any]:
    return {"required": True, "error_messages": {"required": f"缺少字段 \"{name}\""}}


def _load(schema: Schema, value: Any, where: str, problems: list[str], allowed: str,
          entry: bool = True) -> dict[str, Any] | None:
    """``value`` loaded, or None with its problems added, named ``where``. An entry's field values
    are checked once its fields are right, and a bad one is named ``where.field``."""
    try:
        return schema.load(value)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    unknown = sorted(name for name in errors if name not in schema.fields and name != "_schema")
    found = [f"{where}：{message}" for message in errors.get("_schema", [])]
    found += [f"{where}：未知字段 \"{name}\"（只允许 {allowed}）" for name in unknown]
    named = [name for name in schema.fields if name in errors]
    if not entry:
        found += [f"{where}：{message}" for name in named for message in errors[name]]
    else:
        missing = [name for name in named if errors[name] == [schema.fields[name].error_messages["required"]]]
        found += [f"{where}：{message}" for name in missing for message in errors[name]]
        if not found:
            found += [f"{where}.{name}：{message}" for name in named for message in errors[name]]
    problems.extend(found)
    return None


def _holiday_days(entries: list, schema: Schema, where: str, problems: list[str]) -> dict[date, str]:
    """Every rest day of the valid holiday blocks, with its holiday's name."""
    holidays: dict[date, str] = {}
    for index, raw in enumerate(entries):
        where_entry = f"{where} holidays[{index}]"
        entry = _load(schema, raw, where_entry, problems, "end、name、start")
        if entry is None:
            continue
        start = entry["start"]
        end = entry.get("end") or start
        if end < start:
            problems.append(f"{where_entry}：结束日期 end {end} 早于开始日期 start {start}")
            continue
        span = (end - start).days + 1
        if span > MAX_HOLIDAY_SPAN_DAYS:
            problems.append(f"{where_entry}：{start} 至 {end} 共 {span} 天，超过 {MAX_HOLIDAY_SPAN_DAYS} 天，请核对日期")
            continue
        for offset in range(span):
            day = start + timedelta(days=offset)
            if day in holidays:
                problems.append(f"{where_entry}：{day} 重复列为放假日（已属于“{holidays[day]}”）")
            else:
                holidays[day] = entry["name"]
    return holidays


def _workdays(entries: list, schema: Schema, holidays: Mapping[date, str], where: str,
              problems: list[str]) -> dict[date, str]:
    """The valid make-up working weekends, with their holiday's name."""
    workdays: dict[date, str] = {}
    for index, raw in enumerate(entries):
        entry = _load(schema, raw, f"{where} workdays[{index}]", problems, "date、name")
        if entry is None:
            continue
        where_entry = f"{where} workdays[{index}].date"
        day = entry["date"]
        if day.weekday() < 5:
            problems.append(f"{where_entry}：{day} 是{_weekday_zh(day)}，本来就是工作日；调休上班日只能是星期六或星期日")
        elif day in workdays:
            problems.append(f"{where_entry}：{day} 重复列为调休上班日")
        elif day in holidays:
            problems.append(f"{where_entry}：{day} 同时列为放假日（“{holidays[day]}”）和调休上班日")
        else:
            workdays[day] = entry["name"]
    return workdays


def _merge_years(years: Mapping[int, YearTable], problems: list[str]) -> dict[date, tuple[bool, str]]:
    days: dict[date, tuple[bool, str]] = {}
    owner: dict[date, int] = {}
    for year, table in sorted(years.items()):
        for entries, working in ((table.holidays, False), (table.workdays, True)):
            for day, name in entries.items():
                if day in days:
                    kind = "调休上班日" if days[day][0] else "放假日"
                    problems.append(
                        f"{year} 年：{day} 已在 {owner[day]} 年中列为{kind}（“{days[day][1]}”），"
                        "不能重复列出"
                    )
                    continue
                days[day] = (working, name)
                owner[day] = year
    return days


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _DuplicateKey(Exception):
    pass


_cache: dict[str, tuple[tuple[int, int], HolidayData]] = {}
_cache_lock = threading.Lock()


def load_holiday_file(path: str | os.PathLike[str]) -> HolidayData:
    """Read and validate a data file. The result is cached until the file changes, so a
    running server picks up the office's edits without a restart."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise HolidayDataError(path, [f"文件不存在（请检查路径或环境变量 {HOLIDAYS_FILE_ENV}）"]) from None
    except OSError as exc:
        raise HolidayDataError(path, [f"无法读取文件：{exc.strerror or exc}"]) from exc
    key = str(path.resolve())
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise HolidayDataError(path, ["文件不是 UTF-8 编码，请另存为 UTF-8"]) from None
    except OSError as exc:
        raise HolidayDataError(path, [f"无法读取文件：{exc.strerror or exc}"]) from exc
    try:
        raw = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except _DuplicateKey as exc:
        raise HolidayDataError(path, [f"字段或年份 \"{exc.args[0]}\" 重复出现"]) from None
    except json.JSONDecodeError as exc:
        raise HolidayDataError(
            path, [f"不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有错误（{exc.msg}）"]
        ) from None
    data = parse_holiday_data(raw, path)
    with _cache_lock:
        _cache[key] = (stamp, data)
    return data


def calendar_for(holidays_file: str | os.PathLike[str] | None = None) -> WorkingCalendar:
    """The working-day calendar using the data file chosen by :func:`resolve_holidays_file`."""
    return WorkingCalendar(load_holiday_file(resolve_holidays_file(holidays_file)))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gateway.results.holidays [path]``: check a data file and say what it covers."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1:
        print("用法：python -m gateway.results.holidays [节假日数据文件路径]", file=sys.stderr)
        return 2
    path = resolve_holidays_file(args[0] if args else None)
    try:
        data = load_holiday_file(path)
    except HolidayDataError as exc:
        print(exc, file=sys.stderr)
        return 1
    known = sorted(_LIBRARY_YEARS)
    print(f"节假日数据文件 {path} 格式正确。")
    if data.years:
        print("文件收录年份：" + "、".join(str(y) for y in data.years))
    else:
        print("文件未收录任何年份。")
    print(f"chinesecalendar 收录年份：{known[0]}–{known[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
