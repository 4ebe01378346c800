"""Loading (encodings, header languages, xlsx, Parquet) and the quarantine of bad rows (SPEC §2)."""

from __future__ import annotations

import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.scheme.ruleset import default_ruleset_path

from .conftest import ITEMS, write_dataset

UNITS = "unit_id,name,level,parent_id\na,甲区安监局,district,\nb,乙区安监局,district,\n"
UNITS_ZH = "单位编码,单位名称,层级,上级单位编码\na,甲区安监局,辖市区局,\nb,乙区安监局,辖市区局,\n"
SURVEY = ("response_id,unit_id,channel," + ITEMS + ",comment\n"
          "r1,a,online,很满意,比较满意,基本满意,不满意,不了解,办事效率高\n"
          "r2,b,纸质,1,2,3,4,5,\n")
SURVEY_ZH = ("问卷编号,单位编码,渠道,依法履职,公正执法,政务公开,政务服务,清正廉洁,意见建议\n"
             "r1,a,网上,很满意,比较满意,基本满意,不满意,不了解,办事效率高\n"
             "r2,b,paper,1,2,3,4,5,\n")


def scores(folder):
    return py.score(py.load_dataset(folder)).units.set_index("unit_id")[["survey_index", "composite"]]


# both questionnaires answer lawful 100, fair 80, open 60, service 0, integrity 不了解 (drops out):
# Q = (100+80+60+0)/4 = 60; no on-site panel, so Q carries 0.3+0.5 = 0.8: 0.8·60 + 20 = 68
EXPECTED = pd.DataFrame({"survey_index": [60.0, 60.0], "composite": [68.0, 68.0]},
                        index=pd.Index(["a", "b"], name="unit_id"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_read_the_same(tmp_path, encoding):
    ref = scores(write_dataset(tmp_path / "ref", units=UNITS, survey=SURVEY))
    got = scores(write_dataset(tmp_path / encoding, encoding=encoding, units=UNITS, survey=SURVEY))
    pd.testing.assert_frame_equal(got, ref)
    pd.testing.assert_frame_equal(got, EXPECTED)
    ds = py.load_dataset(tmp_path / encoding)
    assert ds.survey.loc[0, "comment"] == "办事效率高"


def test_chinese_headers_labels_and_codes_give_the_same_result(tmp_path):
    en = scores(write_dataset(tmp_path / "en", units=UNITS, survey=SURVEY))
    zh = scores(write_dataset(tmp_path / "zh", units=UNITS_ZH, survey=SURVEY_ZH))
    pd.testing.assert_frame_equal(zh, en)
    pd.testing.assert_frame_equal(zh, EXPECTED)


def test_chinese_file_names_are_tables_too(tmp_path):
    d = tmp_path / "cn"
    d.mkdir()
    (d / "评议单位.csv").write_text(UNITS, encoding="utf-8")
    (d / "问卷调查.csv").write_text(SURVEY, encoding="utf-8")
    assert len(py.load_dataset(d).survey) == 2


def test_xlsx_workbook_with_a_sheet_per_table(tmp_path):
    ref = scores(write_dataset(tmp_path / "ref", units=UNITS, survey=SURVEY))
    d = tmp_path / "xlsx"
    d.mkdir()
    import io

    with pd.ExcelWriter(d / "round.xlsx") as xw:
        pd.read_csv(io.StringIO(UNITS), dtype=str).to_excel(xw, sheet_name="units", index=False)
        # codes as numbers, as Excel stores them
        s = pd.read_csv(io.StringIO(SURVEY_ZH))
        s.to_excel(xw, sheet_name="问卷调查", index=False)
    pd.testing.assert_frame_equal(scores(d), ref)
    pd.testing.assert_frame_equal(scores(d), EXPECTED)


def test_parquet_tables(tmp_path):
    import io

    ref = scores(write_dataset(tmp_path / "ref", units=UNITS, survey=SURVEY))
    d = tmp_path / "pq"
    d.mkdir()
    pd.read_csv(io.StringIO(UNITS), dtype=str).to_parquet(d / "units.parquet")
    s = pd.read_csv(io.StringIO(SURVEY.replace("很满意", "1")))  # int codes in a numeric column
    s.to_parquet(d / "survey.parquet")
    pd.testing.assert_frame_equal(scores(d), ref)
    pd.testing.assert_frame_equal(scores(d), EXPECTED)


def bad_dataset(tmp_path):
    return write_dataset(
        tmp_path / "bad",
        units=UNITS + "c,丙,province,\nd,丁,window,zz\n",
        survey="response_id,unit_id,channel," + ITEMS + "\n"
        "r1,a,online,1,1,1,1,1\n"
        "r2,zz,online,1,1,1,1,1\n"          # row 3: unknown unit
        "r1,b,online,1,1,1,1,1\n"           # row 4: duplicate id
        "r4,a,online,1,1,非常好,1,1\n"       # row 5: unknown answer label
        "r5,a,online,1,1,1,1\n"             # row 6: too few fields
        "r6,a,online,1,1,1,1,1,1,1\n"       # row 7: too many fields
        "r7,a,carrier pigeon,6,1,1,1,1\n"   # row 8: bad channel and bad code
        "\"r8\",\"a\",\"online\",\"1\",\"1\",\"1\",\"1\",\"1\"\n",  # row 9: fine
        cases="case_id,unit_id,source,summary,substantiated,deduction\n"
        "k1,a,投诉,x,是,-2\n"                 # negative
        "k2,a,投诉,x,是,三分\n"               # not a number
        "k3,a,投诉,x,也许,1\n",               # not yes/no
    )


def test_every_bad_row_is_quarantined_with_row_number_and_reason(tmp_path):
    ds = py.load_dataset(bad_dataset(tmp_path))
    q = ds.quarantine
    survey = q[q.table == "survey"].set_index("row")
    assert sorted(survey.index) == [3, 4, 5, 6, 7, 8]
    assert survey.loc[3, "reason_code"] == "unknown_unit"
    assert survey.loc[4, "reason"] == "“response_id”重复：“r1”在第 2 行已有（保留第 2 行）"
    assert "非常好" in survey.loc[5, "reason"]
    assert survey.loc[6, "reason_code"] == "wrong_field_count"
    assert survey.loc[7, "reason"] == "本行有 10 个字段，而表头有 8 个（多了或少了逗号？）"
    # a row with two problems is rejected once, with both reasons
    assert "carrier pigeon" in survey.loc[8, "reason"] and "“6”" in survey.loc[8, "reason"]
    assert list(ds.survey["response_id"]) == ["r1", "r8"]  # the earlier r1 is kept
    units = q[q.table == "units"].set_index("row")
    assert units.loc[4, "reason_code"] == "unknown_unit_level"
    assert units.loc[5, "reason_code"] == "unknown_unit"
    cases = q[q.table == "cases"].set_index("row")
    assert cases["reason_code"].to_dict() == {2: "negative", 3: "not_a_number", 4: "unknown_bool"}
    counts = ds.table_counts.set_index("table")
    assert counts.loc["survey", "accepted"] == 2 and counts.loc["survey", "rejected"] == 6


def test_rows_that_refer_to_a_rejected_unit_say_so(tmp_path):
    ds = py.load_dataset(write_dataset(
        tmp_path / "d", units=UNITS + "c,丙,nowhere,\n",
        survey="response_id,unit_id,channel," + ITEMS + "\nr1,c,online,1,1,1,1,1\n"))
    assert ds.quarantine.iloc[-1]["reason"] == "“unit_id”中的单位“c”在评议单位表中被拒绝，本行随之不计"


def test_missing_required_table_names_it(tmp_path):
    d = write_dataset(tmp_path / "d", units=UNITS)
    with pytest.raises(py.DatasetError, match="缺少必需的问卷调查表（'survey'）"):
        py.load_dataset(d)


def test_missing_required_column_names_it(tmp_path):
    d = write_dataset(tmp_path / "d", units=UNITS,
                      survey="response_id,unit_id," + ITEMS + "\nr1,a,1,1,1,1,1\n")
    with pytest.raises(py.DatasetError, match=r"缺少“渠道”列（channel）"):
        py.load_dataset(d)


def test_unreadable_encoding_is_a_plain_error(tmp_path):
    d = write_dataset(tmp_path / "d", units=UNITS)
    (d / "survey.csv").write_bytes(b"response_id,unit_id\n\xff\xfe\xfa\x00\x81\n")
    with pytest.raises(py.DatasetError, match="UTF-8 或 GB18030"):
        py.load_dataset(d)


def test_dates_in_several_spellings(tmp_path):
    d = write_dataset(tmp_path / "d", units=UNITS, survey=SURVEY,
                      milestones="unit_id,step,submitted_on\na,动员部署,2011-07-09\na,自查自纠,2011/7/26\n"
                                 "b,动员部署,2011年7月8日\nb,自查自纠,明天\n")
    ds = py.load_dataset(d)
    assert ds.milestones["submitted_on"].dt.strftime("%m-%d").tolist() == ["07-09", "07-26", "07-08"]
    assert ds.quarantine.iloc[0]["reason_code"] == "bad_date"


def test_dataset_folder_may_carry_its_own_ruleset(tmp_path):
    d = write_dataset(tmp_path / "d", units=UNITS, survey=SURVEY)
    text = default_ruleset_path().read_text(encoding="utf-8").replace("cap = 3.0", "cap = 1.0")
    (d / "ruleset.toml").write_text(text, encoding="utf-8")
    (d / "bonuses.csv").write_text("unit_id,reason,points\na,表彰,2\n", encoding="utf-8")
    assert py.load_dataset(d).ruleset.bonus_cap == 1.0
    u = py.score(py.load_dataset(d)).units.set_index("unit_id")
    assert u.loc["a", "bonus_points"] == 1.0 and u.loc["a", "composite"] == 69.0  # 68 + min(1, 2)


def test_blank_lines_and_multiline_cells_keep_spreadsheet_row_numbers(tmp_path):
    # a quoted comment spanning two lines is one spreadsheet row; a blank line is a row too
    d = write_dataset(tmp_path / "d", units=UNITS, survey=(
        "response_id,unit_id,channel," + ITEMS + ",comment\n"
        'r1,a,online,1,1,1,1,1,"第一行\n第二行"\n'   # row 2
        "\n"                                        # row 3 (blank)
        "r2,a,online,1,1,1,1,9,\n"                  # row 4: bad code
        ",,,,,,,,\n"                                # row 5: empty, ignored
        "r3,b,online,1,1,1,1,1,\n"))                # row 6
    ds = py.load_dataset(d)
    assert ds.quarantine["row"].tolist() == [4]
    assert ds.survey["row"].tolist() == [2, 6]
    assert ds.survey.loc[0, "comment"] == "第一行\n第二行"


def test_fast_and_exact_csv_paths_agree(tmp_path):
    body = "".join(f"r{i},{'ab'[i % 2]},online,{i % 5 + 1},1,2,3,4, 意见{i} \n" for i in range(50))
    header = "response_id,unit_id,channel," + ITEMS + ",comment\n"
    fast = py.load_dataset(write_dataset(tmp_path / "fast", units=UNITS, survey=header + body + ",,,,,,,,\n"))
    exact = py.load_dataset(write_dataset(tmp_path / "exact", units=UNITS, survey=header + body + "\n"))
    pd.testing.assert_frame_equal(fast.survey, exact.survey)
    assert fast.survey.loc[0, "comment"] == "意见0"  # stripped


# --- regressions from the SPEC review ------------------------------------------------------

def test_xlsx_formula_without_saved_result_is_quarantined_not_blank(tmp_path):
    import openpyxl

    d = tmp_path / "x"
    d.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "units"
    ws.append(["unit_id", "name", "level"])
    ws.append(["a", "甲", "district"])
    ws = wb.create_sheet("survey")
    ws.append(["response_id", "unit_id", "channel", *ITEMS.split(",")])
    ws.append(["r1", "a", "online", 1, 1, 1, 1, "=1+0"])  # scripts store no result for a formula
    ws.append(["r2", "a", "online", 1, 1, 1, 1, 1])
    wb.save(d / "round.xlsx")
    ds = py.load_dataset(d)
    q = ds.quarantine.set_index("row")
    assert q.loc[2, "reason_code"] == "unsaved_formula"
    assert "“integrity”是没有保存结果的公式（=1+0）" in q.loc[2, "reason"]
    assert list(ds.survey["response_id"]) == ["r2"]


def test_infinite_amounts_are_not_numbers(tmp_path):
    ds = py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=SURVEY,
                                       cases="case_id,unit_id,source,summary,substantiated,deduction\n"
                                             "k1,a,投诉,x,是,inf\nk2,a,投诉,x,是,1e309\nk3,a,投诉,x,是,2\n",
                                       bonuses="unit_id,reason,points\na,x,Infinity\n"))
    assert ds.quarantine.groupby("table")["reason_code"].apply(list).to_dict() == {
        "cases": ["not_a_number", "not_a_number"], "bonuses": ["not_a_number"]}


def test_unit_rejected_for_its_field_count_is_named_in_dependent_rows(tmp_path):
    ds = py.load_dataset(write_dataset(
        tmp_path / "d", units="unit_id,name,level\na,甲区安监局,district\nb,乙,district,extra,fields\n",
        survey="response_id,unit_id,channel," + ITEMS + "\nr1,b,online,1,1,1,1,1\n"))
    survey = ds.quarantine[ds.quarantine.table == "survey"]
    assert survey.iloc[0]["reason"] == "“unit_id”中的单位“b”在评议单位表中被拒绝，本行随之不计"
    assert ds.quarantine[ds.quarantine.table == "units"].iloc[0]["unit_id"] == "b"


def test_descendants_of_a_rejected_unit_are_rejected_at_every_depth(tmp_path):
    ds = py.load_dataset(write_dataset(
        tmp_path / "d", units="unit_id,name,level,parent_id\nd,丁,province,\nw,窗口,window,d\ns,站,station,w\n"
                              "a,甲,district,\n",
        survey="response_id,unit_id,channel," + ITEMS + "\nr1,a,online,1,1,1,1,1\n"))
    assert list(ds.units["unit_id"]) == ["a"]
    reasons = ds.quarantine.set_index("unit_id")["reason"]
    assert reasons["s"] == "“parent_id”中的上级单位“w”在评议单位表中被拒绝，本单位随之不计"


def test_a_corrected_reentry_after_a_rejected_row_is_kept(tmp_path):
    ds = py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=(
        "response_id,unit_id,channel," + ITEMS + "\n"
        "r1,a,online,1,1,1,1,9\n"      # row 2: bad code → rejected
        "r1,a,online,1,1,1,1,1\n"      # row 3: the same id, corrected → kept
        "r1,b,online,1,1,1,1,1\n")))   # row 4: a real duplicate of row 3
    assert list(ds.survey["row"]) == [3]
    q = ds.quarantine.set_index("row")
    assert q.loc[2, "reason_code"] == "unknown_answer"
    assert q.loc[4, "reason"] == "“response_id”重复：“r1”在第 3 行已有（保留第 3 行）"


def test_csv_header_with_trailing_blank_cell_and_leading_blank_line(tmp_path):
    d = write_dataset(tmp_path / "d", survey=SURVEY)
    (d / "units.csv").write_text("\nunit_id,name,level,\na,甲,district\nb,乙,district,\n", encoding="utf-8")
    ds = py.load_dataset(d)
    assert list(ds.units["unit_id"]) == ["a", "b"] and list(ds.units["row"]) == [3, 4]
    assert ds.quarantine.empty


@pytest.mark.parametrize("value", ["now", "today", "3/8/2011"])
def test_dates_must_be_written_year_first(tmp_path, value):
    ds = py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=SURVEY,
                                       milestones=f"unit_id,step,submitted_on\na,动员部署,{value}\n"))
    assert ds.quarantine.iloc[0]["reason_code"] == "bad_date" and "2011-08-03" in ds.quarantine.iloc[0]["reason"]


def test_enumerated_values_ignore_full_width_brackets_and_case(tmp_path):
    ds = py.load_dataset(write_dataset(
        tmp_path / "d", units="unit_id,name,level\na,甲,District\n",
        survey="response_id,unit_id,channel," + ITEMS + "\nr1,a,ONLINE,1,1,1,1,1\n",
        onsite="ballot_id,unit_id,member_category," + ITEMS + "\no1,a,乡镇（街道）干部代表,1,1,1,1,1\n"))
    assert ds.quarantine.empty
    assert ds.units.loc[0, "level"] == "district" and ds.survey.loc[0, "channel"] == "online"
    assert ds.onsite.loc[0, "member_category"] == "乡镇(街道)干部代表"


def test_reasons_are_chinese_and_name_the_column_as_the_file_writes_it(tmp_path):
    # a clerk's file with Chinese headers and a typo in 层级 (辖区市局 for 辖市区局)
    units = "单位编码,单位名称,层级\na,甲区安监局,辖市区局\nb,乙区安监局,辖区市局\n"
    survey = ("问卷编号,单位编码,渠道,依法履职,公正执法,政务公开,政务服务,清正廉洁\n"
              "r1,a,网上,很满意,1,1,1,1\nr2,b,网上,1,1,1,1,1\nr3,a,网上,1,1,1,1,好\n")
    ds = py.load_dataset(write_dataset(tmp_path / "zh", encoding="gb18030", units=units, survey=survey))
    q = ds.quarantine.set_index(["table", "row"])
    assert q.loc[("units", 3), "reason"] == ("“层级”的“辖区市局”不是允许的层级；允许的值：市局、辖市区局、服务窗口、"
                                            "基层站所（或 city, district, window, station）")
    assert q.loc[("units", 3), "reason_code"] == "unknown_unit_level"  # the stable key for programs
    assert (q.loc[("units", 3), "column"], q.loc[("units", 3), "header"]) == ("level", "层级")
    assert q.loc[("survey", 3), "reason"] == "“单位编码”中的单位“b”在评议单位表中被拒绝，本行随之不计"
    assert q.loc[("survey", 4), "reason"].startswith("“清正廉洁”的答案“好”无法识别")
    assert q.loc[("survey", 4), "file"].endswith("survey.csv")


def test_the_reason_builder_is_one_function_of_code_and_details():
    from pingyi_lib.dataset.validate import REASONS, reason

    assert reason("negative", "扣分", "-2") == "“扣分”的“-2”是负数"
    assert reason("unknown_channel", "渠道", "飞鸽", what="渠道", allowed="纸质、网上") \
        == "“渠道”的“飞鸽”不是允许的渠道；允许的值：纸质、网上"
    assert all("{header}" in t or "{fields}" in t for t in REASONS.values())


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_numbers_and_dates_typed_full_width_are_read_and_a_refused_one_shows_as_written(tmp_path, engine):
    import shutil

    from tests.conftest import SAMPLE_2011

    ds_dir = tmp_path / "fw"
    shutil.copytree(SAMPLE_2011, ds_dir)
    with open(ds_dir / "bonuses.csv", "a", encoding="utf-8") as f:
        f.write("wj,全角加分,２．０\nwj,百分比,８０％\n")
    with open(ds_dir / "cases.csv", "a", encoding="utf-8") as f:
        f.write("C-FW,wj,投诉,全角扣分,是,１．５\n")
    with open(ds_dir / "survey.csv", "a", encoding="utf-8") as f:
        f.write("S-FW1,wj,群众,online,２０１１－０８－１５　１０：２３：４５,," + ",".join(["很满意"] * 6) + ",\n")
    ds = py.load_dataset(ds_dir, engine=engine)
    bonus = ds.tables["bonuses"]
    assert bonus.loc[bonus["reason"] == "全角加分", "points"].tolist() == [2.0]
    assert ds.tables["cases"].set_index("case_id").loc["C-FW", "deduction"] == 1.5
    survey = ds.tables["survey"].set_index("response_id")
    assert survey.loc["S-FW1", "submitted_at"] == pd.Timestamp("2011-08-15 10:23:45")
    q = ds.quarantine
    assert q[["table", "value", "reason_code"]].values.tolist() == [["bonuses", "８０％", "not_a_number"]]
