"""Answers downloaded from an online survey platform, or typed into a spreadsheet, read as
they come (``pingyi import``): 问卷星 (wjx) and 腾讯问卷 (tencent) exports, and a clerk's own
table of paper questionnaires.

An export is one sheet (or CSV file) with the platform's own columns (``序号``,
``提交答卷时间``, ``所用时间``, ``来自IP`` … for 问卷星; ``编号``, ``开始答题时间``,
``结束答题时间``, ``答题时长`` … for 腾讯问卷) and then one column per question, headed by its
number and text (``1、您评议的单位是：``); a matrix question has one column per row, the row
in parentheses (``3、请您对该单位以下方面作出评价：(依法履职)``). This module reads the cells
as text and takes the headers apart; export_mapping.py decides what each column is.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from pingyi_lib.common.controlchars import visible
from pingyi_lib.common.errors import DatasetError, DatasetNotFound, OptionError
from pingyi_lib.dataset import excel
from pingyi_lib.dataset.read import cell_text, decode_bytes

PLATFORMS = ("wjx", "tencent", "table")
PLATFORM_NAMES = {"wjx": "问卷星", "tencent": "腾讯问卷", "table": "表格"}
# the platforms' own columns: header -> what it holds. ``source_id`` numbers the answers
# within the questionnaire; ``submitted_at`` is when the answer was handed in.
META = {
    "wjx": {"序号": "source_id", "提交答卷时间": "submitted_at", "所用时间": "duration", "来源": "source",
            "来源详情": "source_detail", "来自IP": "ip", "总分": "total_score"},
    "tencent": {"编号": "source_id", "开始答题时间": "started_at", "结束答题时间": "submitted_at",
                "答题时长": "duration", "IP": "ip", "IP地址": "ip", "来源IP": "ip", "用户ID": "user",
                "用户昵称": "user", "昵称": "user", "来源渠道": "source", "自定义字段": "source_detail",
                "地理位置国家和地区": "place", "地理位置省": "place", "地理位置市": "place",
                "地理位置": "place", "答题状态": "status"},
    "table": {"序号": "source_id", "编号": "source_id", "问卷编号": "source_id", "提交时间": "submitted_at",
              "填写日期": "submitted_at", "日期": "submitted_at"},
}
# platform columns pingyi carries into the survey table (the rest are listed as not needed)
CARRIED = ("source_id", "submitted_at", "duration", "ip")
# what a platform writes for a question left blank or skipped
BLANKS = frozenset({"", "(空)", "（空）", "(跳过)", "（跳过）", "-", "--", "—", "(未填)", "未填写"})

_NUMBER = re.compile(r"^\s*(?:Q|q|第)?\s*(\d{1,3})\s*(?:[、.．:：)）]|题)\s*")
_ROW = re.compile(r"[(（]([^()（）]+)[)）]\s*$")
# 腾讯问卷 and others write a matrix row after a dash: 请您评价 — 依法履职 (2011-2012 is no row)
_DASH_ROW = re.compile(r"^(.*?\S)\s*(?:—|－|\s-\s|-(?=\D))\s*([^—\-－]{1,20})$")


@dataclass(frozen=True)
class Question:
    """One column of an export, its header taken apart."""

    header: str  # as written (control characters written out)
    number: int | None  # the question's number, when the header starts with one
    text: str  # the question's text, without number and matrix row
    row: str  # a matrix question's row ('' otherwise)


@dataclass
class Export:
    """The cells of an export as text, one list per answer, with the file's row numbers."""

    path: str
    platform: str
    header: list[str]
    rows: list[list[str]]
    row_numbers: list[int]  # the file's row of each answer (header = 1)
    questions: list[Question] = field(default_factory=list)

    @property
    def meta(self) -> dict[str, str]:
        return META[self.platform]

    def form(self) -> str:
        """A short id of the questionnaire: the same for every export of it (both 问卷星 forms,
        a later download), different for another questionnaire."""
        text = "\n".join([self.platform, *(q.header for q in self.questions if q.header not in self.meta)])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]

    def column(self, header: str) -> list[str]:
        i = self.header.index(header)
        return [r[i] for r in self.rows]


def parse_header(header: str) -> Question:
    """``3、请您对该单位以下方面作出评价：(依法履职)`` -> number 3, the text, row 依法履职.

    >>> q = parse_header("3、请您对该单位以下方面作出评价：(依法履职)")
    >>> q.number, q.text, q.row
    (3, '请您对该单位以下方面作出评价', '依法履职')
    >>> parse_header("Q2.您的身份是").number, parse_header("Q2.您的身份是").text
    (2, '您的身份是')
    """
    h = visible(header.strip().lstrip("\ufeff"))
    number, rest = None, h
    m = _NUMBER.match(h)
    if m:
        number, rest = int(m.group(1)), h[m.end():]
    row = ""
    m = _ROW.search(rest)
    if m and m.start() > 0:
        row, rest = m.group(1).strip(), rest[:m.start()]
    elif number is not None:
        m = _DASH_ROW.match(rest)
        if m:
            rest, row = m.group(1), m.group(2).strip()
    return Question(h, number, rest.strip().rstrip("：:？? "), row)


def detect_platform(header: list[str]) -> str:
    """问卷星 or 腾讯问卷 by their own columns; a table otherwise."""
    cells = {str(h).strip() for h in header}
    scores = {p: len(cells & set(META[p])) for p in ("wjx", "tencent")}
    if scores["wjx"] >= 2 and "提交答卷时间" in cells or "来自IP" in cells:
        return "wjx"
    if "结束答题时间" in cells or "答题时长" in cells or scores["tencent"] >= 3:
        return "tencent"
    return "table"


def _records_csv(path: Path) -> list[list[str]]:
    text = decode_bytes(path.read_bytes(), str(path))
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise DatasetError(f"{path}：不是可读的 CSV 文件（{exc}）", path=str(path)) from None


def _records_book(path: Path) -> list[list[str]]:
    sheets = [s for s in excel.read_sheets(path) if any(any(str(v).strip() for v in r) for r in s.rows)]
    if not sheets:
        raise DatasetError(f"{path}：工作簿中没有数据", path=str(path))
    shown = [s for s in sheets if s.visible] or sheets
    return [[cell_text(v) for v in r] for r in shown[0].rows]


def read_export(path: str | Path, platform: str = "auto") -> Export:
    """Read an export (.csv in UTF-8 or GB18030, .xlsx, .xls, .ods: the first sheet with data)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFound(f"找不到要导入的文件：{path}", path=str(path))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = _records_csv(path)
    elif suffix in excel.SUFFIXES:
        records = _records_book(path)
    else:
        raise OptionError(f"{path}：不认识的文件类型“{suffix}”；可导入 .xlsx、.xls、.ods 或 .csv")
    lead = 0
    while lead < len(records) and not any(c.strip() for c in records[lead]):
        lead += 1
    if lead == len(records):
        raise DatasetError(f"{path}：文件是空的（没有表头行）", path=str(path))
    header = [c.strip().lstrip("\ufeff") for c in records[lead]]
    while header and not header[-1]:
        header.pop()
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        if not h:
            header[i] = h = f"第{i + 1}列"
        if h in seen:
            raise DatasetError(f"{path}：表头中“{visible(h)}”出现了两次（第 {seen[h] + 1} 列和第 {i + 1} 列）",
                               path=str(path))
        seen[h] = i
    if platform == "auto":
        platform = detect_platform(header)
    elif platform not in PLATFORMS:
        raise OptionError(f"不认识的平台“{platform}”；可选 auto、{'、'.join(PLATFORMS)}")
    width = len(header)
    rows, numbers = [], []
    for n, rec in enumerate(records[lead + 1:], start=lead + 2):
        cells = [c.strip() for c in rec]
        if not any(cells):
            continue
        if len(cells) > width and any(cells[width:]):
            raise DatasetError(f"{path}：第 {n} 行有 {len(cells)} 个值，表头只有 {width} 列", path=str(path))
        rows.append((cells + [""] * width)[:width])
        numbers.append(n)
    return Export(str(path), platform, header, rows, numbers, [parse_header(h) for h in header])
