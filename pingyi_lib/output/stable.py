"""Files that come out byte for byte the same from the same inputs.

A workbook (.xlsx) and a notice (.docx) are zip files: every member carries the time it was
written, and their core properties a creation and modification time. openpyxl and
python-docx take both from the clock, so two runs on the same round gave different bytes.
Here both come from the round's report day instead (midnight, UTC), which is also the day
the documents speak of.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path

ZIP_EPOCH = dt.datetime(1980, 1, 1)  # the earliest time a zip member can carry


def stamp(day: dt.date) -> dt.datetime:
    """The time a document of ``day`` carries: midnight of that day (naive, read as UTC)."""
    return max(dt.datetime.combine(day, dt.time()), ZIP_EPOCH)


def fix_zip_times(path: str | Path, when: dt.datetime) -> None:
    """Give every member of the zip at ``path`` the time ``when``, keeping names, order,
    contents and compression (the file is rewritten in place, through a file beside it)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".stable")
    t = when.timetuple()[:6]
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", allowZip64=True) as dst:
            for info in src.infolist():
                new = zipfile.ZipInfo(info.filename, date_time=t)
                new.compress_type = info.compress_type
                new.external_attr = info.external_attr
                new.create_system = 0  # the same bytes from Linux and Windows
                dst.writestr(new, src.read(info))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
