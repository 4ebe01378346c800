"""Spreadsheets read with calamine (python-calamine): .xlsx, .xls (Excel 97-2003, what survey
platforms and old office PCs still write) and .ods (WPS, LibreOffice).

Every sheet is sized from the file before a cell of it is read (:mod:`limits`): an .xlsx or
.ods sheet's rows are counted in its XML by a byte scan that stops past the limit, so a
sheet that declares a small size and holds millions of rows is refused in a moment instead
of after minutes of parsing. An .xls file cannot hold more than Excel 97's 65,536 rows.
openpyxl is kept for writing workbooks (the template, the results workbook).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pingyi_lib.common.errors import DatasetError
from pingyi_lib.dataset import limits

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
MAX_XLS_BYTES = 256 * 2**20  # an .xls file is at most 65,536 rows × 256 columns: no real one is larger

# an .ods row, and how many times it repeats (a blank row repeated to the sheet's end is common)
_ROW_ODS = re.compile(rb"<table:table-row(?P<attrs>[^>]*)>")
_REPEAT = re.compile(rb'table:number-rows-repeated="(\d+)"')
_CELL_ODS = re.compile(rb"<table:table-cell[^>]*office:value-type")


@dataclass
class Sheet:
    name: str
    rows: list[list]  # cell values as calamine gives them ('' for blank); cell_text makes them text
    visible: bool = True


def _count_ods_rows(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> int:
    """Rows of every sheet of an .ods file that hold a value, with their repeats, stopping past
    ``limit`` (a trailing run of blank rows, repeated a million times, holds nothing)."""
    count, tail = 0, b""
    with zf.open(info) as f:
        while True:
            chunk = f.read(limits.CHUNK)
            buf = tail + chunk
            # judge only rows whose closing tag is in the buffer: each row with what it holds
            end = buf.rfind(b"</table:table-row>") if chunk else len(buf)
            if end < 0:
                tail = buf
                continue
            body, tail = buf[:end], buf[end:]
            starts = [m for m in _ROW_ODS.finditer(body)]
            for i, m in enumerate(starts):
                stop = starts[i + 1].start() if i + 1 < len(starts) else len(body)
                if not _CELL_ODS.search(body, m.end(), stop):
                    continue
                rep = _REPEAT.search(m.group("attrs"))
                count += int(rep.group(1)) if rep else 1
            if count > limit or not chunk:
                return count


def check_size(path: Path) -> None:
    """Refuse a workbook too big for pingyi to read, in one line, before it is parsed."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        size = path.stat().st_size
        if size > MAX_XLS_BYTES:
            raise DatasetError(f"{path}：.xls 文件有 {size / 2**20:,.0f} MB，超过 Excel 97-2003 工作簿可能的大小；"
                               "大的表请存为 CSV 或 Parquet", path=str(path))
        return
    limits.check_workbook(path)  # the zip's parts, shared strings, an .xlsx sheet's rows
    if suffix != ".ods":
        return
    try:
        with zipfile.ZipFile(path) as zf:
            info = next((i for i in zf.infolist() if i.filename == "content.xml"), None)
            if info is not None and _count_ods_rows(zf, info, limits.MAX_SHEET_ROWS) > limits.MAX_SHEET_ROWS:
                raise limits.too_big(f"{path}", f"超过 {limits.MAX_SHEET_ROWS:,} 行")
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"{path}：不是可读的工作簿（{exc}）", path=str(path)) from None


def read_sheets(path: str | Path, only: str | None = None) -> list[Sheet]:
    """Every sheet of a workbook (or the sheet named ``only``), within :mod:`limits`."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    path = Path(path)
    check_size(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise DatasetError(f"{path}：不是可读的工作簿（{exc}）", path=str(path)) from None
    out = []
    try:
        for meta in wb.sheets_metadata:
            if only is not None and meta.name != only:
                continue
            try:
                sheet = wb.get_sheet_by_name(meta.name)
            except (CalamineError, ValueError) as exc:
                raise DatasetError(f"{path}[{meta.name}]：工作表无法读取（{exc}）", path=str(path)) from None
            where = f"{path}[{meta.name}]"
            if sheet.height > limits.MAX_SHEET_ROWS or sheet.width > limits.MAX_SHEET_COLUMNS:
                raise limits.too_big(where, f"有 {sheet.height:,} 行、{sheet.width:,} 列")
            out.append(Sheet(meta.name, sheet.to_python(skip_empty_area=False),
                             meta.visible == SheetVisibleEnum.Visible))
    finally:
        wb.close()
    return out
