"""Workbooks for the Excel benchmarks in bench/RESULTS.md (issue 31).

    .venv/bin/python bench/bench_excel.py legit DIR [--rows 100000]   # a round: units + survey sheets, one .xlsx
    .venv/bin/python bench/bench_excel.py lying DIR [--rows 2000000]  # its survey sheet declares A1:B2, holds ROWS

Then time ``pingyi validate DIR`` on each, this checkout against the one before calamine
(openpyxl reading), as the commands in bench/RESULTS.md show.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "2011"
LEVELS = ["很满意", "比较满意", "基本满意", "不满意", "不了解"]
HEADER = ["问卷编号", "单位编码", "渠道", "依法履职", "公正执法", "政务公开", "政务服务", "清正廉洁"]


def _units(wb) -> list[str]:
    ws = wb.create_sheet("评议单位")
    rows = (SAMPLE / "units.csv").read_text(encoding="utf-8").splitlines()
    for line in rows:
        ws.append(line.split(","))
    return [r.split(",")[0] for r in rows[1:]]


def legit(folder: Path, rows: int) -> None:
    """A round of ``rows`` questionnaires in one .xlsx workbook (written in streaming mode)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(31)
    wb = openpyxl.Workbook(write_only=True)
    units = _units(wb)
    ws = wb.create_sheet("问卷调查")
    ws.append(["问卷编号", "单位编码", "调查对象类别", "渠道", "提交时间", "依法履职", "公正执法", "政务公开",
               "政务服务", "清正廉洁", "总体评价", "意见建议"])
    unit = rng.integers(0, len(units), rows)
    answers = rng.integers(0, 5, (rows, 6))
    day = rng.integers(0, 38, rows)
    for i in range(rows):
        ws.append([f"S{i:07d}", units[unit[i]], "群众", "网上", f"2011-{7 + (day[i] + 24) // 31:02d}-"
                   f"{(day[i] + 24) % 31 + 1:02d} 10:{i % 60:02d}:00", *(LEVELS[a] for a in answers[i]),
                   "办事效率高" if i % 7 == 0 else None])
    wb.save(folder / "评议数据.xlsx")


def lying(folder: Path, rows: int) -> None:
    """The same round with a survey sheet that declares two rows and holds ``rows``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "评议数据.xlsx"
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    _units(wb)
    ws = wb.create_sheet("问卷调查")
    ws.append(HEADER)
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    part = "xl/worksheets/sheet2.xml"
    head, _, tail = parts[part].partition(b"<sheetData>")
    _, _, tail = tail.partition(b"</sheetData>")
    head = head.replace(b'<dimension ref="A1:H1"/>', b'<dimension ref="A1:B2"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            if name != part:
                zf.writestr(name, data)
        with zf.open(part, "w", force_zip64=True) as f:
            f.write(head + b"<sheetData>" + b"".join(
                b'<c r="%s1" t="inlineStr"><is><t>%s</t></is></c>' % (col.encode(), h.encode())
                for col, h in zip("ABCDEFGH", HEADER)).join([b'<row r="1">', b"</row>"]))
            step = 10_000
            for start in range(2, rows + 1, step):
                f.write(b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>S%d</t></is></c>'
                                 b'<c r="B%d" t="inlineStr"><is><t>wj</t></is></c></row>' % (n, n, n, n)
                                 for n in range(start, min(start + step, rows + 1))))
            f.write(b"</sheetData>" + tail)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=("legit", "lying"))
    ap.add_argument("dir", type=Path)
    ap.add_argument("--rows", type=int, default=None)
    a = ap.parse_args()
    (legit if a.kind == "legit" else lying)(a.dir, a.rows or (100_000 if a.kind == "legit" else 2_000_000))
    print(f"written {a.dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
