"""Spreadsheets read with calamine (python-calamine): .xlsx, .xls (Excel 97-2003, what survey
platforms and old office PCs still write) and .ods (WPS, LibreOffice), for every workbook
pingyi reads; openpyxl is kept for writing (the template, the results workbook, an import).

Every sheet is sized from the file before a cell of it is read (:mod:`limits`). An .xlsx
sheet's XML is scanned once as bytes: its declared size, the rows it really holds (a sheet
that declares ``A1:B2`` and holds two million rows is refused at once, not after minutes of
parsing), a value past the column limit, and the formulas saved without a result (scripts
write those; calamine would read them as blank). An .ods file's rows are counted the same
way; an .xls file cannot hold more than Excel 97's 65,536 rows.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pingyi_lib.common.errors import DatasetError
from pingyi_lib.dataset import limits

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
MAX_XLS_BYTES = 256 * 2**20  # an .xls file is at most 65,536 rows × 256 columns: no real one is larger

# an .ods row, and how many times it repeats (a blank row repeated to the sheet's end is common)
_ROW_ODS = re.compile(rb"<table:table-row(?P<attrs>[^>]*)>")
_REPEAT = re.compile(rb'table:number-rows-repeated="(\d+)"')
_CELL_ODS = re.compile(rb"<table:table-cell[^>]*office:value-type")
# .xlsx sheet XML (SpreadsheetML; tags may carry a namespace prefix)
_P = rb"(?:[A-Za-z_][\w.-]*:)?"
_ROW_END = re.compile(rb"</" + _P + rb"row>")
_DIMENSION = re.compile(rb"<" + _P + rb'dimension\s+ref="([^"]*)"')
_CELL = re.compile(rb"<" + _P + rb"c\b([^>]*?)(/>|>(.*?)</" + _P + rb"c>)", re.S)
_REF = re.compile(rb'\sr="([A-Z]+)(\d+)"')
_FORMULA = re.compile(rb"<" + _P + rb"f\b[^>]*?(?:/>|>(.*?)</" + _P + rb"f>)", re.S)
_VALUE = re.compile(rb"<" + _P + rb"v>[^<]|<" + _P + rb"is\b")  # a saved value (openpyxl writes <v></v> for none)
# a cell reference past column IV (256): IW..IZ, JA..ZZ, or three letters; and any cell reference
_WIDE_REF = re.compile(rb' r="(?:I[W-Z]|[J-Z][A-Z]|[A-Z]{3})[0-9]')
_C_TAG = re.compile(rb"<" + _P + rb"c[\s/>]")


@dataclass
class Sheet:
    name: str
    rows: list[list]  # cell values as calamine gives them from A1 ('' for blank); cell_text makes them text
    visible: bool = True
    # formulas saved without a result: (row from 1, column from 0) -> the formula as written
    unsaved: dict[tuple[int, int], str] = field(default_factory=dict)


def column_number(letters: str) -> int:
    """``A`` -> 1, ``XFD`` -> 16,384."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part in the zip (xl/worksheets/sheet2.xml), from workbook.xml and its rels."""
    try:
        book = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {m.group(1).decode(): m.group(2).decode() for m in re.finditer(
        rb'<(?:\w+:)?Relationship\b[^>]*?\bId="([^"]+)"[^>]*?\bTarget="([^"]+)"', rels)}
    targets.update({m.group(2).decode(): m.group(1).decode() for m in re.finditer(
        rb'<(?:\w+:)?Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="([^"]+)"', rels)})
    out = {}
    for m in re.finditer(rb"<(?:\w+:)?sheet\b([^>]*)/?>", book):
        attrs = m.group(1)
        name = re.search(rb'\bname="([^"]*)"', attrs)
        rid = re.search(rb'\br:id="([^"]*)"', attrs) or re.search(rb'\b\w+:id="([^"]*)"', attrs)
        if name and rid and rid.group(1).decode() in targets:
            target = targets[rid.group(1).decode()]
            part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            out[html.unescape(name.group(1).decode("utf-8"))] = part
    return out


def _cells(body: bytes, where: str, unsaved: dict) -> None:
    """The cells of whole rows: a value past the column limit refuses the sheet; a formula with
    no saved value is noted."""
    for m in _CELL.finditer(body):
        ref = _REF.search(m.group(1))
        if ref is None:
            continue
        col, row = column_number(ref.group(1).decode()), int(ref.group(2))
        inner = m.group(3) or b""
        if col > limits.MAX_SHEET_COLUMNS and _VALUE.search(inner):
            raise limits.too_big(where, f"第 {row:,} 行的第 {col:,} 列有值")
        f = _FORMULA.search(inner)
        if f is not None and not _VALUE.search(inner):
            text = html.unescape((f.group(1) or b"").decode("utf-8", "replace"))
            unsaved[(row, col - 1)] = f"={text}" if text else "（共享公式）"


def _prefixed(buf: bytes) -> bool:
    """Tags written with a namespace prefix (<x:row>): the byte counts below miss them."""
    return b":row" in buf


def _cut(buf: bytes, prefixed: bool) -> int:
    """The end of the last whole row in ``buf`` (0: none)."""
    at = buf.rfind(b"</row>")
    if at >= 0 and not prefixed:
        return at + len(b"</row>")
    ends = [m.end() for m in _ROW_END.finditer(buf)]
    return ends[-1] if ends else 0


def _body_checks(body: bytes, prefixed: bool, rows_before: int, where: str, unsaved: dict) -> int:
    """Count the rows of whole rows' bytes; refuse a value past the column limit; note formulas
    without a saved value. Byte counts where the tags carry no prefix (C speed: a 200 MB sheet
    in about a second), the regular expressions otherwise or where something needs a look."""
    rows = len(limits.ROW_TAG.findall(body)) if prefixed else body.count(b"<row")
    if prefixed or b"<f" in body or _WIDE_REF.search(body):  # a formula, or a cell past column IV
        _cells(body, where, unsaved)
    # references: every cell's and (usually) every row's; fewer than cells and rows: some cell has none
    cells = len(_C_TAG.findall(body)) if prefixed else body.count(b"<c")  # in sheetData only cells start so
    if cells > body.count(b' r="') - rows:  # cells placed by their order in the row: count each row's
        for n, seg in enumerate(_ROW_END.split(body), start=rows_before + 1):
            width = len(_C_TAG.findall(seg))
            if width > limits.MAX_SHEET_COLUMNS:
                raise limits.too_big(where, f"第 {n:,} 行有 {width:,} 个单元格")
    return rows


def _declared(zf: zipfile.ZipFile, part: str, where: str) -> None:
    """The size the sheet declares, and then the rows it really holds (counted, stopping past
    the limit: about a second for a sheet of two million rows), each refused in one line."""
    with zf.open(part) as f:
        head = f.read(1 << 16)
    dim = _DIMENSION.search(head)
    if dim:
        ref = dim.group(1).decode()
        last = re.search(r"([A-Z]+)(\d+)$", ref)
        if last and (int(last.group(2)) > limits.MAX_SHEET_ROWS
                     or column_number(last.group(1)) > limits.MAX_SHEET_COLUMNS):
            raise limits.too_big(where, f"声明了 {int(last.group(2)):,} 行、"
                                        f"{column_number(last.group(1)):,} 列（{ref}）")
    rows, tail = 0, b""
    with zf.open(part) as f:
        while chunk := f.read(4 * limits.CHUNK):
            buf = tail + chunk  # a tag cut by the chunk's end is counted in the next
            rows += len(limits.ROW_TAG.findall(buf)) if b":row" in buf else buf.count(b"<row")
            tail = buf[-3:]  # too short to hold a whole <row, so never counted twice
            if rows > limits.MAX_SHEET_ROWS:
                raise limits.too_big(where, f"超过 {limits.MAX_SHEET_ROWS:,} 行")


def scan_xlsx_sheet(zf: zipfile.ZipFile, part: str, where: str) -> dict[tuple[int, int], str]:
    """A sheet's bytes checked before it is parsed: its declared size and the rows it holds
    (:func:`_declared`), then a value past the column limit (refused in one line); returns
    its formulas saved without a result."""
    _declared(zf, part, where)
    unsaved: dict[tuple[int, int], str] = {}
    rows, tail = 0, b""
    with zf.open(part) as f:
        while True:
            chunk = f.read(limits.CHUNK)
            buf = tail + chunk
            prefixed = _prefixed(buf)
            cut = _cut(buf, prefixed) if chunk else len(buf)
            body, tail = buf[:cut], buf[cut:]
            rows += _body_checks(body, prefixed, rows, where, unsaved)
            if not chunk:
                return unsaved


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
            starts = list(_ROW_ODS.finditer(body))
            for i, m in enumerate(starts):
                stop = starts[i + 1].start() if i + 1 < len(starts) else len(body)
                if not _CELL_ODS.search(body, m.end(), stop):
                    continue
                rep = _REPEAT.search(m.group("attrs"))
                count += int(rep.group(1)) if rep else 1
            if count > limit or not chunk:
                return count


def _scan(path: Path, wanted: Callable[[str], bool]) -> dict[str, dict]:
    """Size checks before any parsing; for .xlsx, each wanted sheet's unsaved formulas."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        size = path.stat().st_size
        if size > MAX_XLS_BYTES:
            raise DatasetError(f"{path}：.xls 文件有 {size / 2**20:,.0f} MB，超过 Excel 97-2003 工作簿可能的大小；"
                               "大的表请存为 CSV 或 Parquet", path=str(path))
        return {}
    limits.check_workbook(path)  # the zip's parts and shared strings
    try:
        with zipfile.ZipFile(path) as zf:
            if suffix == ".ods":
                info = next((i for i in zf.infolist() if i.filename == "content.xml"), None)
                if info is not None and _count_ods_rows(zf, info, limits.MAX_SHEET_ROWS) > limits.MAX_SHEET_ROWS:
                    raise limits.too_big(f"{path}", f"超过 {limits.MAX_SHEET_ROWS:,} 行")
                return {}
            return {name: scan_xlsx_sheet(zf, part, f"{path}[{name}]")
                    for name, part in _sheet_parts(zf).items() if wanted(name) and part in zf.namelist()}
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"{path}：不是可读的工作簿（{exc}）", path=str(path)) from None


def read_sheets(path: str | Path, wanted: Callable[[str], bool] = lambda name: True) -> list[Sheet]:
    """The sheets of a workbook that ``wanted`` names, each checked against :mod:`limits` first."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    path = Path(path)
    unsaved = _scan(path, wanted)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise DatasetError(f"{path}：不是可读的工作簿（{exc}）", path=str(path)) from None
    out = []
    try:
        for meta in wb.sheets_metadata:
            if not wanted(meta.name):
                continue
            where = f"{path}[{meta.name}]"
            try:
                sheet = wb.get_sheet_by_name(meta.name)
            except (CalamineError, ValueError) as exc:
                raise DatasetError(f"{where}：工作表无法读取（{exc}）", path=str(path)) from None
            if sheet.height > limits.MAX_SHEET_ROWS or sheet.width > limits.MAX_SHEET_COLUMNS:
                raise limits.too_big(where, f"有 {sheet.height:,} 行、{sheet.width:,} 列")
            out.append(Sheet(meta.name, sheet.to_python(skip_empty_area=False),
                             meta.visible == SheetVisibleEnum.Visible, unsaved.get(meta.name, {})))
    finally:
        wb.close()
    return out
