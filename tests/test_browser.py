"""The HTML reports in a real browser (Debian's Chromium via Playwright), network blocked:
charts drawn, no request leaves the disk, no console error, hostile text stays text,
Chinese text has a font."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing in CI: scripts/ensure-browser should have installed it")
        pytest.skip(f"{CHROMIUM} not installed (scripts/ensure-browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def open_offline(browser, path: Path):
    """Open a page from disk with every non-file request aborted; return page and what happened."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    seen = {"requests": [], "errors": [], "failed": [], "dialogs": []}
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))

    def route(r):
        seen["requests"].append(r.request.url)
        (r.continue_() if r.request.url.startswith("file://") else r.abort())

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    return ctx, page, seen


@pytest.mark.parametrize("rel", ["index.html", "city.html", "units/wj.html", "units/tn-win.html"])
def test_pages_open_offline_with_charts_drawn(browser, sample_reports, rel, tmp_path):
    out, _ = sample_reports
    ctx, page, seen = open_offline(browser, out / rel)
    try:
        assert [u for u in seen["requests"] if not u.startswith("file://")] == []
        assert seen["errors"] == [] and seen["failed"] == []
        divs = page.locator(".plotly-graph-div").count()
        drawn = page.locator(".plotly-graph-div .main-svg").count()
        if rel != "index.html":
            assert divs >= 3
            assert page.evaluate("typeof Plotly") == "object"
            assert page.locator(".plotly-graph-div:has(.main-svg)").count() == divs  # every chart drawn
            assert drawn >= divs
        assert "评议" in page.inner_text("body")
        page.screenshot(path=str(tmp_path / "page.png"))
    finally:
        ctx.close()


def test_links_from_index_resolve(browser, sample_reports):
    out, _ = sample_reports
    ctx, page, _ = open_offline(browser, out / "index.html")
    try:
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        assert "city.html" in hrefs
        for h in hrefs:
            assert (out / h).exists(), h
    finally:
        ctx.close()


def test_hostile_names_and_comments_do_not_run(browser, broken_reports):
    out, _ = broken_reports
    for rel in ("index.html", "city.html", "units/a.html"):
        ctx, page, seen = open_offline(browser, out / rel)
        try:
            assert page.evaluate("window.__pwned") is None, rel
            assert seen["dialogs"] == []
            assert 'onerror="window.__pwned=1"' in page.inner_text("body"), rel  # shown as text
        finally:
            ctx.close()


def test_chinese_text_has_a_cjk_font(browser, sample_reports):
    if not shutil.which("fc-list"):
        pytest.skip("fontconfig not available")
    import subprocess

    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no CJK font installed: scripts/ensure-browser installs fonts-wqy-microhei"
    out, _ = sample_reports
    ctx, page, _ = open_offline(browser, out / "units/wj.html")
    try:
        family = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "WenQuanYi Micro Hei" in family and "Microsoft YaHei" in family
        # the text measures as real glyphs, not as the tofu boxes of a missing font
        width = page.evaluate("""() => { const c = document.createElement('canvas').getContext('2d');
            c.font = '20px "WenQuanYi Micro Hei", "Noto Sans CJK SC"'; return c.measureText('评议').width; }""")
        assert width > 30
    finally:
        ctx.close()


# --- charts that read on a screen and on paper ------------------------------------------

# every pair of visible SVG text boxes of one chart that overlap by more than 2 px both ways
OVERLAPS_JS = """() => {
  const out = [];
  document.querySelectorAll('.js-plotly-plot').forEach((gd, i) => {
    const boxes = [...gd.querySelectorAll('svg text')].filter(t => {
      const s = getComputedStyle(t);
      return t.textContent.trim() && s.display !== 'none' && s.visibility !== 'hidden' && +s.opacity !== 0;
    }).map(t => { const r = t.getBoundingClientRect();
                  return {s: t.textContent, l: r.left, r: r.right, t: r.top, b: r.bottom}; })
      .filter(b => b.r - b.l > 0 && b.b - b.t > 0);
    for (let a = 0; a < boxes.length; a++) for (let b = a + 1; b < boxes.length; b++) {
      const A = boxes[a], B = boxes[b];
      if (Math.min(A.r, B.r) - Math.max(A.l, B.l) > 2 && Math.min(A.b, B.b) - Math.max(A.t, B.t) > 2)
        out.push(`chart ${i + 1} (${gd._fullLayout.title.text}): "${A.s}" overlaps "${B.s}"`);
    }
  });
  return out;
}"""

# per category axis: how many categories the data has, how many tick labels are drawn, and
# which labels fall outside the chart (cut off)
TICKS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap((gd, i) => {
  const fl = gd._fullLayout, svg = gd.querySelector('svg.main-svg').getBoundingClientRect();
  return ['xaxis', 'yaxis'].filter(ax => fl[ax] && fl[ax].type === 'category').map(ax => {
    const ticks = [...gd.querySelectorAll('.' + ax[0] + 'tick text')].filter(t => t.textContent.trim());
    const outside = ticks.filter(t => { const r = t.getBoundingClientRect();
      return r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1 || r.bottom > svg.bottom + 1; });
    return {chart: i + 1, title: fl.title.text, axis: ax, categories: fl[ax]._categories.length,
            shown: ticks.length, outside: outside.map(t => t.textContent)};
  });
})"""

CHART_PAGES = ["city.html", "units/wj.html", "units/tn-win.html"]


@pytest.mark.parametrize("rel", CHART_PAGES)
@pytest.mark.parametrize("width", [1280, 900])
def test_no_chart_text_overlaps_and_no_tick_label_is_hidden(browser, sample_reports, rel, width):
    out, _ = sample_reports
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    page = ctx.new_page()
    try:
        page.goto((out / rel).as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
        assert page.locator(".js-plotly-plot").count() >= 3
        assert page.evaluate(OVERLAPS_JS) == []
        axes = page.evaluate(TICKS_JS)
        assert axes, "no category axis found"
        for a in axes:
            assert a["shown"] == a["categories"], f"{a['title']} {a['axis']}: {a['shown']} of {a['categories']} labels"
            assert a["outside"] == [], f"{a['title']} {a['axis']}: cut off {a['outside']}"
    finally:
        ctx.close()


def test_city_page_prints_to_a4_with_every_chart_and_no_controls(browser, sample_reports):
    import io
    import re

    import pypdf

    out, _ = sample_reports
    ctx, page, _ = open_offline(browser, out / "city.html")
    try:
        titles = page.eval_on_selector_all(".pingyi-chart .js-plotly-plot",
                                           "els => els.map(e => e._fullLayout.title.text)")
        sections = page.locator("h2").count()
        assert len(titles) >= 4 and sections >= 5
        page.emulate_media(media="print")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # what Chromium fires on Ctrl+P
        page.wait_for_timeout(500)
        widths = page.eval_on_selector_all(".pingyi-chart .main-svg",
                                           "els => els.map(e => e.getBoundingClientRect().width)")
        assert max(widths) <= 700  # charts fit the A4 text width (186 mm ≈ 703 px)
        assert page.locator(".modebar-container").first.is_hidden()
        assert page.locator(".pingyi-backlink").first.is_hidden()
        pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        assert page.evaluate(OVERLAPS_JS) == []  # and still nothing overlaps at print width
    finally:
        ctx.close()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    n = len(reader.pages)
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 2 and abs(float(box.height) - 841.9) < 2  # A4 in points
    # each section starts a page: at least one page per section, and the page count stays sane
    assert sections <= n <= 4 * sections, n
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    for t in titles:
        assert re.sub(r"\s+", "", t) in text, f"chart {t!r} missing from the PDF"
    assert "须关注事项" in text and "名词解释" in text
