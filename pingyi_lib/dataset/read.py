"""Read a dataset folder into raw tables of text (SPEC §2).

A table is ``NAME.csv`` (or its Chinese name, e.g. ``问卷调查.csv``), ``NAME.parquet``,
or a sheet of that name in a workbook of the folder (.xlsx, .xls, .ods). CSV may be
UTF-8, UTF-8 with BOM or GB18030. Headers may be English ids or Chinese labels.

Every cell comes out as stripped text ('' for blank); typing is validate.py's job.
Rows with the wrong number of fields, or a field longer than :data:`MAX_FIELD_CHARS`, are
set aside here, with their spreadsheet row number (header = row 1), because no column can
be trusted in them.

Limits (a hostile or broken file is refused in one plain line, never read until the
machine runs out of memory): see :data:`MAX_FIELD_CHARS`, and :mod:`pingyi_lib.dataset.limits`
and :mod:`pingyi_lib.dataset.excel` for workbooks (.xlsx, .xls, .ods, read with calamine).
"""

from __future__ import annotations

import csv
import datetime as dt
import io as _io
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pingyi_lib.common.controlchars import CONTROL, visible
from pingyi_lib.common.errors import DatasetError, DatasetNotFound
from pingyi_lib.dataset import excel
from pingyi_lib.dataset.schema import Table, table_for_name, tables
from pingyi_lib.scheme.ruleset import Ruleset

ROW = "row"  # the spreadsheet row number of each record (header = 1)
ENCODINGS = ("utf-8-sig", "gb18030")
# the longest field read, in characters: Excel's own limit for a cell. A longer field sets its
# row aside (the rest of the table is read); it cannot have been typed into a spreadsheet.
MAX_FIELD_CHARS = 32_767


@dataclass
class RawTable:
    name: str
    path: str  # file (and sheet) it came from
    frame: pd.DataFrame  # canonical column ids + ROW, all text
    # rows no column can be trusted in: (row, reason_code, unit id as written, details for the
    # reason text: dataset/validate.py's reason() builder writes the words)
    bad_rows: list[tuple[int, str, str, dict]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # column id -> the header as written in the file
    notes: list[str] = field(default_factory=list)  # what a reader should know (a hidden sheet)


def decode_bytes(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (Excel on Chinese Windows)."""
    return decode_with_encoding(data, path)[0]


def decode_with_encoding(data: bytes, path: str) -> tuple[str, str]:
    """:func:`decode_bytes`, and the encoding that read it (a file written back keeps it)."""
    for enc in ENCODINGS:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise undecodable(path)


def undecodable(path: str) -> DatasetError:
    """The error of a file that is neither UTF-8 nor GB18030 text (also raised by dataset/engine.py)."""
    return DatasetError(f"{path}：无法按 UTF-8 或 GB18030 编码读取；请在 Excel 中“另存为”CSV UTF-8（逗号分隔）",
                        path=path)


def _header_map(header: list[str], table: Table, path: str) -> tuple[list[str | None], list[str]]:
    """Map header cells to column ids; unknown headers map to None (see :func:`headers_of`)."""
    lookup = {}
    for c in table.columns:
        lookup[c.id.lower()] = c.id
        lookup[c.zh] = c.id
    ids: list[str | None] = []
    ignored = []
    for h in header:
        key = str(h).strip().lstrip("\ufeff")
        cid = lookup.get(key.lower(), lookup.get(key))
        if cid is not None and cid in ids:
            raise DatasetError(f"{path}：表头中“{visible(key)}”这一列出现了两次（{table.zh}的每一列只能有一个）",
                               path=path, table=table.name, column=cid)
        if cid is None and key:
            ignored.append(key)
        ids.append(cid)
    for c in table.columns:
        if c.required and c.id not in ids:
            raise DatasetError(
                f"{path}：{table.zh}（{table.name}）缺少“{c.zh}”列（{c.id}）；"
                f"文件的表头是：{visible('，'.join(str(h) for h in header))[:500]}",
                path=path, table=table.name, column=c.id)
    return ids, ignored


def headers_of(header: list[str], ids: list[str | None]) -> dict[str, str]:
    """column id -> the header cell as the file writes it (stripped; control characters
    written out, since the header goes into reasons and onto pages)."""
    return {cid: visible(str(h).strip().lstrip("\ufeff")) for h, cid in zip(header, ids) if cid is not None}


# What the reader learns while the text is still in Arrow, where it costs next to nothing,
# kept on the frame for the steps after it (which would otherwise scan every column again):
TOO_LONG = "pingyi_too_long"  # {column: field lengths} for columns with a field past MAX_FIELD_CHARS
CONTROL_COLUMNS = "pingyi_control_columns"  # columns where some cell holds a control character


def _strip(values) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Strip whitespace from a column of text with Arrow (vectorised); '' for missing.
    Also returns the field lengths when one is past the limit, and whether any cell holds
    a control character."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(values, type=pa.string(), from_pandas=True)
    arr = pc.fill_null(pc.utf8_trim_whitespace(values), "")
    lengths = pc.utf8_length(arr)
    longest = pc.max(lengths).as_py() if len(arr) else 0
    over = lengths.to_numpy(zero_copy_only=False) if (longest or 0) > MAX_FIELD_CHARS else None
    control = bool(len(arr)) and bool(pc.any(pc.match_substring_regex(arr, CONTROL)).as_py())
    return arr.to_numpy(zero_copy_only=False), over, control


def _assemble(columns: dict[str, object], n: int, rows, table: Table) -> pd.DataFrame:
    """Canonical column order, absent optional columns as '', every cell stripped text."""
    out, too_long, controls = {}, {}, []
    for c in table.columns:
        if c.id not in columns:
            out[c.id] = np.full(n, "", dtype=object)
            continue
        out[c.id], lengths, control = _strip(columns[c.id])
        if lengths is not None:
            too_long[c.id] = lengths
        if control:
            controls.append(c.id)
    df = pd.DataFrame(out, dtype=object)
    df[ROW] = np.asarray(rows, dtype=np.int64)
    df.attrs[TOO_LONG] = too_long
    df.attrs[CONTROL_COLUMNS] = controls
    return df


def _frame(records: list[list[str]], rows: list[int], ids: list[str | None], table: Table) -> pd.DataFrame:
    cols = list(zip(*records)) if records else [() for _ in ids]
    columns = {cid: list(cols[i]) for i, cid in enumerate(ids) if cid is not None}
    return _assemble(columns, len(records), rows, table)


def _split_records(records, header: list[str], ids: list[str | None], first_row: int = 2,
                   preset_bad: dict[int, tuple[str, dict]] | None = None
                   ) -> tuple[list, list[int], list[tuple[int, str, str, dict]]]:
    """Keep records with the header's number of fields (blank records are skipped).

    A record may lack trailing fields whose header cell is blank, or carry extra empty
    fields; anything else is a wrong number of fields. ``preset_bad`` maps row numbers to
    a (reason code, details) found earlier (an xlsx formula without a saved result).
    """
    width = len(header)
    needed = max((i + 1 for i, h in enumerate(header) if str(h).strip()), default=0)
    unit_col = ids.index("unit_id") if "unit_id" in ids else None
    good, rows, bad = [], [], []
    for i, rec in enumerate(records, start=first_row):
        n = len(rec)
        if n == 0 or not any(s.strip() for s in rec):
            continue  # an empty line or row holds no data
        unit = rec[unit_col].strip() if unit_col is not None and unit_col < n else ""
        if preset_bad and i in preset_bad:
            code, details = preset_bad[i]
            bad.append((i, code, unit, details))
        elif n == width:
            good.append(rec)
            rows.append(i)
        elif needed <= n < width:
            good.append(list(rec) + [""] * (width - n))
            rows.append(i)
        elif n > width and not any(s.strip() for s in rec[width:]):
            good.append(rec[:width])
            rows.append(i)
        else:
            bad.append((i, "wrong_field_count", unit, {"fields": n, "expected": needed}))
    return good, rows, bad


def _read_csv_fast(text: str, header: list[str], ids: list[str | None], table: Table) -> pd.DataFrame | None:
    """Parse with Arrow's CSV reader when every line is exactly one record (the usual
    case), so row numbers are line numbers. Returns None to fall back to the exact path
    (blank lines, newlines inside quotes, rows with the wrong number of fields)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(header))]
    invalid = []

    def on_invalid(row):
        invalid.append(row)
        return "skip"

    try:
        tb = pacsv.read_csv(
            pa.py_buffer(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if invalid or tb.num_rows != lines - 1 or "\r" in text.replace("\r\n", ""):
        return None
    rows = np.arange(2, tb.num_rows + 2, dtype=np.int64)
    columns = {cid: tb.column(i) for i, cid in enumerate(ids) if cid is not None}
    df = _assemble(columns, tb.num_rows, rows, table)
    if tb.num_rows:  # rows with no value at all (Excel writes ",,,,") hold no data
        empty = np.ones(tb.num_rows, dtype=bool)
        for i in range(len(names)):
            empty &= pc.equal(pc.utf8_trim_whitespace(tb.column(i)), "").to_numpy(zero_copy_only=False)
        if empty.any():
            df = df[~empty].reset_index(drop=True)
    return df


@contextmanager
def _csv_fields_up_to(n: int):
    """Let the csv module read fields of up to ``n`` characters (its default stops the
    whole file at 131,072); long fields are set aside per row afterwards."""
    old = csv.field_size_limit()
    csv.field_size_limit(min(max(old, n + 1), sys.maxsize))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def read_csv_table(path: Path, table: Table) -> RawTable:
    text = decode_bytes(path.read_bytes(), str(path))
    with _csv_fields_up_to(len(text)):
        return _read_csv_text(text, path, table)


def _read_csv_text(text: str, path: Path, table: Table) -> RawTable:
    try:
        reader = csv.reader(_io.StringIO(text, newline=""))
        lead = 0  # blank lines before the header
        first = next(reader, None)
        while first is not None and not any(h.strip() for h in first):
            lead += 1
            first = next(reader, None)
    except csv.Error as exc:
        raise DatasetError(f"{path}：不是可读的 CSV 文件（{exc}）", path=str(path)) from None
    if first is None:
        raise DatasetError(f"{path}：文件是空的（没有表头行）", path=str(path), table=table.name)
    ids, ignored = _header_map(first, table, str(path))
    headers = headers_of(first, ids)
    fast = _read_csv_fast(text, first, ids, table) if lead == 0 else None
    if fast is not None:
        return RawTable(table.name, str(path), fast, [], ignored, headers)
    try:
        records = list(csv.reader(_io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DatasetError(f"{path}：不是可读的 CSV 文件（{exc}）", path=str(path)) from None
    good, rows, bad = _split_records(records[lead + 1:], first, ids, first_row=lead + 2)
    return RawTable(table.name, str(path), _frame(good, rows, ids, table), bad, ignored, headers)


def cell_text(v) -> str:
    """A spreadsheet or Parquet cell as the text a person would type."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return v.strftime("%Y-%m-%d") if (v.hour, v.minute, v.second) == (0, 0, 0) \
            else v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def read_sheet(sheet, table: Table, path: str) -> RawTable:
    """A worksheet read with calamine (dataset/excel.py: sized, and its formulas saved without a
    result found, before it is read): a formula with no saved result is reported, not read as
    blank (workbooks written by scripts store formulas without results)."""
    values = sheet.rows
    lead = 0  # blank rows above the header
    while lead < len(values) and not any(str(v).strip() for v in values[lead]):
        lead += 1
    if lead == len(values):
        raise DatasetError(f"{path}：工作表是空的（没有表头行）", path=path, table=table.name)
    header = [cell_text(h) for h in values[lead]]
    while header and not header[-1].strip():
        header.pop()
    ids, ignored = _header_map(header, table, path)
    records = [[v if type(v) is str else cell_text(v) for v in r] for r in values[lead + 1:]]  # text: as it is
    first = lead + 2  # the spreadsheet row of the first record
    last = max((r for r, _ in sheet.unsaved), default=0)
    records += [[] for _ in range(last - first + 1 - len(records))]  # rows past the values: formulas only
    width = len(header)
    records = [(r + [""] * width)[:max(width, len(r))] for r in records]  # a short row's missing cells are blank
    unsaved = {}
    for (row, col), formula in sorted(sheet.unsaved.items()):
        if row >= first and row not in unsaved:
            name = header[col] if col < len(header) else f"第 {col + 1} 列"
            unsaved[row] = ("unsaved_formula", {"header": visible(name), "formula": visible(formula)})
    good, rows, bad = _split_records(records, header, ids, first_row=first, preset_bad=unsaved)
    raw = RawTable(table.name, path, _frame(good, rows, ids, table), bad, ignored, headers_of(header, ids))
    if not sheet.visible:
        raw.notes.append(f"{path}：此工作表为隐藏工作表，仍作为{table.zh}（{table.name}）读取")
    return raw


def read_parquet_table(path: Path, table: Table) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        tb = pq.read_table(path)
    except Exception as exc:  # pyarrow raises many kinds
        raise DatasetError(f"{path}：不是可读的 Parquet 文件（{exc}）", path=str(path)) from None
    ids, ignored = _header_map([str(c) for c in tb.column_names], table, str(path))
    columns = {}
    for i, cid in enumerate(ids):
        if cid is None:
            continue
        col = tb.column(i)
        if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
            try:  # text some writers store as bytes: UTF-8, as text everywhere else in pingyi
                col = col.cast(pa.large_string() if pa.types.is_large_binary(col.type) else pa.string())
            except pa.ArrowInvalid:
                raise DatasetError(f"{path}：“{visible(tb.column_names[i])}”列存的字节不是 UTF-8 文本",
                                   path=str(path), table=table.name, column=cid) from None
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            columns[cid] = col  # stays in Arrow: stripped there
        elif pa.types.is_integer(col.type):
            columns[cid] = col.cast(pa.string())
        else:  # floats, dates, booleans: as a person would type them
            columns[cid] = col.to_pandas().astype(object).map(cell_text).to_numpy()
    rows = np.arange(2, tb.num_rows + 2, dtype=np.int64)
    return RawTable(table.name, str(path), _assemble(columns, tb.num_rows, rows, table), [], ignored,
                    headers_of([str(c) for c in tb.column_names], ids))


def set_aside_long_fields(raw: RawTable) -> RawTable:
    """Move rows with a field longer than :data:`MAX_FIELD_CHARS` from the frame to the
    bad rows, with their row numbers (the lengths were measured in Arrow by the reader)."""
    df = raw.frame
    too_long = df.attrs.get(TOO_LONG)
    if too_long is None:  # a frame not made by the reader: measure here
        too_long = {c: df[c].map(len).to_numpy() for c in df.columns if c != ROW}
    over = np.zeros(len(df), dtype=bool)
    longest = np.zeros(len(df), dtype=np.int64)
    where = np.full(len(df), "", dtype=object)
    for c, n in too_long.items():
        hit = (n > MAX_FIELD_CHARS) & ~over
        longest[hit], where[hit] = n[hit], c
        over |= hit
    if not over.any():
        return raw
    unit = df["unit_id"].to_numpy() if "unit_id" in df else np.full(len(df), "", dtype=object)
    rows = df[ROW].to_numpy()
    for i in np.flatnonzero(over):
        raw.bad_rows.append((int(rows[i]), "field_too_long", str(unit[i])[:MAX_FIELD_CHARS],
                             {"column": where[i], "header": raw.headers.get(where[i], where[i]),
                              "length": f"{int(longest[i]):,}", "limit": f"{MAX_FIELD_CHARS:,}"}))
    controls = df.attrs.get(CONTROL_COLUMNS)
    raw.frame = df[~over].reset_index(drop=True)
    raw.frame.attrs = {TOO_LONG: {}, CONTROL_COLUMNS: controls}
    return raw


def read_table(path: Path, table: Table) -> RawTable:
    """One CSV or Parquet file of a table (a row with a field past the limit set aside)."""
    raw = read_parquet_table(path, table) if path.suffix.lower() == ".parquet" else read_csv_table(path, table)
    return set_aside_long_fields(raw)


@dataclass
class Deferred:
    """A table file found but not read: validate.py hands it to the engine (dataset/engine.py)."""

    name: str
    path: str


def read_folder(folder: str | Path, ruleset: Ruleset, defer=lambda name, path: False,
                skip: tuple[str, ...] = ()) -> dict[str, RawTable | Deferred]:
    """Find and read every table of a dataset folder. A CSV or Parquet file for which
    ``defer(name, path)`` is true is found but not read (a :class:`Deferred`); tables in
    ``skip`` are neither read nor required (``pingyi score --counts`` has their counts)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetNotFound(f"找不到数据目录：{folder}", path=str(folder))
    schema = tables(ruleset)
    found: dict[str, RawTable] = {}

    def add(raw: RawTable):
        if raw.name in found:
            zh = schema[raw.name].zh
            raise DatasetError(f"{zh}（{raw.name}）给了两次：{found[raw.name].path} 和 {raw.path}；请只保留一份",
                               path=raw.path, table=raw.name)
        found[raw.name] = set_aside_long_fields(raw) if isinstance(raw, RawTable) else raw

    for p in sorted(folder.iterdir()):
        if p.name.startswith((".", "~$")) or not p.is_file():
            continue
        name = table_for_name(p.stem, ruleset)
        suffix = p.suffix.lower()
        if name in skip:
            continue
        if suffix in (".csv", ".parquet") and name and defer(name, p):
            add(Deferred(name, str(p)))
        elif suffix in (".csv", ".parquet") and name:
            add(read_table(p, schema[name]))
        elif suffix in excel.SUFFIXES:
            def wanted(sheet: str) -> bool:
                return table_for_name(sheet, ruleset) not in (None, *skip)

            for sheet in excel.read_sheets(p, wanted):
                add(read_sheet(sheet, schema[table_for_name(sheet.name, ruleset)], f"{p}[{sheet.name}]"))
    for t in schema.values():
        if t.required and t.name not in found and t.name not in skip:
            raise DatasetError(
                f"{folder}：缺少必需的{t.zh}表（'{t.name}'）；应有 {t.zh}.csv 或 {t.name}.csv、"
                f"{t.name}.parquet，或 .xlsx 工作簿中名为“{t.zh}”或“{t.name}”的工作表",
                path=str(folder), table=t.name)
    return found
