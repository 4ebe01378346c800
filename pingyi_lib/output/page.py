"""Showing results in a notebook or an HTML report, safely and offline.

Everything that reaches a page goes through here, so two promises hold in one place:

* **Text from the data is escaped and masked.** Unit names, comments and case summaries come
  from the public; :func:`esc` is applied to every value put into HTML (phone and ID numbers,
  e-mail addresses and plates masked on the way: a page is published), and tables are
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

from pingyi_lib.common.fonts import FONT_STACK
from pingyi_lib.common.masking import mask_personal_data
from pingyi_lib.common.numbers import format_number, format_share
from pingyi_lib.common.values import is_missing

INLINE = "inline"  # embed plotly.js in the page (self-contained, ~4.8 MB per page)

def esc(value) -> str:
    """HTML-escape any value (quotes too), personal values masked (phones, ID numbers, e-mail,
    plates: a page is published); None/NaN become ''."""
    return "" if is_missing(value) else html.escape(mask_personal_data(str(value)), quote=True)


def esc_url(value) -> str:
    """A link's address, HTML-escaped (not masked: it names a page, not a person)."""
    return html.escape(str(value), quote=True)


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


def bullets(lines, empty: str = "无") -> Html:
    items = "".join(f"<li>{esc(x)}</li>" for x in lines)
    return Html(f'<ul class="pingyi-list">{items}</ul>' if items else f'<p class="pingyi-empty">{esc(empty)}</p>')


def banner(text: str) -> Html:
    """A warning every reader must see at the top of a page (本次排名不完整：…); nothing when
    ``text`` is empty."""
    return Html(f'<p class="pingyi-banner">{esc(text)}</p>' if text else "")


# shares 0-1 in the frame, shown as 12.3%
PERCENT_COLUMNS = frozenset({"占比", "满意率", "完成率", "到期事项完成率", "覆盖率", "实际占比", "目标占比",
                             "偏差", "靠后概率", "约谈概率", "不评优概率", "触发概率"})


def table(df: pd.DataFrame, *, links: Mapping[str, str] | None = None, link_column: str | None = None,
          digits: int = 2, empty: str = "无") -> Html:
    """An escaped HTML table; floats shown with ``digits`` decimals (shares in the columns
    named in PERCENT_COLUMNS as percentages), missing as '—'.

    ``links`` maps a value of ``link_column`` to a relative URL; those cells become links
    (URL and text both escaped). ``None`` shows nothing; an empty frame shows ``empty``.
    """
    if df is None:  # a section with no data at all: its one sentence is said elsewhere (note)
        return Html("")
    if not len(df):  # empty="": the section already said there is nothing
        return Html(f'<p class="pingyi-empty">{esc(empty)}</p>' if empty else "")
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
                text = f'<a href="{esc_url(links[v])}">{text}</a>'
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            cells.append(f'<td class="{"num" if num else "txt"}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return Html(f'<table class="pingyi-table"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(body)}</tbody></table>')


def card(items: Mapping[str, str], titles: Mapping[str, str] | None = None) -> Html:
    """Key figures as a row of tiles: {label: already formatted value}; ``titles`` gives a
    tile its hover text ({label: what the figure means}, from the ruleset's glossary)."""
    titles = titles or {}
    tiles = "".join(f'<div class="pingyi-tile"{_title(titles.get(k))}><div class="v">{esc(v)}</div>'
                    f'<div class="k">{esc(k)}</div></div>' for k, v in items.items())
    return Html(f'<div class="pingyi-card">{tiles}</div>')


def _title(text: str | None) -> str:
    return f' title="{esc(text)}"' if text else ""


def headline(points: pd.DataFrame, title: str, kind: str = "act") -> Html:
    """The box a page opens with (sections.headline): one line per point, 事项 in bold then
    内容. ``kind``: "act" (what the reader must act on) or "note" (data-quality notes, shown
    apart and quieter)."""
    if points is None or not len(points):
        return Html("")
    lines = "".join(f'<li data-code="{esc(code)}"><strong>{esc(item)}</strong>：{esc(text)}</li>'
                    for code, item, text in zip(points["code"], points["事项"], points["内容"]))
    return Html(f'<div class="pingyi-headline pingyi-{esc(kind)}"><p class="pingyi-headline-title">{esc(title)}</p>'
                f'<ul>{lines}</ul></div>')


def glossary(terms: Mapping[str, str], title: str = "名词解释") -> Html:
    """The page's foot: what each figure means ({term: explanation that names the term})."""
    if not terms:
        return Html("")
    items = "".join(f'<li data-term="{esc(k)}">{esc(v)}</li>' for k, v in terms.items())
    return Html(f'<div class="pingyi-glossary"><p class="pingyi-headline-title">{esc(title)}</p><ul>{items}</ul></div>')


def show(*parts) -> None:
    """Display several parts of a page, in order, from one notebook cell: a report notebook
    has one cell per section, because every cell is a round trip to the kernel (about
    5 ms of a page, and papermill's bookkeeping)."""
    from IPython.display import display

    for part in parts:
        display(part)


def note(text: str) -> Html:
    """A sentence, or nothing when ``text`` is empty (a section says "no data" once, not per table)."""
    return para("{text}", text=text) if text else Html("")


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
            return note(empty)
        return self.figure(build(frame))

    def style(self) -> Html:
        """The page's CSS (font stack that finds Chinese fonts users have, tables, tiles, the
        A4 print layout) and, in a report, the script that fits charts to the printed page."""
        return Html(f"<style>{PAGE_CSS}</style>" + (f"<script>{PRINT_JS}{FIT_JS}</script>" if self.plotlyjs else ""))


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
.pingyi-banner {{ background: #fff1f0; border: 2px solid #b42318; color: #b42318; font-weight: 600;
                  padding: 8px 12px; }}
.pingyi-headline {{ border: 2px solid #1f2328; border-radius: 6px; padding: 8px 16px; margin: 10px 0 16px; }}
.pingyi-headline.pingyi-note {{ border: 1px dashed #57606a; color: #3d444d; }}
.pingyi-headline-title {{ font-weight: 700; font-size: 1.1em; margin: 4px 0; }}
.pingyi-headline ul {{ margin: 4px 0; padding-left: 1.2em; }}
.pingyi-headline li {{ margin: 3px 0; line-height: 1.6; }}
.pingyi-glossary {{ border-top: 1px solid #d0d7de; margin-top: 28px; padding-top: 8px; font-size: .9em;
                   color: #3d444d; }}
.pingyi-glossary li {{ margin: 3px 0; line-height: 1.6; }}
.pingyi-tile[title] {{ cursor: help; }}
/* a section's parts shown from one cell (show) stand as far apart as parts of separate cells:
   a cell's padding above and below and its output's top margin (nbconvert's lab template) */
.jp-OutputArea-child + .jp-OutputArea-child {{ margin-top: calc(2 * var(--jp-cell-padding, 5px) + 5px); }}
/* a phone: the chart's toolbar would cover its title (zoom and download are for a desk) */
@media (max-width: 600px) {{ .modebar-container {{ display: none !important; }} }}
@page {{ size: A4; margin: 14mm 12mm; }}
@media print {{
  body, .jp-Notebook {{ max-width: none !important; margin: 0 !important; padding: 0 !important; }}
  .jp-Cell, .jp-Cell-outputWrapper, .jp-OutputArea-output {{ padding: 0 !important; }}
  .jp-OutputArea-child + .jp-OutputArea-child {{ margin-top: 5px; }}
  h2 {{ break-before: page; page-break-before: always; }}
  h1, h2, h3, .pingyi-headline-title {{ break-after: avoid; page-break-after: avoid; }}
  .pingyi-headline, .pingyi-card, .pingyi-chart, .pingyi-glossary li, .pingyi-tile {{ break-inside: avoid; }}
  table.pingyi-table tr {{ break-inside: avoid; page-break-inside: avoid; }}
  table.pingyi-table thead {{ display: table-header-group; }}
  table.pingyi-table {{ font-size: 9pt; }}
  .modebar-container, .modebar, .pingyi-backlink, .anchor-link, .hoverlayer {{ display: none !important; }}
  a, .jp-RenderedHTMLCommon a {{ color: inherit !important; text-decoration: none !important; }}
}}
"""

# Charts are drawn at the screen's width; before printing, fit them to the A4 text width
# (186 mm at 96 dpi is about 700 px) and give them their screen size back afterwards.
PRINT_WIDTH_PX = 690
PRINT_JS = f"""
(function () {{
  function charts() {{ return document.querySelectorAll('.pingyi-chart .js-plotly-plot'); }}
  window.addEventListener('beforeprint', function () {{
    if (window.Plotly) charts().forEach(function (gd) {{ Plotly.relayout(gd, {{width: {PRINT_WIDTH_PX}}}); }});
  }});
  window.addEventListener('afterprint', function () {{
    if (window.Plotly) charts().forEach(function (gd) {{ Plotly.relayout(gd, {{width: null, autosize: true}}); }});
  }});
}})();
"""

# What a chart needs on a narrow screen (a phone) or paper, which plotly does not do itself,
# done whenever a chart is drawn (and undone when it is wide again):
# * its title is one line in plotly and would run off the chart: it is broken into lines that
#   fit the chart's width, measured in the font the page actually has (after '：', '，', '、' or
#   before '（' where it can; never inside a number, a Latin word or plotly's markup), and the
#   top margin grows by the added lines;
# * its legend, beside the plot, would squeeze the plot to a sliver: below NARROW_PX it goes
#   under the chart, laid out in rows, and the chart grows by the legend's height.
NARROW_PX = 600
FIT_JS = r"""
(function () {
  var AFTER = '\uff1a\uff0c\u3001\uff1b\uff09)', BEFORE = '\uff08(', NARROW = __NARROW__;
  var BELOW = {orientation: 'h', x: 0, xanchor: 'left', y: 0, yanchor: 'bottom', yref: 'container'};
  var ctx = document.createElement('canvas').getContext('2d');
  function width(text, font) { ctx.font = font; return ctx.measureText(text).width; }
  function wrap(text, font, room) {
    if (width(text, font) <= room) return [text];
    var lines = [], line = '', at = -1;
    // unbreakable: plotly's markup (<br>, &amp;), a Latin word or a number; else one character
    (text.match(/<[^<>]*>|&#?[A-Za-z0-9]+;|[A-Za-z0-9.%+\-]+|[\s\S]/g) || []).forEach(function (t) {
      if (line && width(line + t, font) > room) {
        var cut = at > line.length / 2 ? at : line.length;
        lines.push(line.slice(0, cut)); line = line.slice(cut); at = -1;
      }
      if (BEFORE.indexOf(t) >= 0) at = line.length;
      line += t;
      if (AFTER.indexOf(t) >= 0) at = line.length;
    });
    if (line) lines.push(line);
    return lines;
  }
  function fit(gd) {
    var fl = gd._fullLayout, up = {};
    if (!fl || !fl.title || !window.Plotly) return;
    var L = fl.legend || {}, o = gd.__pingyi;
    if (!o) o = gd.__pingyi = {title: fl.title.text || '', top: fl.margin.t, pad: fl.title.pad.t, height: fl.height,
      legend: {orientation: L.orientation, x: L.x, xanchor: L.xanchor, y: L.y, yanchor: L.yanchor, yref: L.yref}};
    var f = fl.title.font, lines = wrap(o.title, f.size + 'px ' + f.family, fl.width - 24);
    var text = lines.join('<br>'), more = (lines.length - 1) * Math.ceil(f.size * 1.3);  // plotly's line height
    if (text !== fl.title.text) {
      // plotly puts a title's last line where its one line was: the lines above it need the room
      up['title.text'] = text; up['margin.t'] = o.top + more; up['title.pad.t'] = o.pad + more;
    }
    var narrow = fl.showlegend && fl.width < NARROW, legend = narrow ? BELOW : o.legend;
    Object.keys(legend).forEach(function (k) { if (L[k] !== legend[k]) up['legend.' + k] = legend[k]; });
    var height = o.height + (narrow && L.orientation === 'h' ? Math.ceil(L._height || 0) : 0);
    if (Math.abs(fl.height - height) > 1) {
      up.height = height;
      [gd, gd.parentElement].forEach(function (e) {  // the boxes plotly's HTML gave the chart's height
        if (/px$/.test(e.style.height)) e.style.height = height + 'px';
      });
    }
    if (Object.keys(up).length) Plotly.relayout(gd, up);
  }
  window.addEventListener('load', function () {
    document.querySelectorAll('.pingyi-chart .js-plotly-plot').forEach(function (gd) {
      fit(gd);
      if (gd.on) gd.on('plotly_afterplot', function () { fit(gd); });
    });
  });
})();
""".replace("__NARROW__", str(NARROW_PX))
