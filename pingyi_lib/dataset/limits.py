"""How much of a workbook pingyi reads, checked before the reading costs anything.

An .xlsx file is a zip of XML parts: a few hundred kilobytes can declare a sheet of 16,384
columns by 200,000 rows, or five million shared strings, and a reader that believes them
fills the machine's memory. These limits refuse such a file in one plain line; the numbers
are stated in docs/robustness.md. A round too big for them belongs in CSV or Parquet.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from pingyi_lib.common.errors import DatasetError

MAX_SHEET_COLUMNS = 256            # our widest table has 13 columns; Excel allows 16,384
MAX_SHEET_ROWS = 1_048_576         # Excel's own limit
MAX_SHARED_STRINGS = 1_000_000     # distinct texts in one workbook (about 0.4 GB to hold)
MAX_PART_BYTES = 64 * 2**20        # any part but a sheet or the shared strings (styles, workbook.xml)
MAX_UNCOMPRESSED_BYTES = 2**30     # all parts together, as declared in the zip directory

_SI = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_CHUNK = 1 << 20
_OVERLAP = 64  # longer than any <prefix:si> opening tag we count


def _count_shared_strings(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> int:
    """Count <si> entries by scanning the bytes (no XML parser), stopping past ``limit``.
    The zip reader stops at the size its directory declares, so a lying size cannot
    make this read more."""
    count = 0
    tail = b""
    with zf.open(info) as f:
        while True:
            chunk = f.read(_CHUNK)
            buf = tail + chunk
            if not chunk:
                return count + len(_SI.findall(buf))
            cut = max(0, len(buf) - _OVERLAP)
            count += sum(1 for m in _SI.finditer(buf) if m.start() < cut)
            tail = buf[cut:]
            if count > limit:
                return count


def check_workbook(path: Path) -> None:
    """Refuse a workbook whose parts exceed the limits, before openpyxl parses any of it."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise DatasetError(f"{path}: the workbook unpacks to {total / 2**20:,.0f} MB, more than the "
                                   f"{MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MB pingyi reads from an .xlsx file; "
                                   "save large tables as CSV or Parquet", path=str(path))
            for info in infos:
                name = info.filename.lower()
                if name.endswith("sharedstrings.xml"):
                    n = _count_shared_strings(zf, info, MAX_SHARED_STRINGS)
                    if n > MAX_SHARED_STRINGS:
                        raise DatasetError(
                            f"{path}: the workbook holds more than {MAX_SHARED_STRINGS:,} distinct texts "
                            "(shared strings), more than pingyi reads from an .xlsx file; "
                            "save large tables as CSV or Parquet", path=str(path))
                elif "/worksheets/" not in name and info.file_size > MAX_PART_BYTES:
                    raise DatasetError(f"{path}: the part {info.filename} unpacks to "
                                       f"{info.file_size / 2**20:,.0f} MB, more than the "
                                       f"{MAX_PART_BYTES / 2**20:,.0f} MB allowed for it", path=str(path))
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"{path}: not a readable .xlsx workbook ({exc})", path=str(path)) from None


def _too_big(path: str, what: str) -> DatasetError:
    return DatasetError(f"{path}: the sheet {what}; pingyi reads at most {MAX_SHEET_ROWS:,} rows and "
                        f"{MAX_SHEET_COLUMNS} columns of a sheet", path=path)


def sheet_rows(ws, path: str) -> Iterator[tuple]:
    """The rows of a read-only worksheet as tuples of values, within the limits.

    The size the sheet declares (``A1:XFD200000``) is checked first; then it is ignored, so
    a sheet that declares less than it holds is read whole, and every row is checked as it
    streams: one that reaches past the column limit, or one row too many, stops the read.
    """
    rows, cols = ws.max_row, ws.max_column
    if (rows or 0) > MAX_SHEET_ROWS or (cols or 0) > MAX_SHEET_COLUMNS:
        raise _too_big(path, f"declares {rows:,} rows and {cols:,} columns ({ws.calculate_dimension()})")
    ws.reset_dimensions()
    for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if n > MAX_SHEET_ROWS:
            raise _too_big(path, f"has more than {MAX_SHEET_ROWS:,} rows")
        if len(values) > MAX_SHEET_COLUMNS:
            if any(v is not None for v in values[MAX_SHEET_COLUMNS:]):
                raise _too_big(path, f"has a value in column {len(values):,} of row {n:,}")
            values = values[:MAX_SHEET_COLUMNS]
        yield values
