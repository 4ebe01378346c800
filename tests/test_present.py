"""Presentation helpers: hostile text from the data is escaped, charts embed plotly.js once."""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go

from pingyi_lib.output import page

HOSTILE = '<img src=x onerror="alert(1)">'


def test_para_escapes_values_but_keeps_template():
    html = str(page.para("<b>{name}</b>排名第{rank}", name=HOSTILE, rank=3))
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<b>" in html and "排名第3" in html


def test_table_escapes_cells_headers_and_links():
    df = pd.DataFrame({"unit_id": ["a<script>"], HOSTILE: [HOSTILE], "score": [81.004]})
    html = str(page.table(df, links={"a<script>": 'units/"x".html'}, link_column="unit_id"))
    assert "<script>" not in html and "<img" not in html
    assert 'href="units/&quot;x&quot;.html"' in html
    assert "81.00" in html


def test_table_shows_missing_as_dash_and_empty_message():
    html = str(page.table(pd.DataFrame({"x": [None, float("nan")]})))
    assert html.count("—") == 2
    assert "无案例" in str(page.table(pd.DataFrame(), empty="无案例"))


def test_card_and_bullets_escape():
    assert "<img" not in str(page.card({HOSTILE: HOSTILE}))
    assert "<img" not in str(page.bullets([HOSTILE]))


def fig():
    return go.Figure(go.Bar(x=["甲"], y=[1]))


def test_page_loads_plotlyjs_once_from_a_relative_path():
    pg = page.Page("../assets/plotly.min.js")
    first, second = str(pg.figure(fig())), str(pg.figure(fig()))
    assert '<script charset="utf-8" src="../assets/plotly.min.js"></script>' in first
    assert "plotly.min.js" not in second
    for html in (first, second):
        assert not re.search(r"""src=["']?(https?:)?//""", html)  # nothing from the network


def test_page_inline_embeds_plotlyjs_on_first_figure_only():
    pg = page.Page(page.INLINE)
    first, second = str(pg.figure(fig())), str(pg.figure(fig()))
    assert len(first) > 1_000_000 and len(second) < 50_000
    assert not re.search(r"""<script[^>]+src=""", first)  # embedded, not loaded


def test_page_interactive_returns_the_figure():
    f = fig()
    assert page.Page("").figure(f) is f


def test_share_columns_show_as_percentages():
    html = str(page.table(pd.DataFrame({"占比": [0.4186], "指数": [0.4186]})))
    assert "41.9%" in html and "0.42" in html


def test_chart_shows_a_sentence_instead_of_an_empty_chart():
    pg = page.Page("assets/plotly.min.js")
    assert str(pg.chart(pd.DataFrame(), lambda d: fig(), "本单位没有现场评议。")) == \
        '<p class="pingyi-prose">本单位没有现场评议。</p>'
    assert str(pg.chart(None, lambda d: fig(), "无")).endswith("无</p>")
    assert 'class="pingyi-chart"' in str(pg.chart(pd.DataFrame({"x": [1]}), lambda d: fig(), "无"))
