"""Report sections computed by views.py, against hand arithmetic on the tiny dataset."""

from __future__ import annotations

import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.output import workbook
from pingyi_lib.sections import scores

from .conftest import ITEMS, write_dataset


@pytest.fixture
def res(tiny):
    return py.score(py.load_dataset(tiny))


def test_score_card_formats_published_values(res):
    card = scores.score_card(res, "a")
    assert card["综合得分"] == "83.00分" and card["排名"] == "1/2" and card["群众满意度"] == "82.00%"
    # indices are 0-100 indices, points are 分: the card says which is which
    assert card["现场评议指数"] == "90.00" and card["实例调查"] == "15.00分" and card["加分"] == "0.00分"
    city = scores.score_card(res, "c")
    assert city["排名"] == "不参加排名" and "组平均分" not in city and "现场评议指数" not in city


def test_every_card_tile_has_a_hover_title_and_share_and_index_are_told_apart(res):
    titles = scores.card_titles(res)
    assert set(scores.score_card(res, "a")) - {"排名"} <= set(titles)
    assert "满意率" in titles["满意率"] and "群众满意度" in titles["满意率"]  # says how the two differ
    assert "0–100" in titles["现场评议指数"] and "20分" in titles["实例调查"]  # scales from the ruleset


def test_dimensions_against_group_mean(res):
    d = scores.dimensions(res, "a").set_index("item")
    # survey integrity: a = 50 (0 and 1), b = 0 → group mean 25
    assert d.loc["integrity", "问卷调查指数"] == 50.0
    assert d.loc["integrity", "问卷调查指数组平均"] == 25.0
    # on-site: a = 90, b = 60 → 75
    assert d.loc["lawful", "现场评议指数组平均"] == 75.0


def test_answer_distribution_counts_levels_and_blanks(res):
    d = scores.answer_distribution(res, "a").set_index("item")
    assert d.loc["open", "比较满意"] == 1 and d.loc["open", "未作答"] == 1
    assert d.loc["lawful", "不了解"] == 1


def test_breakdown_by_channel_recomputes_index_per_channel(res):
    b = scores.breakdown(res, "a", "channel").set_index("渠道")
    # both questionnaires of a came in online (网上): same as its Q of 82
    assert b.loc["网上", "问卷（份）"] == 2 and b.loc["网上", "问卷调查指数"] == 82.0


def test_breakdown_splits_categories(tmp_path):
    ds = write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲,district\n",
                       survey="response_id,unit_id,channel,respondent_category," + ITEMS + "\n"
                       "1,a,online,企业代表,1,1,1,1,1\n2,a,paper,群众,4,4,4,4,4\n3,a,paper,群众,3,3,3,3,3\n")
    b = scores.breakdown(py.score(py.load_dataset(ds)), "a", "respondent_category").set_index("调查对象类别")
    assert b.loc["企业代表", "问卷调查指数"] == 100.0
    assert b.loc["群众", "问卷调查指数"] == 30.0  # (0 + 0.6) / 2


def test_panel_share_and_public_marking(res):
    p = scores.panel(res, "a").set_index("代表类别")
    assert p.loc["群众代表", "占比"] == 0.5 and p.loc["群众代表", "群众或企业代表"]
    assert not p.loc["人大代表", "群众或企业代表"]


def test_data_quality_counts_rejected_rows_per_unit(tmp_path):
    ds = write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲,district\n",
                       survey="response_id,unit_id,channel," + ITEMS + "\n1,a,online,1,1,1,1,1\n2,a,online,9,1,1,1,1\n")
    q = scores.data_quality(py.score(py.load_dataset(ds))).set_index("单位编码")
    assert q.loc["a", "问卷（份）"] == 1 and q.loc["a", "被拒绝行（条）"] == 1


def test_one_units_data_quality_and_rejected_rows_leave_out_the_unit_column(tmp_path):
    ds = write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲,district\nb,乙,district\n",
                       survey="response_id,unit_id,channel," + ITEMS + "\n1,a,online,1,1,1,1,1\n"
                              "2,a,online,9,1,1,1,1\n3,b,online,1,1,1,1,1\n")
    res = py.score(py.load_dataset(ds))
    q = scores.data_quality(res, "a")
    assert len(q) == 1 and "单位编码" not in q and q["被拒绝行（条）"].item() == 1  # row 3: answer 9
    r = scores.rejected_rows(res, "a")
    assert "单位编码" not in r and r["行号"].tolist() == [3]
    assert scores.rejected_rows(res, "b").empty and "单位编码" in scores.rejected_rows(res)


def test_summaries_speak_chinese_with_numbers(res):
    s = scores.unit_summary(res, "b")
    assert "38.00" in s and "第2名" in s and "约谈" in s
    assert "第一名甲区安监局" in scores.city_summary(res)
    assert "未计算综合得分" in scores.unit_summary(res, "w")


def test_city_summary_leaves_the_consequences_to_the_headline(res):
    s = scores.city_summary(res)
    assert "约谈" not in s and "不评优" not in s


def test_case_summaries_are_published_with_personal_data_masked(tmp_path):
    ds = write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲,district\n",
                       survey="response_id,unit_id,channel," + ITEMS + "\n1,a,online,1,1,1,1,1\n",
                       cases="case_id,unit_id,source,summary,substantiated,deduction\n"
                             "k,a,投诉,投诉人王某（13912345678）反映推诿,是,1\n")
    c = scores.cases(py.score(py.load_dataset(ds)), "a")
    assert c.loc[0, "情况摘要"] == "投诉人王某（139****5678）反映推诿"


def test_workbook_writes_formula_like_text_as_text(tmp_path):
    import openpyxl

    hostile = '=HYPERLINK("http://evil.example","点我")'
    quoted = hostile.replace('"', '""')
    ds = write_dataset(tmp_path / "d", units=f'unit_id,name,level\na,"{quoted}",district\n',
                       survey="response_id,unit_id,channel," + ITEMS + "\n1,a,online,1,1,1,1,1\n",
                       cases="case_id,unit_id,source,summary,substantiated,deduction\nk,a,投诉,+cmd|推诿扯皮,是,1\n")
    res = py.score(py.load_dataset(ds))
    path = workbook.write_results_workbook(res, tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(path)["评议结果"]
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2])}
    assert row["单位名称"].value == hostile and row["单位名称"].data_type == "s"
    assert row["群众反映主要问题"].value == "推诿扯皮（1条）" and row["群众反映主要问题"].data_type == "s"
    assert ws.parent["结果运用"] is not None
    assert not list(tmp_path.glob(".tmp-*"))


def test_results_frame_carries_the_hand_computed_scores(res):
    f = workbook.results_frame(res).set_index("单位编码")
    # a: Q = (100+100+80+80+50)/5 = 82, O = 100·(1+0.8)/2 = 90, C = 20−5 = 15 → 0.3·90 + 0.5·82 + 15 = 83
    # b: 0.3·60 + 0.5·0 + 20 = 38;  c (no panel): 0.8·100 + 20 = 100;  w: no answers, no composite
    assert f.loc["a", "综合得分"] == 83.0 and f.loc["b", "综合得分"] == 38.0 and f.loc["c", "综合得分"] == 100.0
    assert pd.isna(f.loc["w", "综合得分"])
    assert f.loc["a", "满意率"] == 85.71  # 6 satisfied of 7 answers with an opinion: 100·6/7 = 85.714…
    assert f.loc["a", "排名"] == 1 and f.loc["b", "排名"] == 2 and f.loc["b", "排名靠后"] == "是"
