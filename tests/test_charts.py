"""Chart builders: short names with the full name kept, legends only for what is drawn,
series told apart by pattern as well as colour."""

from __future__ import annotations

import pytest

import pingyi_lib as py
from pingyi_lib.sections import charts, scores

from .conftest import SAMPLE_2011


@pytest.fixture(scope="module")
def res():
    return py.score(py.load_dataset(SAMPLE_2011))


def test_long_names_are_cut_in_the_middle_keeping_place_and_kind():
    assert charts.short_name("戚墅堰区行政服务中心安监窗口") == "戚墅堰区行…安监窗口"  # 5 + … + 4 = 10
    assert charts.short_name("武进区安监局") == "武进区安监局"


def test_names_that_would_read_the_same_stay_whole():
    names = ["甲区行政服务中心一号安监窗口", "甲区行政服务中心二号安监窗口"]
    assert charts.short_names(names, limit=8) == names
    assert len(set(charts.short_names(["甲区行政服务中心安监窗口", "乙区行政服务中心安监窗口"], 8))) == 2


def test_legend_lists_only_the_parts_a_group_has(res):
    service = charts.components_stacked(res.league("service"), "t", res.ruleset)
    names = [t.name for t in service.data]
    assert "现场评议" not in names  # windows and stations have no on-site panel
    district = charts.components_stacked(res.league("district"), "t", res.ruleset)
    assert [t.name for t in district.data] == ["现场评议", "问卷调查", "实例调查", "加分"]


def test_full_names_are_in_the_hover_and_short_names_on_the_axis(res):
    fig = charts.satisfaction_bar(res.units, 80, "t")
    shown = [y for t in fig.data for y in t.y]
    full = [n for t in fig.data for n in t.customdata]
    assert "戚墅堰区行…安监窗口" in shown and "戚墅堰区行政服务中心安监窗口" in full
    assert fig.layout.height >= charts.ROW_PX * len(shown)  # a line for every unit


def test_two_series_never_differ_by_colour_alone(res):
    fig = charts.distribution_bar(scores.answer_distribution(res, "wj"), res.ruleset)
    styles = [(t.marker.color, t.marker.pattern.shape or "") for t in fig.data]
    assert len(set(styles)) == len(styles)
    patterns = [s[1] for s in styles]
    assert all(a != b for a, b in zip(patterns, patterns[1:]))  # neighbours differ in pattern


def test_satisfaction_line_label_sits_above_the_bars(res):
    fig = charts.satisfaction_bar(res.units, 80, "t")
    (note,) = fig.layout.annotations
    assert note.yref == "paper" and note.y == 1 and note.yanchor == "bottom"
    assert {t.name for t in fig.data} == {"不低于80%", "低于80%"}


def test_every_chart_draws_only_trace_types_its_template_styles(res):
    # the template keeps plotly_white's defaults for TRACE_TYPES only (a page builds faster):
    # a chart with another trace type would silently lose plotly_white's look for it
    from pingyi_lib.sections import integrity
    from pingyi_lib.stats import funnel

    rs = res.ruleset
    res_intervals = py.score(res.dataset, intervals=True)
    figures = [charts.dimensions_bar(scores.dimensions(res, "wj"), "武进区安监局"),
               charts.distribution_bar(scores.answer_distribution(res, "wj"), rs),
               charts.breakdown_bar(scores.breakdown(res, "wj", "respondent_category"), "调查对象类别", 80, "t"),
               charts.panel_bar(scores.panel(res, "wj"), rs.panel_min_share),
               charts.components_stacked(res.league("district"), "t", rs),
               charts.heatmap(scores.heatmap_frame(res, "survey"), "t"),
               charts.satisfaction_bar(res.units, 80, "t"),
               charts.funnel_plot(*funnel.funnel(res, "district"), rs.talk_threshold, "t"),
               charts.caterpillar(res_intervals.league("district"), rs.stats.level, "t"),
               charts.responses_timeline(integrity.timeline(res, "wj"), "t")]
    drawn = {t.type for f in figures for t in f.data}
    assert drawn == {"bar", "scatter", "heatmap"} == set(charts.TRACE_TYPES)
    assert all(set(f.layout.template.data.to_plotly_json()) == drawn for f in figures)


def test_the_template_is_plotly_white_for_what_is_drawn(res):
    import plotly.io as pio

    white = pio.templates["plotly_white"]
    ours = charts.template()
    assert ours.layout == white.layout  # background, grid, fonts, colour ways: plotly_white's
    for kind in charts.TRACE_TYPES:
        assert getattr(ours.data, kind) == getattr(white.data, kind)
    fig = charts.dimensions_bar(scores.dimensions(res, "wj"), "武进区安监局")
    assert fig.layout.template.layout == white.layout
