"""Shared plotly.js beside the pages vs embedded in every page: size and time to open.

    .venv/bin/python bench/bench_reports.py [DATASET] [--jobs N]

Writes the full report set twice (default and --self-contained) into bench/out/ and
opens the city page and one unit page of each in headless Chromium with the network
blocked, timing load until every chart is drawn.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pingyi_lib.output.runner import run_reports

OUT = Path(__file__).resolve().parent / "out"


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "notebooks" not in p.parts) / 2**20


def open_ms(browser, page_path: Path, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        ctx = browser.new_context()
        page = ctx.new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
        t0 = time.perf_counter()
        page.goto(page_path.as_uri())
        page.wait_for_function("document.querySelectorAll('.plotly-graph-div').length > 0 && "
                               "document.querySelectorAll('.plotly-graph-div:not(:has(.main-svg))').length === 0")
        times.append((time.perf_counter() - t0) * 1000)
        ctx.close()
    return sorted(times)[len(times) // 2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", nargs="?", default="data/sample/2011")
    ap.add_argument("--jobs", type=int, default=None)
    a = ap.parse_args()
    rows = []
    for mode, self_contained in (("shared assets/plotly.min.js", False), ("self-contained", True)):
        out = OUT / ("self-contained" if self_contained else "shared")
        t0 = time.perf_counter()
        _, results = run_reports(a.dataset, out, jobs=a.jobs, self_contained=self_contained, progress=False)
        rows.append([mode, out, len(results), time.perf_counter() - t0, folder_mb(out)])
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        for r in rows:
            r += [open_ms(b, r[1] / "city.html"), open_ms(b, r[1] / "units" / "wj.html")]
        b.close()
    print("| mode | reports | run s | folder MB (without notebooks/) | open city.html ms | open unit ms |")
    print("|---|---|---|---|---|---|")
    for mode, _, n, secs, mb, city_ms, unit_ms in rows:
        print(f"| {mode} | {n} | {secs:.1f} | {mb:.1f} | {city_ms:.0f} | {unit_ms:.0f} |")


if __name__ == "__main__":
    main()
