"""Report sections and charts for sampling uncertainty (sections.uncertainty, sections.charts)."""

from __future__ import annotations

import pytest

import pingyi_lib as py
from pingyi_lib.sections import charts, uncertainty
from pingyi_lib.stats import funnel

from .conftest import SAMPLE_2011


@pytest.fixture(scope="module")
def res():
    return py.score(py.load_dataset(SAMPLE_2011), intervals=True)


def test_unit_interval_table_lists_every_index_with_both_intervals(res):
    t = uncertainty.interval_table(res, "wj-hutang").set_index("指标")
    assert t.loc["问卷调查指数", "公布值"] == "79.87"
    lo, hi = (float(x) for x in t.loc["问卷调查指数", "95%区间"].split("–"))
    assert lo < 80 < hi
    assert t.loc["满意率", "解析方法"] == "Wilson" and t.loc["满意率", "公布值"].endswith("%")
    assert {"问卷调查·依法履职", "综合得分"} <= set(t.index)


def test_robustness_says_why_in_words(res):
    r = uncertainty.robustness(res)
    hutang = r[(r["单位编码"] == "wj-hutang") & (r["结果"] == "约谈")].iloc[0]
    assert hutang["稳健性"] == "可能是抽样波动"
    assert "包含80%约谈线" in hutang["说明"] and "2000次重抽样" in hutang["说明"]
    wj = r[(r["单位编码"] == "wj") & (r["结果"] == "约谈")].iloc[0]
    assert wj["稳健性"] == "稳健" and "不包含80%约谈线" in wj["说明"]
    assert set(r["结果"]) <= {"约谈", "不评优"}  # only the consequences that depend on the sample
    assert list(uncertainty.robustness(res, "wj")) == ["结果", "触发概率", "稳健性", "说明"]


def test_interval_card_and_league_intervals(res):
    card = uncertainty.interval_card(res, "ly")
    assert card["排名95%区间"] == "第1–2名" and card["排名靠后的概率"] == "0%"
    assert uncertainty.interval_card(res, "czsaj").keys() == {"综合得分95%区间", "满意度95%区间"}  # not ranked
    lg = uncertainty.league_intervals(res, "district")
    assert list(lg["单位编码"]) == ["ly", "xb", "zl", "tn", "jt", "qsy", "wj"]
    assert lg.loc[lg["单位编码"] == "qsy", "排名95%区间"].item() == "第6名"
    assert "群众满意度95%区间" in lg and "综合得分95%区间" in lg


def test_without_intervals_the_sections_are_empty_not_wrong():
    plain = py.score(py.load_dataset(SAMPLE_2011))
    assert uncertainty.interval_card(plain, "wj") == {} and uncertainty.interval_table(plain, "wj").empty
    assert uncertainty.robustness(plain).empty


def test_caterpillar_shades_the_bottom_group_and_draws_each_interval(res):
    fig = charts.caterpillar(res.league("service"), 0.95, "t")
    assert any(s.type == "rect" for s in fig.layout.shapes)  # the shaded bottom group
    others, bottom = fig.data
    assert (others.name, bottom.name) == ("其他单位", "排名靠后")
    assert [c[0] for c in bottom.customdata] == ["新北区春江镇安监所", "常州市行政服务中心安监窗口",
                                                 "武进区湖塘镇安监站"]
    assert len(others.error_x.array) + len(bottom.error_x.array) == 11
    assert list(fig.layout.yaxis.categoryarray)[-1] == "武进区湖塘镇安监站"  # worst at the bottom


def test_funnel_plot_has_both_control_limits_and_marks_the_bottom_group(res):
    fig = charts.funnel_plot(*funnel.funnel(res, "service"), 80.0, "t")
    names = {t.name for t in fig.data}
    assert {"95%控制限", "99.8%控制限", "排名靠后", "其他单位"} <= names
    bottom = next(t for t in fig.data if t.name == "排名靠后")
    assert "武进区湖塘镇安监站" in bottom.customdata and bottom.marker.symbol == "diamond"


def test_headlines_say_how_robust_each_consequence_is(res):
    from pingyi_lib.sections import headline

    unit = headline.unit_headline(res, "wj-hutang").set_index("code")
    assert "稳健性：可能是抽样波动" in unit.loc["talk", "内容"]
    assert "稳健性：稳健" in unit.loc["no_excellence", "内容"]
    assert "排名95%区间第9–11名" in unit.loc["rank", "内容"]
    city = headline.city_headline(res).set_index("code")
    assert "武进区湖塘镇安监站" in city.loc["talk", "内容"] and "可能是抽样波动" in city.loc["talk", "内容"]
    plain = py.score(py.load_dataset(SAMPLE_2011))
    assert "稳健性" not in headline.unit_headline(plain, "wj-hutang").set_index("code").loc["talk", "内容"]


def test_funnel_table_says_where_each_unit_lies_against_the_limits(res):
    t = uncertainty.funnel_table(res, "service").set_index("单位编码")
    assert t.index[0] == "wj-hutang" and t.loc["wj-hutang", "与控制限比较"] == "低于99.8%控制限"
    assert t.loc["qsy-win", "与控制限比较"] == "在控制限内"  # 89.36% on 29 questionnaires
    assert t.loc["xb-chunjiang", "有效问卷（份）"] == 24
