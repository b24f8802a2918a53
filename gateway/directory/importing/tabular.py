"""Read rows from a CSV or XLSX file as streams of (row number, {header: text})."""
from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import IO, Iterator

MAX_COLUMNS = 200
MAX_CELL_CHARS = 10_000


class TabularError(ValueError):
    """The file itself cannot be read; the message is in Chinese and names the row if known."""


def detect_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    raise TabularError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请使用 .csv 或 .xlsx 文件。")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sniff_encoding(raw: IO[bytes]) -> str:
    head = raw.read(64 * 1024)
    raw.seek(0)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            # a multi-byte character may be cut at the end of the sample
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise TabularError("文件编码无法识别：请另存为 UTF-8 或 GB18030 编码的 CSV。")


def iter_csv(raw: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    encoding = _sniff_encoding(raw)
    text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
    reader = csv.reader(text)
    row_number = 0
    try:
        for row_number, row in enumerate(reader, start=1):
            yield row_number, row
    except UnicodeDecodeError:
        raise TabularError(f"第 {row_number + 1} 行附近含有无法按 {encoding} 解码的字节，文件可能已损坏。") from None
    except csv.Error as exc:
        raise TabularError(f"第 {row_number + 1} 行 CSV 格式错误：{exc}") from None


def iter_xlsx(raw: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(raw, read_only=True, data_only=True)
    except Exception:
        raise TabularError("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式。") from None
    try:
        sheet = workbook.worksheets[0]
        for row_number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if len(row) > MAX_COLUMNS:
                row = row[:MAX_COLUMNS]
            yield row_number, [_cell_text(v) for v in row]
    finally:
        workbook.close()


def iter_records(raw: IO[bytes], fmt: str) -> Iterator[tuple[int, list[str]]]:
    """Rows as lists of stripped strings; the first yielded row is the header."""
    rows = iter_csv(raw) if fmt == "csv" else iter_xlsx(raw)
    for row_number, row in rows:
        if len(row) > MAX_COLUMNS:
            raise TabularError(f"第 {row_number} 行的列数超过 {MAX_COLUMNS}。")
        if row and max(map(len, row)) > MAX_CELL_CHARS:
            raise TabularError(f"第 {row_number} 行有单元格超过 {MAX_CELL_CHARS} 个字符。")
        yield row_number, row
