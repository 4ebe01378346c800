"""The notice sent upward (评议结果通报.docx): it opens, it is A4 in the fonts of a
government notice, and its numbers are the workbook's."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from pingyi_lib.output.runner import NOTICE_NAME, WORKBOOK_NAME

from .conftest import SAMPLE_2011
from .pdf_text import ideographs

docx = pytest.importorskip("docx")
pytestmark = pytest.mark.slow


def workbook_rows(out):
    ws = openpyxl.load_workbook(out / WORKBOOK_NAME)["评议结果"]
    header = [c.value for c in ws[1]]
    return {r["单位名称"]: r for r in (dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=2))}


def ranking_rows(doc):
    """Every row of the notice's ranking tables, by unit name."""
    out = {}
    for t in doc.tables:
        head = [c.text.replace("\n", "") for c in t.rows[0].cells]  # a header printed in two lines
        if "综合得分（分）" not in head:
            continue
        for row in t.rows[1:]:
            r = dict(zip(head, (c.text for c in row.cells)))
            out[r["单位名称"]] = r
    return out


def test_notice_opens_as_an_a4_document_in_notice_fonts(sample_reports):
    out, _ = sample_reports
    doc = docx.Document(str(out / NOTICE_NAME))
    s = doc.sections[0]
    assert round(s.page_width.mm) == 210 and round(s.page_height.mm) == 297
    text = "\n".join(p.text for p in doc.paragraphs)
    assert text.startswith("关于") and "结果的通报" in text.splitlines()[0]
    for heading in ("一、评议排名", "二、群众满意度", "三、群众反映的主要问题", "四、评议结果运用", "五、责任分解",
                    "六、整改落实情况"):
        assert heading in text
    from docx.oxml.ns import qn

    normal = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert normal.get(qn("w:eastAsia")) == "仿宋_GB2312"
    table = next(p for p in doc.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml").blob
    assert "仿宋_GB2312".encode() in table and b"altName" in table  # fallbacks for readers without the font


def test_notice_numbers_equal_the_workbook(sample_reports):
    out, _ = sample_reports
    wb = workbook_rows(out)
    notice = ranking_rows(docx.Document(str(out / NOTICE_NAME)))
    assert set(notice) == set(wb)  # every unit, ranked or not
    for name, r in notice.items():
        w = wb[name]
        assert r["综合得分（分）"] == (f"{w['综合得分']:.2f}" if w["综合得分"] is not None else "—"), name
        assert r["群众满意度（%）"] == (f"{w['群众满意度']:.2f}" if w["群众满意度"] is not None else "—"), name
        assert r["排名"] == (str(w["排名"]) if w["排名"] is not None else "—"), name
        assert r["结果运用"] == (w["结果运用"] or ""), name


def test_notice_gives_each_consequence_its_clause_and_keeps_low_sample_apart(sample_reports):
    out, _ = sample_reports
    text = "\n".join(p.text for p in docx.Document(str(out / NOTICE_NAME)).paragraphs)
    assert "戚墅堰区安监局【约谈】" in text and "依据实施意见六（二）" in text
    assert "【样本不足】" not in text and "数据质量提示，不属于评议结果运用" in text
    assert "逾期未完成" in text


def _soffice() -> str:
    """LibreOffice's converter (scripts/ensure-office installs it); missing: skip here, fail in CI."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found or not shutil.which("pdftotext"):
        if os.environ.get("CI"):
            pytest.fail("LibreOffice or pdftotext missing in CI: scripts/ensure-office should have installed them")
        pytest.skip("LibreOffice (soffice) or pdftotext is not installed (scripts/ensure-office installs them)")
    return found


def _to_pdf(path, out_dir) -> Path:
    subprocess.run([_soffice(), "--headless", f"-env:UserInstallation=file://{out_dir}/lo-profile", "--convert-to",
                    "pdf", "--outdir", str(out_dir), str(path)], check=True, capture_output=True, timeout=180)
    pdf = Path(out_dir) / (Path(path).stem + ".pdf")
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    return pdf


def _page_sizes(pdf) -> list[tuple[float, float]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


def _pdf_lines(pdf) -> list[str]:
    """Every text line of the PDF in reading order (pdftotext's boxes), radicals read as ideographs."""
    from xml.etree import ElementTree as ET

    xhtml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True,
                           text=True).stdout
    x = "{http://www.w3.org/1999/xhtml}"
    return [ideographs("".join(w.text or "" for w in line.iter(f"{x}word")))
            for line in ET.fromstring(xhtml).iter(f"{x}line")]


def lines_taken(name: str, lines: list[str]) -> int | None:
    """How many consecutive lines of a table cell hold ``name`` (a rank in front of it may share
    its first line); None when it is not found as a cell of its own."""
    cells = [re.sub(r"^[\d—-]+", "", ln) for ln in lines]
    for k in range(1, 6):
        if any("".join(cells[i:i + k]) == name for i in range(len(cells) - k + 1)):
            return k
    return None


def test_notice_prints_on_a4_portrait_with_names_in_at_most_two_lines(sample_reports, tmp_path):
    out, _ = sample_reports
    pdf = _to_pdf(out / NOTICE_NAME, tmp_path)
    sizes = _page_sizes(pdf)
    assert len(sizes) >= 2 and all(abs(w - 595.3) < 2 and abs(h - 841.9) < 2 for w, h in sizes)  # A4 portrait
    lines = _pdf_lines(pdf)
    with open(SAMPLE_2011 / "units.csv", encoding="utf-8") as f:  # every unit is in a ranking table
        names = [r["name"] for r in csv.DictReader(f)]
    taken = {n: lines_taken(n, lines) for n in names}
    assert all(k is not None for k in taken.values()), taken
    assert max(taken.values()) <= 2, taken  # 新北区行政服务中心安监窗口 took five lines before the widths
    assert any(k == 2 for k in taken.values())  # the long names do wrap, once


def test_workbook_prints_one_page_wide_with_header_row_title_and_page_numbers(sample_reports, tmp_path):
    out, _ = sample_reports
    wb = openpyxl.load_workbook(out / WORKBOOK_NAME)
    main = wb["评议结果"]
    assert main.page_setup.orientation == "landscape" and int(main.page_setup.paperSize) == 9  # A4
    assert main.sheet_properties.pageSetUpPr.fitToPage and (main.page_setup.fitToWidth, main.page_setup.fitToHeight) \
        == (1, 0)
    assert main.print_title_rows.replace("$", "") == "1:1" and "&P" in main.oddFooter.center.text
    assert wb["说明"].page_setup.orientation == "portrait"
    pdf = _to_pdf(out / WORKBOOK_NAME, tmp_path)
    sizes = _page_sizes(pdf)
    # one page wide: each sheet of the sample fits a page (18 pages, 评议结果 cut in three strips, before)
    assert len(sizes) == len(wb.sheetnames)
    assert all(abs(max(w, h) - 841.9) < 2 for w, h in sizes) and sizes[1][0] > sizes[1][1]  # A4; 评议结果 landscape
    text = "".join(_pdf_lines(pdf))
    assert "常州市安监系统2011年民主评议政风行风评议结果" in text
    assert f"第1页，共{len(sizes)}页" in text.replace(" ", "")


def test_headers_break_between_words_only():
    from pingyi_lib.output.notice import header_words

    assert header_words("现场评议指数") == ["现场评议", "指数"]
    assert header_words("综合得分（分）") == ["综合得分", "（分）"]
    assert header_words("群众满意度（%）") == ["群众满意度", "（%）"]  # 度 alone is no word
    assert header_words("排名") == ["排名"]


def test_column_widths_fit_the_page_figures_whole_and_names_in_two_lines():
    import pandas as pd

    from pingyi_lib.output.notice import CELL_PAD_PT, SMALL_TABLE_PT, TABLE_PT, column_widths, text_width

    name = "新北区行政服务中心安监窗口"  # 13 characters: at most seven a line in two lines
    frame = pd.DataFrame({"排名": ["1", "10"], "单位名称": [name, "溧阳市安监局"],
                          "综合得分（分）": ["93.06", "100.00"], "结果运用": ["不评优、约谈", ""]})
    widths, size = column_widths(frame, 442.0)  # room enough: every text on one line, 五号
    assert size == TABLE_PT and sum(widths) <= 442.0 and widths[1] >= text_width(name) * size + CELL_PAD_PT
    widths, size = column_widths(frame, 200.0)  # narrow: figures and header words whole, the name in two lines
    assert sum(widths) <= 200.0 + 1e-6 and widths[2] - CELL_PAD_PT >= text_width("综合得分") * size
    assert widths[1] - CELL_PAD_PT >= 7 * size
    wide = pd.DataFrame({f"现场评议指数{i}": ["91.72"] for i in range(9)} | {"单位名称": [name]})
    widths, size = column_widths(wide, 442.0)
    assert size == SMALL_TABLE_PT and sum(widths) <= 442.0 + 1e-6  # too wide for 五号: 小五, and still on the page
