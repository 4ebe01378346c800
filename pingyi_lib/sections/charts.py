"""Plotly figure builders: a frame from sections/ in, a figure out, no I/O.

All figures share one layout with a Chinese font stack, so they read the same in
JupyterLab, in an offline HTML report and on paper:

* **Nothing hidden or overlapping.** Units are listed on the vertical axis (horizontal
  bars), never as rotated labels; the chart grows with the number of units so every
  name has its line. Legends sit at the right, outside the plot, where plotly makes room
  for them; titles and lines' labels sit above the plot.
* **Legends only for what is drawn.** A component, level or group that no unit has is
  not a trace.
* **Long unit names are shortened** (:func:`short_names`), the full name is in the hover.
* **Colour-blind and grey-scale safe.** The Okabe-Ito palette, and a fill pattern on
  every second series, so two series never differ by hue alone.

Plotly renders titles, labels and hover text as text (not HTML), so names from the data
cannot inject markup here.

Every figure starts from :func:`new_figure`, with plotly's ``plotly_white`` template cut
to the trace types drawn here (:data:`TRACE_TYPES`): a page looks the same, but builds
its first chart without validating the defaults of twenty other trace types (0.1 s of a
unit page) and carries about 4 KB less template in each chart.
"""

from __future__ import annotations

import functools
import json
import math
import pkgutil

import pandas as pd
import plotly.graph_objects as go

from pingyi_lib.common.fonts import FONT_STACK, text_width
from pingyi_lib.scheme.ruleset import Ruleset

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour vision deficiency
OKABE_ITO = {"blue": "#0072B2", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442", "orange": "#E69F00",
             "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999", "black": "#000000"}
# (colour, fill pattern): neighbours differ in lightness and in pattern, so they survive grey-scale printing
SERIES = [(OKABE_ITO["blue"], ""), (OKABE_ITO["sky"], "/"), (OKABE_ITO["yellow"], "."), (OKABE_ITO["vermillion"], "x"),
          (OKABE_ITO["grey"], "-"), ("#DDDDDD", ""), (OKABE_ITO["green"], "\\"), (OKABE_ITO["purple"], "+")]
COMPONENT_STYLE = {"onsite": SERIES[0], "survey": SERIES[1], "cases": (OKABE_ITO["orange"], "."),
                   "bonus": (OKABE_ITO["purple"], "x")}
COMPONENT_PARTS = {"onsite": "onsite_part", "survey": "survey_part", "cases": "case_points", "bonus": "bonus_points"}
GOOD, BAD = (OKABE_ITO["blue"], ""), (OKABE_ITO["vermillion"], "/")  # above / below a line that matters
LINE = OKABE_ITO["black"]
SHORT_NAME = 10  # characters of a unit name on an axis; the full name is in the hover
ROW_PX = 26  # height of one category line of a horizontal bar chart
FONT_PX = 13  # the layout's font size; tick labels inherit it
# the narrowest plot area a chart gets: on a phone (390 px) the legend beside the plot and the
# axis title leave about this much; axes whose ticks we choose are chosen to fit it
MIN_PLOT_PX = 200


def short_name(name: str, limit: int = SHORT_NAME) -> str:
    """A unit name cut in the middle to ``limit`` characters, keeping its start (the place)
    and its end (the kind of unit): 戚墅堰区行政服务中心安监窗口 → 戚墅堰区行…安监窗口."""
    name = str(name)
    if len(name) <= limit:
        return name
    tail = (limit - 1) // 2
    return name[:limit - 1 - tail] + "…" + name[-tail:]


def short_names(names, limit: int = SHORT_NAME) -> list[str]:
    """:func:`short_name` of each name, unless two would read the same: then the full names
    (an axis must never merge two units into one line)."""
    names = [str(n) for n in names]
    short = [short_name(n, limit) for n in names]
    return short if len(set(short)) == len(set(names)) else names


TRACE_TYPES = ("bar", "scatter", "heatmap")  # every trace type drawn here (tests/test_charts.py checks)


@functools.cache
def template() -> go.layout.Template:
    """plotly's ``plotly_white`` (read from the installed plotly, so it stays plotly's),
    keeping the trace defaults of :data:`TRACE_TYPES` only."""
    spec = json.loads(pkgutil.get_data("plotly", "package_data/templates/plotly_white.json"))
    spec["data"] = {k: v for k, v in spec["data"].items() if k in TRACE_TYPES}
    return go.layout.Template(spec)


def new_figure(data=None) -> go.Figure:
    """An empty figure (or one with ``data``) on :func:`template`; not on plotly's default
    template, which would be loaded and copied only to be replaced."""
    return go.Figure(data, layout={"template": template()})


def _style(trace: dict, style: tuple[str, str]) -> dict:
    """``trace`` (keyword arguments of a bar) with the colour and fill pattern of ``style``."""
    colour, pattern = style
    marker = {"color": colour, "line": {"color": "#333333", "width": 0.5}}
    if pattern:
        marker["pattern"] = {"shape": pattern, "fillmode": "overlay", "size": 6, "solidity": 0.3}
    return {**trace, "marker": marker}


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left", "y": 1, "yanchor": "top",
                             "yref": "container", "pad": {"t": 8, "l": 4}},
                      height=height,
                      font={"family": FONT_STACK, "size": FONT_PX}, margin={"l": 10, "r": 10, "t": 64, "b": 10},
                      legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top",
                              "traceorder": "normal"},
                      showlegend=len(fig.data) > 1, hoverlabel={"font": {"family": FONT_STACK}})
    # labels of a category axis turn upright when the screen is too narrow for them side by side
    # (a phone), never to plotly's 30° middle step, where neighbours still touch
    fig.update_xaxes(automargin=True, autotickangles=[0, 90])
    fig.update_yaxes(automargin=True)
    return fig


def tick_label(value: float) -> str:
    """How a chosen tick reads: 2.5, 50, 1500, and 万 from ten thousand on (3万, 100万)."""
    if value >= 10_000 and value % 10_000 == 0:
        return f"{value / 10_000:g}万"
    return f"{value:g}" if value < 1e6 else f"{value:.0f}"


TICK_SPACING_PX = 60  # at most one tick per 60 px of axis (short numbers; plotly's x axes take 80)


def log_ticks(lo: float, hi: float, plot_px: float = MIN_PLOT_PX, size: float = FONT_PX) -> list[float]:
    """Tick values for a log axis from ``lo`` to ``hi`` whose labels never touch on a plot
    ``plot_px`` wide, in any font of the stack (:func:`pingyi_lib.common.fonts.text_width`).

    Plotly's own ticks on a log axis spanning less than a decade are linear (120, 130, 140)
    and so crowd at the top end: their room depends on the font, and with Noto Sans CJK they
    collided. Here the candidates are the round ladders of a log axis (every 1st, 2nd or 3rd
    power of ten; 1-2-5; 1-2-3-5; every digit) and linear steps (1, 2, 5 × 10^k). Among those
    where every pair of neighbours is at least their half widths plus one em apart and every
    label stays within the plot (an end label sticking out meets the other axis's labels in
    the corner), the one with the most ticks up to one per :data:`TICK_SPACING_PX` wins (ties:
    the one spanning more of the axis, then the rounder ladder); when none has two ticks
    within that number, the fewest that do. Only when no two round numbers keep clear of the
    ends may an end label stand out.

    >>> log_ticks(28, 190)
    [50.0, 100.0, 150.0]
    >>> log_ticks(28, 190, plot_px=600)
    [30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 150.0]
    >>> log_ticks(120, 150)
    [130.0, 140.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        return []
    span = math.log10(hi) - math.log10(lo)
    k0, k1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    candidates = [[10.0 ** k for k in range(k0, k1 + 1) if k % every == 0] for every in (3, 2)]
    candidates += [[m * 10.0 ** k for k in range(k0, k1 + 1) for m in ladder]
                   for ladder in ((1,), (1, 2, 5), (1, 2, 3, 5), (1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9))]
    top = math.floor(math.log10(hi - lo))
    for k in (top, top - 1):
        for m in (5, 2, 1):
            step = m * 10.0 ** k
            first = math.ceil(lo / step)
            if hi / step - first < 100:  # a step giving hundreds of ticks never fits
                candidates.append([step * i for i in range(first, math.floor(hi / step) + 1)])

    def px(t: float) -> float:
        return (math.log10(t) - math.log10(lo)) / span * plot_px

    def half(t: float) -> float:
        return text_width(tick_label(t), size) / 2

    def fits(ticks: list[float]) -> bool:
        return all(px(b) - px(a) >= half(a) + half(b) + size for a, b in zip(ticks, ticks[1:]))

    def best(fitting: list[list[float]]) -> list[float]:
        if not fitting:
            return []
        target = max(2, int(plot_px // TICK_SPACING_PX))
        under = [t for t in fitting if len(t) <= target]
        if any(len(t) >= 2 for t in under):
            return max(under, key=lambda t: (len(t), round(math.log10(t[-1] / t[0]), 6)))  # first of equals
        over = [t for t in fitting if len(t) >= 2]
        return min(over, key=len) if over else fitting[0]

    sets = [s for s in (sorted({round(t, 9) for t in ticks if lo <= t <= hi}) for ticks in candidates) if s]
    inside = [[t for t in s if half(t) <= px(t) <= plot_px - half(t)] for s in sets]
    chosen = best([t for t in inside if t and fits(t)])
    if len(chosen) < 2:  # no two round numbers clear of the ends: let an end label stand out
        chosen = max(chosen, best([t for t in sets if fits(t)]), key=len)
    return chosen


def _rows_height(n: int, extra: int = 120, minimum: int = 260) -> int:
    return max(minimum, extra + ROW_PX * n)


def dimensions_bar(dims: pd.DataFrame, unit_name: str) -> go.Figure:
    """Questionnaire and on-site index per dimension (bars) with the group mean of each as a
    black mark (white-edged, so it shows on a dark bar too) on its own bar (scores.dimensions)."""
    fig = new_figure()
    parts = [c for c in ("问卷调查指数", "现场评议指数") if c in dims and dims[c].notna().any()]
    for i, col in enumerate(parts):
        fig.add_bar(**_style({"x": dims["评议内容"], "y": dims[col], "name": f"本单位{col}", "offsetgroup": col,
                              "hovertemplate": "%{x} " + col + "：%{y:.2f}<extra></extra>"}, SERIES[i]))
    for i, col in enumerate(parts):
        mean = f"{col}组平均"
        if dims[mean].notna().any():
            fig.add_scatter(x=dims["评议内容"], y=dims[mean], name=mean, mode="markers", offsetgroup=col,
                            marker={"symbol": ("diamond-wide", "circle")[i], "size": 13, "color": LINE,
                                    "line": {"width": 1.5, "color": "#FFFFFF"}},
                            hovertemplate="%{x} " + mean + "：%{y:.2f}<extra></extra>")
    fig.update_layout(scattermode="group", barmode="group")
    fig.update_yaxes(range=[0, 100], title="指数（0–100）")
    return _layout(fig, f"{unit_name}：各评议内容指数与组平均", height=380)


def distribution_bar(dist: pd.DataFrame, ruleset: Ruleset, title: str = "各评议内容答案分布") -> go.Figure:
    """Stacked horizontal shares of each answer level per item (scores.answer_distribution);
    a level nobody chose is not drawn (and not in the legend)."""
    cols = [lv.label for lv in ruleset.levels] + ["未作答"]
    total = dist[cols].sum(axis=1).where(lambda s: s > 0)
    fig = new_figure()
    for i, col in enumerate(cols):
        if not (dist[col] > 0).any():
            continue
        share = dist[col] / total * 100
        fig.add_bar(**_style({"y": dist["评议内容"], "x": share, "name": col, "orientation": "h",
                              "customdata": dist[col],
                              "hovertemplate": "%{y} " + col + "：%{customdata}份（%{x:.1f}%）<extra></extra>"},
                             SERIES[i % len(SERIES)]))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], title="占答卷的比例（%）")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=_rows_height(len(dist), extra=150))


def breakdown_bar(frame: pd.DataFrame, label: str, threshold: float, title: str,
                  count: str = "问卷（份）") -> go.Figure:
    """Questionnaire index per category (scores.breakdown, or per unit: scores.dimension_across_units
    with ``count`` 有效问卷（份）) with the 约谈 line; categories below it in the second style."""
    fig = new_figure()
    below = frame["问卷调查指数"] < threshold
    for mask, style, name in ((~below, GOOD, f"不低于{threshold:g}"), (below, BAD, f"低于{threshold:g}")):
        part = frame[mask]
        if len(part):
            fig.add_bar(**_style({"y": part[label], "x": part["问卷调查指数"], "orientation": "h", "name": name,
                                  "customdata": part[count],
                                  "hovertemplate": "%{y}：%{x:.2f}（%{customdata}份）<extra></extra>"}, style))
    _threshold(fig, threshold, f"约谈线 {threshold:g}")
    fig.update_xaxes(range=[0, 100], title="问卷调查指数（0–100）")
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=list(frame[label]))
    return _layout(fig, title, height=_rows_height(len(frame), extra=140))


def _threshold(fig: go.Figure, x: float, text: str) -> None:
    """A vertical dashed line with its label above the plot (never on a bar)."""
    fig.add_vline(x=x, line_dash="dash", line_color=LINE, line_width=1.5)
    fig.add_annotation(x=x, y=1, xref="x", yref="paper", yanchor="bottom", text=text, showarrow=False,
                       font={"size": 12})


def panel_bar(frame: pd.DataFrame, min_share: float) -> go.Figure:
    """The panel's composition (scores.panel); public and enterprise members in the first style."""
    fig = new_figure()
    share = frame["占比"] * 100
    public = frame["群众或企业代表"].astype(bool)
    for mask, style, name in ((public, GOOD, "群众代表和企业代表"), (~public, (OKABE_ITO["grey"], "/"), "其他代表")):
        if mask.any():
            fig.add_bar(**_style({"y": frame.loc[mask, "代表类别"], "x": share[mask], "orientation": "h",
                                  "name": name, "customdata": frame.loc[mask, "票数（票）"],
                                  "hovertemplate": "%{y}：%{customdata}票（%{x:.1f}%）<extra></extra>"}, style))
    fig.update_xaxes(title="占现场评议票的比例（%）", rangemode="tozero")
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=list(frame["代表类别"]))
    total = share[public].sum()
    return _layout(fig, f"现场评议代表构成：群众和企业代表合计{total:.1f}%（要求不少于{min_share:.0%}）",
                   height=_rows_height(len(frame), extra=130))


def components_stacked(units: pd.DataFrame, title: str, ruleset: Ruleset) -> go.Figure:
    """The composite of each unit as stacked parts (on-site, questionnaire, cases, bonus), one
    line per unit in league order; a part no unit has is not drawn."""
    u = units[units["composite"].notna()]
    names = u["name"].tolist()
    short = short_names(names)
    fig = new_figure()
    for comp, col in COMPONENT_PARTS.items():
        values = u[col]
        if not (values.fillna(0) > 0).any():
            continue
        label = ruleset.component_labels[comp]
        fig.add_bar(**_style({"y": short, "x": values, "name": label, "orientation": "h", "customdata": names,
                              "hovertemplate": "%{customdata} " + label + "：%{x:.2f}分<extra></extra>"},
                             COMPONENT_STYLE[comp]))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title="综合得分（分）", rangemode="tozero")
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=short)
    return _layout(fig, title, height=_rows_height(len(u)))


def heatmap(matrix: pd.DataFrame, title: str) -> go.Figure:
    """Unit × dimension indices (scores.heatmap_frame), each cell labelled with its value; a
    colour scale whose lightness rises steadily (cividis), so it reads in grey too."""
    names = list(matrix.index)
    short = short_names(names)
    values = matrix.to_numpy()
    fig = new_figure(go.Heatmap(z=values, x=list(matrix.columns), y=short, colorscale="Cividis", zmin=60, zmax=100,
                               customdata=[[n] * len(matrix.columns) for n in names],
                               colorbar={"thickness": 14},  # the title says these are indices
                               text=[[f"{v:.1f}" if v == v else "" for v in row] for row in values],
                               texttemplate="%{text}", hovertemplate="%{customdata} %{x}：%{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", type="category")
    fig = _layout(fig, title, height=_rows_height(len(matrix), extra=150))
    fig.update_layout(margin={"t": 90})
    return fig


def satisfaction_bar(units: pd.DataFrame, threshold: float, title: str) -> go.Figure:
    """Satisfaction per unit against the 约谈 line, highest first; units below it in the
    second style (colour and pattern)."""
    u = units[units["satisfaction"].notna()].sort_values("satisfaction", ascending=False, kind="stable")
    names = u["name"].tolist()
    short = short_names(names)
    fig = new_figure()
    below = (u["satisfaction"] < threshold).to_numpy()
    for mask, style, name in ((~below, GOOD, f"不低于{threshold:g}%"), (below, BAD, f"低于{threshold:g}%")):
        if mask.any():
            fig.add_bar(**_style({"y": [s for s, m in zip(short, mask) if m], "x": u["satisfaction"][mask],
                                  "orientation": "h", "name": name, "customdata": [n for n, m in zip(names, mask) if m],
                                  "hovertemplate": "%{customdata}：%{x:.2f}%<extra></extra>"}, style))
    _threshold(fig, threshold, f"约谈线 {threshold:g}%")
    low = min(60.0, float(u["satisfaction"].min()) - 5) if len(u) else 60.0
    fig.update_xaxes(range=[low, 100], title="群众满意度（%）")
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=short)
    return _layout(fig, title, height=_rows_height(len(u)))


def lookback_bar(cmp: pd.DataFrame, title: str) -> go.Figure:
    """Change in composite per unit present in both rounds (lookback.compare), largest rise first."""
    x = cmp[cmp["composite_change"].notna()].sort_values("composite_change", ascending=False, kind="stable")
    names = x["name"].tolist()
    short = short_names(names)
    fig = new_figure()
    down = (x["composite_change"] < 0).to_numpy()
    for mask, style, name in ((~down, GOOD, "上升或持平"), (down, BAD, "下降")):
        if mask.any():
            part = x[mask]
            error = {"type": "data", "symmetric": False, "color": LINE, "thickness": 1,
                     "array": part["composite_change_hi"] - part["composite_change"],
                     "arrayminus": part["composite_change"] - part["composite_change_lo"]} \
                if "composite_change_lo" in part else None
            fig.add_bar(**_style({"y": [s for s, m in zip(short, mask) if m], "x": part["composite_change"],
                                  "orientation": "h", "name": name, "error_x": error,
                                  "customdata": [[n, p, c] for n, p, c in
                                                 zip(part["name"], part["composite_prev"], part["composite_now"])],
                                  "hovertemplate": "%{customdata[0]}：%{customdata[1]:.2f} → %{customdata[2]:.2f}"
                                                   "（%{x:+.2f}分）<extra></extra>"}, style))
    fig.add_vline(x=0, line_color=LINE, line_width=1)
    fig.update_xaxes(title="综合得分变化（分）")
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=short)
    return _layout(fig, title, height=_rows_height(len(x)))


def trend_lines(frame: pd.DataFrame, title: str) -> go.Figure:
    """A unit's composite and satisfaction per year (sections.trend.unit_chart_frame), each
    year with its interval (the ruleset's level) as an error bar; the years as categories (no 2010.5 tick)."""
    fig = new_figure()
    years = [str(int(y)) for y in frame["year"]]
    for i, (col, name, unit) in enumerate((("composite", "综合得分", "分"), ("satisfaction", "群众满意度", "%"))):
        y = frame[col]
        fig.add_scatter(x=years, y=y, name=name, mode="lines+markers",
                        line={"color": SERIES[i * 3][0], "dash": "solid" if i == 0 else "dash"},
                        marker={"size": 8, "symbol": "circle" if i == 0 else "square"},
                        error_y={"type": "data", "symmetric": False, "color": SERIES[i * 3][0], "thickness": 1,
                                 "array": frame[f"{col}_hi"] - y, "arrayminus": y - frame[f"{col}_lo"]},
                        hovertemplate="%{x}年 " + name + "：%{y:.2f}" + unit + "<extra></extra>")
    fig.update_xaxes(type="category", title="年度")
    fig.update_yaxes(title="得分 / 满意度")
    return _layout(fig, title, height=360)


def responses_timeline(frame: pd.DataFrame, title: str) -> go.Figure:
    """Questionnaires per time bin (sections.integrity.timeline), excluded ones included;
    bins holding a burst (短时集中提交) marked in red. One unit: bars; several: a line each."""
    fig = new_figure()
    names = list(dict.fromkeys(frame["name"]))
    for name in names:
        f = frame[frame["name"] == name]
        hover = "%{x|%Y-%m-%d %H:%M} " + ("" if len(names) == 1 else "%{fullData.name} ") + \
            "%{y}份（剔除%{customdata}份）<extra></extra>"
        if len(names) == 1:
            fig.add_bar(x=f["start"], y=f["responses"], name="问卷数", marker_color=OKABE_ITO["sky"],
                        customdata=f["excluded"], hovertemplate=hover)
        else:
            fig.add_scatter(x=f["start"], y=f["responses"], name=name, mode="lines+markers",
                            marker={"size": 4}, customdata=f["excluded"], hovertemplate=hover)
    b = frame[frame["burst"] > 0]
    if len(b):
        fig.add_scatter(x=b["start"], y=b["responses"], name="短时集中提交", mode="markers",
                        marker={"color": OKABE_ITO["vermillion"], "size": 11, "symbol": "triangle-down",
                                 "line": {"color": LINE, "width": 1}},
                        customdata=b[["name", "burst", "excluded"]].to_numpy(),
                        hovertemplate="%{customdata[0]} %{x|%Y-%m-%d %H:%M}: %{y}份，其中集中提交%{customdata[1]}份、"
                                      "剔除%{customdata[2]}份<extra></extra>")
    fig.update_yaxes(title="问卷（份）", rangemode="tozero")
    return _layout(fig, title, height=360)


def caterpillar(units: pd.DataFrame, level: float, title: str) -> go.Figure:
    """Composite with its interval per ranked unit of one rank group, best first, the bottom
    group shaded and drawn in the second style (needs ``score(ds, intervals=True)``)."""
    u = units[units["composite"].notna() & units["rank"].notna()].sort_values(["rank", "unit_id"], kind="stable")
    names = u["name"].tolist()
    short = short_names(names)
    fig = new_figure()
    bottom = u["in_bottom"].to_numpy(dtype=bool)
    if bottom.any():  # the bottom ranks are the last lines of the axis
        fig.add_hrect(y0=len(u) - bottom.sum() - 0.5, y1=len(u) - 0.5, fillcolor=OKABE_ITO["vermillion"],
                      opacity=0.08, line_width=0)
    hover = ("%{customdata[0]}：%{x:.2f}（" + f"{level:.0%}" + "区间 %{customdata[1]:.2f}–%{customdata[2]:.2f}；"
             "第%{customdata[3]:.0f}名，排名区间 %{customdata[4]:.0f}–%{customdata[5]:.0f}）<extra></extra>")
    for mask, (colour, _), name, symbol in ((~bottom, GOOD, "其他单位", "circle"),
                                            (bottom, BAD, "排名靠后", "diamond")):
        if mask.any():
            part = u[mask]
            fig.add_scatter(x=part["composite"], y=[s for s, m in zip(short, mask) if m], mode="markers", name=name,
                            marker={"color": colour, "size": 10, "symbol": symbol, "line": {"color": LINE, "width": 1}},
                            error_x={"type": "data", "symmetric": False, "color": LINE, "thickness": 1.5,
                                     "array": part["composite_hi"] - part["composite"],
                                     "arrayminus": part["composite"] - part["composite_lo"]},
                            customdata=list(zip(part["name"], part["composite_lo"], part["composite_hi"],
                                                part["rank"].astype(float), part["rank_lo"].astype(float),
                                                part["rank_hi"].astype(float))),
                            hovertemplate=hover)
    mean = u["group_mean"].dropna()
    if len(mean):
        _threshold(fig, float(mean.iloc[0]), f"组平均分 {float(mean.iloc[0]):.2f}")
    fig.update_xaxes(title=f"综合得分及其{level:.0%}区间（分）")
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=short)
    return _layout(fig, title, height=_rows_height(len(u)))


def funnel_plot(points: pd.DataFrame, limits: pd.DataFrame, centre: dict, threshold: float,
                title: str) -> go.Figure:
    """Satisfaction against valid questionnaires (stats.funnel) with control limits around the
    group mean, the 约谈 line, and the bottom group in the second style. Points carry no
    labels (they crowd); sections.uncertainty.funnel_table names each unit's place."""
    fig = new_figure()
    levels = sorted({c.split("_", 1)[1] for c in limits.columns if c.startswith("lo_")}, key=float)
    for lvl, dash in zip(levels, ("dash", "dot", "dashdot")):
        name = f"{float(lvl):.1%}控制限".replace(".0%", "%")
        for side in ("lo", "hi"):
            fig.add_scatter(x=limits["n"], y=limits[f"{side}_{lvl}"], mode="lines", name=name,
                            line={"color": OKABE_ITO["grey"], "dash": dash, "width": 1.5},
                            showlegend=side == "lo", legendgroup=name, hoverinfo="skip")
    fig.add_hline(y=centre["mean"], line_color=OKABE_ITO["grey"], line_width=1)
    fig.add_annotation(x=1, y=centre["mean"], xref="paper", yref="y", xanchor="right", yanchor="bottom",
                       text=f"组平均 {centre['mean']:.2f}%", showarrow=False, font={"size": 12})
    fig.add_hline(y=threshold, line_dash="dash", line_color=LINE, line_width=1.5)
    fig.add_annotation(x=0, y=threshold, xref="paper", yref="y", xanchor="left", yanchor="bottom",
                       text=f"约谈线 {threshold:g}%", showarrow=False, font={"size": 12})
    for bottom, (colour, _), label, symbol in ((False, GOOD, "其他单位", "circle"),
                                               (True, BAD, "排名靠后", "diamond")):
        p = points[points["in_bottom"] == bottom]
        if len(p):  # no text beside the points (they crowd): names in the hover and in the table below the chart
            fig.add_scatter(x=p["n"], y=p["satisfaction"], mode="markers", name=label,
                            marker={"color": colour, "size": 11, "symbol": symbol, "line": {"color": LINE, "width": 1}},
                            customdata=p["name"],
                            hovertemplate="%{customdata}：%{y:.2f}%（有效问卷%{x}份）<extra></extra>")
    lo, hi = float(limits["n"].min()), float(limits["n"].max())
    ticks = log_ticks(lo, hi)  # round numbers that do not crowd, whatever the font (plotly's crowd)
    fig.update_xaxes(type="log", title="有效问卷数（份，对数刻度）", range=[math.log10(lo), math.log10(hi)],
                     tickmode="array", tickvals=ticks, ticktext=[tick_label(t) for t in ticks])
    fig.update_yaxes(title="群众满意度（%）")
    return _layout(fig, title, height=480)


CHART_UNITS = 20  # lines of one collection chart; the units furthest from their minimum are drawn


def collection_lines(daily: pd.DataFrame, units: pd.DataFrame, minimum: int, deadline, title: str) -> go.Figure:
    """Cumulative valid questionnaires per unit and day (followup.collection ``Progress.daily``,
    rows: units, columns: days) against the minimum (a dashed line) and the deadline (a
    vertical line); a unit short of the minimum continues as a dotted line to its projected
    day. At most :data:`CHART_UNITS` units, those with the fewest so far; the vertical axis
    ends at twice the minimum when a drawn unit is short of it, so the units that matter are
    not squeezed at the bottom by the large ones."""
    last = daily.iloc[:, -1] if daily.shape[1] else pd.Series(0, index=daily.index)
    drawn = last.sort_values(kind="stable").index[:CHART_UNITS]
    u = units.set_index("unit_id")
    fig = new_figure()
    days = [pd.Timestamp(d) for d in daily.columns]
    for i, uid in enumerate(drawn):
        name, colour = str(u.at[uid, "name"]), SERIES_LINES[i % len(SERIES_LINES)]
        fig.add_scatter(x=days, y=daily.loc[uid].to_numpy(), name=short_name(name), mode="lines",
                        line={"color": colour, "width": 2 if u.at[uid, "short_by"] else 1},
                        legendgroup=uid, customdata=[name] * len(days),
                        hovertemplate="%{customdata} %{x|%Y-%m-%d}：有效问卷%{y}份<extra></extra>")
        to = u.at[uid, "projected_day"]
        if u.at[uid, "short_by"] and to is not None and days:
            fig.add_scatter(x=[days[-1], pd.Timestamp(to)], y=[last[uid], minimum], mode="lines",
                            line={"color": colour, "dash": "dot", "width": 1.5}, legendgroup=uid, showlegend=False,
                            customdata=[name, name],
                            hovertemplate="%{customdata} 预计%{x|%Y-%m-%d}达到%{y}份<extra></extra>")
    fig.add_hline(y=minimum, line={"color": LINE, "dash": "dash", "width": 1},
                  annotation_text=f"最低{minimum}份", annotation_position="top left")
    if deadline is not None:
        end = pd.Timestamp(deadline)
        fig.add_vline(x=end.value / 1e6, line={"color": OKABE_ITO["vermillion"], "width": 1.5},  # ms: a date axis
                      annotation_text=f"截止{end.strftime('%m-%d')}", annotation_position="top left")
        fig.update_xaxes(range=[days[0] if days else end, max(end, days[-1] if days else end)])
    short = bool(len(drawn)) and bool((u.loc[drawn, "short_by"] > 0).any())
    top = 2 * minimum if short and minimum and last[drawn].max() > 2 * minimum else None
    fig.update_yaxes(title="有效问卷（份，累计）", rangemode="tozero", range=[0, top] if top else None)
    fig.update_xaxes(tickformat="%m-%d")
    more = len(daily) - len(drawn)
    notes = ([f"只画出问卷最少的{len(drawn)}个单位"] if more > 0 else []) + (["纵轴画到最低要求的两倍"] if top else [])
    return _layout(fig, title + (f"（{'，'.join(notes)}）" if notes else ""), height=440)


# distinct line colours (Okabe-Ito first, then darker tones), for charts of many units
SERIES_LINES = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black", "yellow")] \
    + ["#7F3C8D", "#11A579", "#3969AC", "#F2B701", "#E73F74", "#80BA5A", "#E68310", "#008695", "#CF1C90",
       "#4B4B8F", "#A5AA99", "#8C564B"]
