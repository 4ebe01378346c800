"""The notice of results (评议结果通报.docx) in the usual layout of a government notice
(GB/T 9704 in spirit): A4, title in 黑体 二号 centred, headings in 黑体 三号, body in
仿宋_GB2312 三号 with a two-character first-line indent and a fixed 28 pt line, the
sender and date at the foot, right-aligned.

Fonts a reader may lack get fallbacks in the document's font table (``altName``):
仿宋_GB2312 → 仿宋 (FangSong), 黑体 → SimHei; Latin text and digits use Times New Roman.
The content comes from ``sections.notice.notice_blocks``; text from the data is written
as text runs (Word has no markup to inject).
"""

from __future__ import annotations

import datetime as dt
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


def _table(doc, frame: pd.DataFrame) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    t = doc.add_table(rows=1, cols=len(frame.columns))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, head in zip(t.rows[0].cells, frame.columns):
        _cell(cell, str(head), HEAD_FONT, WD_ALIGN_PARAGRAPH.CENTER)
    # the header row repeats on every page, and no row is split across pages
    trpr = t.rows[0]._tr.get_or_add_trPr()
    trpr.append(trpr.makeelement(qn("w:tblHeader"), {}))
    for row in frame.itertuples(index=False):
        cells = t.add_row().cells
        for cell, value in zip(cells, row):
            text = "" if value is None else str(value)
            numeric = text.replace(".", "", 1).replace("%", "").replace("-", "", 1).isdigit()
            _cell(cell, text, BODY_FONT, WD_ALIGN_PARAGRAPH.RIGHT if numeric else WD_ALIGN_PARAGRAPH.LEFT)
    for r in t.rows:
        trpr = r._tr.get_or_add_trPr()
        trpr.append(trpr.makeelement(qn("w:cantSplit"), {}))
    doc.add_paragraph().paragraph_format.space_after = Pt(0)


def _cell(cell, text: str, font: str, align) -> None:
    p = cell.paragraphs[0]
    p.alignment = align
    _fonts(p.add_run(mask_personal_data(text)), font, TABLE_PT, font == HEAD_FONT)


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
