"""The notice sent upward (评议结果通报.docx): it opens, it is A4 in the fonts of a
government notice, and its numbers are the workbook's."""

from __future__ import annotations

import shutil
import subprocess

import openpyxl
import pytest

from pingyi_lib.output.runner import NOTICE_NAME, WORKBOOK_NAME

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
        head = [c.text for c in t.rows[0].cells]
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
    for heading in ("一、评议排名", "二、群众满意度", "三、群众反映的主要问题", "四、评议结果运用", "五、整改落实情况"):
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


def test_notice_converts_to_pdf_when_libreoffice_is_installed(sample_reports, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed")
    out, _ = sample_reports
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out / NOTICE_NAME)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / NOTICE_NAME.replace(".docx", ".pdf")
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
