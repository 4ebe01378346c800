"""Showing results in a notebook or an HTML report, safely and offline.

Everything that reaches a page goes through here, so two promises hold in one place:

* **Text from the data is escaped.** Unit names, comments and case summaries come
  from the public; :func:`esc` is applied to every value put into HTML, and tables are
  rendered with ``escape=True``. Never ``IPython.display.Markdown`` or ``df.style``
  with data in it (both let HTML through: see REPORTING-NOTES.md).
* **Charts draw without a network.** In a report, :class:`Page` turns a figure into
  HTML with plotly.js either embedded once per page or loaded from a local file
  beside the pages; MathJax is never requested. Interactively it just returns the
  figure, which JupyterLab renders itself.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

from pingyi_lib.common.numbers import format_number, format_share
from pingyi_lib.common.values import is_missing
from pingyi_lib.sections.charts import FONT_STACK

INLINE = "inline"  # embed plotly.js in the page (self-contained, ~4.8 MB per page)

def esc(value) -> str:
    """HTML-escape any value (quotes too); None/NaN become ''."""
    return "" if is_missing(value) else html.escape(str(value), quote=True)


class Html:
    """A piece of trusted HTML that displays itself (in JupyterLab and in nbconvert)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


def para(template: str, **values) -> Html:
    """A paragraph of prose; every value is escaped before it is put into ``template``.

    >>> str(para("{name}排名第{rank}", name="<b>x</b>", rank=3))
    '<p class="pingyi-prose">&lt;b&gt;x&lt;/b&gt;排名第3</p>'
    """
    return Html(f'<p class="pingyi-prose">{template.format(**{k: esc(v) for k, v in values.items()})}</p>')


def heading(text: str, level: int = 3) -> Html:
    return Html(f"<h{level}>{esc(text)}</h{level}>")


def bullets(lines) -> Html:
    items = "".join(f"<li>{esc(x)}</li>" for x in lines)
    return Html(f'<ul class="pingyi-list">{items}</ul>' if items else '<p class="pingyi-empty">无</p>')


PERCENT_COLUMNS = frozenset({"占比", "满意率", "完成率", "覆盖率", "实际占比", "目标占比", "偏差",  # shares 0-1
                             "靠后概率", "约谈概率", "不评优概率", "触发概率"})  # in the frame, shown as 12.3%


def table(df: pd.DataFrame, *, links: Mapping[str, str] | None = None, link_column: str | None = None,
          digits: int = 2, empty: str = "无") -> Html:
    """An escaped HTML table; floats shown with ``digits`` decimals (shares in the columns
    named in PERCENT_COLUMNS as percentages), missing as '—'.

    ``links`` maps a value of ``link_column`` to a relative URL; those cells become links
    (URL and text both escaped).
    """
    if df is None or not len(df):
        return Html(f'<p class="pingyi-empty">{esc(empty)}</p>')
    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for col, v in zip(df.columns, row):
            if isinstance(v, float) and col in PERCENT_COLUMNS:
                text = format_share(v)
            else:
                text = format_number(v, digits) if isinstance(v, float) else ("—" if is_missing(v) else esc(v))
            if isinstance(v, bool):
                text = "是" if v else "否"
            if links and col == link_column and v in links:
                text = f'<a href="{esc(links[v])}">{text}</a>'
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            cells.append(f'<td class="{"num" if num else "txt"}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return Html(f'<table class="pingyi-table"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(body)}</tbody></table>')


def card(items: Mapping[str, str]) -> Html:
    """Key figures as a row of tiles: {label: already formatted value}."""
    tiles = "".join(f'<div class="pingyi-tile"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>'
                    for k, v in items.items())
    return Html(f'<div class="pingyi-card">{tiles}</div>')


class Page:
    """Where the charts of one page get their plotly.js.

    ``plotlyjs``:
      * ``""`` — interactive (JupyterLab): :meth:`figure` returns the figure itself;
      * ``"inline"`` — the first figure embeds plotly.js, later figures reuse it;
      * a relative path such as ``"../assets/plotly.min.js"`` — the first figure loads it
        with a ``<script src>`` (works from ``file://``), no network.
    """

    def __init__(self, plotlyjs: str = ""):
        self.plotlyjs = plotlyjs
        self._loaded = False
        self._n = 0

    def figure(self, fig):
        if not self.plotlyjs:
            return fig
        include = False if self._loaded else (True if self.plotlyjs == INLINE else self.plotlyjs)
        self._loaded = True
        self._n += 1
        markup = fig.to_html(full_html=False, include_plotlyjs=include, include_mathjax=False,
                             div_id=f"pingyi-chart-{self._n}", config={"displaylogo": False, "responsive": True})
        return Html(f'<div class="pingyi-chart">{markup}</div>')

    def chart(self, frame, build, empty: str):
        """``build(frame)`` shown as a figure, or the sentence ``empty`` when there is no
        data (``frame`` None or without rows): a section never shows a blank chart."""
        if frame is None or not len(frame):
            return para("{text}", text=empty)
        return self.figure(build(frame))

    def style(self) -> Html:
        """The page's CSS (font stack that finds Chinese fonts users have, tables, tiles)."""
        return Html(f"<style>{PAGE_CSS}</style>")


PAGE_CSS = f"""
body, .jp-Notebook, .jp-RenderedHTMLCommon {{ font-family: {FONT_STACK}; }}
.pingyi-card {{ display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 16px; }}
.pingyi-tile {{ border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; min-width: 110px; }}
.pingyi-tile .v {{ font-size: 1.5em; font-weight: 600; }}
.pingyi-tile .k {{ color: #57606a; font-size: .9em; }}
table.pingyi-table {{ border-collapse: collapse; margin: 6px 0 14px; font-size: .92em; }}
table.pingyi-table th, table.pingyi-table td {{ border: 1px solid #d0d7de; padding: 3px 8px; }}
table.pingyi-table th {{ background: #f6f8fa; }}
table.pingyi-table th, .jp-RenderedHTMLCommon table.pingyi-table th, table.pingyi-table td.txt {{ text-align: left; }}
table.pingyi-table td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.pingyi-flag {{ color: #b42318; font-weight: 600; }}
.pingyi-empty {{ color: #57606a; }}
"""
