"""Hostile and broken input, read as a careless or hostile clerk would write it (issue 19):
control characters, page names, oversized fields and workbooks, odd Parquet and hidden sheets.
Every dataset is generated here, small, so the tests stay fast."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.common.controlchars import CONTROL_RE, strip_controls, visible
from pingyi_lib.common.errors import DatasetError
from pingyi_lib.common.names import WINDOWS_RESERVED, unit_slug, unit_slugs
from pingyi_lib.dataset import limits
from pingyi_lib.dataset.read import MAX_FIELD_CHARS
from pingyi_lib.output.runner import NOTEBOOK_DIR, plan_jobs
from pingyi_lib.output.workbook import write_results_workbook

from .conftest import ITEMS, write_dataset

UNITS = "unit_id,name,level\na,甲区安监局,district\nb,乙区安监局,district\n"
SURVEY = "response_id,unit_id,channel," + ITEMS


def hostile(tmp_path: Path) -> Path:
    """The three bytes of the robustness pass: \\x08 in an answer, \\x0b in a unit name, NUL in
    a unit id; plus terminal escapes in a comment."""
    return write_dataset(
        tmp_path / "hostile",
        units='unit_id,name,level\na,甲区安监局,district\nb,"乙区\x0b安监局",district\nc\x00,丙区安监局,district\n',
        survey=SURVEY + ",comment\n"
        "r1,a,online,\x08,1,1,1,1,好\n"
        'r2,a,online,1,1,1,1,1,"\x1b]0;pwned\x07\x1b[2J清屏\t多行\r\n第二行"\n'
        "r3,b,online,2,2,2,2,2,\n"
        "r\x014,b,online,2,2,2,2,2,\n")


# ---- control characters ---------------------------------------------------------------------


def test_an_id_with_a_control_character_is_rejected_with_a_reason(tmp_path):
    ds = py.load_dataset(hostile(tmp_path))
    q = ds.quarantine.set_index(["table", "row"])
    assert "c\x00" not in set(ds.units["unit_id"]) and set(ds.units["unit_id"]) == {"a", "b"}
    nul = q.loc[("units", 4)]
    assert nul["reason_code"] == "control_character" and nul["value"] == "c\\x00" and "控制字符" in nul["reason"]
    assert q.loc[("survey", 5), "reason_code"] == "control_character"  # response id r\x014


def test_control_characters_are_removed_from_free_text_with_a_note_tab_and_newline_kept(tmp_path):
    ds = py.load_dataset(hostile(tmp_path))
    assert ds.units.set_index("unit_id").loc["b", "name"] == "乙区安监局"
    comment = ds.survey.set_index("response_id").loc["r2", "comment"]
    assert comment == "]0;pwned[2J清屏\t多行\n第二行"  # ESC, BEL and CR gone; tab and newline stay
    assert not CONTROL_RE.search(comment.replace("\t", "").replace("\n", ""))
    notes = "\n".join(ds.notes)
    assert "“name”列 1 个单元格" in notes and "第 3 行" in notes and "“comment”列 1 个单元格" in notes


def test_a_control_character_in_an_answer_is_shown_written_out_in_the_quarantine(tmp_path):
    q = py.load_dataset(hostile(tmp_path)).quarantine
    row = q[(q["table"] == "survey") & (q["row"] == 2)].iloc[0]
    assert row["value"] == "\\x08" and "“\\x08”" in row["reason"]
    for col in ("value", "reason", "unit_id"):
        assert not q[col].str.contains(CONTROL_RE).any(), col


def test_the_workbook_is_written_from_hostile_data_and_holds_no_control_character(tmp_path):
    # before: openpyxl's IllegalCharacterError after every notebook had run, so no index, no workbook
    res = py.score(py.load_dataset(hostile(tmp_path)))
    path = write_results_workbook(res, tmp_path / "w.xlsx")
    wb = openpyxl.load_workbook(path)
    cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(CONTROL_RE.search(v.replace("\n", "").replace("\t", "")) for v in cells)
    quality = [" ".join(str(c.value) for c in r) for r in wb["数据质量"].iter_rows(min_row=2)]
    assert any("\\x08" in r for r in quality) and any("c\\x00" in r for r in quality)


def test_the_workbook_writer_drops_xml_illegal_characters_itself(tmp_path):
    res = py.score(py.load_dataset(hostile(tmp_path)))
    res.units.loc[0, "name"] = "甲\x00区\x08安\x1f监局"  # as if validation had let it through
    wb = openpyxl.load_workbook(write_results_workbook(res, tmp_path / "w.xlsx"))
    names = [r[3].value for r in wb["评议结果"].iter_rows(min_row=2)]
    assert "甲区安监局" in names


def test_validate_score_and_problems_print_no_terminal_escape(tmp_path, capsys):
    ds = hostile(tmp_path)
    ds = ds.rename(tmp_path / "ds\x1b]0;title\x07")  # even the folder name is hostile
    (ds / "survey.csv").write_text((ds / "survey.csv").read_text(encoding="utf-8").replace(
        "comment", "comment,x\x1b[31m", 1), encoding="utf-8")  # an unknown column named with an escape
    for cmd in (["validate", str(ds)], ["score", str(ds)], ["problems", str(ds)]):
        main(cmd)
        out, err = capsys.readouterr()
        assert "\x1b" not in out + err and "\x07" not in out + err and "\x00" not in out + err, cmd
    main(["validate", str(ds)])
    out = capsys.readouterr().out
    assert "ds\\x1b]0;title\\x07" in out and "x\\x1b[31m" in out


def test_an_error_message_from_the_data_reaches_the_terminal_written_out(tmp_path, capsys):
    ds = write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲,district\n",
                       survey="response_id,unit_id\x1b[2J,channel\n")
    assert main(["score", str(ds)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2J" in err and err.count("\n") == 1


def test_visible_and_strip_controls_agree_with_their_promises():
    assert visible("a\x1b[2Jb\x00") == "a\\x1b[2Jb\\x00"
    assert visible("中文\t") == "中文\\t"
    assert strip_controls("a\r\nb\x0bc\td\x9be") == "a\nbc\tde"


# ---- page names --------------------------------------------------------------------------------


def test_an_id_equal_to_another_ids_page_name_gets_its_own_page(tmp_path):
    # before: 'a/b' → 'a_b-<hash>', and a unit whose id was that text took the same page
    twin = unit_slug("a/b")
    ds = write_dataset(tmp_path / "d", units=f"unit_id,name,level\na/b,甲,district\n{twin},乙,district\n",
                       survey=SURVEY + f"\n1,a/b,online,1,1,1,1,1\n2,{twin},online,1,1,1,1,1\n")
    res = py.score(py.load_dataset(ds))
    plan = plan_jobs(res, tmp_path / "out", NOTEBOOK_DIR, ["a/b", twin], "", "", False)
    pages = [j.html for j in plan]
    assert len(set(pages)) == len(pages) == 3


@pytest.mark.parametrize("uid", ["CON", "con", "nul.txt", "NUL", "Com1", "lpt9.html", "aux.", "a.", "WJ"])
def test_windows_reserved_names_and_upper_case_never_become_a_page_name(uid):
    slug = unit_slug(uid)
    assert slug != uid and slug.split(".")[0].lower() not in WINDOWS_RESERVED
    assert slug == slug.lower() and not slug.endswith(".")


def test_ids_that_differ_only_in_case_get_pages_that_differ_ignoring_case():
    slugs = unit_slugs(["wj", "WJ", "Wj"])
    assert len({s.casefold() for s in slugs.values()}) == 3 and slugs["wj"] == "wj"


@given(st.lists(st.text(min_size=1, max_size=30), min_size=2, max_size=6, unique=True))
def test_page_names_are_safe_everywhere_and_distinct_ignoring_case(ids):
    slugs = unit_slugs(ids)
    assert len({s.casefold() for s in slugs.values()}) == len(ids)
    for s in slugs.values():
        assert re.fullmatch(r"[a-z0-9_.~-]{1,61}", s) and not s.endswith(".")
        assert s.split(".")[0] not in WINDOWS_RESERVED


# ---- limits ------------------------------------------------------------------------------------


def test_a_comment_longer_than_the_csv_module_limit_sets_aside_its_row_not_the_table(tmp_path):
    # before: "field larger than field limit (131072)" and the whole survey table unreadable
    essay = "很长的意见\n" + "长" * 131_073
    ds = write_dataset(tmp_path / "d", units=UNITS,
                       survey=SURVEY + ",comment\n1,a,online,1,1,1,1,1,短\n"
                       f'2,a,online,1,1,1,1,1,"{essay}"\n3,b,online,2,2,2,2,2,\n')
    d = py.load_dataset(ds)
    assert list(d.survey["response_id"]) == ["1", "3"]
    bad = d.quarantine.iloc[0]
    assert (bad["table"], bad["row"], bad["reason_code"]) == ("survey", 3, "field_too_long")
    assert "comment" in bad["reason"] and f"{MAX_FIELD_CHARS:,}" in bad["reason"] and bad["unit_id"] == "a"


def test_a_field_past_the_limit_on_one_line_is_set_aside_too(tmp_path):
    ds = write_dataset(tmp_path / "d", units=UNITS,
                       survey=SURVEY + ",comment\n1,a,online,1,1,1,1,1," + "x" * (MAX_FIELD_CHARS + 1)
                       + "\n2,a,online,1,1,1,1,1," + "x" * MAX_FIELD_CHARS + "\n")
    d = py.load_dataset(ds)
    assert list(d.survey["response_id"]) == ["2"] and list(d.quarantine["row"]) == [2]


def _workbook(path: Path, cells: dict[str, object], hidden: bool = False) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "units"
    for row in ("unit_id", "name", "level"), ("a", "甲区安监局", "district"):
        ws.append(row)
    ws2 = wb.create_sheet("survey")
    ws2.append(SURVEY.split(","))
    ws2.append(["1", "a", "online", 1, 1, 1, 1, 1])
    for ref, v in cells.items():
        ws2[ref] = v
    if hidden:
        ws2.sheet_state = "hidden"
    path.mkdir(parents=True, exist_ok=True)
    wb.save(path / "round.xlsx")
    return path / "round.xlsx"


def test_a_sheet_row_whose_last_cells_are_empty_is_read_with_those_cells_blank(tmp_path):
    # before (streaming without the declared size): a row stopping at its last filled cell was
    # rejected as a wrong number of fields, so the clerks' template with an empty 上级单位 lost rows
    xlsx = _workbook(tmp_path / "d", {"I1": "comment", "I2": "好"})
    wb = openpyxl.load_workbook(xlsx)
    wb["units"]["D1"] = "parent_id"  # the header is wider than the unit's row, which ends at level
    wb.save(xlsx)
    ds = py.load_dataset(tmp_path / "d")
    assert len(ds.quarantine) == 0 and list(ds.units["unit_id"]) == ["a"]
    assert ds.units["parent_id"].isna().all() and list(ds.survey["comment"]) == ["好"]


def test_a_sheet_declaring_16384_columns_by_200000_rows_is_refused_in_one_line(tmp_path, capsys):
    # before: 149 s, 7.6 GB, then MemoryError
    _workbook(tmp_path / "d", {"XFD200000": "x"})
    assert main(["validate", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert "XFD200000" in err and f"{limits.MAX_SHEET_COLUMNS}" in err and err.count("\n") == 1


def _rewrite_part(xlsx: Path, part: str, edit) -> None:
    with zipfile.ZipFile(xlsx) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts[part] = edit(parts[part])
    with zipfile.ZipFile(xlsx, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def test_a_sheet_that_hides_its_size_is_stopped_while_it_streams(tmp_path):
    xlsx = _workbook(tmp_path / "d", {"XFD5": "x"})
    _rewrite_part(xlsx, "xl/worksheets/sheet2.xml", lambda b: re.sub(rb"<dimension[^>]*/>", b"", b))
    with pytest.raises(DatasetError, match="第 5 行的第 16,384 列有值"):
        py.load_dataset(tmp_path / "d")


def test_a_sheet_that_declares_less_than_it_holds_is_read_whole(tmp_path):
    xlsx = _workbook(tmp_path / "d", {"A3": "2", "B3": "a", "C3": "online", **{f"{c}3": 2 for c in "DEFGH"}})
    _rewrite_part(xlsx, "xl/worksheets/sheet2.xml",
                  lambda b: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', b))
    assert list(py.load_dataset(tmp_path / "d").survey["response_id"]) == ["1", "2"]


def test_more_shared_strings_than_the_limit_are_refused_before_parsing(tmp_path, capsys):
    # before: 5 million unused shared strings took 116 s and 1.7 GB
    xlsx = _workbook(tmp_path / "d", {})
    filler = b"<si><t>x</t></si>" * (limits.MAX_SHARED_STRINGS + 1)  # 17 MB, unused by any cell
    sst = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + filler + b"</sst>"
    _rewrite_part(xlsx, "[Content_Types].xml", lambda b: b.replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')))
    with zipfile.ZipFile(xlsx, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/sharedStrings.xml", sst)
    assert main(["validate", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert f"超过 {limits.MAX_SHARED_STRINGS:,} 个" in err and err.count("\n") == 1


def test_shared_strings_are_counted_across_read_chunks(tmp_path):
    # <si> tags straddling the 1 MB chunk boundary are counted once
    data = b"<sst>" + b"<si><t>x</t></si>" * 200_000 + b"</sst>"  # 3.4 MB: three chunks
    p = tmp_path / "s.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("xl/sharedStrings.xml", data)
    with zipfile.ZipFile(p) as zf:
        assert limits.count_tags(zf, zf.infolist()[0], limits._SI, 10**9) == 200_000


def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_UNCOMPRESSED_BYTES", 10_000)
    xlsx = _workbook(tmp_path / "d", {})
    with zipfile.ZipFile(xlsx, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/zeros.bin", b"\0" * 20_000)
    with pytest.raises(DatasetError, match="解压后有"):
        py.load_dataset(tmp_path / "d")


def test_a_hidden_sheet_is_read_with_a_note(tmp_path):
    _workbook(tmp_path / "d", {}, hidden=True)
    ds = py.load_dataset(tmp_path / "d")
    assert len(ds.survey) == 1 and any("隐藏工作表" in n and "[survey]" in n for n in ds.notes)


def test_parquet_text_stored_as_bytes_is_read_as_text(tmp_path):
    # before: read as "b'a'" and every row rejected
    d = write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲区安监局,district\n")
    cols = {"response_id": pa.array([b"1", b"2"]), "unit_id": pa.array([b"a", b"a"], type=pa.large_binary()),
            "channel": pa.array(["online", "paper"]), **{it: pa.array([1, 2]) for it in ITEMS.split(",")}}
    pq.write_table(pa.table(cols), d / "survey.parquet")
    ds = py.load_dataset(d)
    assert list(ds.survey["unit_id"]) == ["a", "a"] and len(ds.quarantine) == 0


def test_parquet_bytes_that_are_not_text_are_one_plain_error(tmp_path):
    d = write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲区安监局,district\n")
    cols = {"response_id": pa.array([b"\xff\xfe"]), "unit_id": pa.array(["a"]), "channel": pa.array(["online"]),
            **{it: pa.array([1]) for it in ITEMS.split(",")}}
    pq.write_table(pa.table(cols), d / "survey.parquet")
    with pytest.raises(DatasetError, match="不是 UTF-8 文本"):
        py.load_dataset(d)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_duckdb_engine_rejects_and_sets_aside_what_the_pandas_path_does(tmp_path, fmt):
    pytest.importorskip("duckdb")
    d = write_dataset(tmp_path / "d", units=UNITS)
    rows = [("1", "a", "online", *"11111", "好"), ("r\x012", "a", "online", *"22222", ""),
            ("3", "b", "online", *"33333", "长" * (MAX_FIELD_CHARS + 1)), ("4", "b", "online", *"44444", "a\x1bb")]
    cols = ["response_id", "unit_id", "channel", *ITEMS.split(","), "comment"]
    if fmt == "csv":
        import csv

        with open(d / "survey.csv", "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([cols, *rows])
    else:
        pq.write_table(pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)}), d / "survey.parquet")
    by_pandas, by_engine = (py.load_dataset(d, engine=e) for e in ("pandas", "duckdb"))
    for ds in (by_pandas, by_engine):
        q = ds.quarantine
        assert list(zip(q["row"], q["reason_code"])) == [(3, "control_character"), (4, "field_too_long")]
        assert int(ds.table_counts.set_index("table").loc["survey", "accepted"]) == 2
    assert list(by_engine.survey["comment"]) == list(by_pandas.survey["comment"]) == ["好", "ab"]


def test_the_duckdb_engine_itself_rejects_an_id_with_a_control_character(tmp_path):
    pytest.importorskip("duckdb")
    d = write_dataset(tmp_path / "d", units=UNITS,
                      survey=SURVEY + "\n1,a,online,1,1,1,1,1\nr\x012,a,online,2,2,2,2,2\n")
    ds = py.load_dataset(d, engine="duckdb")
    assert ds.engines["survey"] == "duckdb"  # no fallback: the engine's own check
    assert list(zip(ds.quarantine["row"], ds.quarantine["reason_code"])) == [(3, "control_character")]


def test_a_sheet_holding_more_rows_than_it_declares_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    # before: a 2-million-row sheet declaring A1:B2 streamed for 124 s of CPU before it was refused
    xlsx = _workbook(tmp_path / "d", {})
    rows = b"".join(b'<row r="%d"/>' % i for i in range(1, limits.MAX_SHEET_ROWS + 3))
    _rewrite_part(xlsx, "xl/worksheets/sheet2.xml",
                  lambda b: re.sub(rb"<sheetData>.*</sheetData>|<sheetData/>", lambda _: b"<sheetData>" + rows
                                   + b"</sheetData>", b, flags=re.S))

    import python_calamine

    def no_parsing(*a, **k):
        raise AssertionError("the workbook was parsed")
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", no_parsing)
    with pytest.raises(DatasetError, match=f"超过 {limits.MAX_SHEET_ROWS:,} 行"):
        py.load_dataset(tmp_path / "d")
