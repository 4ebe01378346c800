"""A round's tables in a workbook of any kind clerks save (issue 31): .xlsx, .xls (Excel 97-2003,
WPS's default on old PCs) and .ods, all read with calamine and sized before they are read."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.common.errors import DatasetError
from pingyi_lib.dataset import excel, limits

from .conftest import SAMPLE_2011

TABLES = {"评议单位": "units.csv", "问卷调查": "survey.csv", "现场评议": "onsite.csv"}


def sample_tables() -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(SAMPLE_2011 / f, dtype=str, keep_default_na=False) for name, f in TABLES.items()}


def write_ods(path: Path, sheets: dict[str, list[list]], repeat_last: int = 0) -> Path:
    """A minimal OpenDocument spreadsheet, as WPS or LibreOffice saves one (``repeat_last``: the
    last row repeated that many times, as a hostile file could)."""
    def cell(v):
        if v is None or v == "":
            return "<table:table-cell/>"
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p></table:table-cell>'

    def row(r, rep=0):
        attr = f' table:number-rows-repeated="{rep}"' if rep else ""
        return f"<table:table-row{attr}>" + "".join(cell(v) for v in r) + "</table:table-row>"

    body = ""
    for n, rows in sheets.items():
        inner = "".join(row(r) for r in rows[:-1]) + row(rows[-1], repeat_last) if rows else ""
        body += f'<table:table table:name="{escape(n)}">{inner}</table:table>'
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def write_xls(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    for name, df in sheets.items():
        ws = book.add_sheet(name)
        for j, h in enumerate(df.columns):
            ws.write(0, j, h)
        for i, r in enumerate(df.itertuples(index=False), start=1):
            for j, v in enumerate(r):
                if v != "":
                    ws.write(i, j, v)
    book.save(str(path))
    return path


def league(folder) -> pd.DataFrame:
    return py.score(py.load_dataset(folder)).units.set_index("unit_id")[["composite", "rank"]]


@pytest.mark.parametrize("kind", ["xls", "ods"])
def test_a_round_in_an_old_excel_or_an_ods_workbook_scores_as_its_csv(tmp_path, kind):
    tables = sample_tables()
    folder = tmp_path / kind
    folder.mkdir()
    if kind == "xls":
        write_xls(folder / "评议数据.xls", tables)
    else:
        write_ods(folder / "评议数据.ods", {n: [list(df.columns), *df.itertuples(index=False)]
                                          for n, df in tables.items()})
    csv = tmp_path / "csv"
    csv.mkdir()
    for f in TABLES.values():
        (csv / f).write_bytes((SAMPLE_2011 / f).read_bytes())
    ds = py.load_dataset(folder)
    assert len(ds.quarantine) == 0 and len(ds.survey) == len(tables["问卷调查"])
    pd.testing.assert_frame_equal(league(folder), league(csv))


def test_an_ods_row_repeated_past_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import python_calamine

    folder = tmp_path / "d"
    folder.mkdir()
    write_ods(folder / "d.ods", {"units": [["unit_id", "name", "level"], ["a", "甲", "district"]]},
              repeat_last=limits.MAX_SHEET_ROWS + 5)

    def no_parsing(*a, **k):
        raise AssertionError("the workbook was parsed")
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", no_parsing)
    with pytest.raises(DatasetError, match=f"超过 {limits.MAX_SHEET_ROWS:,} 行"):
        py.load_dataset(folder)


def test_blank_rows_repeated_to_the_end_of_an_ods_sheet_hold_nothing(tmp_path):
    path = write_ods(tmp_path / "b.ods", {"s": [["a", "b"], ["1", "2"], []]}, repeat_last=1_048_000)
    assert excel._scan(path, lambda n: True) == {}


def test_a_row_of_cells_without_references_past_the_column_limit_is_refused(tmp_path):
    import openpyxl

    path = tmp_path / "w.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "units"
    wb.active.append(["unit_id", "name", "level"])
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    wide = b"<row>" + b"<c t=\"inlineStr\"><is><t>x</t></is></c>" * (limits.MAX_SHEET_COLUMNS + 1) + b"</row>"
    parts["xl/worksheets/sheet1.xml"] = re.sub(rb"</sheetData>", wide + b"</sheetData>",
                                               parts["xl/worksheets/sheet1.xml"])
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with pytest.raises(DatasetError, match=f"有 {limits.MAX_SHEET_COLUMNS + 1:,} 个单元格"):
        excel.read_sheets(path)
