"""Some pages of a report made again (issue 38): ``pingyi report … --units U`` into a folder that
holds the report of the same inputs keeps the city page, the workbook, the notice and the other
pages (output/carry.py), and reads the round's scores from the store of the earlier batch
instead of scoring it again (output/scored.py)."""

from __future__ import annotations

import json
import os

import pytest

from pingyi_lib.cli import main
from pingyi_lib.output import manifest, runner, scored
from pingyi_lib.output.runner import NOTICE_NAME, WORKBOOK_NAME


def report(ds, out, *extra) -> int:
    # the tiny round's window w has no questionnaire: its league is incomplete (issue 13)
    return main(["report", str(ds), "--out", str(out), "--report-date", "2011-09-20", "--allow-incomplete", "--quiet",
                 *extra])


def files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def made(plan) -> list[str]:
    return [j.unit_id or "city" for j in plan]


ROUND = ["city.html", "notebooks/city.ipynb", WORKBOOK_NAME, NOTICE_NAME, "assets/plotly.min.js"]


def test_some_pages_made_again_keep_the_rest_of_the_report_of_the_same_inputs(tiny, tmp_path, quick_notebooks):
    out = tmp_path / "out"
    assert report(tiny, out) == 0
    before = files(out)
    first = json.loads(before["run.json"])
    assert report(tiny, out, "--units", "b", "a") == 0
    assert made(quick_notebooks[-1]) == ["b", "a"]  # no city page
    after = files(out)
    kept = [*ROUND, "units/c.html", "notebooks/units/c.ipynb", "units/w.html", "notebooks/units/w.ipynb"]
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    log = after["report.log"].decode("utf-8")
    assert "只重新生成所选单位的报告（--units）" in log and "其余 2 个单位的报告沿用" in log
    assert "评分结果沿用上次" in log  # the round was not scored again
    run = json.loads(after["run.json"])
    # the folder is still the first run's report, whole: its units, its fingerprint, its pages in order
    assert run["options"]["units"] is None and run["fingerprint"] == first["fingerprint"]
    assert [p["page"] for p in run["pages"]] == [p["page"] for p in first["pages"]]
    assert {p["page"] for p in run["pages"] if p.get("kept")} == {"city.html", "units/c.html", "units/w.html"}
    index = after["index.html"].decode("utf-8")
    assert all(f'href="units/{u}.html"' in index for u in "abcw") and "未生成" not in index
    assert report(tiny, out, "--if-changed") == 0  # the scheduled full run finds nothing to do
    assert len(quick_notebooks) == 2


@pytest.mark.parametrize("case", ["another day", "a unit it did not have", "a failed page", "a planted link",
                                  "a linked folder", "no run.json"])
def test_nothing_is_kept_from_a_report_that_is_not_of_the_same_inputs_or_not_whole(tiny, tmp_path, quick_notebooks,
                                                                                   case):
    out = tmp_path / "out"
    assert (report(tiny, out, "--units", "a", "c") if case == "a unit it did not have" else report(tiny, out)) == 0
    extra: tuple[str, ...] = ("--units", "a")
    if case == "another day":
        extra += ("--report-date", "2011-09-21")
    elif case == "a unit it did not have":
        extra = ("--units", "b")
    elif case == "a failed page":
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
        next(p for p in run["pages"] if p["page"] == "units/c.html")["ok"] = False
        (out / "run.json").write_text(json.dumps(run), encoding="utf-8")
    elif case == "a planted link":
        secret = tmp_path / "secret.txt"
        secret.write_text("not for publishing", encoding="utf-8")
        (out / "units/c.html").unlink()
        os.symlink(secret, out / "units/c.html")
    elif case == "a linked folder":
        elsewhere = tmp_path / "elsewhere"
        (out / "units").rename(elsewhere)
        (elsewhere / "c.html").write_text("not for publishing", encoding="utf-8")
        os.symlink(elsewhere, out / "units")
    else:
        (out / "run.json").unlink()
    args = ["report", str(tiny), "--out", str(out), "--allow-incomplete", "--quiet", *extra]
    if "--report-date" not in extra:
        args += ["--report-date", "2011-09-20"]
    assert main(args) == 0
    assert made(quick_notebooks[-1]) == ["city", extra[1]]
    pages = {p.name for p in (out / "units").iterdir()}
    assert pages == {f"{extra[1]}.html"}  # the folder is this run, whole: no page of the other one
    assert "只重新生成所选单位" not in (out / "report.log").read_text(encoding="utf-8")
    assert not any(b"not for publishing" in v for v in files(out).values())


def test_a_later_batch_reads_the_round_from_the_store_and_scores_again_once_a_file_changed(tiny, tmp_path,
                                                                                         quick_notebooks, monkeypatch):
    assert report(tiny, tmp_path / "one") == 0
    calls = []
    compute = scored.compute
    monkeypatch.setattr(scored, "compute", lambda *a: calls.append(a) or compute(*a))
    assert report(tiny, tmp_path / "two") == 0  # another folder, the same inputs: read from the store
    assert calls == []
    a, b = files(tmp_path / "one"), files(tmp_path / "two")
    assert a["index.html"] == b["index.html"] and a["units/a.html"] == b["units/a.html"]
    assert "评分结果沿用上次" in b["report.log"].decode("utf-8")
    survey = tiny / "survey.csv"
    survey.write_text(survey.read_text(encoding="utf-8").replace("4,4,4,4,4", "3,4,4,4,4"), encoding="utf-8")
    assert report(tiny, tmp_path / "three") == 0
    assert len(calls) == 1 and "评分结果沿用上次" not in files(tmp_path / "three")["report.log"].decode("utf-8")
    assert files(tmp_path / "three")["index.html"] != a["index.html"]  # b's score changed


def test_the_store_is_named_for_the_inputs_content_the_day_asked_and_pingyi(tiny):
    run = manifest.RunInputs.of(tiny, tiny / "x.toml", None, runner.NOTEBOOK_DIR, units=None, report_date="",
                                self_contained=False, allow_incomplete=False)
    scoring = run.scoring()
    assert set(scoring["inputs"]) == {"dataset", "ruleset", "previous"}  # not the notebooks, not the options
    key = scored.batch_key(scoring, "", "2026-12-07")
    assert key == scored.batch_key(json.loads(json.dumps(scoring)), "", "2026-12-07")
    other_build = {**scoring, "pingyi": {**scoring["pingyi"], "build": "0" * 16}}
    other_data = {**scoring, "inputs": {**scoring["inputs"], "dataset": {"survey.csv": "sha256:0"}}}
    others = [scored.batch_key(scoring, "2011-09-20", "2026-12-07"), scored.batch_key(scoring, "", "2026-12-08"),
              scored.batch_key(other_build, "", "2026-12-07"), scored.batch_key(other_data, "", "2026-12-07")]
    assert len({key, *others}) == 5
