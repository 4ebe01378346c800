"""How much of a workbook pingyi reads, checked before the reading costs anything.

An .xlsx file is a zip of XML parts: a few hundred kilobytes can declare a sheet of 16,384
columns by 200,000 rows, or five million shared strings, and a reader that believes them
fills the machine's memory. These limits refuse such a file in one plain line; the numbers
are stated in docs/robustness.md. A round too big for them belongs in CSV or Parquet.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from pingyi_lib.common.errors import DatasetError

MAX_SHEET_COLUMNS = 256            # our widest table has 13 columns; Excel allows 16,384
MAX_SHEET_ROWS = 1_048_576         # Excel's own limit
MAX_SHARED_STRINGS = 1_000_000     # distinct texts in one workbook (about 0.4 GB to hold)
MAX_PART_BYTES = 64 * 2**20        # any part but a sheet or the shared strings (styles, workbook.xml)
MAX_UNCOMPRESSED_BYTES = 2**30     # all parts together, as declared in the zip directory

_SI = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
CHUNK = 1 << 20
_OVERLAP = 64  # longer than any <prefix:si> or <prefix:row> opening tag we count


def count_tags(zf: zipfile.ZipFile, info: zipfile.ZipInfo, tag: re.Pattern, limit: int) -> int:
    """Count the opening tags ``tag`` matches in one part by scanning its bytes (no XML parser),
    stopping past ``limit``. The zip reader stops at the size its directory declares, so a
    lying size cannot make this read more."""
    count = 0
    tail = b""
    with zf.open(info) as f:
        while True:
            chunk = f.read(CHUNK)
            buf = tail + chunk
            if not chunk:
                return count + len(tag.findall(buf))
            cut = max(0, len(buf) - _OVERLAP)
            count += sum(1 for m in tag.finditer(buf) if m.start() < cut)
            tail = buf[cut:]
            if count > limit:
                return count


def check_workbook(path: Path) -> None:
    """Refuse a workbook whose parts exceed the limits, before any of it is parsed: its size and
    its shared strings (each sheet's size: dataset/excel.py)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise DatasetError(f"{path}：工作簿解压后有 {total / 2**20:,.0f} MB，超过 pingyi 读取 .xlsx 的上限 "
                                   f"{MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MB；大的表请存为 CSV 或 Parquet",
                                   path=str(path))
            for info in infos:
                name = info.filename.lower()
                if name.endswith("sharedstrings.xml"):
                    n = count_tags(zf, info, _SI, MAX_SHARED_STRINGS)
                    if n > MAX_SHARED_STRINGS:
                        raise DatasetError(
                            f"{path}：工作簿中不同的文本（共享字符串）超过 {MAX_SHARED_STRINGS:,} 个，"
                            "超过 pingyi 读取 .xlsx 的上限；大的表请存为 CSV 或 Parquet", path=str(path))
                elif "/worksheets/" not in name and info.file_size > MAX_PART_BYTES:
                    raise DatasetError(f"{path}：工作簿的部件 {info.filename} 解压后有 "
                                       f"{info.file_size / 2**20:,.0f} MB，超过允许的 "
                                       f"{MAX_PART_BYTES / 2**20:,.0f} MB", path=str(path))
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"{path}：不是可读的 .xlsx 工作簿（{exc}）", path=str(path)) from None


def too_big(path: str, what: str) -> DatasetError:
    return DatasetError(f"{path}：工作表{what}；pingyi 每张工作表最多读取 {MAX_SHEET_ROWS:,} 行、"
                        f"{MAX_SHEET_COLUMNS} 列", path=path)
