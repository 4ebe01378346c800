"""Read a dataset folder into raw tables of text (SPEC §2).

A table is ``NAME.csv`` (or its Chinese name, e.g. ``问卷调查.csv``), ``NAME.parquet``,
or a sheet of that name in the one ``.xlsx`` workbook of the folder. CSV may be
UTF-8, UTF-8 with BOM or GB18030. Headers may be English ids or Chinese labels.

Every cell comes out as stripped text ('' for blank); typing is validate.py's job.
Rows with the wrong number of fields, or a field longer than :data:`MAX_FIELD_CHARS`, are
set aside here, with their spreadsheet row number (header = row 1), because no column can
be trusted in them.

Limits (a hostile or broken file is refused in one plain line, never read until the
machine runs out of memory): see :data:`MAX_FIELD_CHARS` and :mod:`pingyi_lib.dataset.limits`
for workbooks.
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
from pingyi_lib.dataset import limits
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
    # (row, reason code, reason, unit id as written)
    bad_rows: list[tuple[int, str, str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a reader should know (a hidden sheet)


def decode_bytes(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (Excel on Chinese Windows)."""
    for enc in ENCODINGS:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DatasetError(f"{path}: cannot read the file as UTF-8 or GB18030 text; "
                       "save it as CSV UTF-8 from Excel", path=path)


def _header_map(header: list[str], table: Table, path: str) -> tuple[list[str | None], list[str]]:
    """Map header cells to column ids; unknown headers map to None."""
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
            raise DatasetError(f"{path}: column '{visible(key)}' appears twice in the header",
                               path=path, table=table.name, column=cid)
        if cid is None and key:
            ignored.append(key)
        ids.append(cid)
    for c in table.columns:
        if c.required and c.id not in ids:
            raise DatasetError(
                f"{path}: table '{table.name}' has no column '{c.id}' ({c.zh}); "
                f"its header is: {visible(', '.join(str(h) for h in header))[:500]}",
                path=path, table=table.name, column=c.id)
    return ids, ignored


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
                   preset_bad: dict[int, tuple[str, str]] | None = None
                   ) -> tuple[list, list[int], list[tuple[int, str, str, str]]]:
    """Keep records with the header's number of fields (blank records are skipped).

    A record may lack trailing fields whose header cell is blank, or carry extra empty
    fields; anything else is a wrong number of fields. ``preset_bad`` maps row numbers to
    a (reason code, reason) found earlier (an xlsx formula without a saved result).
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
            bad.append((i, *preset_bad[i], unit))
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
            bad.append((i, "wrong_field_count", f"wrong number of fields: {n}, the header has {needed}", unit))
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
        raise DatasetError(f"{path}: not a readable CSV file ({exc})", path=str(path)) from None
    if first is None:
        raise DatasetError(f"{path}: the file is empty (no header row)", path=str(path), table=table.name)
    ids, ignored = _header_map(first, table, str(path))
    fast = _read_csv_fast(text, first, ids, table) if lead == 0 else None
    if fast is not None:
        return RawTable(table.name, str(path), fast, [], ignored)
    try:
        records = list(csv.reader(_io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DatasetError(f"{path}: not a readable CSV file ({exc})", path=str(path)) from None
    good, rows, bad = _split_records(records[lead + 1:], first, ids, first_row=lead + 2)
    return RawTable(table.name, str(path), _frame(good, rows, ids, table), bad, ignored)


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


def read_sheet(ws, table: Table, path: str, ws_formulas=None) -> RawTable:
    """A worksheet read for its values. ``ws_formulas`` (the same sheet read without
    cached values) lets a formula with no saved result be reported instead of read as
    blank (workbooks written by scripts store formulas without results)."""
    it = limits.sheet_rows(ws, path)
    fit = limits.sheet_rows(ws_formulas, path) if ws_formulas is not None else None
    header = next(it, None)
    if fit is not None:
        next(fit, None)
    if header is None:
        raise DatasetError(f"{path}: the sheet is empty (no header row)", path=path, table=table.name)
    header = [cell_text(h) for h in header]
    while header and not header[-1].strip():
        header.pop()
    ids, ignored = _header_map(header, table, path)
    records, unsaved = [], {}
    for row_no, values in enumerate(it, start=2):
        formulas = next(fit, ()) if fit is not None else ()
        records.append([cell_text(v) for v in values])
        for col, (v, f) in enumerate(zip(values, formulas)):
            if v is None and isinstance(f, str) and f.startswith("="):
                name = header[col] if col < len(header) else f"column {col + 1}"
                unsaved[row_no] = ("unsaved_formula",
                                   f"'{name}' holds a formula with no saved result ({f}); open and save the "
                                   "workbook in Excel, or paste values")
                break
    good, rows, bad = _split_records(records, header, ids, preset_bad=unsaved)
    raw = RawTable(table.name, path, _frame(good, rows, ids, table), bad, ignored)
    if getattr(ws, "sheet_state", "visible") != "visible":
        raw.notes.append(f"{path}: 此工作表为隐藏工作表，仍作为 {table.name} 表读取")
    return raw


def read_parquet_table(path: Path, table: Table) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        tb = pq.read_table(path)
    except Exception as exc:  # pyarrow raises many kinds
        raise DatasetError(f"{path}: not a readable Parquet file ({exc})", path=str(path)) from None
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
                raise DatasetError(f"{path}: column '{tb.column_names[i]}' holds bytes that are not UTF-8 text",
                                   path=str(path), table=table.name, column=cid) from None
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            columns[cid] = col  # stays in Arrow: stripped there
        elif pa.types.is_integer(col.type):
            columns[cid] = col.cast(pa.string())
        else:  # floats, dates, booleans: as a person would type them
            columns[cid] = col.to_pandas().astype(object).map(cell_text).to_numpy()
    rows = np.arange(2, tb.num_rows + 2, dtype=np.int64)
    return RawTable(table.name, str(path), _assemble(columns, tb.num_rows, rows, table), [], ignored)


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
        raw.bad_rows.append((int(rows[i]), "field_too_long",
                             f"{where[i]} 列有 {longest[i]:,} 个字符，超过每格上限 {MAX_FIELD_CHARS:,} 个字符",
                             str(unit[i])[:MAX_FIELD_CHARS]))
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
        raise DatasetNotFound(f"dataset folder not found: {folder}", path=str(folder))
    schema = tables(ruleset)
    found: dict[str, RawTable] = {}

    def add(raw: RawTable):
        if raw.name in found:
            raise DatasetError(f"table '{raw.name}' is given twice: {found[raw.name].path} and {raw.path}",
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
        elif suffix == ".xlsx":
            import openpyxl

            limits.check_workbook(p)
            try:
                wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
                wbf = openpyxl.load_workbook(p, read_only=True, data_only=False)
            except Exception as exc:
                raise DatasetError(f"{p}: not a readable .xlsx workbook ({exc})", path=str(p)) from None
            try:
                for ws, wsf in zip(wb.worksheets, wbf.worksheets):
                    sname = table_for_name(ws.title, ruleset)
                    if sname and sname not in skip:
                        add(read_sheet(ws, schema[sname], f"{p}[{ws.title}]", wsf))
            finally:
                wb.close()
                wbf.close()
    for t in schema.values():
        if t.required and t.name not in found and t.name not in skip:
            raise DatasetError(
                f"{folder}: the required table '{t.name}' ({t.zh}) is missing; expected "
                f"{t.name}.csv, {t.zh}.csv, {t.name}.parquet or a sheet '{t.name}' in an .xlsx workbook",
                path=str(folder), table=t.name)
    return found
