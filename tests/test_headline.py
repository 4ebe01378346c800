"""The headline a director reads first: the bottom group and what happens to it, each
consequence with who, why and the clause; data-quality notes kept apart."""

from __future__ import annotations

import pytest

import pingyi_lib as py
from pingyi_lib.sections import headline

from .conftest import SAMPLE_2011


@pytest.fixture(scope="module")
def res():
    return py.score(py.load_dataset(SAMPLE_2011))


def by_code(frame):
    return {r["code"]: r for r in frame.to_dict("records")}


def test_city_headline_names_the_bottom_group_of_each_rank_group(res):
    h = by_code(headline.city_headline(res))
    # districts: 7 ranked, k = min(3, 7 // 2) = 3 → ranks 5, 6, 7 (jt, qsy, wj)
    assert h["bottom:district"]["unit_ids"] == ("jt", "qsy", "wj")
    assert "金坛市安监局（第5名，83.25分）" in h["bottom:district"]["内容"]
    # windows and stations: 11 ranked → ranks 9, 10, 11
    assert h["bottom:service"]["unit_ids"] == ("xb-chunjiang", "czsaj-win", "wj-hutang")


def test_city_headline_says_who_is_talked_to_and_why_with_the_clause(res):
    h = by_code(headline.city_headline(res))
    talk = h["talk"]
    assert talk["unit_ids"] == ("qsy", "wj", "wj-hutang")
    assert "群众满意度75.83%低于80%" in talk["内容"] and "实施意见六（二）" in talk["内容"]
    assert talk["事项"] == "约谈（3个单位）"
    assert h["no_excellence"]["unit_ids"] == ("qsy", "wj", "czsaj-win", "xb-chunjiang", "wj-hutang")
    assert h["worst"]["内容"] == "无。" and h["worst"]["unit_ids"] == ()  # a consequence that hit nobody is said
    assert h["panel_noncompliant"]["unit_ids"] == ("zl",)


def test_low_sample_is_a_data_quality_note_not_a_consequence(res):
    assert "low_sample" not in set(headline.city_headline(res)["code"])
    assert "low_sample" not in set(res.consequences["flag"])
    notes = by_code(headline.city_notes(res))
    assert notes["low_sample"]["unit_ids"] == ("qsy-win", "xb-chunjiang")
    assert "问卷调查有效答卷29份，少于30份" in notes["low_sample"]["内容"]
    u = res.units.set_index("unit_id")
    assert u.loc["xb-chunjiang", "low_sample"]  # the flag stays in the data
    assert u.loc["xb-chunjiang", "flags"] == "不评优" and u.loc["xb-chunjiang", "notes"] == "样本不足"


def test_unit_headline_gives_composite_rank_group_mean_and_each_consequence(res):
    h = by_code(headline.unit_headline(res, "wj"))
    assert h["composite"]["内容"] == "61.24分"
    assert h["rank"]["内容"] == "第7名/共7名（辖市(区)安监局），排名靠后"
    assert h["group_mean"]["内容"] == "82.73分"
    assert "群众满意度76.02%低于80%" in h["talk"]["内容"] and "市局约谈其主要领导" in h["talk"]["内容"]
    assert "综合得分61.24分低于平均分82.73分" in h["no_excellence"]["内容"]


def test_a_bottom_unit_without_consequence_is_told_why(res):
    # jt: rank 5 of 7 (bottom), 83.25 ≥ mean 82.73 and 86.51% ≥ 80%: nothing fires
    h = by_code(headline.unit_headline(res, "jt"))
    assert "排名靠后" in h["rank"]["内容"]
    assert h["no_consequence"]["内容"].startswith("排名靠后，但综合得分不低于组平均分")


def test_unit_notes_hold_low_sample_rejected_rows_and_warnings(res):
    n = by_code(headline.unit_notes(res, "qsy-win"))
    assert "low_sample" in n and n["rejected"]["内容"] == "全部数据行通过校验。"
    assert "warning" in by_code(headline.unit_notes(res, "wj"))  # deductions above the cap


def test_rejected_rows_are_counted_once_per_row(tmp_path):
    from .conftest import ITEMS, write_dataset

    ds = write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲,district\n",
                       survey="response_id,unit_id,channel," + ITEMS + "\n1,a,online,1,1,1,1,1\n2,a,online,9,9,1,1,1\n")
    r = py.score(py.load_dataset(ds))
    assert by_code(headline.unit_notes(r, "a"))["rejected"]["内容"].startswith("1条数据行未通过校验")
