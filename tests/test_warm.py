"""Warm kernels (output/warm.py): every page of a worker runs in one kernel started once, in a
fresh namespace; a page that fails, dies or hangs leaves nothing to the next; a worker that
dies is replaced and its page run once more."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from pingyi_lib.output import jobs, warm, workers
from pingyi_lib.output.jobs import Job, JobResult

from .conftest import SAMPLE_2011


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("step = ''", metadata={"tags": ["parameters"]}),
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path


def _job(nb: Path, out: Path, name: str, limit: float | None = None, **parameters) -> Job:
    return Job("unit", name, str(nb), str(out / f"{name}.ipynb"), str(out / f"{name}.html"), f"{name}.html",
               parameters, "index.html", name, seconds_limit=limit)


@pytest.fixture
def fresh_worker():
    """This test process as a report worker with no kernel yet; its kernel stopped afterwards."""
    warm.drop()
    yield
    warm.drop()


MESSY = """
import os, sys, warnings
import pandas as pd
if step == "mess":
    leaked = "from an earlier page"
    pd.set_option("display.max_columns", 3)
    os.environ["PINGYI_LEAK"] = "1"
    sys.path.insert(0, "/leaked")
    warnings.simplefilter("error")
    os.chdir("/")
    raise RuntimeError("this page fails half way")
"""
CHECK = """
import os, sys, warnings
import pandas as pd
if step == "check":
    assert "leaked" not in globals(), "a name of the last page"
    assert pd.get_option("display.max_columns") != 3
    assert "PINGYI_LEAK" not in os.environ and "/leaked" not in sys.path
    assert not any(f[0] == "error" and f[2] is Warning for f in warnings.filters)
    assert os.getcwd() != "/"
"""


def test_a_failing_page_leaves_nothing_to_the_next_in_the_same_kernel(tmp_path, fresh_worker):
    nb = _notebook(tmp_path / "messy.ipynb", MESSY, CHECK)
    first = jobs.run_job(_job(nb, tmp_path, "a", step="mess"))
    assert not first.ok and first.error_name == "RuntimeError"
    kernel = warm.current()
    assert kernel is not None and kernel.alive()
    second = jobs.run_job(_job(nb, tmp_path, "b", step="check"))
    assert second.ok, second.error_value
    assert warm.current() is kernel  # the same kernel, warm
    ran = nbformat.read(tmp_path / "b.ipynb", as_version=4)
    # numbered as in a new kernel: papermill's parameters cell is 2, the check the 4th cell
    assert [c.execution_count for c in ran.cells] == [1, 2, 3, 4]


def test_a_page_is_the_same_byte_for_byte_first_or_tenth_in_a_worker(tmp_path, fresh_worker):
    from pingyi_lib.output import runner, scored

    bundle = scored.compute(str(SAMPLE_2011), "", "", "")
    res = bundle[0]
    day = bundle[2].report_day.day.isoformat()
    cache = scored.keep(bundle, "warm-test", str(SAMPLE_2011), "", "", day)
    units = list(res.units["unit_id"])[:10]
    first = runner.plan_jobs(res, tmp_path / "first", runner.NOTEBOOK_DIR, units, str(SAMPLE_2011), "", False,
                             report_date=day, scored=str(cache))
    tenth = runner.plan_jobs(res, tmp_path / "tenth", runner.NOTEBOOK_DIR, units[::-1], str(SAMPLE_2011), "",
                             False, report_date=day, scored=str(cache))
    for plan in (first, tenth):
        for sub in ("notebooks/units", "units"):
            (Path(plan[0].html).parent / sub).mkdir(parents=True, exist_ok=True)
    page = units[0]  # the first page of a new kernel, then the tenth of a warm one
    job_a = next(j for j in first if j.unit_id == page)
    a = jobs.run_job(job_a)
    started = warm.current()
    for job in tenth:
        if job.kind == "unit":
            assert jobs.run_job(job).ok
    assert warm.current() is started
    b = next(j for j in tenth if j.unit_id == page)
    assert a.ok
    assert Path(job_a.html).read_bytes() == Path(b.html).read_bytes()


def test_a_page_past_the_time_limit_is_ended_and_the_next_runs_on_a_new_kernel(tmp_path, fresh_worker):
    nb = _notebook(tmp_path / "slow.ipynb", "import time\nif step == 'hang':\n    time.sleep(600)", "x = 1")
    hung = jobs.run_job(_job(nb, tmp_path, "hang", limit=3, step="hang"))
    assert not hung.ok and hung.error_name == "PageTimeLimit"
    assert "超过每页时限（3 秒）" in hung.error_value
    assert (tmp_path / "hang.html").exists()  # the page as far as it ran; the index says it failed
    assert warm.current() is None  # the hung kernel is gone
    assert jobs.run_job(_job(nb, tmp_path, "next", limit=30, step="")).ok


def test_a_page_that_kills_its_kernel_is_run_once_more_then_fails_alone(tmp_path, fresh_worker):
    marker = tmp_path / "tries"
    nb = _notebook(tmp_path / "dies.ipynb",
                   f"import os\nwith open({str(marker)!r}, 'a') as f:\n    f.write('x')\n"
                   "if step == 'die':\n    os._exit(1)")
    died = jobs.run_job(_job(nb, tmp_path, "die", step="die"))
    assert not died.ok and died.error_name == "DeadKernelError"
    assert marker.read_text() == "xx"  # tried twice
    assert jobs.run_job(_job(nb, tmp_path, "after", step="")).ok


def _kill_on(job):
    """A stand-in for run_job: the worker running job 'b' dies on its first try."""
    flag = Path(job.parameters["flag"])
    if job.unit_id == "b" and not flag.exists():
        flag.write_text("died once")
        os._exit(1)
    if job.unit_id == "c":
        os._exit(1)  # dies every time
    return JobResult(job.kind, job.title, job.unit_id, job.html_rel, True, 0.0)


def test_a_worker_that_dies_is_replaced_and_its_page_retried_once(tmp_path):
    plan = [Job("unit", u, "", "", "", f"{u}.html", {"flag": str(tmp_path / "flag")}, "", u) for u in "abcd"]
    log = tmp_path / "kernels.log"
    got: dict[str, JobResult] = {}

    def failed(job, exc):
        return JobResult(job.kind, job.title, job.unit_id, job.html_rel, False, 0.0, type(exc).__name__, str(exc))

    def on_result(job, result):
        assert job.unit_id not in got
        got[job.unit_id] = result
        return False

    workers.run_in_workers(plan, 1, _kill_on, str(log), on_result, failed)
    assert sorted(got) == ["a", "b", "c", "d"]
    assert got["a"].ok and got["b"].ok and got["d"].ok  # b died once, ran again
    assert not list(tmp_path.glob(".started-*"))  # the workers' lists of started pages, beside the log: removed
    assert not got["c"].ok and got["c"].error_name == "BrokenProcessPool"


def test_a_batch_process_reads_and_checks_notebooks_without_the_slow_optional_module():
    code = ("import json, sys\n"
            "from pingyi_lib.output.workers import SLOW_OPTIONAL_MODULES, skip_slow_optional_modules\n"
            "skip_slow_optional_modules()\n"
            "import nbformat, papermill\n"
            "from pingyi_lib.output.runner import NOTEBOOK_DIR\n"
            "nb = nbformat.read(str(NOTEBOOK_DIR / 'unit.ipynb'), as_version=4)\n"
            "nbformat.validate(nb)\n"
            "print(json.dumps([sorted(papermill.inspect_notebook(str(NOTEBOOK_DIR / 'unit.ipynb'))),"
            " [sys.modules.get(m, 'absent') for m in SLOW_OPTIONAL_MODULES]]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    parameters, modules = json.loads(done.stdout)
    assert "unit_id" in parameters and "scored" in parameters  # papermill reads the notebook as before
    assert modules == [None]  # never imported: 1.5 s saved in each process of a batch


def _done(job):
    """A stand-in for run_job that does nothing."""
    return JobResult(job.kind, job.title, job.unit_id, job.html_rel, True, 0.0)


def _batch(tmp_path: Path, stand_in: str, plan: str, hang: str) -> list[str]:
    """``run_in_workers`` with 2 workers in a process of its own (a hang fails the test, not the
    suite): ``plan``, the Python expression of the jobs; ``stand_in``, the name of this module's
    stand-in for run_job. Returns [pages ended, pages ok]."""
    code = ("from pingyi_lib.output import workers\n"
            "from pingyi_lib.output.jobs import Job\n"
            f"from tests.test_warm import {stand_in}\n"
            f"plan = {plan}\n"
            "got = []\n"
            f"workers.run_in_workers(plan, 2, {stand_in}, {str(tmp_path / 'k.log')!r},"
            " lambda j, r: got.append(r) and False, lambda j, e: None)\n"
            "print(len(got), sum(bool(r and r.ok) for r in got))\n")
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              cwd=Path(__file__).resolve().parents[1])
    except subprocess.TimeoutExpired:
        pytest.fail(hang)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_batch_of_thousands_of_pages_ends(tmp_path):
    # the workers once named every page they started on a queue, read only after a worker died: its
    # pipe filled up after about 2,000 pages, and the workers could not exit at the end: the run hung
    # after its last page (the 2,000-unit round of bench/RESULTS.md)
    plan = ("[Job('unit', str(i), '', '', '', f'units/{i:05d}-' + 'x' * 90 + '.html', {}, '', str(i))"
            " for i in range(3000)]")
    assert _batch(tmp_path, "_done", plan, "the batch did not end after its last page") == ["3000", "3000"]


def _die_once(job):
    """A stand-in for run_job: the worker running a job dies the first time it runs it."""
    flag = Path(job.parameters["flag"])
    if not flag.exists():
        flag.write_text("died once")
        os._exit(1)
    return JobResult(job.kind, job.title, job.unit_id, job.html_rel, True, 0.0)


def test_workers_dying_just_after_saying_what_they_started_neither_hang_the_run_nor_lose_the_page(tmp_path):
    # the workers named the pages they started on a multiprocessing queue: a worker dying just after
    # its put could die holding the queue's lock (the run then hung at the end, one run in three of
    # this test), or before its name reached the run (the page was not retried: another was blamed)
    plan = (f"[Job('unit', str(i), '', '', '', f'{{i}}.html', {{'flag': {str(tmp_path)!r} + f'/f{{i}}'}}, '', str(i))"
            " for i in range(12)]")
    assert _batch(tmp_path, "_die_once", plan, "the batch hung after its workers died") == ["12", "12"]
    assert sorted(p.name for p in tmp_path.glob("f*")) == sorted(f"f{i}" for i in range(12))  # each died once


def test_only_the_page_whose_worker_died_counts_a_try():
    # a page killed with the pool (SIGTERM) after another page's worker died was counted a try: twice
    # beside dying pages and it was given up without having failed (1 run in 12 of the test above)
    import signal
    from types import SimpleNamespace

    from pingyi_lib.output.workers import _culprits

    procs = {10: SimpleNamespace(exitcode=1), 11: SimpleNamespace(exitcode=-signal.SIGTERM),
             12: SimpleNamespace(exitcode=-signal.SIGKILL), 13: SimpleNamespace(exitcode=0)}
    began = {10: ["a", "b"], 11: ["c"], 12: ["d"], 13: ["e"]}
    assert _culprits(procs, began, {"b", "c", "d", "e"}) == {"b", "d"}  # the last page of each dead worker
    assert _culprits(procs, began, {"c"}) == set()  # the dead workers' pages had finished: none told apart
    assert _culprits({11: SimpleNamespace(exitcode=-signal.SIGTERM)}, {11: ["c"]}, {"c"}) == set()
