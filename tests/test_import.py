"""pingyi import: 问卷星 and 腾讯问卷 exports (both 问卷星 forms, .xlsx / .xls / .csv in UTF-8 and
GB18030) made here from the 2011 sample round's questionnaires, read back into the contract."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pingyi_lib.cli import main
from pingyi_lib.dataset.export_mapping import Ambiguous, find_mapping, near
from pingyi_lib.dataset.export_rows import ip_address, seconds
from pingyi_lib.dataset.exports import detect_platform, parse_header, read_export
from pingyi_lib.dataset.load import load_dataset
from pingyi_lib.scheme.ruleset import load_ruleset
from pingyi_lib.scoring.results import score

from .conftest import SAMPLE_2011

RS = load_ruleset()
MATRIX = "3、请您对该单位以下方面作出评价："
UNIT_Q = "1、您评议的单位是："
WHO_Q = "2、您的身份是："
COMMENT_Q = "4、您对该单位有什么意见和建议？"
IPS = ["221.231.12.5(江苏-常州)", "58.216.3.77(江苏-常州)", "2408:8340::1(江苏-南京)"]


def sample_survey() -> tuple[pd.DataFrame, pd.DataFrame]:
    sv = pd.read_csv(SAMPLE_2011 / "survey.csv", dtype=str, keep_default_na=False)
    units = pd.read_csv(SAMPLE_2011 / "units.csv", dtype=str, keep_default_na=False)
    return sv, units


def wjx_export(sv: pd.DataFrame, units: pd.DataFrame, numbers: bool = False) -> pd.DataFrame:
    """The survey as 问卷星 exports it: 按选项文本, or 按选项序号 (``numbers``)."""
    labels = {lv.label: lv.code for lv in RS.levels}
    cats = list(RS.respondent_categories)
    unit_no = {u: i + 1 for i, u in enumerate(units["unit_id"])}
    names = dict(zip(units["unit_id"], units["name"]))
    t = pd.to_datetime(sv["submitted_at"])
    out = {"序号": [str(i + 1) for i in range(len(sv))],
           "提交答卷时间": [f"{x.year}/{x.month}/{x.day} {x:%H:%M:%S}" for x in t],
           "所用时间": [f"{60 + i % 300}秒" for i in range(len(sv))],
           "来源": ["手机提交" if i % 3 else "微信" for i in range(len(sv))],
           "来源详情": ["直接访问"] * len(sv),
           "来自IP": [IPS[i % 3] for i in range(len(sv))],
           UNIT_Q: [str(unit_no[u]) if numbers else names[u] for u in sv["unit_id"]],
           WHO_Q: [str(cats.index(c) + 1) if numbers else c for c in sv["respondent_category"]]}
    for it in RS.items:
        out[f"{MATRIX}({RS.item_labels[it]})"] = [
            "(跳过)" if not a else str(labels[a]) if numbers else a for a in sv[it]]
    out[COMMENT_Q] = [c or "(空)" for c in sv["comment"]]
    return pd.DataFrame(out)


def write_xlsx(path: Path, frame: pd.DataFrame) -> Path:
    """An .xlsx of one sheet, written in openpyxl's streaming mode (3 times faster than to_excel)."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append(list(row))
    wb.save(path)
    return path


def tencent_export(sv: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    names = dict(zip(units["unit_id"], units["name"]))
    t = pd.to_datetime(sv["submitted_at"])
    out = {"编号": [str(1000 + i) for i in range(len(sv))],
           "开始答题时间": [f"{x - pd.Timedelta(minutes=2):%Y-%m-%d %H:%M:%S}" for x in t],
           "结束答题时间": [f"{x:%Y-%m-%d %H:%M:%S}" for x in t],
           "答题时长": ["2分5秒"] * len(sv),
           "地理位置省": ["江苏"] * len(sv),
           "Q1.您评议的单位是": [names[u] for u in sv["unit_id"]],
           "Q2.您的身份是": list(sv["respondent_category"])}
    for it in RS.items:
        out[f"Q3.请您对该单位以下方面作出评价 — {RS.item_labels[it]}"] = [a or "" for a in sv[it]]
    out["Q4.您的意见和建议"] = list(sv["comment"])
    return pd.DataFrame(out)


def empty_round(tmp_path: Path, name: str = "round") -> Path:
    """The sample round without its survey table."""
    folder = tmp_path / name
    shutil.copytree(SAMPLE_2011, folder)
    (folder / "survey.csv").unlink()
    return folder


def contract_round(tmp_path: Path, sv: pd.DataFrame) -> Path:
    """The same answers written in the contract, as an import of an online export gives them."""
    folder = tmp_path / "contract"
    shutil.copytree(SAMPLE_2011, folder)
    sv = sv.assign(channel="online", fingerprint="")
    sv.to_csv(folder / "survey.csv", index=False)
    return folder


def league(folder: Path) -> pd.DataFrame:
    res = score(load_dataset(folder))
    return res.units.set_index("unit_id")[["composite", "rank", "survey_index", "satisfaction", "flags"]]


@pytest.fixture(scope="module")
def sample():
    return sample_survey()


@pytest.fixture(scope="module")
def contract_league(tmp_path_factory, sample):
    return league(contract_round(tmp_path_factory.mktemp("contract"), sample[0]))


# ---- the pieces ----------------------------------------------------------------------------
def test_headers_are_taken_apart():
    q = parse_header("3、请您对该单位以下方面作出评价：(依法履职)")
    assert (q.number, q.text, q.row) == (3, "请您对该单位以下方面作出评价", "依法履职")
    q = parse_header("Q3.请您对该单位以下方面作出评价 — 政务公开")
    assert (q.number, q.row) == (3, "政务公开")
    assert parse_header("序号").number is None


def test_platform_told_from_its_columns():
    assert detect_platform(["序号", "提交答卷时间", "所用时间", "来自IP", "1、单位"]) == "wjx"
    assert detect_platform(["编号", "开始答题时间", "结束答题时间", "答题时长"]) == "tencent"
    assert detect_platform(["编号", "单位", "依法履职"]) == "table"


def test_platform_values_read():
    assert [seconds(x) for x in ("125秒", "2分5秒", "1分", "00:02:05", "90", "很快")] == [125, 125, 60, 125, 90, None]
    assert ip_address("221.231.12.5(江苏-常州)") == "221.231.12.5"
    assert ip_address("2408:8340::1(江苏)") == "2408:8340::1"
    assert ip_address("未知") == ""


def test_near_names_proposed_only_when_one_fits():
    cats = RS.respondent_categories
    assert near("企业", cats) == "企业代表"
    assert near("普通群众", cats) == "群众"
    assert near("代表", cats) is None  # 党代表, 人大代表, 企业代表 …: not one
    assert near("外星人", cats) is None


# ---- whole exports ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["xlsx", "csv-gb18030", "xls", "ods"])
def test_wjx_text_export_scores_as_the_contract(tmp_path, sample, contract_league, kind, capsys):
    sv, units = sample
    exp = wjx_export(sv, units)
    if kind == "xlsx":
        path = write_xlsx(tmp_path / "123456_评议问卷_按选项文本.xlsx", exp)
    elif kind == "xls":
        import xlwt

        path = tmp_path / "export.xls"
        book = xlwt.Workbook(encoding="utf-8")
        ws = book.add_sheet("Sheet1")
        for j, h in enumerate(exp.columns):
            ws.write(0, j, h)
        for i, row in enumerate(exp.itertuples(index=False), start=1):
            for j, v in enumerate(row):
                ws.write(i, j, int(v) if j == 0 else v)  # 序号 a number, as 问卷星 writes it
        book.save(str(path))
    elif kind == "ods":  # saved again by WPS or LibreOffice
        from .test_workbooks import write_ods

        path = write_ods(tmp_path / "export.ods", {"Sheet1": [list(exp.columns), *exp.itertuples(index=False)]})
    else:
        path = tmp_path / "export.csv"
        path.write_bytes(exp.to_csv(index=False).encode("gb18030"))
    folder = empty_round(tmp_path)
    assert main(["import", str(path), "--into", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "新增 5018 份" in out
    got = league(folder)
    pd.testing.assert_frame_equal(got, contract_league)
    table = pd.read_csv(folder / "问卷调查.csv", dtype=str, keep_default_na=False)
    assert table["来源IP"].iloc[0] == "221.231.12.5" and table["答题秒数"].iloc[1] == "61"
    assert set(table["渠道"]) == {"online"}
    mapping = tomllib.loads((folder / "import-mapping.toml").read_text(encoding="utf-8"))
    assert mapping["columns"]["lawful"] == f"{MATRIX}(依法履职)"
    assert mapping["columns"]["unit_id"] == UNIT_Q and mapping["columns"]["respondent_category"] == WHO_Q
    assert "来源" in mapping["listed"]["not_needed"]


def test_rerun_adds_nothing_and_a_later_download_only_its_new_rows(tmp_path, sample, capsys):
    sv, units = sample
    exp = wjx_export(sv, units)
    folder = empty_round(tmp_path)
    first = tmp_path / "first.csv"
    exp.iloc[:3000].to_csv(first, index=False)
    assert main(["import", str(first), "--into", str(folder)]) == 0
    assert "新增 3000 份" in capsys.readouterr().out
    assert main(["import", str(first), "--into", str(folder)]) == 0
    assert "新增 0 份，更新 0 份，已有未变 3000 份" in capsys.readouterr().out
    later = tmp_path / "later.csv"
    exp.to_csv(later, index=False)
    assert main(["import", str(later), "--into", str(folder)]) == 0
    assert "新增 2018 份，更新 0 份，已有未变 3000 份" in capsys.readouterr().out
    table = pd.read_csv(folder / "问卷调查.csv", dtype=str)
    assert len(table) == 5018 and table["问卷编号"].is_unique


def test_wjx_number_export_with_its_options_scores_as_the_text_one(tmp_path, sample, contract_league, capsys):
    sv, units = sample
    folder = empty_round(tmp_path)
    path = tmp_path / "numbers.csv"  # (the .xlsx reading is the text export's test)
    wjx_export(sv, units, numbers=True).to_csv(path, index=False)
    # the options' numbers mean nothing without the questionnaire: the import stops and says what to fill in
    assert main(["import", str(path), "--into", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "导入未进行" in out and "[units]" in out and "[categories]" in out
    assert not (folder / "问卷调查.csv").exists()
    mapfile = folder / "import-mapping.toml"
    text = mapfile.read_text(encoding="utf-8")
    text = text.replace("[units]\n", "[units]\n" + "".join(
        f'"{i + 1}" = "{u}"\n' for i, u in enumerate(units["unit_id"])))
    text = text.replace("[categories]\n", "[categories]\n" + "".join(
        f'"{i + 1}" = "{c}"\n' for i, c in enumerate(RS.respondent_categories)))
    mapfile.write_text(text, encoding="utf-8")
    assert main(["import", str(path), "--into", str(folder), "--mapping", str(mapfile)]) == 0
    assert "新增 5018 份" in capsys.readouterr().out
    pd.testing.assert_frame_equal(league(folder), contract_league)
    # the same questionnaire exported as text: the same answers, nothing added
    text_path = tmp_path / "text.csv"
    wjx_export(sv, units).to_csv(text_path, index=False)
    assert main(["import", str(text_path), "--into", str(folder)]) == 0
    assert "新增 0 份，更新 0 份，已有未变 5018 份" in capsys.readouterr().out


def test_tencent_export_scores_as_the_contract(tmp_path, sample, contract_league, capsys):
    sv, units = sample
    folder = empty_round(tmp_path)
    path = tmp_path / "tencent.csv"
    path.write_bytes(tencent_export(sv, units).to_csv(index=False).encode("utf-8-sig"))
    assert main(["import", str(path), "--into", str(folder)]) == 0
    assert "腾讯问卷导出" in capsys.readouterr().out
    pd.testing.assert_frame_equal(league(folder), contract_league)
    table = pd.read_csv(folder / "问卷调查.csv", dtype=str, keep_default_na=False)
    assert table["问卷编号"].iloc[0].startswith("txwj-") and table["答题秒数"].iloc[0] == "125"


def test_one_link_per_unit(tmp_path, sample, capsys):
    sv, units = sample
    folder = empty_round(tmp_path)
    for uid in ("wj", "ly"):
        part = wjx_export(sv[sv["unit_id"] == uid].reset_index(drop=True), units).drop(columns=[UNIT_Q])
        path = tmp_path / f"{uid}.csv"
        part.to_csv(path, index=False)
        name = units.set_index("unit_id").loc[uid, "name"]
        assert main(["import", str(path), "--into", str(folder), "--unit", name]) == 0
    table = pd.read_csv(folder / "问卷调查.csv", dtype=str)
    assert table.groupby("单位编码").size().to_dict() == (sv[sv["unit_id"].isin(["wj", "ly"])]
                                                        .groupby("unit_id").size().to_dict())
    assert table["问卷编号"].is_unique  # 序号 1 of each link, kept apart by the unit
    assert main(["import", str(path), "--into", str(folder), "--unit", "没有这个局"]) == 2


def test_spoiled_rows_rejected_by_their_own_number_and_header(tmp_path, sample, capsys):
    sv, units = sample
    exp = wjx_export(sv.iloc[:50].reset_index(drop=True), units)
    exp.loc[3, UNIT_Q] = "火星安监局"
    exp.loc[7, UNIT_Q] = "(空)"
    exp.loc[9, f"{MATRIX}(公正执法)"] = "还行吧"
    exp.loc[11, "提交答卷时间"] = "昨天"
    exp.loc[12, "序号"] = exp.loc[13, "序号"]
    path = tmp_path / "spoiled.csv"
    exp.to_csv(path, index=False)
    folder = empty_round(tmp_path)
    assert main(["import", str(path), "--into", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "新增 45 份" in out and "退回 5 份" in out
    assert "序号 4：“1、您评议的单位是：”的答案“火星安监局”不是本轮的评议单位" in out
    assert "序号 10：“3、请您对该单位以下方面作出评价：(公正执法)”的答案“还行吧”不是评议等次" in out
    rejected = pd.read_csv(folder / "import-rejected.csv", dtype=str)
    assert sorted(rejected["reason_code"]) == ["bad_date", "duplicate_id", "missing_unit", "unknown_answer",
                                              "unknown_unit"]
    assert set(rejected["导出编号"]) == {"4", "8", "10", "12", "14"}
    assert main(["validate", str(folder)]) == 0  # what went in is clean


def test_a_near_category_is_proposed_not_guessed(tmp_path, sample, capsys):
    sv, units = sample
    part = sv.iloc[:40].copy()
    part.loc[part["respondent_category"] == "企业代表", "respondent_category"] = "企业"
    path = tmp_path / "near.csv"
    wjx_export(part.reset_index(drop=True), units).to_csv(path, index=False)
    folder = empty_round(tmp_path)
    assert main(["import", str(path), "--into", str(folder)]) == 0
    assert "建议：“企业”可能是调查对象类别“企业代表”" in capsys.readouterr().out
    table = pd.read_csv(folder / "问卷调查.csv", dtype=str)
    assert "企业" in set(table["调查对象类别"])  # as written until the analyst says so
    mapfile = folder / "import-mapping.toml"
    text = mapfile.read_text(encoding="utf-8")
    assert '# "企业" = "企业代表"' in text
    mapfile.write_text(text.replace('# "企业" = "企业代表"', '"企业" = "企业代表"'), encoding="utf-8")
    assert main(["import", str(path), "--into", str(folder)]) == 0  # DIR's reviewed mapping is used
    n = int((part["respondent_category"] == "企业").sum())
    assert f"更新 {n} 份" in capsys.readouterr().out
    table = pd.read_csv(folder / "问卷调查.csv", dtype=str)
    assert "企业" not in set(table["调查对象类别"])


def test_an_ambiguous_column_stops_with_the_candidates_named(tmp_path, sample):
    sv, units = sample
    exp = wjx_export(sv.iloc[:30].reset_index(drop=True), units)
    exp["5、再次评价：(依法履职)"] = exp[f"{MATRIX}(依法履职)"]
    path = tmp_path / "twice.csv"
    exp.to_csv(path, index=False)
    with pytest.raises(Ambiguous, match="5、再次评价：\\(依法履职\\)"):
        find_mapping(read_export(path), RS, units)
    folder = empty_round(tmp_path)
    assert main(["import", str(path), "--into", str(folder)]) == 1
    assert not (folder / "问卷调查.csv").exists()


def test_unplaced_columns_are_listed(tmp_path, sample, capsys):
    sv, units = sample
    exp = wjx_export(sv.iloc[:30].reset_index(drop=True), units)
    exp["5、您多久办一次业务？"] = "每月"
    path = tmp_path / "extra.csv"
    exp.to_csv(path, index=False)
    folder = empty_round(tmp_path)
    assert main(["import", str(path), "--into", str(folder)]) == 0
    assert "未导入的题目（无法对应到数据约定）：“5、您多久办一次业务？”" in capsys.readouterr().out
    mapping = tomllib.loads((folder / "import-mapping.toml").read_text(encoding="utf-8"))
    assert mapping["listed"]["unplaced"] == ["5、您多久办一次业务？"]


def test_import_adds_to_an_existing_gb18030_survey_keeping_its_headers(tmp_path, sample, capsys):
    sv, units = sample
    folder = tmp_path / "round"
    shutil.copytree(SAMPLE_2011, folder)
    keep = sv[sv["unit_id"] != "wj"]
    (folder / "survey.csv").write_bytes(keep.to_csv(index=False).encode("gb18030"))
    online = sv[sv["unit_id"] == "wj"].reset_index(drop=True)
    path = tmp_path / "wj.xlsx"
    wjx_export(online, units).to_excel(path, index=False)
    assert main(["import", str(path), "--into", str(folder)]) == 0
    raw = (folder / "survey.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    table = pd.read_csv(folder / "survey.csv", dtype=str, keep_default_na=False, encoding="gb18030")
    assert list(table.columns[:13]) == list(sv.columns) and list(table.columns[13:]) == ["ip", "duration_s"]
    assert len(table) == len(sv)
    assert table.iloc[:len(keep)].drop(columns=["ip", "duration_s"]).equals(keep.reset_index(drop=True))
    ds = load_dataset(folder)
    assert len(ds.quarantine) == 0 and len(ds.survey) == len(sv)


def test_a_survey_in_parquet_is_not_rewritten(tmp_path, sample):
    sv, units = sample
    folder = empty_round(tmp_path)
    sv.to_parquet(folder / "survey.parquet")
    path = tmp_path / "e.csv"
    wjx_export(sv.iloc[:5].reset_index(drop=True), units).to_csv(path, index=False)
    before = (folder / "survey.parquet").read_bytes()
    assert main(["import", str(path), "--into", str(folder)]) == 1
    assert (folder / "survey.parquet").read_bytes() == before


def test_options_outside_the_scale_stop_until_mapped(tmp_path, sample, capsys):
    sv, units = sample
    exp = wjx_export(sv.iloc[:60].reset_index(drop=True), units)
    col = f"{MATRIX}(政务公开)"
    exp[col] = np.where(exp[col] == "比较满意", "满意", exp[col])
    path = tmp_path / "scale.csv"
    exp.to_csv(path, index=False)
    folder = empty_round(tmp_path)
    assert main(["import", str(path), "--into", str(folder)]) == 1
    assert '[answers] "满意"' in capsys.readouterr().out
    mapfile = folder / "import-mapping.toml"
    mapfile.write_text(mapfile.read_text(encoding="utf-8").replace('"满意" = ""', '"满意" = "比较满意"'),
                       encoding="utf-8")
    assert main(["import", str(path), "--into", str(folder)]) == 0
    table = pd.read_csv(folder / "问卷调查.csv", dtype=str, keep_default_na=False)
    assert (table["政务公开"] == "比较满意").sum() == (sv.iloc[:60]["open"] == "比较满意").sum()


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_the_platform_columns_are_checked_alike_by_both_engines(tmp_path, engine):
    rows = ("response_id,unit_id,channel,ip,duration_s,lawful,fair,open,service,integrity\n"
            "1,wj,online,221.231.12.5,125,1,1,1,1,1\n"
            "2,wj,online,,,2,2,2,2,2\n"
            "3,wj,online,58.216.3.77,很快,3,3,3,3,3\n"
            "4,wj,online,58.216.3.77,-5,3,3,3,3,3\n"
            "5,wj,online,58.216.3.77,90.5,4,4,4,4,4\n")
    folder = tmp_path / "r"
    folder.mkdir()
    shutil.copy(SAMPLE_2011 / "units.csv", folder / "units.csv")
    (folder / "survey.csv").write_text(rows, encoding="utf-8")
    ds = load_dataset(folder, engine=engine)
    assert ds.engines["survey"] == engine  # the engine's own check, no fallback
    q = ds.quarantine
    assert list(zip(q["row"], q["reason_code"])) == [(4, "not_a_number"), (5, "not_a_number")]
    assert "“duration_s”的“很快”不是数字" in q["reason"].iloc[0]
    sv = ds.survey
    assert list(sv["response_id"]) == ["1", "2", "5"]
    if "duration_s" in sv:  # the engine keeps only what the checks read (its compact rows)
        assert sv["duration_s"].iloc[[0, 2]].tolist() == [125.0, 90.5] and np.isnan(sv["duration_s"].iloc[1])


def test_import_into_a_round_made_by_init_fills_its_workbook(tmp_path, sample, capsys):
    import openpyxl

    sv, units = sample
    folder = tmp_path / "r2013"
    assert main(["init", str(folder), "--city", "常州市", "--year", "2011"]) == 0
    book = folder / "评议数据.xlsx"
    wb = openpyxl.load_workbook(book)
    for i, row in enumerate(units.itertuples(index=False), start=2):
        for j, v in enumerate([row.unit_id, row.name, row.level, row.parent_id], start=1):
            wb["评议单位"].cell(row=i, column=j, value=v or None)
    checks = len(wb["问卷调查"].data_validations.dataValidation)
    wb.save(book)
    path = tmp_path / "e.xlsx"
    wjx_export(sv.iloc[:120].reset_index(drop=True), units).to_excel(path, index=False)
    assert main(["import", str(path), "--into", str(folder)]) == 0
    assert "评议数据.xlsx[问卷调查]：新增 120 份" in capsys.readouterr().out
    assert not (folder / "问卷调查.csv").exists()
    wb = openpyxl.load_workbook(book)
    assert len(wb["问卷调查"].data_validations.dataValidation) == checks  # the drop-downs kept
    ds = load_dataset(folder)
    assert len(ds.survey) == 120 and len(ds.quarantine) == 0
    assert main(["import", str(path), "--into", str(folder)]) == 0
    assert "新增 0 份，更新 0 份，已有未变 120 份" in capsys.readouterr().out


def test_wrong_files_and_folders_are_one_line_with_a_usage_exit(tmp_path, capsys):
    folder = empty_round(tmp_path)
    (tmp_path / "notes.md").write_text("x", encoding="utf-8")
    assert main(["import", str(tmp_path / "notes.md"), "--into", str(folder)]) == 2
    assert main(["import", str(tmp_path / "absent.xlsx"), "--into", str(folder)]) == 2
    assert main(["import", str(tmp_path / "notes.md"), "--into", str(tmp_path / "absent")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and "不认识的文件类型" in err[0] and "找不到要导入的文件" in err[1] and "pingyi init" in err[2]
