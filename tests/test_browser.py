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
