"""Chart builders: short names with the full name kept, legends only for what is drawn,
series told apart by pattern as well as colour."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# --- ticks that do not collide in any font of the stack ------------------------------------

def test_text_width_is_the_widest_of_the_stack_per_kind_of_character():
    from pingyi_lib.common.fonts import text_width

    # "120" at 13 px: 3 digits × 0.56 em (Noto 0.555, WenQuanYi 0.551) × 13 = 21.84 px
    assert text_width("120", 13) == pytest.approx(21.84)
    assert text_width("满意度", 10) == 30.0  # every CJK character is 1 em
    assert text_width("12.5%", 10) == pytest.approx((3 * 0.56 + 0.3 + 0.95) * 10)
    assert text_width("…", 10) == 10.0  # ambiguous width: 1 em in a CJK font


def test_a_short_log_axis_gets_round_ticks_not_plotlys_crowded_linear_ones():
    # the 2011 funnel of windows and stations spans about 28-190 questionnaires; plotly drew
    # 120, 130, 140 there and they touched with Noto Sans CJK
    assert charts.log_ticks(28, 190, plot_px=200) == [50, 100, 150]  # 30 sits too near the end: its label
    assert charts.log_ticks(28, 190, plot_px=600) == [30, 40, 50, 60, 70, 80, 90, 100, 150]  # would stand out
    assert charts.log_ticks(120, 150, plot_px=200) == [130, 140]
    assert charts.log_ticks(2, 5000, plot_px=200) == [10, 100, 1000]  # powers of ten when space is short
    assert charts.log_ticks(1, 1e6, plot_px=200) == [100, 10000]  # every second one when shorter still
    assert charts.log_ticks(50, 50) == [] and charts.log_ticks(0, 10) == []


def test_end_labels_keep_clear_of_the_corner_unless_nothing_else_fits():
    from pingyi_lib.common.fonts import text_width

    # a larger round's district funnel spans 22-187 questionnaires; at 390 px its x label "400"
    # (of a wider round) met the y label "75" in the corner: end labels stay within the plot
    for lo, hi in ((22.4, 187.5), (28, 190), (316, 2500), (9.6, 60)):
        ticks = charts.log_ticks(lo, hi, plot_px=200)
        span = math.log10(hi / lo)
        first = math.log10(ticks[0] / lo) / span * 200
        last = math.log10(ticks[-1] / lo) / span * 200
        assert first >= text_width(charts.tick_label(ticks[0]), 13) / 2, (lo, hi, ticks)
        assert last + text_width(charts.tick_label(ticks[-1]), 13) / 2 <= 200, (lo, hi, ticks)
    # 1000-100000 on 200 px: only the powers of ten fit, two of them at the ends; better than one tick
    assert charts.log_ticks(1000, 1e5, plot_px=200) == [1000, 10000, 100000]


def test_tick_labels_are_short_and_use_wan_for_tens_of_thousands():
    assert [charts.tick_label(v) for v in (2.5, 50, 1500, 30000, 1e6, 12345)] == \
        ["2.5", "50", "1500", "3万", "100万", "12345"]


@given(st.floats(1, 1e6), st.floats(1.001, 1e3), st.floats(150, 1600))
def test_log_ticks_never_touch_and_stay_in_range(lo, ratio, plot_px):
    from pingyi_lib.common.fonts import text_width

    hi = lo * ratio
    ticks = charts.log_ticks(lo, hi, plot_px)
    assert ticks, (lo, hi, plot_px)
    assert ticks == sorted(set(ticks)) and lo <= ticks[0] and ticks[-1] <= hi
    assert len(ticks) >= 2 or plot_px < 400 or ratio < 1.05  # two ticks whenever there is room
    span = math.log10(hi / lo)
    for a, b in zip(ticks, ticks[1:]):
        gap = math.log10(b / a) / span * plot_px
        room = (text_width(charts.tick_label(a), 13) + text_width(charts.tick_label(b), 13)) / 2
        assert gap >= room + 13, (a, b, gap, room)


def test_the_funnel_axis_shows_the_chosen_ticks_over_its_whole_grid(res):
    from pingyi_lib.stats import funnel

    points, limits, centre = funnel.funnel(res, "service")
    fig = charts.funnel_plot(points, limits, centre, 80, "t")
    ax = fig.layout.xaxis
    assert ax.type == "log" and ax.tickmode == "array"
    lo, hi = limits["n"].min(), limits["n"].max()
    assert ax.range == pytest.approx((math.log10(lo), math.log10(hi)))
    assert list(ax.tickvals) == charts.log_ticks(lo, hi)
    assert list(ax.ticktext) == [charts.tick_label(v) for v in ax.tickvals]
