"""The processes that run a batch's notebooks: each dies with the run (however the run
ends), leaves Ctrl-C to the run and writes its kernels' stderr to a log; a SIGTERM ends the
run as Ctrl-C does; :func:`stop_workers` ends them all at once."""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def sigterm_interrupts():
    """A SIGTERM (a scheduler stopping the job) ends the run as Ctrl-C does: workers are
    stopped and the staging folder removed, the previous report stays."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


_STARTED = None  # the folder in which this worker names each job it starts (set by init_worker)


def die_with_parent(parent_pid: int) -> None:
    """A worker ends when the run that started it ends, however it ends (kill -9 too):
    the kernel's parent-death signal on Linux, and a watchdog thread everywhere."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="pingyi-parent-watch", daemon=True).start()


# jsonschema (which nbformat imports, so papermill and nbconvert do) imports rfc3987_syntax when
# it is installed (JupyterLab's jupyter-events asks for it), and that module compiles 39 Lark
# grammars as it is imported: 1.5 s in every process of a batch, for the "iri" format, which no
# notebook schema uses. A batch's processes go without it (jsonschema skips a format whose
# module cannot be imported).
SLOW_OPTIONAL_MODULES = ("rfc3987_syntax",)


def skip_slow_optional_modules() -> None:
    """Make the :data:`SLOW_OPTIONAL_MODULES` unimportable in this process unless already imported."""
    for name in SLOW_OPTIONAL_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: `import name` raises ImportError


def init_worker(kernel_log: str, parent_pid: int, started: str | None = None) -> None:
    """Tie the worker to the run, leave Ctrl-C to the run (it stops the workers), send what
    kernels print on stderr (start-up warnings) to a log, not the terminal, and keep the
    folder ``started`` in which the worker names each job as it starts it (:func:`started_job`)."""
    global _STARTED
    _STARTED = started
    skip_slow_optional_modules()
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd = os.open(kernel_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o644)
    os.dup2(fd, 2)
    os.close(fd)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop at once: cancel what has not started, kill the workers running notebooks."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.kill()
    for p in procs:
        p.join(timeout=10)


TRACKER_QUIET = "ignore::UserWarning:multiprocessing.resource_tracker"


def quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (once per run) without its "leaked semaphore"
    warning: when a run is killed (kill -9) the tracker outlives it, removes the pool's
    semaphores as it should, and would say so on the run's stderr, which a scheduler mails.
    Its warning filter is passed only to the tracker (through its environment at start)."""
    from multiprocessing import resource_tracker

    old = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = f"{old},{TRACKER_QUIET}" if old else TRACKER_QUIET
    try:
        resource_tracker.ensure_running()
    finally:
        if old is None:
            del os.environ["PYTHONWARNINGS"]
        else:
            os.environ["PYTHONWARNINGS"] = old


def started_job(run, job):
    """Run ``run(job)`` in a worker, having said that it started: one line appended to this
    worker's own file in the run's folder (a write of one line, no lock held: a worker that
    dies at any moment can leave nothing half done that another process waits on, as a
    multiprocessing queue's lock could; and nothing fills up however many pages it starts)."""
    if _STARTED is not None:
        fd = os.open(os.path.join(_STARTED, str(os.getpid())), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (json.dumps(job.html_rel) + "\n").encode("utf-8"))
        finally:
            os.close(fd)
    return run(job)


def _began(folder: str) -> dict[int, list[str]]:
    """The jobs each worker (by pid) said it started (:func:`started_job`), in order, and forget them."""
    out: dict[int, list[str]] = {}
    for f in Path(folder).iterdir():
        jobs = out.setdefault(int(f.name), [])
        for line in f.read_text(encoding="utf-8").splitlines():
            try:
                jobs.append(json.loads(line))
            except ValueError:  # the last line of a worker killed as it wrote
                pass
        f.unlink()
    return out


def _culprits(procs: dict, began: dict[int, list[str]], pending: set[str]) -> set[str]:
    """The unfinished jobs whose worker died of itself (an exit code other than 0 and the SIGTERM
    with which the pool ends the other workers once one has died): the last job each such worker
    started. Empty when no dead worker can be told apart (the caller then suspects every
    unfinished job that started)."""
    dead = [pid for pid, p in list(procs.items()) if p.exitcode not in (None, 0, -signal.SIGTERM)]
    return {began[pid][-1] for pid in dead if began.get(pid)} & pending


def run_in_workers(plan, workers: int, run, kernel_log: str, on_result, failed) -> None:
    """Run every job of ``plan`` as ``run(job)`` in ``workers`` processes; ``on_result(job,
    result)`` as each ends (return True to stop everything). A worker that dies takes down
    its pool: the pool is replaced, and the jobs it was running are run once more (the others
    had not started and are simply run); a job running when a second pool died is given up
    with ``failed(job, exc)``."""
    # each worker's file of the jobs it started, beside the kernels' log (in the folder being built:
    # a run killed before it removes them leaves them there, and the next run removes that folder)
    started = tempfile.mkdtemp(prefix=".started-", dir=os.path.dirname(os.path.abspath(kernel_log)))
    try:
        _run_pools(plan, workers, run, kernel_log, on_result, failed, started)
    finally:
        shutil.rmtree(started, ignore_errors=True)


def _run_pools(plan, workers: int, run, kernel_log: str, on_result, failed, started: str) -> None:
    """:func:`run_in_workers`, ``started``: the folder of the workers' files of started jobs."""
    ctx = multiprocessing.get_context("spawn")
    tries: dict[str, int] = {}
    left = list(plan)
    while left:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                                   initargs=(kernel_log, os.getpid(), started))
        procs = pool._processes  # the workers by pid, as the pool starts them (kept after it shuts down)
        broken = None
        done: set[str] = set()
        try:
            futures = {pool.submit(functools.partial(started_job, run), job): job for job in left}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    result = fut.result()
                except BrokenProcessPool as exc:
                    broken = exc
                    continue
                except Exception as exc:  # noqa: BLE001 - the job could not be sent or returned: report, go on
                    result = failed(job, exc)
                done.add(job.html_rel)
                if on_result(job, result):
                    stop_workers(pool)
                    return
        except BaseException:
            stop_workers(pool)
            raise
        pool.shutdown(wait=True)
        began = _began(started)  # the pages this pool's workers started
        if broken is None:
            return
        unfinished = [j for j in left if j.html_rel not in done]
        pending = {j.html_rel for j in unfinished}
        # the page whose worker died counts a try; the pages the pool ended with it (SIGTERM) do not:
        # a page killed beside another twice would otherwise be given up without having failed
        suspects = _culprits(procs or {}, began, pending) \
            or {r for jobs in began.values() for r in jobs if r in pending} \
            or {j.html_rel for j in unfinished[:workers]}  # none said it started: the first in line
        left = []
        for job in unfinished:
            if job.html_rel in suspects:
                tries[job.html_rel] = tries.get(job.html_rel, 0) + 1
                if tries[job.html_rel] >= 2:
                    if on_result(job, failed(job, broken)):
                        return
                    continue
            left.append(job)
