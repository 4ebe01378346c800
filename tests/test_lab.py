"""``pingyi lab``: the bundled notebooks copied without overwriting the analyst's edits, and
JupyterLab started offline — in a real browser: explore.ipynb runs all its cells, its score
card is styled as on the pages, and the unit picker changes what is shown, while no request
leaves the machine and no news prompt appears."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pingyi_lib.output.lab_cmd import OFFLINE, RECORD, copy_notebooks, lab_command
from pingyi_lib.output.packaged import NOTEBOOKS, notebook_dir

CHROMIUM = "/usr/bin/chromium"


def test_copy_writes_the_notebooks_then_keeps_what_the_analyst_edited(tmp_path):
    folder = tmp_path / "nb"
    first = copy_notebooks(folder)
    assert sorted(first.written) == sorted(NOTEBOOKS) and not first.kept
    for name in NOTEBOOKS:
        assert (folder / name).read_bytes() == (notebook_dir() / name).read_bytes()
    assert sorted(copy_notebooks(folder).same) == sorted(NOTEBOOKS)  # nothing to do the second time
    edited = folder / "explore.ipynb"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Exploring a round", "我的分析"), encoding="utf-8")
    again = copy_notebooks(folder)
    assert again.kept == ["explore.ipynb"] and "我的分析" in edited.read_text(encoding="utf-8")


def test_a_copy_still_as_written_is_brought_up_to_date_after_an_upgrade(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for src in (old, new):
        src.mkdir()
        for name in NOTEBOOKS:
            (src / name).write_text(json.dumps({"cells": [], "v": str(src)}), encoding="utf-8")
    folder = tmp_path / "nb"
    copy_notebooks(folder, old)
    (folder / "unit.ipynb").write_text('{"cells": ["mine"]}', encoding="utf-8")
    done = copy_notebooks(folder, new)
    assert sorted(done.written) == ["city.ipynb", "explore.ipynb"] and done.kept == ["unit.ipynb"]
    assert str(new) in (folder / "city.ipynb").read_text(encoding="utf-8")
    assert json.loads((folder / RECORD).read_text(encoding="utf-8"))["city.ipynb"].startswith("sha256:")


def test_a_file_where_the_folder_should_be_is_one_line_exit_2(tmp_path, capsys):
    from pingyi_lib.cli import main

    (tmp_path / "nb").write_text("x", encoding="utf-8")
    assert main(["lab", str(tmp_path / "nb"), "--no-browser"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_jupyterlab_starts_offline_and_as_root_when_root(tmp_path):
    cmd = lab_command(tmp_path, no_browser=True, port=8890, ip=None)
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"] and f"--ServerApp.root_dir={tmp_path}" in cmd
    assert set(OFFLINE) <= set(cmd) and "--no-browser" in cmd and "--port=8890" in cmd
    assert ("--allow-root" in cmd) == (os.geteuid() == 0)
    settings = tmp_path / ".pingyi-lab" / "overrides.json"
    assert f"--LabApp.app_settings_dir={settings.parent}" in cmd
    assert json.loads(settings.read_text(encoding="utf-8"))["@jupyterlab/apputils-extension:notification"] == \
        {"fetchNews": "false", "checkForUpdates": False}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``pingyi lab`` running in the background on a free port, stopped by its pid."""
    folder = tmp_path_factory.mktemp("lab") / "notebooks"
    port, token = _free_port(), "pingyi-test-token"
    env = {**os.environ, "JUPYTER_TOKEN": token, "JUPYTER_CONFIG_DIR": str(folder.parent / "config"),
           "JUPYTERLAB_SETTINGS_DIR": str(folder.parent / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(folder.parent / "workspaces")}
    log = open(folder.parent / "lab.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "pingyi_lib", "lab", str(folder), "--no-browser", "--port",
                             str(port), "--ip", "127.0.0.1"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            assert proc.poll() is None, (folder.parent / "lab.log").read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "JupyterLab did not start in 90 s"
            time.sleep(0.5)
    yield {"base": base, "token": token, "folder": folder, "log": folder.parent / "lab.log"}
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.mark.slow
def test_the_server_fetches_no_news_and_checks_no_updates(lab):
    def get(path):
        return json.loads(urllib.request.urlopen(f"{lab['base']}{path}?token={lab['token']}", timeout=10).read())

    assert get("/lab/api/news") == {"news": []}
    assert get("/lab/api/update") == {"notification": None}
    assert sorted(p.name for p in lab["folder"].glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.browser
@pytest.mark.slow
def test_explore_runs_in_jupyterlab_offline_with_styled_tiles_and_a_working_unit_picker(lab):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing in CI: scripts/ensure-browser should have installed it")
        pytest.skip(f"{CHROMIUM} not installed (scripts/ensure-browser installs it)")
    from playwright.sync_api import sync_playwright

    outside = []

    def route(r):
        url = r.request.url
        if url.startswith(lab["base"]) or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.route("**/*", route)
        page.goto(f"{lab['base']}/lab/tree/explore.ipynb?token={lab['token']}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)  # the kernel is up
        page.wait_for_timeout(1000)
        page.click("li.lm-MenuBar-item:has-text('Run')")
        page.click("li.lm-Menu-item:has-text('Run All Cells')")
        tile = page.wait_for_selector(".pingyi-card .pingyi-tile", state="attached", timeout=180_000)
        tile.scroll_into_view_if_needed()
        assert tile.evaluate("e => getComputedStyle(e).borderTopLeftRadius") == "6px"
        assert page.eval_on_selector(".pingyi-card", "e => getComputedStyle(e).display") == "flex"
        cell = page.locator(".jp-CodeCell").filter(has=page.locator(".widget-output"))
        charts = cell.locator(".widget-output .js-plotly-plot")
        page.wait_for_function("n => document.querySelectorAll('.widget-output .js-plotly-plot').length >= n", arg=2)
        assert cell.locator(".js-plotly-plot").count() == charts.count()  # every chart under the pickers, none above
        heading = page.locator(".widget-output h2").first
        before = heading.inner_text()
        picker = page.locator(".widget-dropdown select").first
        options = picker.locator("option").all_inner_texts()
        target = next(o for o in options if o.split("（")[0] not in before)
        picker.select_option(label=target)
        shows = "([sel, name]) => (document.querySelector(sel) || {innerText: ''}).innerText.includes(name)"
        page.wait_for_function(shows, arg=[".widget-output h2", target.split("（")[0]], timeout=60_000)
        page.wait_for_function(shows, arg=[".widget-output .js-plotly-plot", target.split("（")[0]], timeout=60_000)
        assert cell.locator(".js-plotly-plot").count() == charts.count() >= 2  # the charts of the new pick
        assert "Jupyter news" not in page.locator("body").inner_text()  # no "official Jupyter news?" prompt
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
        browser.close()
    assert outside == [], f"requests left the machine: {outside[:5]}"
    assert errors == 0
