"""Plotly figure builders: a frame from views.py in, a figure out, no I/O.

All figures share one template with a Chinese font stack, so they read the same in
JupyterLab and in an offline HTML report. Plotly renders titles, labels and hover
text as text (not HTML), so names from the data cannot inject markup here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from pingyi_lib.scheme.ruleset import Ruleset

# the Chinese fonts readers have, in order (pages use the same stack: output/page.py)
FONT_STACK = ('"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", '
              '"Source Han Sans SC", sans-serif')
LEVEL_COLOURS = ["#1a7f37", "#4ac26b", "#aceebb", "#cf222e", "#afb8c1", "#eaeef2"]
COMPONENT_COLOURS = {"onsite": "#0969da", "survey": "#54aeff", "cases": "#bf8700", "bonus": "#8250df"}
COMPONENT_PARTS = {"onsite": "onsite_part", "survey": "survey_part", "cases": "case_points", "bonus": "bonus_points"}


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0}, height=height, template="plotly_white",
                      font={"family": FONT_STACK, "size": 13}, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend={"orientation": "h", "y": -0.15})
    return fig


def dimensions_bar(dims: pd.DataFrame, unit_name: str) -> go.Figure:
    """Questionnaire and on-site index per dimension against the group mean (views.dimensions)."""
    fig = go.Figure()
    for col, colour in (("问卷调查", "#0969da"), ("现场评议", "#54aeff")):
        if dims[col].notna().any():
            fig.add_bar(x=dims["评议内容"], y=dims[col], name=f"{unit_name} {col}", marker_color=colour)
    for col, colour in (("问卷调查组平均", "#cf222e"), ("现场评议组平均", "#bf8700")):
        if dims[col].notna().any():
            fig.add_scatter(x=dims["评议内容"], y=dims[col], name=col, mode="markers+lines",
                            line={"dash": "dot", "color": colour})
    fig.update_yaxes(range=[0, 100], title="指数")
    return _layout(fig, "各评议内容指数与组平均")


def distribution_bar(dist: pd.DataFrame, ruleset: Ruleset, title: str = "各评议内容答案分布") -> go.Figure:
    """Stacked horizontal shares of each answer level per item (views.answer_distribution)."""
    cols = [lv.label for lv in ruleset.levels] + ["未作答"]
    total = dist[cols].sum(axis=1).where(lambda s: s > 0)
    fig = go.Figure()
    for col, colour in zip(cols, LEVEL_COLOURS):
        share = dist[col] / total * 100
        fig.add_bar(y=dist["评议内容"], x=share, name=col, orientation="h", marker_color=colour,
                    customdata=dist[col], hovertemplate="%{y} " + col + ": %{customdata} (%{x:.1f}%)<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], title="占比 %")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=320)


def breakdown_bar(frame: pd.DataFrame, label: str, threshold: float, title: str) -> go.Figure:
    """Questionnaire index per category (views.breakdown) with the 约谈 line."""
    fig = go.Figure()
    fig.add_bar(x=frame[label], y=frame["问卷调查指数"], marker_color="#0969da", customdata=frame["问卷数"],
                hovertemplate="%{x}: %{y:.2f}（%{customdata}份）<extra></extra>", name="问卷调查指数")
    fig.add_hline(y=threshold, line_dash="dash", line_color="#cf222e")
    fig.update_yaxes(range=[0, 100], title="指数")
    return _layout(fig, title, height=340)


def panel_bar(frame: pd.DataFrame, min_share: float) -> go.Figure:
    """The panel's composition (views.panel); public and enterprise members highlighted."""
    colours = ["#1a7f37" if p else "#afb8c1" for p in frame["群众或企业代表"]]
    fig = go.Figure(go.Bar(x=frame["代表类别"], y=frame["占比"] * 100, marker_color=colours,
                           customdata=frame["票数"], hovertemplate="%{x}: %{customdata}票（%{y:.1f}%）<extra></extra>"))
    share = frame.loc[frame["群众或企业代表"], "占比"].sum() * 100
    fig.update_yaxes(title="占比 %")
    return _layout(fig, f"现场评议代表构成：群众代表和企业代表合计 {share:.1f}%（要求不少于 {min_share:.0%}）",
                   height=320)


def components_stacked(units: pd.DataFrame, title: str, ruleset: Ruleset) -> go.Figure:
    """The composite of each unit as stacked parts: on-site, questionnaire, cases, bonus."""
    u = units[units["composite"].notna()]
    fig = go.Figure()
    for comp, col in COMPONENT_PARTS.items():
        label = ruleset.component_labels[comp]
        fig.add_bar(x=u["name"], y=u[col], name=label, marker_color=COMPONENT_COLOURS[comp],
                    hovertemplate="%{x} " + label + ": %{y:.2f}<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="得分")
    return _layout(fig, title, height=420)


def heatmap(matrix: pd.DataFrame, title: str) -> go.Figure:
    """Unit × dimension indices (views.heatmap_frame)."""
    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index),
                               colorscale="RdYlGn", zmin=60, zmax=100,
                               text=[[f"{v:.1f}" if v == v else "" for v in row] for row in matrix.to_numpy()],
                               texttemplate="%{text}", hovertemplate="%{y} %{x}: %{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=max(320, 28 * len(matrix) + 120))


def satisfaction_bar(units: pd.DataFrame, threshold: float, title: str) -> go.Figure:
    """Satisfaction per unit against the 约谈 line; units below it in red."""
    u = units[units["satisfaction"].notna()].sort_values("satisfaction", ascending=False)
    colours = ["#cf222e" if s < threshold else "#1a7f37" for s in u["satisfaction"]]
    fig = go.Figure(go.Bar(x=u["name"], y=u["satisfaction"], marker_color=colours,
                           hovertemplate="%{x}: %{y:.2f}%<extra></extra>"))
    fig.add_hline(y=threshold, line_dash="dash", line_color="#cf222e",
                  annotation_text=f"{threshold:g}%", annotation_position="top left")
    fig.update_yaxes(range=[min(60, float(u["satisfaction"].min()) - 5) if len(u) else 60, 100], title="群众满意度 %")
    return _layout(fig, title, height=400)


def lookback_bar(cmp: pd.DataFrame, title: str) -> go.Figure:
    """Change in composite per unit present in both rounds (lookback.compare), with the
    interval of the change when both rounds have intervals."""
    x = cmp[cmp["composite_change"].notna()].sort_values("composite_change", ascending=False)
    colours = ["#1a7f37" if v >= 0 else "#cf222e" for v in x["composite_change"]]
    error = None
    if "composite_change_lo" in x:
        error = {"type": "data", "symmetric": False, "array": x["composite_change_hi"] - x["composite_change"],
                 "arrayminus": x["composite_change"] - x["composite_change_lo"], "color": "#57606a"}
    fig = go.Figure(go.Bar(x=x["name"], y=x["composite_change"], marker_color=colours, error_y=error,
                           customdata=x[["composite_prev", "composite_now"]].to_numpy(),
                           hovertemplate="%{x}: %{customdata[0]:.2f} → %{customdata[1]:.2f}"
                                         "（%{y:+.2f}）<extra></extra>"))
    fig.add_hline(y=0, line_color="#57606a")
    fig.update_yaxes(title="分")
    return _layout(fig, title, height=400)


def caterpillar(units: pd.DataFrame, level: float, title: str) -> go.Figure:
    """Composite with its interval per unit of one rank group, sorted, the bottom group shaded
    (needs the columns of ``score(ds, intervals=True)``)."""
    u = units[units["composite"].notna() & units["rank"].notna()] \
        .sort_values(["rank", "unit_id"], ascending=[False, True], kind="stable")  # worst at the bottom
    fig = go.Figure()
    bottom = u[u["in_bottom"]]
    if len(bottom):
        fig.add_hrect(y0=-0.5, y1=len(bottom) - 0.5, fillcolor="#cf222e", opacity=0.08, line_width=0,
                      annotation_text="排名靠后", annotation_position="top left")
    colours = ["#cf222e" if b else "#0969da" for b in u["in_bottom"]]
    hover = ("%{y}: %{x:.2f}（" + f"{level:.0%}" + "区间 %{customdata[0]:.2f}–%{customdata[1]:.2f}；"
             "第%{customdata[2]:.0f}名，区间 %{customdata[3]:.0f}–%{customdata[4]:.0f}）<extra></extra>")
    fig.add_scatter(x=u["composite"], y=u["name"], mode="markers", marker={"color": colours, "size": 9},
                    error_x={"type": "data", "symmetric": False, "array": u["composite_hi"] - u["composite"],
                             "arrayminus": u["composite"] - u["composite_lo"], "color": "#57606a", "thickness": 1.5},
                    customdata=u[["composite_lo", "composite_hi", "rank", "rank_lo", "rank_hi"]].astype(float)
                    .to_numpy(), hovertemplate=hover, name="综合得分")
    mean = u["group_mean"].dropna()
    if len(mean):
        fig.add_vline(x=float(mean.iloc[0]), line_dash="dot", line_color="#57606a",
                      annotation_text=f"平均分 {float(mean.iloc[0]):.2f}", annotation_position="top")
    fig.update_xaxes(title=f"综合得分及其{level:.0%}区间")
    fig.update_layout(showlegend=False)
    return _layout(fig, title, height=max(300, 30 * len(u) + 120))


def funnel_plot(points: pd.DataFrame, limits: pd.DataFrame, centre: dict, threshold: float,
                title: str) -> go.Figure:
    """Satisfaction against valid questionnaires with control limits around the group mean
    (stats.funnel), the 约谈 line, and the bottom group marked."""
    fig = go.Figure()
    levels = sorted({c.split("_", 1)[1] for c in limits.columns if c.startswith("lo_")}, key=float)
    for lvl, dash in zip(levels, ("dash", "dot", "dashdot")):
        name = f"{float(lvl):.1%}控制限".replace(".0%", "%")
        for side in ("lo", "hi"):
            fig.add_scatter(x=limits["n"], y=limits[f"{side}_{lvl}"], mode="lines", name=name,
                            line={"color": "#57606a", "dash": dash, "width": 1}, showlegend=side == "lo",
                            hoverinfo="skip")
    fig.add_hline(y=centre["mean"], line_color="#57606a", line_width=1,
                  annotation_text=f"组平均 {centre['mean']:.2f}", annotation_position="bottom right")
    fig.add_hline(y=threshold, line_dash="dash", line_color="#cf222e",
                  annotation_text=f"{threshold:g}% 约谈线", annotation_position="top left")
    for bottom, label, colour, symbol in ((False, "其他单位", "#0969da", "circle"),
                                          (True, "排名靠后", "#cf222e", "diamond")):
        p = points[points["in_bottom"] == bottom]
        if len(p):
            fig.add_scatter(x=p["n"], y=p["satisfaction"], mode="markers+text", text=p["name"],
                            textposition="top center", textfont={"size": 10}, name=label,
                            marker={"color": colour, "size": 10, "symbol": symbol},
                            hovertemplate="%{text}: %{y:.2f}%（有效问卷%{x}份）<extra></extra>")
    fig.update_xaxes(type="log", title="有效问卷数（对数刻度）")
    fig.update_yaxes(title="群众满意度 %")
    return _layout(fig, title, height=460)
