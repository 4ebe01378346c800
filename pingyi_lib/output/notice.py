"""The notice of results (评议结果通报.docx) in the usual layout of a government notice
(GB/T 9704 in spirit): A4, title in 黑体 二号 centred, headings in 黑体 三号, body in
仿宋_GB2312 三号 with a two-character first-line indent and a fixed 28 pt line, the
sender and date at the foot, right-aligned.

Fonts a reader may lack get fallbacks in the document's font table (``altName``):
仿宋_GB2312 → 仿宋 (FangSong), 黑体 → SimHei; Latin text and digits use Times New Roman.
The content comes from ``sections.notice.notice_blocks``; text from the data is written
as text runs (Word has no markup to inject).

Tables have fixed column widths that fit their content on A4 portrait
(:func:`column_widths`): figures right-aligned on one line, headers broken only between
words (the unit of measure on its own line when needed), names in at most two lines.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from pathlib import Path

import pandas as pd

from pingyi_lib.common.masking import mask_personal_data
from pingyi_lib.output.atomic import atomic_path
from pingyi_lib.output.stable import fix_zip_times, stamp

BODY_FONT, HEAD_FONT, LATIN_FONT = "仿宋_GB2312", "黑体", "Times New Roman"
FALLBACKS = {BODY_FONT: ("仿宋", "FangSong"), HEAD_FONT: ("SimHei", "Heiti SC")}
BODY_PT, TITLE_PT, TABLE_PT = 16, 22, 10.5  # 三号, 二号, 五号
LINE_PT = 28
A4_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}


def _fonts(run_or_style, name: str, size: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = run_or_style.font
    font.name = LATIN_FONT
    rpr = run_or_style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    rfonts.set(qn("w:ascii"), LATIN_FONT)
    rfonts.set(qn("w:hAnsi"), LATIN_FONT)
    rfonts.set(qn("w:eastAsia"), name)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold


def _font_table_fallbacks(doc) -> None:
    """Declare the CJK fonts with their alternates, so Word/WPS substitute sensibly."""
    from docx.oxml.ns import qn
    from lxml import etree

    part = next(p for p in doc.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml")

    root = etree.fromstring(part.blob)
    for name, (alt, *_rest) in FALLBACKS.items():
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        etree.SubElement(font, qn("w:altName")).set(qn("w:val"), alt)
        etree.SubElement(font, qn("w:charset")).set(qn("w:val"), "86")  # GB2312
        etree.SubElement(font, qn("w:family")).set(qn("w:val"), "modern" if name == BODY_FONT else "auto")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page(doc) -> None:
    from docx.shared import Mm

    for s in doc.sections:
        s.page_width, s.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
        s.top_margin, s.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
        s.left_margin, s.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])


def _paragraph(doc, text: str, *, font: str = BODY_FONT, size: float = BODY_PT, bold: bool = False,
               align=None, indent: bool = True):
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PT if size <= BODY_PT else size + 10)
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(2 * size)
    if align is not None:
        p.alignment = align
    _fonts(p.add_run(mask_personal_data(text)), font, size, bold)
    return p


SMALL_TABLE_PT = 9  # 小五: a table too wide for 五号 on A4 portrait
CELL_MARGIN_TWIPS = 57  # left and right cell margins of 0.1 cm (Word's default 0.19 cm wastes a column's worth)
CELL_PAD_PT = 2 * CELL_MARGIN_TWIPS / 20 + 1.0  # both margins, and the borders
_NUMERIC = re.compile(r"^[-+]?\d[\d,]*(\.\d+)?%?$|^[—–-]$")


def text_width(text: str) -> float:
    """The width of ``text`` in ems: a CJK or full-width character is one em, anything else
    (digits, Latin letters in Times New Roman) half an em."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in str(text))


def header_words(head: str) -> list[str]:
    """A header's pieces that must not be broken: the unit of measure in parentheses, and the
    label in words of at least two characters (现场评议指数 → 现场评议 / 指数; 群众满意度 stays
    whole, since its last character alone is no word)."""
    label, unit = (head.split("（", 1)[0], "（" + head.split("（", 1)[1]) if "（" in head else (head, "")
    words = []
    while len(label) >= 6:
        words.append(label[:4])
        label = label[4:]
    words.append(label)
    return [w for w in (*words, unit) if w]


def is_number(text: str) -> bool:
    """A cell holding a figure (or the dash of a missing one): right-aligned."""
    return bool(_NUMERIC.match(str(text).strip()))


def numeric_columns(frame: pd.DataFrame) -> list[bool]:
    """Per column: every filled cell holds a figure (right-aligned, never broken)."""
    return [all(is_number(c) for c in ("" if v is None else str(v) for v in frame[col]) if c)
            for col in frame.columns]


def column_widths(frame: pd.DataFrame, avail_pt: float) -> tuple[list[float], float]:
    """Widths (pt) for the columns of ``frame`` and the font size that lets them fit ``avail_pt``:
    every figure and header word on one line, every text cell in at most two lines; what is left
    goes to the text columns, up to their longest cell. 五号 when that fits, else 小五; a table
    too wide even so gives its text columns less (the only case where a name takes three lines)."""
    numeric = numeric_columns(frame)
    for size in (TABLE_PT, SMALL_TABLE_PT):
        need, want = [], []
        for col, num in zip(frame.columns, numeric):
            cells = ["" if v is None else str(v) for v in frame[col]]
            # headers are bold: half a character more for a font that has no bold and thickens its strokes
            head = max((text_width(w) for w in header_words(str(col))), default=0) + 0.5
            full = max((text_width(c) for c in cells), default=0)
            if num:
                need.append(max(head, full))
                want.append(need[-1])
            else:
                # two lines: half the text, rounded up to a whole character, and a little for the
                # font's metrics (a character that does not fit whole goes to the next line)
                need.append(max(head, max((math.ceil(text_width(c) / 2) + 0.25 if c else 0 for c in cells),
                                          default=0)))
                want.append(max(head, full))
        need_pt = [w * size + CELL_PAD_PT for w in need]
        if sum(need_pt) <= avail_pt or size == SMALL_TABLE_PT:
            break
    want_pt = [w * size + CELL_PAD_PT for w in want]
    spare = avail_pt - sum(need_pt)
    room = [w - n for w, n in zip(want_pt, need_pt)]
    if spare >= 0:
        share = min(1.0, spare / sum(room)) if sum(room) > 0 else 0.0
        return [n + r * share for n, r in zip(need_pt, room)], size
    # still too wide at 小五: the text columns give up what they must, in proportion
    text = [n if w > n else 0.0 for n, w in zip(need_pt, want_pt)]
    cut = min(1.0, -spare / sum(text)) if sum(text) > 0 else 0.0
    return [n - t * cut for n, t in zip(need_pt, text)], size


def _table(doc, frame: pd.DataFrame) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    avail = Mm(A4_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]).pt
    widths, size = column_widths(frame, avail)
    t = doc.add_table(rows=1, cols=len(frame.columns))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False  # a fixed layout: the widths below, whatever the content
    tblpr = t._tbl.tblPr
    margins = tblpr.makeelement(qn("w:tblCellMar"), {})
    for side in ("left", "right"):
        margins.append(margins.makeelement(qn(f"w:{side}"), {qn("w:w"): str(CELL_MARGIN_TWIPS), qn("w:type"): "dxa"}))
    look = tblpr.find(qn("w:tblLook"))  # the schema puts the cell margins before tblLook (Word checks the order)
    look.addprevious(margins) if look is not None else tblpr.append(margins)
    for col, w in zip(t.columns, widths):
        col.width = Pt(w)
    for cell, head, w in zip(t.rows[0].cells, frame.columns, widths):
        _cell(cell, _header_lines(str(head), (w - CELL_PAD_PT) / size), HEAD_FONT, WD_ALIGN_PARAGRAPH.CENTER, size)
        cell.width = Pt(w)
    # the header row repeats on every page, and no row is split across pages
    trpr = t.rows[0]._tr.get_or_add_trPr()
    trpr.append(trpr.makeelement(qn("w:tblHeader"), {}))
    numeric = numeric_columns(frame)
    for row in frame.itertuples(index=False):
        cells = t.add_row().cells
        for cell, value, num, w in zip(cells, row, numeric, widths):
            text = "" if value is None else str(value)
            _cell(cell, [text], BODY_FONT, WD_ALIGN_PARAGRAPH.RIGHT if num else WD_ALIGN_PARAGRAPH.LEFT, size)
            cell.width = Pt(w)
    for r in t.rows:
        trpr = r._tr.get_or_add_trPr()
        trpr.append(trpr.makeelement(qn("w:cantSplit"), {}))
    doc.add_paragraph().paragraph_format.space_after = Pt(0)


def _header_lines(head: str, room_em: float) -> list[str]:
    """A header as lines of whole words (:func:`header_words`) that fit ``room_em`` ems (the
    column's room, the half character kept for bold strokes included)."""
    lines: list[str] = []
    for word in header_words(head):
        if lines and text_width(lines[-1] + word) <= room_em + 1e-9:
            lines[-1] += word
        else:
            lines.append(word)
    return lines or [""]


def _cell(cell, lines: list[str], font: str, align, size: float = TABLE_PT) -> None:
    p = cell.paragraphs[0]
    p.alignment = align
    run = p.add_run(mask_personal_data(lines[0]))
    for line in lines[1:]:
        run.add_break()
        run.add_text(mask_personal_data(line))
    _fonts(run, font, size, font == HEAD_FONT)


def write_notice(blocks: list[tuple[str, object]], path: str | Path, title: str = "",
                 report_day: dt.date | None = None) -> Path:
    """Write the notice (``sections.notice.notice_blocks``) as a .docx, atomically. ``report_day``: the
    report day, the document's creation and modification time (the same bytes from the same
    round); None: now."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    _page(doc)
    _fonts(doc.styles["Normal"], BODY_FONT, BODY_PT)
    _font_table_fallbacks(doc)
    doc.core_properties.title = title
    doc.core_properties.author = "pingyi"
    doc.core_properties.last_modified_by = "pingyi"
    doc.core_properties.revision = 1
    if report_day is not None:
        doc.core_properties.created = doc.core_properties.modified = stamp(report_day)
    for kind, value in blocks:
        if kind == "title":
            _paragraph(doc, str(value), font=HEAD_FONT, size=TITLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
            _paragraph(doc, "", indent=False)
        elif kind == "recipient":
            _paragraph(doc, str(value), indent=False)
        elif kind == "heading":
            _paragraph(doc, str(value), font=HEAD_FONT)
        elif kind == "subheading":
            _paragraph(doc, str(value), bold=True)
        elif kind == "para":
            _paragraph(doc, str(value))
        elif kind == "table":
            _table(doc, value)  # type: ignore[arg-type]
        elif kind == "signature":
            sender, day = value  # type: ignore[misc]
            _paragraph(doc, "", indent=False)
            if sender:
                _paragraph(doc, sender, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
            _paragraph(doc, day, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
        else:
            raise ValueError(f"unknown notice block {kind!r}")
    path = Path(path)
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
        if report_day is not None:
            fix_zip_times(tmp, stamp(report_day))
    return path
