"""Read rows from a CSV or XLSX file as streams of (row number, {header: text})."""
from __future__ import annotations

import codecs
import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import IO, Iterator

from openpyxl import load_workbook

MAX_COLUMNS = 200
MAX_CELL_CHARS = 10_000
# Larger files are split and imported in parts (Excel itself stops at 1,048,576 rows).
MAX_ROWS = 2_000_000
# An .xlsx is a zip: its parts are checked before openpyxl decompresses anything (zip bombs).
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_XLSX_PARTS = 1_000
MAX_XLSX_RATIO = 200          # uncompressed / compressed, for parts above the size below
XLSX_RATIO_FLOOR = 16 * 1024 * 1024


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


def check_xlsx_container(raw: IO[bytes]) -> None:
    """Refuse an .xlsx whose zip parts would decompress to too much, before anything is inflated.

    The sizes come from the zip's central directory; Python's zipfile never inflates a part beyond
    its declared size (and fails on the CRC if the data lies), so the declared sizes are a bound.
    """
    start = raw.tell()
    try:
        with zipfile.ZipFile(raw) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise TabularError("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式。") from None
    finally:
        raw.seek(start)
    if len(parts) > MAX_XLSX_PARTS:
        raise TabularError(f"Excel 文件内部部件超过 {MAX_XLSX_PARTS} 个，疑似恶意构造的文件，已拒绝。")
    total = sum(p.file_size for p in parts)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise TabularError(f"Excel 文件解压后超过 {MAX_XLSX_UNCOMPRESSED // (1024 * 1024)} MB，"
                           "疑似恶意构造的压缩文件（“压缩炸弹”），已拒绝；请拆分后分批导入。")
    for part in parts:
        if part.file_size > XLSX_RATIO_FLOOR and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1):
            raise TabularError(f"Excel 文件中的 {part.filename[:60]} 压缩比异常（超过 {MAX_XLSX_RATIO} 倍），"
                               "疑似“压缩炸弹”，已拒绝。")


def iter_xlsx(raw: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    check_xlsx_container(raw)
    try:
        workbook = load_workbook(raw, read_only=True, data_only=True)
    except Exception:
        raise TabularError("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式。") from None
    try:
        if not workbook.worksheets:
            raise TabularError("Excel 文件中没有工作表。")
        sheet = workbook.worksheets[0]
        declared = _declared_rows(sheet)
        if declared is not None and declared > MAX_ROWS:
            raise TabularError(f"工作表声明有 {declared} 行，超过单次导入上限 {MAX_ROWS} 行，请拆分后分批导入。")
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        row_number = 0
        while True:
            try:
                row_number, row = next(rows)
            except StopIteration:
                break
            except TabularError:
                raise
            except Exception:  # broken XML, a part that inflates beyond its declared size, ...
                raise TabularError(f"Excel 文件第 {row_number + 1} 行附近内容损坏，无法读取。") from None
            if len(row) > MAX_COLUMNS:
                row = row[:MAX_COLUMNS]
            yield row_number, [_cell_text(v) for v in row]
    finally:
        workbook.close()


def _declared_rows(sheet) -> int | None:
    try:
        return int(sheet.max_row) if sheet.max_row is not None else None
    except (TypeError, ValueError):
        return None


def iter_records(raw: IO[bytes], fmt: str, max_rows: int | None = None) -> Iterator[tuple[int, list[str]]]:
    """Rows as lists of stripped strings; the first yielded row is the header.

    ``max_rows`` raises the limit for a caller that streams (the command line's CSV of a whole
    province); a worksheet keeps ``MAX_ROWS``."""
    limit = MAX_ROWS if max_rows is None or fmt != "csv" else max_rows
    rows = iter_csv(raw) if fmt == "csv" else iter_xlsx(raw)
    for row_number, row in rows:
        if row_number > limit:
            raise TabularError(f"文件超过单次导入上限 {limit} 行，请拆分后分批导入。")
        if len(row) > MAX_COLUMNS:
            raise TabularError(f"第 {row_number} 行的列数超过 {MAX_COLUMNS}。")
        if row and max(map(len, row)) > MAX_CELL_CHARS:
            raise TabularError(f"第 {row_number} 行有单元格超过 {MAX_CELL_CHARS} 个字符。")
        yield row_number, row
