"""The HTML reports in a real browser (Debian's Chromium via Playwright), network blocked:
charts drawn, no request leaves the disk, no console error, hostile text stays text,
Chinese text has a font.

Every test runs once per CJK font of the page's stack this machine has (at least WenQuanYi
Micro Hei and Noto Sans CJK SC, which scripts/ensure-browser installs): a fontconfig file of
the run hides the others from Chromium (tests/fonts.py), so a layout that holds with one font
only fails here. A screenshot of the city page under each font is left in ``test-output/fonts/``
for a person to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fonts import REQUIRED, fontconfig_file, stack_fonts

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-output" / "fonts"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def font_id(family: str) -> str:
    return family.split()[0].lower()  # wenquanyi, noto, microsoft, ...


@pytest.fixture(scope="module", params=stack_fonts(), ids=font_id)
def browser(request, tmp_path_factory):
    """Chromium that can find only the font ``browser.font`` of the stack for Chinese text."""
    family = request.param
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing in CI: scripts/ensure-browser should have installed it")
        pytest.skip(f"{CHROMIUM} not installed (scripts/ensure-browser installs it)")
    try:
        conf = fontconfig_file(family, tmp_path_factory.mktemp("fontconfig"))
    except LookupError as e:
        if os.environ.get("CI") and family in REQUIRED:
            pytest.fail(f"{e} in CI")
        pytest.skip(str(e))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, env={**os.environ, "FONTCONFIG_FILE": str(conf)}, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        b.font = family
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


def platform_fonts(page, selector: str) -> dict[str, int]:
    """{font family: glyphs} that Chromium drew the text of ``selector`` with (DevTools)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {f["familyName"]: f["glyphCount"] for f in fonts}


@pytest.mark.parametrize("rel, selector", [("index.html", "h1"), ("units/wj.html", "h1"),
                                           ("city.html", ".pingyi-headline-title")])
def test_chinese_text_is_drawn_in_the_font_of_the_run(browser, sample_reports, rel, selector):
    from pingyi_lib.common.fonts import FONT_FAMILIES

    out, _ = sample_reports
    ctx, page, _ = open_offline(browser, out / rel)
    try:
        family = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert all(f in family for f in FONT_FAMILIES)  # the page names the whole stack
        drawn = platform_fonts(page, selector)
        assert drawn.get(browser.font, 0) > 0, drawn  # and the Chinese of the run landed on its font,
        assert set(drawn) == {browser.font}, drawn  # on no other (nor on tofu boxes of a missing font)
    finally:
        ctx.close()


def test_a_screenshot_of_the_city_page_is_left_for_a_person(browser, sample_reports):
    out, _ = sample_reports
    ctx, page, _ = open_offline(browser, out / "city.html")
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / f"city-{font_id(browser.font)}.png"
        shot.unlink(missing_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        height = page.evaluate("document.documentElement.scrollHeight")
    finally:
        ctx.close()
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, tall = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1280 and tall == height > 2000  # the whole page, not the first screen


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

CHART_PAGES = [("sample_reports", "city.html"), ("sample_reports", "units/wj.html"),
               ("sample_reports", "units/tn-win.html"), ("history_reports", "units/qsy.html")]


@pytest.mark.parametrize("reports, rel", CHART_PAGES)
@pytest.mark.parametrize("width", [1280, 900])
def test_no_chart_text_overlaps_and_no_tick_label_is_hidden(browser, request, reports, rel, width):
    out, code = request.getfixturevalue(reports)
    assert code == 0
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

    from tests.pdf_text import ideographs

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
    # Noto prints some characters as radicals (⺠ for 民): compared as the ideographs they stand for
    text = ideographs(re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages)))
    for t in titles:
        assert re.sub(r"\s+", "", t) in text, f"chart {t!r} missing from the PDF"
    assert "须关注事项" in text and "名词解释" in text


# --- on a phone ---------------------------------------------------------------------------

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}

# what a reader of a phone sees: the page's layout width, its scroll width, its zoom, the
# smallest font of any visible text, boxes (charts, tables) that stick out of the screen, wide
# tables that are not in a box of their own that scrolls, chart text cut off at the chart's
# edge (a title longer than the chart), and charts spilling out of their box over what follows
PHONE_JS = """() => {
  const W = window.innerWidth, out = {inner: W, scroll: document.documentElement.scrollWidth,
    scale: window.visualViewport.scale, smallest: 99, small: [], outside: [], unboxed: [], cut: [], spill: []};
  const visible = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return p; } return null; };
  document.querySelectorAll('p, li, td, th, h1, h2, h3, a, span').forEach(e => {
    if (!visible(e) || !e.textContent.trim() || e.closest('.js-plotly-plot')) return;
    const size = parseFloat(getComputedStyle(e).fontSize);
    if (size < out.smallest) out.smallest = size;
    if (size < 12) out.small.push(e.tagName + ' ' + size + ' ' + e.textContent.trim().slice(0, 20));
  });
  document.querySelectorAll('.js-plotly-plot .main-svg, table, img, pre').forEach(e => {
    if (!visible(e)) return;
    const r = e.getBoundingClientRect(), box = scrolls(e);
    if (e.tagName === 'TABLE' && r.right > W + 1) { if (!box) out.unboxed.push(e.textContent.slice(0, 30)); return; }
    if (box && e.tagName !== 'svg') return;
    if (r.left < -1 || r.right > W + 1) out.outside.push(`${e.tagName} ${Math.round(r.left)}-${Math.round(r.right)}`);
  });
  document.querySelectorAll('.js-plotly-plot').forEach(gd => {
    const svg = gd.querySelector('svg.main-svg').getBoundingClientRect();
    for (const box of [gd, gd.parentElement]) {  // a chart grown on a phone (legend below) grows its boxes
      if (svg.bottom > box.getBoundingClientRect().bottom + 1) out.spill.push(gd._fullLayout.title.text.slice(0, 30));
    }
    gd.querySelectorAll('svg text').forEach(t => { const r = t.getBoundingClientRect();
      if (t.textContent.trim() && r.width > 0 && (r.left < svg.left - 1 || r.right > svg.right + 1
                                                   || r.top < svg.top - 1 || r.bottom > svg.bottom + 1))
        out.cut.push(t.textContent.slice(0, 30)); });
  });
  return out;
}"""


@pytest.mark.parametrize("reports, rel", [("sample_reports", "index.html"), ("sample_reports", "city.html"),
                                          ("sample_reports", "units/wj.html"),
                                          ("history_reports", "city.html"), ("history_reports", "units/wj.html")])
def test_every_page_reads_on_a_phone_without_zoom_or_sideways_scroll(browser, request, reports, rel):
    # history_reports: the pages with past rounds (回头看, 历年对比, 趋势 with data)
    out, code = request.getfixturevalue(reports)
    assert code == 0
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    try:
        page.goto((out / rel).as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
        m = page.evaluate(PHONE_JS)
        overlaps = page.evaluate(OVERLAPS_JS)
    finally:
        ctx.close()
    assert m["inner"] == 390 and m["scale"] == 1  # laid out at the phone's width, not at 980 px shown at 40%
    assert m["scroll"] <= 390, m  # the page itself never scrolls sideways
    assert m["small"] == [] and m["smallest"] >= 12, m  # text at its normal size
    assert m["outside"] == [], m  # charts and pictures within the width
    assert m["unboxed"] == [], m  # a table wider than the screen scrolls in its own box
    assert m["cut"] == [], m  # no chart title or label runs off its chart
    assert m["spill"] == [], m  # nor a chart over the text below it
    assert overlaps == []  # nor touches another


@pytest.mark.parametrize("family", stack_fonts(), ids=font_id)
def test_the_fontconfig_file_of_a_run_leaves_only_its_own_chinese_font(family, tmp_path):
    from tests.fonts import chinese_font_files, chosen_families

    if not any(family in fams for fams in chinese_font_files().values()):
        pytest.skip(f"{family} is not installed")
    seen = chosen_families(fontconfig_file(family, tmp_path))
    assert family in seen
    others = {f for f in stack_fonts() if f != family}
    assert not seen & others, seen  # the stack's other fonts are hidden from this run


@pytest.fixture(scope="module")
def progress_page(tmp_path_factory):
    """The collection's progress page of the 2011 sample, as of a day in its window."""
    from pingyi_lib.cli import main

    from .conftest import SAMPLE_2011

    out = tmp_path_factory.mktemp("progress") / "progress"
    assert main(["progress", str(SAMPLE_2011), "--as-of", "2011-08-03", "--out", str(out), "--format", "json"]) == 0
    return out / "index.html"


def test_the_progress_page_opens_offline_and_reads_on_a_phone(browser, progress_page):
    ctx, page, seen = open_offline(browser, progress_page)
    try:
        assert [u for u in seen["requests"] if not u.startswith("file://")] == []
        assert seen["errors"] == [] and seen["failed"] == []
        assert page.locator(".plotly-graph-div:has(.main-svg)").count() == 1  # the chart is drawn
        assert "问卷收集进度" in page.inner_text("body")
        assert page.evaluate(OVERLAPS_JS) == []
    finally:
        ctx.close()
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    try:
        page.goto(progress_page.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
        m = page.evaluate(PHONE_JS)
    finally:
        ctx.close()
    assert m["inner"] == 390 and m["scroll"] <= 390, m
    assert m["small"] == [] and m["outside"] == [] and m["unboxed"] == [] and m["cut"] == [], m
