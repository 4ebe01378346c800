"""Read a dataset folder into raw tables of text (SPEC §2).

A table is ``NAME.csv`` (or its Chinese name, e.g. ``问卷调查.csv``), ``NAME.parquet``,
or a sheet of that name in the one ``.xlsx`` workbook of the folder. CSV may be
UTF-8, UTF-8 with BOM or GB18030. Headers may be English ids or Chinese labels.

Every cell comes out as stripped text ('' for blank); typing is validate.py's job.
Rows with the wrong number of fields are set aside here, with their spreadsheet row
number (header = row 1), because no column can be trusted in them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io as _io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DatasetError
from .ruleset import Ruleset
from .schema import Table, table_for_name, tables

ROW = "row"  # the spreadsheet row number of each record (header = 1)
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class RawTable:
    name: str
    path: str  # file (and sheet) it came from
    frame: pd.DataFrame  # canonical column ids + ROW, all text
    bad_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)
    ignored_columns: list[str] = field(default_factory=list)


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
            raise DatasetError(f"{path}: column '{key}' appears twice in the header",
                               path=path, table=table.name, column=cid)
        if cid is None and key:
            ignored.append(key)
        ids.append(cid)
    for c in table.columns:
        if c.required and c.id not in ids:
            raise DatasetError(
                f"{path}: table '{table.name}' has no column '{c.id}' ({c.zh}); "
                f"its header is: {', '.join(str(h) for h in header)}",
                path=path, table=table.name, column=c.id)
    return ids, ignored


def _frame(records: list[list[str]], rows: list[int], ids: list[str | None], table: Table) -> pd.DataFrame:
    keep = [i for i, cid in enumerate(ids) if cid is not None]
    width = len(ids)
    arr = np.array(records, dtype=object).reshape(len(records), width) if records else \
        np.empty((0, width), dtype=object)
    df = pd.DataFrame(arr[:, keep], columns=[ids[i] for i in keep], dtype=object)
    for c in table.columns:  # optional columns absent from the file
        if c.id not in df.columns:
            df[c.id] = ""
    df = df[[c.id for c in table.columns]]
    for c in df.columns:
        df[c] = df[c].str.strip()
    df[ROW] = np.asarray(rows, dtype=np.int64)
    return df


def _split_records(records, width: int) -> tuple[list, list[int], list[tuple[int, str]]]:
    """Keep records with the header's number of fields; blank records are skipped."""
    good, rows, bad = [], [], []
    for i, rec in enumerate(records, start=2):
        n = len(rec)
        if n == width:
            good.append(rec)
            rows.append(i)
        elif n == 0 or not any(s.strip() for s in rec):
            continue  # an empty line holds no data
        elif n > width and not any(s.strip() for s in rec[width:]):
            good.append(rec[:width])
            rows.append(i)
        else:
            bad.append((i, f"wrong number of fields: {n}, the header has {width}"))
    return good, rows, bad


def read_csv_table(path: Path, table: Table) -> RawTable:
    text = decode_bytes(path.read_bytes(), str(path))
    try:
        records = list(csv.reader(_io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DatasetError(f"{path}: not a readable CSV file ({exc})", path=str(path)) from None
    if not records or not any(h.strip() for h in records[0]):
        raise DatasetError(f"{path}: the file is empty (no header row)", path=str(path), table=table.name)
    header = records[0]
    ids, ignored = _header_map(header, table, str(path))
    good, rows, bad = _split_records(records[1:], len(header))
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


def read_sheet(ws, table: Table, path: str) -> RawTable:
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None:
        raise DatasetError(f"{path}: the sheet is empty (no header row)", path=path, table=table.name)
    header = [cell_text(h) for h in header]
    while header and not header[-1].strip():
        header.pop()
    ids, ignored = _header_map(header, table, path)
    records = ([cell_text(v) for v in r] for r in it)
    good, rows, bad = _split_records(records, len(header))
    return RawTable(table.name, path, _frame(good, rows, ids, table), bad, ignored)


def read_parquet_table(path: Path, table: Table) -> RawTable:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds
        raise DatasetError(f"{path}: not a readable Parquet file ({exc})", path=str(path)) from None
    ids, ignored = _header_map([str(c) for c in df.columns], table, str(path))
    cols = {}
    for src, cid in zip(df.columns, ids):
        if cid is None:
            continue
        s = df[src]
        if pd.api.types.is_string_dtype(s) or s.dtype == object:
            cols[cid] = s.astype(object).where(s.notna(), "").map(cell_text)
        else:
            cols[cid] = s.astype(object).map(cell_text)
    out = pd.DataFrame(cols, dtype=object)
    for c in table.columns:
        if c.id not in out.columns:
            out[c.id] = ""
    out = out[[c.id for c in table.columns]]
    for c in out.columns:
        out[c] = out[c].str.strip()
    out[ROW] = np.arange(2, len(out) + 2, dtype=np.int64)
    return RawTable(table.name, str(path), out.reset_index(drop=True), [], ignored)


def read_folder(folder: str | Path, ruleset: Ruleset) -> dict[str, RawTable]:
    """Find and read every table of a dataset folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"dataset folder not found: {folder}", path=str(folder))
    schema = tables(ruleset)
    found: dict[str, RawTable] = {}

    def add(raw: RawTable):
        if raw.name in found:
            raise DatasetError(f"table '{raw.name}' is given twice: {found[raw.name].path} and {raw.path}",
                               path=raw.path, table=raw.name)
        found[raw.name] = raw

    for p in sorted(folder.iterdir()):
        if p.name.startswith((".", "~$")) or not p.is_file():
            continue
        name = table_for_name(p.stem, ruleset)
        suffix = p.suffix.lower()
        if suffix == ".csv" and name:
            add(read_csv_table(p, schema[name]))
        elif suffix == ".parquet" and name:
            add(read_parquet_table(p, schema[name]))
        elif suffix == ".xlsx":
            import openpyxl

            try:
                wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
            except Exception as exc:
                raise DatasetError(f"{p}: not a readable .xlsx workbook ({exc})", path=str(p)) from None
            try:
                for ws in wb.worksheets:
                    sname = table_for_name(ws.title, ruleset)
                    if sname:
                        add(read_sheet(ws, schema[sname], f"{p}[{ws.title}]"))
            finally:
                wb.close()
    for t in schema.values():
        if t.required and t.name not in found:
            raise DatasetError(
                f"{folder}: the required table '{t.name}' ({t.zh}) is missing; expected "
                f"{t.name}.csv, {t.zh}.csv, {t.name}.parquet or a sheet '{t.name}' in an .xlsx workbook",
                path=str(folder), table=t.name)
    return found
