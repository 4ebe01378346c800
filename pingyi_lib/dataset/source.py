"""A table file opened in DuckDB for the engine (dataset/engine.py): Parquet as it is, CSV
through a temporary Parquet file of its checked columns (GB18030 transcoded first, streaming),
with the row numbers a spreadsheet shows. :class:`Unsupported` where DuckDB cannot promise the
pandas path's reading of the file (the engine then leaves it to that path).
"""

from __future__ import annotations

import codecs
import csv
import os
import tempfile
from pathlib import Path

import numpy as np

from pingyi_lib.common.errors import DatasetError
from pingyi_lib.dataset import schema
from pingyi_lib.dataset.compact import COMPACT, _ident
from pingyi_lib.dataset.read import MAX_FIELD_CHARS, _header_map, headers_of, undecodable

# what Arrow's utf8_trim_whitespace (read.py) strips: DuckDB's trim() takes them as a set
WHITESPACE = "".join(map(chr, [0x9, 0xA, 0xB, 0xC, 0xD, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
                               *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]))


class Unsupported(Exception):
    """The engine cannot promise the pandas path's answer for this file: use the pandas path."""


def _lit(v: str) -> str:
    if "\x00" in v:
        raise Unsupported("a NUL character")
    return "'" + v.replace("'", "''") + "'"


class _Source:
    """A table file opened in DuckDB as relation ``src`` with a ``_row`` column, plus
    ``_keep`` (false for CSV lines with no value at all, which hold no data)."""

    def __init__(self, path: Path, table: schema.Table, threads: int | None = None):
        import duckdb

        self.tmp = tempfile.TemporaryDirectory(prefix="pingyi-engine-")
        # no progress bar: DuckDB draws it on standard output, into `pingyi score --format csv > FILE`
        self.con = duckdb.connect(str(Path(self.tmp.name) / "engine.duckdb"))
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute(f"SET temp_directory = {_lit(str(Path(self.tmp.name) / 'spill'))}")
        self.con.execute(f"SET memory_limit = {_lit(os.environ.get('PINGYI_ENGINE_MEMORY', '1GB'))}")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.path = path
        if path.suffix.lower() == ".parquet":
            self._parquet(path, table)
        else:
            self._csv(path, table)

    def close(self) -> None:
        """Close DuckDB and remove its files (again: nothing)."""
        self.con.close()
        self.tmp.cleanup()

    def _columns(self, names: list[str], table: schema.Table) -> None:
        ids, self.ignored = _header_map(names, table, str(self.path))
        self.headers = headers_of(names, ids)  # column id -> header as written (the reasons quote it)
        self.col = {cid: _ident(n) for n, cid in zip(self.sql_names, ids) if cid is not None}
        self.known = {n for n, cid in zip(self.sql_names, ids) if cid is not None}

    def _parquet(self, path: Path, table: schema.Table) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            sch = pq.read_schema(path)
        except Exception as exc:  # pyarrow raises many kinds
            raise DatasetError(f"{path}：不是可读的 Parquet 文件（{exc}）", path=str(path)) from None
        self.sql_names = [str(n) for n in sch.names]
        self._columns(self.sql_names, table)
        for f in sch:
            t = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
            if str(f.name) in self.known and not (
                    pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)):
                raise Unsupported(f"column {f.name} is {f.type}")  # floats, dates: read.cell_text decides
        self.con.execute(f"CREATE VIEW src AS SELECT *, file_row_number + 2 AS _row, true AS _keep "
                         f"FROM read_parquet({_lit(str(path))}, file_row_number = true)")

    def _csv(self, path: Path, table: schema.Table) -> None:
        """CSV → a temporary Parquet file of the checked columns, in file order, so the
        rest is the Parquet path (``file_row_number`` is the position in the file)."""
        text_path = path
        try:
            lines, header = _prescan(path)
        except _NotUtf8:
            text_path = self._transcode(path)
            lines, header = _prescan(text_path)
        self.sql_names = [f"c{i}" for i in range(len(header))]
        self._columns(header, table)
        # free text is not checked: it stays in the file (the reasons of a rejected row never quote it)
        keep = COMPACT.get(table.name, ())
        self.col = {c.id: self.col[c.id] for c in table.columns
                    if c.id in self.col and (c.kind != schema.TEXT or c.id in keep)}
        # a line with no value at all holds no data (read.py drops it; its number is still counted)
        keep = f"trim(concat({', '.join(self.sql_names)}), {_lit(WHITESPACE)}) <> ''"
        cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
        keep_cols = "".join(f"{v}, " for v in self.col.values())
        out = Path(self.tmp.name) / "checked.parquet"
        for attempt in (1, 2):
            read = (f"read_csv({_lit(str(text_path))}, header = false, skip = 1, all_varchar = true, "
                    f"auto_detect = false, delim = ',', quote = '\"', escape = '\"', columns = {{{cols}}}, "
                    f"strict_mode = true, null_padding = false)")
            try:
                self.con.execute(f"COPY (SELECT {keep_cols}{keep} AS _keep FROM {read}) "
                                 f"TO {_lit(str(out))} (FORMAT parquet)")
            except Exception as exc:  # noqa: BLE001 - wrong field counts, odd quoting: the exact path decides
                if "unicode" in str(exc).lower() and attempt == 1:  # not UTF-8: read.py reads it as GB18030
                    text_path = self._transcode(path)
                    lines, _ = _prescan(text_path)
                    continue
                raise Unsupported(f"DuckDB cannot read it as one record a line ({str(exc)[:80]})") from None
            break
        n = self.con.execute(f"SELECT count(*) FROM read_parquet({_lit(str(out))})").fetchone()[0]
        if n != lines - 1:
            raise Unsupported("blank lines or line breaks inside cells")
        self.con.execute(f"CREATE VIEW src AS SELECT *, file_row_number + 2 AS _row "
                         f"FROM read_parquet({_lit(str(out))}, file_row_number = true)")

    def _transcode(self, path: Path) -> Path:
        """GB18030 → a temporary UTF-8 file, streaming (DuckDB reads no GB18030 offline)."""
        out = Path(self.tmp.name) / "utf8.csv"
        dec = codecs.getincrementaldecoder("gb18030")()
        try:
            with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
                while chunk := src.read(1 << 24):
                    dst.write(dec.decode(chunk))
                dst.write(dec.decode(b"", final=True))
        except UnicodeDecodeError:
            raise undecodable(str(path)) from None
        return out


class _NotUtf8(Exception):
    pass


def _prescan(path: Path) -> tuple[int, list[str]]:
    """(lines as read.py counts them, the header cells). Raises _NotUtf8 when the header
    is not UTF-8 (the rest DuckDB checks as it reads) and Unsupported where read.py would
    not take its one-record-a-line path (blank lines before the header, a header cell
    with a line break, carriage returns without a line feed)."""
    newlines = cr = crlf = 0
    prev = last = first = b""
    longest = run = 0  # the longest line in bytes, and the length of the line still open
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            if not first:
                first = chunk.split(b"\n", 1)[0]
            newlines += chunk.count(b"\n")
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if len(ends):
                longest = max(longest, run + int(ends[0]), int(np.diff(ends).max()) if len(ends) > 1 else 0)
                run = len(chunk) - int(ends[-1]) - 1
            else:
                run += len(chunk)
            c = chunk.count(b"\r")
            if c or prev == b"\r":
                cr += c
                crlf += chunk.count(b"\r\n") + (prev == b"\r" and chunk[:1] == b"\n")
            prev = last = chunk[-1:]
    if cr != crlf:
        raise Unsupported("carriage returns without a line feed")
    if max(longest, run) > MAX_FIELD_CHARS:  # a field may be past the limit: read.py sets its row aside
        raise Unsupported("a line longer than a field may be")
    try:
        head = first.rstrip(b"\r").decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _NotUtf8 from None
    if not head.strip() or head.count('"') % 2:
        raise Unsupported("blank lines before the header, or a line break inside a header cell")
    return newlines + (0 if last == b"\n" or not last else 1), next(csv.reader([head]))
