"""The report folder under faults (issue 19): options checked before any work, one run at a
time, symlinks never followed, a full disk, a crash between renames. Notebooks are replaced
by a stand-in that writes each page at once, so these run in a second or two; the real
notebooks under kills are in test_robustness_kills.py."""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

import openpyxl
import openpyxl.writer.excel
import pytest

from pingyi_lib.cli import main
from pingyi_lib.output import publish, runlog, runner
from pingyi_lib.output.publish import ReportFolder
from pingyi_lib.output.runner import REPORT_ENTRIES, WORKBOOK_NAME, JobResult, check_options


def report(ds, out, *extra) -> int:
    # the tiny round's window w has no questionnaire: its league is incomplete (issue 13)
    return main(["report", str(ds), "--out", str(out), "--quiet", "--report-date", "2011-09-20",
                 "--allow-incomplete", *extra])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def beside(out: Path) -> list[str]:
    """What a run left next to OUT (staging folders, old folders, the lock)."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


# ---- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["9/15", "3/8/2011", "now", "0001-01-01", "2011-02-30", "15.9.2011"])
def test_a_report_date_the_data_check_would_reject_is_one_line_exit_2(tmp_path, tiny, capsys, day):
    # before: 9/15 was read as 2015-01-09, 3/8/2011 as 8 March, and now and 0001-01-01 were taken
    assert report(tiny, tmp_path / "o", "--report-date", day) == 2
    err = capsys.readouterr().err
    assert "--report-date" in err and err.count("\n") == 1 and not (tmp_path / "o").exists()


@pytest.mark.parametrize("day, read", [("2011-09-15", "2011-09-15"), ("2011/9/5", "2011-09-05"),
                                       ("2011年9月5日", "2011-09-05")])
def test_a_report_date_is_read_as_dates_in_the_data_are(tiny, day, read):
    assert check_options(tiny, jobs=None, units=None, previous=None, report_date=day)[1] == read


@pytest.mark.parametrize("jobs", ["0", "-1"])
def test_jobs_below_one_is_one_line_exit_2(tmp_path, tiny, capsys, jobs):
    assert report(tiny, tmp_path / "o", "--jobs", jobs) == 2
    err = capsys.readouterr().err
    assert "--jobs" in err and err.count("\n") == 1


def test_a_unit_named_three_times_is_reported_once(tmp_path, tiny, quick_notebooks):
    # before: --units a a a ran a three times
    assert report(tiny, tmp_path / "o", "--units", "a", "a", "a") == 0
    assert [j.unit_id for j in quick_notebooks[0]] == [None, "a"]


def test_previous_equal_to_the_dataset_is_refused_by_path_or_content(tmp_path, tiny, capsys):
    # before: a 2011-vs-2011 look-back with every change 0
    copy = shutil.copytree(tiny, tmp_path / "copy")
    for prev in (tiny, Path(str(tiny) + "/"), copy):
        assert report(tiny, tmp_path / "o", "--previous", str(prev)) == 2
        err = capsys.readouterr().err
        assert "--previous" in err and "内容相同" in err and err.count("\n") == 1
    (copy / "survey.csv").write_text((copy / "survey.csv").read_text(encoding="utf-8") + "z,b,online,1,1,1,1,1\n",
                                     encoding="utf-8")
    assert check_options(tiny, jobs=None, units=None, previous=copy, report_date=None)


def test_out_that_is_a_file_is_one_line_exit_2(tmp_path, tiny, capsys):
    # before: a traceback
    (tmp_path / "o").write_text("not a folder", encoding="utf-8")
    assert report(tiny, tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "是一个文件" in err and err.count("\n") == 1
    assert (tmp_path / "o").read_text(encoding="utf-8") == "not a folder"


def test_out_that_is_not_writable_is_one_line_exit_2(tmp_path, tiny, capsys, monkeypatch):
    # root writes anywhere, so the check is what is tested: os.access as a read-only folder answers
    (tmp_path / "o").mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == tmp_path / "o" else real(p, mode))
    assert report(tiny, tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "不可写" in err and err.count("\n") == 1


def test_out_in_a_folder_that_refuses_writes_is_one_line_exit_2(tmp_path, tiny, capsys, monkeypatch):
    def refuse(*a, **kw):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(publish.tempfile, "mkdtemp", refuse)
    assert report(tiny, tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "不可写" in err and err.count("\n") == 1 and beside(tmp_path / "o") == []


def test_a_folder_holding_other_files_is_not_replaced(tmp_path, tiny, capsys, quick_notebooks):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work", encoding="utf-8")
    assert report(tiny, out) == 2
    assert "thesis.docx" in capsys.readouterr().err
    assert (out / "thesis.docx").read_text(encoding="utf-8") == "years of work"


# ---- one consistent folder -------------------------------------------------------------------------


def test_a_run_leaves_the_report_and_nothing_beside_or_inside_it(tmp_path, tiny, quick_notebooks):
    out = tmp_path / "o"
    assert report(tiny, out) == 0
    assert {p.name for p in out.iterdir()} == REPORT_ENTRIES
    assert beside(out) == [] and not list(out.rglob(".tmp-*"))
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~_umask())  # not the staging folder's 0700
    assert report(tiny, out) == 0  # a rerun swaps
    assert beside(out) == [] and {p.name for p in out.iterdir()} == REPORT_ENTRIES


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_a_second_run_into_the_same_folder_refuses_while_one_runs(tmp_path, tiny, capsys, quick_notebooks):
    # before: both said success and their pages and logs were interleaved
    out = tmp_path / "o"
    assert report(tiny, out) == 0
    before = snapshot(out)
    with ReportFolder(out, REPORT_ENTRIES):  # a run in progress holds the lock
        assert report(tiny, out) == 1
        err = capsys.readouterr().err
        assert "正在写" in err and str(os.getpid()) in err and err.count("\n") == 1
    assert snapshot(out) == before
    assert report(tiny, out) == 0 and beside(out) == []


def test_symlinks_planted_in_out_are_replaced_never_followed(tmp_path, tiny, quick_notebooks):
    # before: a link at report.log or notebooks/kernels.log made the run overwrite its target (the kernels' log is
    # folded into report.log now; a link where it was must still be removed with the old folder, not followed)
    out = tmp_path / "o"
    assert report(tiny, out) == 0
    victims = {}
    for rel in ("report.log", "notebooks/kernels.log", "run.json", "index.html", WORKBOOK_NAME, "units/a.html"):
        victim = tmp_path / f"victim-{rel.replace('/', '-')}"
        victim.write_text("precious", encoding="utf-8")
        (out / rel).unlink(missing_ok=True)
        (out / rel).symlink_to(victim)
        victims[rel] = victim
    (out / "units").rename(tmp_path / "real-units")
    (out / "units").symlink_to(tmp_path / "real-units")  # a linked folder too
    assert report(tiny, out) == 0
    for rel, victim in victims.items():
        assert victim.read_text(encoding="utf-8") == "precious", rel
    assert not any(p.is_symlink() for p in [out, *out.rglob("*")])
    assert (tmp_path / "real-units").is_dir()


def test_out_given_as_a_link_publishes_where_it_points(tmp_path, tiny, quick_notebooks):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert report(tiny, tmp_path / "link") == 0
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / "index.html").is_file()


# ---- disk full and I/O errors ----------------------------------------------------------------------


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_while_writing_the_workbook_is_one_line_and_keeps_the_last_report(
        tmp_path, tiny, capsys, monkeypatch, quick_notebooks):
    # before: a traceback, and pages of the new run beside the index of the old one
    out = tmp_path / "o"
    assert report(tiny, out) == 0
    before = snapshot(out)
    monkeypatch.setattr(openpyxl.writer.excel.ExcelWriter, "save", enospc)  # what workbook._save calls
    assert report(tiny, out) == 1
    err = capsys.readouterr().err
    assert err == f"错误：无法写入 {out / WORKBOOK_NAME}：{os.strerror(errno.ENOSPC)}\n"
    assert snapshot(out) == before and beside(out) == []


def test_a_full_disk_while_writing_the_log_is_one_line_naming_it(tmp_path, tiny, capsys, monkeypatch,
                                                                 quick_notebooks):
    out = tmp_path / "o"

    def emit(self, record):
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError:
            self.handleError(record)

    monkeypatch.setattr(runlog.RunLog, "emit", emit)
    assert report(tiny, out) == 1
    err = capsys.readouterr().err
    assert f"无法写入 {out / 'report.log'}" in err and err.count("\n") == 1
    assert not out.exists() and beside(out) == []


def test_a_full_disk_in_a_worker_stops_the_run_and_names_the_file(tmp_path, tiny, capsys, monkeypatch):
    out = tmp_path / "o"
    job = runner.Job("unit", "甲", "unit.ipynb", str(out / "notebooks/units/a.ipynb"), str(out / "units/a.html"),
                     "units/a.html", {}, "../index.html", "a")
    (out / "notebooks/units").mkdir(parents=True)
    import papermill

    def full(input_path, output_path, **kw):
        with open(output_path, "w") as f:
            f.write("{")  # the notebook half written when the disk filled
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(papermill, "execute_notebook", full)
    result = runner.run_job(job)
    assert not result.ok and result.disk_error == f"无法写入 {job.executed}：{os.strerror(errno.ENOSPC)}"
    assert not (out / "notebooks/units/a.ipynb").exists()  # no truncated notebook published
    assert not list(out.rglob(".tmp-*")) and not (out / "units/a.html").exists()  # no failure page either

    # and the run: one line, exit 1, the previous report as it was
    monkeypatch.setattr(runner, "_execute", lambda plan, workers, progress, title="": [
        JobResult(j.kind, j.title, j.unit_id, j.html_rel, True, 0.0) for j in plan])
    assert report(tiny, out.parent / "r") == 0
    before = snapshot(out.parent / "r")
    monkeypatch.setattr(runner, "_execute", lambda plan, workers, progress, title="": [
        JobResult("city", "t", None, "city.html", False, 0.0, "OSError", "x",
                  disk_error=f"无法写入 {plan[0].html}：{os.strerror(errno.ENOSPC)}")])
    assert report(tiny, out.parent / "r") == 1
    err = capsys.readouterr().err
    assert err == f"错误：无法写入 {out.parent / 'r' / 'city.html'}：{os.strerror(errno.ENOSPC)}\n"
    assert snapshot(out.parent / "r") == before


def test_an_io_error_outside_the_report_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    from pingyi_lib.dataset import sample

    monkeypatch.setattr(sample.csv, "writer", enospc)
    assert main(["sample", "--year", "2011", "--out", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert err == f"错误：{tmp_path / 's' / 'units.csv'}：{os.strerror(errno.ENOSPC)}\n"


# ---- a crash at the swap ---------------------------------------------------------------------------


def test_a_crash_between_the_two_renames_of_the_portable_swap_is_repaired_by_the_next_run(
        tmp_path, tiny, quick_notebooks, monkeypatch):
    out = tmp_path / "o"
    assert report(tiny, out) == 0
    good = snapshot(out)
    monkeypatch.setattr(publish, "_renameat2_exchange", lambda a, b: False)  # as on macOS
    real_rename, calls = os.rename, []

    def crash_on_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies right here
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        runner.run_reports(tiny, out, report_date="2011-09-20", allow_incomplete=True)
    monkeypatch.setattr(os, "rename", real_rename)
    assert not out.exists() and any("pingyi-old" in n for n in beside(out))
    with ReportFolder(out, REPORT_ENTRIES):  # the next run puts the last good report back first
        assert snapshot(out) == good
    assert beside(out) == []


def test_the_portable_swap_publishes_like_the_atomic_one(tmp_path, tiny, quick_notebooks, monkeypatch):
    monkeypatch.setattr(publish, "_renameat2_exchange", lambda a, b: False)
    out = tmp_path / "o"
    assert report(tiny, out) == 0 and report(tiny, out) == 0
    assert {p.name for p in out.iterdir()} == REPORT_ENTRIES and beside(out) == []


def test_leftovers_of_a_killed_run_are_removed_by_the_next(tmp_path, tiny, quick_notebooks):
    out = tmp_path / "o"
    assert report(tiny, out) == 0
    (tmp_path / ".o.pingyi-new-abc").mkdir()
    (tmp_path / ".o.pingyi-new-abc" / "index.html").write_text("half", encoding="utf-8")
    (tmp_path / ".o.pingyi-lock").write_text("99999", encoding="utf-8")  # its holder is dead
    assert report(tiny, out) == 0
    assert beside(out) == []


@pytest.mark.slow
def test_control_bytes_in_the_data_no_longer_stop_the_report(broken_reports):
    # before: every notebook ran, then openpyxl's IllegalCharacterError: no index, no workbook
    out, code = broken_reports
    assert code == 1  # unit b's notebook raises on purpose; the run itself completes
    wb = openpyxl.load_workbook(out / WORKBOOK_NAME)
    quality = [" ".join(str(c.value) for c in r) for r in wb["数据质量"].iter_rows(min_row=2)]
    assert any("\\x08" in r for r in quality) and any("c\\x00" in r for r in quality)
    control = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    for page in ("index.html", "city.html", "units/a.html", "units/b.html"):
        assert not control.search((out / page).read_text(encoding="utf-8")), page
    assert "乙区安监局" in (out / "index.html").read_text(encoding="utf-8")
