"""The input template for clerks: Chinese sheets and headers, drop-downs, date formats; a
filled template goes through validate and score unchanged; `pingyi init` makes a round."""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.dataset import schema
from pingyi_lib.output.template import ABOUT_SHEET, LISTS_SHEET, TEMPLATE_NAME

from .conftest import SAMPLE_2011

RS = py.load_ruleset()
TABLES = schema.tables(RS)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("tpl") / "模板.xlsx"
    assert main(["template", "--out", str(path), "--from", str(SAMPLE_2011)]) == 0
    return path


def validations(ws) -> dict[str, str]:
    """column letter -> formula of its drop-down or date check."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng.rstrip("0123456789").split(":")[0].rstrip("0123456789")] = f"{dv.type}:{dv.formula1}"
    return out


def test_first_sheet_is_chinese_instructions_then_one_sheet_per_table(template):
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames[0] == ABOUT_SHEET
    assert wb.sheetnames[1:] == [LISTS_SHEET, *(t.zh for t in TABLES.values())]
    assert wb[LISTS_SHEET].sheet_state == "hidden"
    text = " ".join(str(c.value) for row in wb[ABOUT_SHEET].iter_rows() for c in row if c.value)
    assert "请不要改动表头" in text and "pingyi validate" in text and "很满意" in text
    for t in TABLES.values():
        assert [c.value for c in wb[t.zh][1]] == [c.zh for c in t.columns]


def test_drop_downs_for_answers_levels_categories_channels_yes_no_and_unit_ids(template):
    wb = openpyxl.load_workbook(template)
    lists = wb[LISTS_SHEET]
    columns = {col[0].value: [c.value for c in col[1:]] for col in lists.iter_cols()}
    assert [v for v in columns["answer"] if v] == ["很满意", "比较满意", "基本满意", "不满意", "不了解"]
    assert [v for v in columns["unit_level"] if v] == ["市局", "辖市区局", "服务窗口", "基层站所"]
    assert [v for v in columns["channel"] if v] == ["纸质", "网上", "第三方", "电话"]
    assert [v for v in columns["bool"] if v] == ["是", "否"]
    assert "企业代表" in columns["respondent_category"] and "群众代表" in columns["panel_category"]
    survey = validations(wb["问卷调查"])
    header = [c.value for c in wb["问卷调查"][1]]
    col = {h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(header)}
    assert survey[col["单位编码"]] == "list:='评议单位'!$A$2:$A$2000"
    assert survey[col["依法履职"]].startswith("list:='选项'!$A$2")  # the answer labels
    assert survey[col["渠道"]].startswith("list:='选项'!") and survey[col["提交时间"]].startswith("date:")
    units = validations(wb["评议单位"])
    assert units["C"].startswith("list:='选项'!$B$2") and units["D"] == "list:='评议单位'!$A$2:$A$2000"
    cases = validations(wb["实例调查"])
    assert cases["E"].startswith("list:='选项'!")  # 是否属实: 是/否


def test_date_columns_are_date_formatted(template):
    wb = openpyxl.load_workbook(template)
    assert wb["整改台账"].column_dimensions["F"].number_format == "yyyy-mm-dd"
    assert wb["问卷调查"].column_dimensions["E"].number_format == "yyyy-mm-dd hh:mm:ss"


def test_from_prefills_the_units_sheet_with_chinese_levels(template):
    ws = openpyxl.load_workbook(template)["评议单位"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    units = py.load_dataset(SAMPLE_2011).units
    assert [r[0] for r in rows] == list(units["unit_id"])
    assert rows[0][2] == "市局" and rows[1][2] == "辖市区局"


def fill(template_path, sample, target):
    """Type the sample round into the template as a clerk would: labels from the drop-downs,
    dates as Excel dates, points as numbers."""
    wb = openpyxl.load_workbook(template_path)
    labels = {schema.CHANNEL: RS.channels}
    for name, t in TABLES.items():
        if name == "units" or not (sample / f"{name}.csv").is_file():
            continue
        csv = pd.read_csv(sample / f"{name}.csv", dtype=str, keep_default_na=False)
        ws = wb[t.zh]
        for rec in csv.itertuples(index=False):
            rec = rec._asdict()
            row = []
            for c in t.columns:
                v = rec.get(c.id, "")
                if v == "":
                    row.append(None)
                elif c.kind in (schema.DATE, schema.OPTIONAL_DATE, schema.DATETIME):
                    row.append(dt.datetime.fromisoformat(v))
                elif c.kind in (schema.AMOUNT, schema.REQUIRED_AMOUNT):
                    row.append(float(v))
                else:
                    row.append(labels.get(c.kind, {}).get(v, v))
            ws.append(row)
    target.mkdir()
    wb.save(target / TEMPLATE_NAME)
    shutil.copy(sample / "round.toml", target / "round.toml")
    return target


@pytest.mark.slow
def test_a_filled_template_validates_and_scores_like_the_csv_round(template, tmp_path, capsys):
    folder = fill(template, SAMPLE_2011, tmp_path / "filled")
    assert main(["validate", str(folder)]) == 0
    capsys.readouterr()
    got = py.score(py.load_dataset(folder))
    want = py.score(py.load_dataset(SAMPLE_2011))
    cols = ["unit_id", "composite", "rank", "satisfaction", "flags", "survey_valid", "onsite_valid"]
    pd.testing.assert_frame_equal(got.units[cols], want.units[cols])
    assert got.dataset.round.title == want.dataset.round.title
    assert len(got.dataset.rectifications) == len(want.dataset.rectifications)


def test_an_empty_template_is_a_dataset_with_no_rows(tmp_path):
    assert main(["init", str(tmp_path / "lj"), "--city", "临江市", "--year", "2013"]) == 0
    ds = py.load_dataset(tmp_path / "lj")
    assert ds.round.title == "临江市2013年民主评议政风行风" and ds.round.year == 2013
    assert len(ds.units) == 0 and ds.quarantine.empty


def test_init_refuses_a_folder_with_files(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.csv").write_text("x", encoding="utf-8")
    assert main(["init", str(tmp_path / "x"), "--city", "临江市", "--year", "2013"]) == 2
    assert "不是空目录" in capsys.readouterr().err
