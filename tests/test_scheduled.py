"""Scheduled runs (issue 25): every report folder holds run.json; ``--if-changed`` writes nothing
when the inputs, the ruleset, the options and pingyi are those of the report already there,
and makes it again when any of them changed; two runs on the same inputs give the same bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pingyi_lib.cli import main
from pingyi_lib.dataset.load import ruleset_file
from pingyi_lib.output import manifest
from pingyi_lib.output.runner import NOTEBOOK_DIR, NOTICE_NAME, WORKBOOK_NAME

from .conftest import REPORT_UNITS, SAMPLE_2011


def report(ds, out, *extra) -> int:
    # the tiny round's window w has no questionnaire: its league is incomplete (issue 13)
    return main(["report", str(ds), "--out", str(out), "--report-date", "2011-09-20", "--allow-incomplete", *extra])


def state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and modification time: 'touching nothing' means all of it unchanged."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_manifest_names_every_input_the_options_versions_times_and_counts(tiny, tmp_path, quick_notebooks):
    out = tmp_path / "out"
    assert report(tiny, out, "--quiet", "--units", "b", "a") == 0
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["format"] == "pingyi-run/1" and run["fingerprint"].startswith("sha256:")
    assert run["inputs"]["dataset"]["path"] == tiny.name  # by name: run.json is published
    assert run["inputs"]["dataset"]["files"] == {p.name: sha(p) for p in sorted(tiny.iterdir())}
    assert run["inputs"]["ruleset"]["path"] == "changzhou-2011.toml"
    assert run["inputs"]["previous"] is None
    assert set(run["inputs"]["notebooks"]["files"]) == {"city.ipynb", "unit.ipynb"}
    assert run["options"] == {"units": ["a", "b"], "report_date": "2011-09-20", "self_contained": False,
                              "allow_incomplete": True}
    assert run["pingyi"]["version"] and run["versions"]["pandas"] and run["versions"]["python"]
    assert run["report_day"] == {"day": "2011-09-20", "source": "命令行指定（--report-date）", "from_today": False}
    started, finished = (dt.datetime.fromisoformat(run[k]) for k in ("started", "finished"))
    assert started <= finished
    assert sorted(p["page"] for p in run["pages"]) == ["city.html", "units/a.html", "units/b.html"]
    assert all(p["ok"] and p["seconds"] >= 0 for p in run["pages"])
    from pingyi_lib import load_dataset

    counts = load_dataset(tiny).table_counts
    assert run["rows"]["accepted"] == int(counts["accepted"].sum())
    assert run["rows"]["tables"]["survey"]["accepted"] == int(counts.set_index("table").loc["survey", "accepted"])


def test_if_changed_touches_nothing_when_nothing_changed_and_says_so_in_one_line(tiny, tmp_path, quick_notebooks,
                                                                                 capsys):
    out = tmp_path / "out"
    assert report(tiny, out, "--quiet") == 0
    before = state(out)
    capsys.readouterr()
    assert report(tiny, out, "--if-changed", "--jobs", "1") == 0  # --jobs changes no page
    got = capsys.readouterr()
    assert got.err == "" and got.out.count("\n") == 1 and got.out.startswith("未重新生成：")
    assert state(out) == before and len(quick_notebooks) == 1
    moved = shutil.copytree(tiny, tmp_path / "copied")  # the same bytes elsewhere: the same round
    assert report(moved, out, "--if-changed", "--quiet") == 0
    assert capsys.readouterr().out == "" and state(out) == before and len(quick_notebooks) == 1


@pytest.mark.parametrize("change, why", [
    (lambda ds, rs: (ds / "survey.csv").write_text((ds / "survey.csv").read_text(encoding="utf-8")
                                                    .replace(",5,", ",4,", 1), encoding="utf-8"),
     "本轮数据已变化（survey.csv）"),
    (lambda ds, rs: (ds / "units.csv").write_text((ds / "units.csv").read_text(encoding="utf-8")
                                                   .replace("乙区安监局", "乙区应急管理局"), encoding="utf-8"),
     "本轮数据已变化（units.csv）"),
    (lambda ds, rs: rs.write_text(rs.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8"),
     "规则文件已变化"),
])
def test_if_changed_makes_the_report_again_when_an_input_changed(tiny, tmp_path, quick_notebooks, change, why):
    from pingyi_lib.scheme.ruleset import default_ruleset_path

    rs = shutil.copy(default_ruleset_path(), tmp_path / "rules.toml")
    out = tmp_path / "out"
    assert report(tiny, out, "--quiet", "--ruleset", str(rs)) == 0
    change(tiny, Path(rs))
    assert report(tiny, out, "--quiet", "--ruleset", str(rs), "--if-changed") == 0
    assert len(quick_notebooks) == 2
    assert f"重新生成：{why}" in (out / "report.log").read_text(encoding="utf-8")
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["inputs"]["dataset"]["files"] == \
        {p.name: sha(p) for p in sorted(tiny.iterdir())}


@pytest.mark.parametrize("extra", [("--report-date", "2011-09-25"), ("--units", "a"), ("--self-contained",)])
def test_if_changed_makes_the_report_again_when_an_option_changed(tiny, tmp_path, quick_notebooks, extra):
    out = tmp_path / "out"
    assert report(tiny, out, "--quiet") == 0
    assert main(["report", str(tiny), "--out", str(out), "--report-date", "2011-09-20", "--allow-incomplete",
                 "--quiet", "--if-changed", *extra]) == 0
    assert len(quick_notebooks) == 2
    assert "重新生成：选项已变化" in (out / "report.log").read_text(encoding="utf-8")


def test_why_rebuild_reads_failures_a_missing_manifest_and_a_day_taken_from_today(tiny, tmp_path, quick_notebooks):
    out = tmp_path / "out"
    assert report(tiny, out, "--quiet") == 0
    run = manifest.RunInputs.of(tiny, ruleset_file(tiny), None, NOTEBOOK_DIR, units=None,
                                report_date="2011-09-20", self_contained=False, allow_incomplete=True)
    assert manifest.why_rebuild(out, run) == ""
    written = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for edit, why in [(lambda m: m["pages"][1].update(ok=False), "上次有 1 份报告生成失败"),
                      (lambda m: m["report_day"].update(from_today=True, day="2011-09-20"), "今天已是另一天"),
                      (lambda m: m.update(format="something else"), "不存在或无法读取")]:
        changed = json.loads(json.dumps(written))
        edit(changed)
        (out / "run.json").write_text(json.dumps(changed), encoding="utf-8")
        assert why in manifest.why_rebuild(out, run)
    (out / "run.json").write_text(json.dumps(written), encoding="utf-8")
    (out / "index.html").unlink()
    assert "没有 index.html" in manifest.why_rebuild(out, run)


@pytest.mark.slow
def test_a_second_run_on_the_same_inputs_gives_the_same_pages_workbook_and_notice(sample_reports, tmp_path,
                                                                                  capsys):
    first = sample_reports[0]
    again = tmp_path / "again"
    assert main(["report", str(SAMPLE_2011), "--out", str(again), "--units", *REPORT_UNITS, "--jobs", "2",
                 "--quiet"]) == 0
    published = ["index.html", "city.html", *[f"units/{u}.html" for u in REPORT_UNITS], "assets/plotly.min.js",
                 WORKBOOK_NAME, NOTICE_NAME]
    for rel in published:
        assert (again / rel).read_bytes() == (first / rel).read_bytes(), rel
    a, b = (json.loads((f / "run.json").read_text(encoding="utf-8")) for f in (first, again))
    assert a["fingerprint"] == b["fingerprint"] and a["inputs"] == b["inputs"]
    # and the scheduled form of the same run writes nothing at all
    before = state(again)
    assert main(["report", str(SAMPLE_2011), "--out", str(again), "--units", *REPORT_UNITS, "--quiet",
                 "--if-changed"]) == 0
    assert state(again) == before and capsys.readouterr().out == ""
