"""The survey table of a round's folder, added to in place (``pingyi import``).

A CSV file keeps its encoding (UTF-8 or GB18030), its headers (Chinese or English) and its
columns; a sheet of the round's workbook (``pingyi init`` makes one) keeps its drop-downs,
its other sheets and every cell the import does not change. A column the import carries
and the table lacks (来源IP, 答题秒数) is added at the end with a header in the table's
language. A survey kept in Parquet is not rewritten: the import says so and stops.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pingyi_lib.common.errors import DatasetError
from pingyi_lib.dataset import excel
from pingyi_lib.dataset.export_rows import merge
from pingyi_lib.dataset.read import _header_map, cell_text, decode_with_encoding
from pingyi_lib.dataset.schema import Table, table_for_name, tables
from pingyi_lib.output.atomic import atomic_path
from pingyi_lib.scheme.ruleset import Ruleset


@dataclass
class SurveyFile:
    """The survey table as text, and where and how it is written."""

    path: Path
    frame: pd.DataFrame  # column ids (unknown headers kept as written), every cell text
    headers: dict[str, str]  # column id -> header as written
    chinese: bool  # new columns get Chinese headers
    encoding: str = "utf-8-sig"  # a CSV file's
    sheet: str | None = None  # the workbook's sheet, for a table kept in the round's workbook
    sheet_rows: tuple[int, ...] = ()  # the sheet's row of each record (blank rows are skipped)


def _survey(path: Path, header: list[str], records: list[list[str]], table: Table, **how) -> SurveyFile:
    """The table as the reader maps its headers (a missing required column is the reader's error);
    a header pingyi does not know is kept as written."""
    ids = [cid or h for cid, h in zip(_header_map(header, table, str(path))[0], header)]
    frame = pd.DataFrame(records, columns=ids, dtype=object) if records else pd.DataFrame(columns=ids, dtype=object)
    headers = dict(zip(ids, header))
    return SurveyFile(path, frame, headers, headers["response_id"] != "response_id", **how)


def _workbook_sheet(folder: Path, rs: Ruleset) -> tuple[Path, excel.Sheet] | None:
    """The folder's workbook holding the survey sheet, and that sheet read."""
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in excel.SUFFIXES or p.name.startswith(("~$", ".")) or not p.is_file():
            continue
        sheets = excel.read_sheets(p, lambda n: table_for_name(n, rs) == "survey")
        if sheets and p.suffix.lower() != ".xlsx":
            raise DatasetError(f"{p}：问卷调查表在 {p.suffix} 工作簿中，导入只写 .xlsx 工作簿或 CSV 表；"
                               "请在 Excel 或 WPS 中另存为 .xlsx 后再导入", path=str(p))
        if sheets:
            return p, sheets[0]
    return None


def find(folder: Path, rs: Ruleset) -> SurveyFile | None:
    """The folder's survey table (CSV file or workbook sheet); None when it has none yet."""
    table = tables(rs)["survey"]
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and table_for_name(p.stem, rs) == "survey"
             and p.suffix.lower() in (".csv", ".parquet")]
    if any(p.suffix.lower() == ".parquet" for p in files):
        p = next(p for p in files if p.suffix.lower() == ".parquet")
        raise DatasetError(f"{p}：问卷调查表是 Parquet 文件，导入不改写它；请先把它另存为 {table.zh}.csv，"
                           "或把导出的答卷导入一个新的数据目录", path=str(p))
    if files:
        path = files[0]
        text, enc = decode_with_encoding(path.read_bytes(), str(path))
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
        if not rows:
            return None
        width = len(rows[0])
        records = [(r + [""] * width)[:width] for r in rows[1:]]
        return _survey(path, [h.lstrip("\ufeff") for h in rows[0]], records, table,
                       encoding="gb18030" if enc == "gb18030" else "utf-8-sig")
    found = _workbook_sheet(folder, rs)
    if found is None:
        return None
    path, found_sheet = found
    sheet = found_sheet.name
    rows = [[cell_text(v) for v in r] for r in found_sheet.rows]
    header = list(rows[0]) if rows else []
    while header and not header[-1].strip():
        header.pop()
    if not header:
        raise DatasetError(f"{path}[{sheet}]：问卷调查工作表没有表头行", path=str(path), table="survey")
    kept = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    records = [(r + [""] * len(header))[:len(header)] for _, r in kept]
    return _survey(path, header, records, table, sheet=sheet, sheet_rows=tuple(n for n, _ in kept))


def new_file(folder: Path, rs: Ruleset, columns) -> SurveyFile:
    """A survey table for a folder that has none: ``问卷调查.csv``, Chinese headers, UTF-8 with BOM
    (Excel on Chinese Windows opens it as it is)."""
    table = tables(rs)["survey"]
    ids = [c.id for c in table.columns if c.required or c.id in columns]
    return SurveyFile(folder / f"{table.zh}.csv", pd.DataFrame(columns=ids, dtype=object), {}, True)


def write(sf: SurveyFile, rs: Ruleset, new: pd.DataFrame) -> dict[str, int]:
    """Add ``new`` to the survey table (:func:`merge`) and write it back where it was."""
    zh = {c.id: c.zh for c in tables(rs)["survey"].columns}
    merged, counts = merge(sf.frame, new)
    header = [sf.headers.get(c) or (zh.get(c, c) if sf.chinese else c) for c in merged.columns]
    if sf.sheet is None:
        out = merged.copy()
        out.columns = header
        with atomic_path(sf.path) as tmp:
            out.to_csv(tmp, index=False, encoding=sf.encoding, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        return counts
    import openpyxl

    wb = openpyxl.load_workbook(sf.path)
    ws = wb[sf.sheet]
    for j, h in enumerate(header, start=1):
        if j > len(sf.headers):
            ws.cell(row=1, column=j, value=h)
    old = sf.frame.reindex(columns=merged.columns, fill_value="").to_numpy(dtype=object)
    values = merged.to_numpy(dtype=object)
    last = max(sf.sheet_rows, default=1)
    for i, row in enumerate(values):  # only the cells that change: the clerks' cells stay as typed
        at = sf.sheet_rows[i] if i < len(old) else last + 1 + i - len(old)
        for j, v in enumerate(row):
            if i >= len(old) or old[i, j] != v:
                ws.cell(row=at, column=j + 1, value=v if v != "" else None)
    with atomic_path(sf.path) as tmp:
        wb.save(tmp)
    return counts
