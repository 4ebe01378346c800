"""One notebook of a report batch: executed with papermill, exported by nbconvert to an
offline HTML page with no code, no parameters cell and nothing from a CDN. A job never
raises for its notebook's faults (:class:`JobResult` says what failed, at which cell); a
write the machine refused (a full disk) is the one error that stops the whole batch.
"""

from __future__ import annotations

import errno
import functools
import time
from dataclasses import dataclass
from pathlib import Path

from pingyi_lib.common.errors import ReportError
from pingyi_lib.common.fonts import FONT_STACK
from pingyi_lib.common.masking import mask_personal_data
from pingyi_lib.output.atomic import atomic_path, write_text
from pingyi_lib.output.packaged import template_dir
from pingyi_lib.output.scored import forget_in_file

HIDDEN_TAGS = {"parameters", "injected-parameters", "analyst-note"}  # analyst-note: notes for JupyterLab only
KERNEL = "python3"
# errors of the machine, not of one notebook: the whole run stops, OUT stays as it was
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})


def is_disk_error(exc: BaseException | None) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_ERRNOS


def disk_error_text(exc: OSError) -> str:
    """One line for a failed write: the file and what the system said."""
    where = exc.filename or "?"
    return f"无法写入 {where}：{exc.strerror or exc}"


@dataclass
class Job:
    """One notebook to execute and export."""

    kind: str  # "city" or "unit"
    title: str
    notebook: str  # input .ipynb
    executed: str  # OUT/notebooks/....ipynb
    html: str  # OUT/....html
    html_rel: str  # link from index.html
    parameters: dict
    backlink: str
    unit_id: str | None = None
    warm_up: tuple[str, ...] = ()  # the notebooks whose imports the worker's kernel makes once (output/warm.py)
    seconds_limit: float | None = None  # a page still running then is ended and fails; None: no limit


@dataclass
class JobResult:
    kind: str
    title: str
    unit_id: str | None
    html: str  # relative link
    ok: bool
    seconds: float
    error_name: str = ""
    error_value: str = ""
    cell: int | None = None
    disk_error: str = ""  # a write failed for the machine's reasons (disk full): the run stops
    kept: bool = False  # not made by this run: kept from the report in OUT (output/carry.py)


def check_parameters(notebook: Path, passed: dict) -> None:
    """Refuse a parameter the notebook does not declare (papermill only warns)."""
    import papermill as pm

    declared = set(pm.inspect_notebook(str(notebook)))
    unknown = set(passed) - declared
    if unknown:
        raise ReportError(f"笔记本 {notebook.name} 没有参数 {', '.join(sorted(unknown))}；"
                          f"它的参数是：{', '.join(sorted(declared))}")


@functools.cache
def _exporter():
    """One HTML exporter per process (a worker exports many pages): its templates are
    compiled once, not once per page."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="pingyi", extra_template_basedirs=[str(template_dir() / "nbconvert")])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=HIDDEN_TAGS, enabled=True), enabled=True)
    return exporter


def export_html(nb_path: Path, html_path: Path, title: str, backlink: str = "", nb=None) -> None:
    """Executed notebook → HTML with no code, no parameters cell, nothing from a CDN.
    ``nb``: the executed notebook as papermill returned it (else it is read from ``nb_path``)."""
    import nbformat

    if nb is None:
        nb = nbformat.read(str(nb_path), as_version=4)
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title},
                                                             "pingyi_backlink": backlink,
                                                             "pingyi_font_stack": FONT_STACK})
    write_text(html_path, body)


def error_of(exc: BaseException) -> tuple[str, str, int | None]:
    ename = getattr(exc, "ename", None) or type(exc).__name__
    evalue = getattr(exc, "evalue", None) or str(exc)
    return ename, mask_personal_data(str(evalue)), getattr(exc, "exec_count", None)  # shown on the index


def _is_kernel_failure(exc: BaseException) -> bool:
    """The kernel, not the notebook, failed: it did not start (kernels started at the same
    moment can race for ports) or it died under the page (``DeadKernelError``)."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return False
    text = f"{type(exc).__name__} {exc}".lower()
    return "kernel" in text or isinstance(exc, (TimeoutError, ConnectionError))


def run_job(job: Job) -> JobResult:
    """Execute one notebook and export it; never raises (the result says what failed)."""
    try:
        return _run_job(job)
    except OSError as exc:
        if not is_disk_error(exc):
            raise
        return JobResult(job.kind, job.title, job.unit_id, job.html_rel, False, 0.0, type(exc).__name__,
                         str(exc), disk_error=disk_error_text(exc))


ENGINE = "pingyi"  # papermill's nbclient engine, keeping what a dead kernel leaves (_engine)


@functools.cache
def _engine() -> str:
    """Register (once) papermill's nbclient engine that, when the run stops without a cell
    error (the kernel died), still writes the notebook as far as it ran. The runner turns
    off papermill's saves after every cell (request_save_on_cell_execute=False: each is a
    copy, a validation and a JSON dump of the whole notebook, twice per cell, more than a
    page's own work); papermill itself writes the notebook at the end or at a failing cell."""
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import write_ipynb

    class SavedWhenTheKernelDies(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, partial_path: str = "", **kwargs):
            try:
                return super().execute_notebook(nb, kernel_name, **kwargs)
            except Exception:
                if partial_path:  # the cells run so far, their outputs, the one that was running
                    write_ipynb(nb, partial_path)
                raise

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, warm=None, **kwargs):
            if warm is None:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            # the worker's warm kernel (output/warm.py): its manager and client are lent, so
            # nbclient neither starts nor stops a kernel and opens no client of its own
            from papermill.clientwrap import PapermillNotebookClient
            from papermill.engines import logger

            for name in ("input_path", "timeout", "startup_timeout", "start_timeout", "shutdown_kernel"):
                kwargs.pop(name, None)
            client = PapermillNotebookClient(nb_man, km=warm.km, timeout=kwargs.pop("execution_timeout", None),
                                             kernel_name=kernel_name, log=logger, **kwargs)
            client.kc = warm.kc
            return client.execute()

    papermill_engines.register(ENGINE, SavedWhenTheKernelDies)
    return ENGINE


def _run_job(job: Job) -> JobResult:
    import papermill as pm

    from pingyi_lib.output import warm

    t0 = time.perf_counter()
    executed = Path(job.executed)
    cwd = str(Path(job.notebook).parent)
    error: BaseException | None = None
    nb = None
    for attempt in (1, 2):  # a kernel that could not start, or died under the page: once more, on a new one
        error, deadline = None, None  # deadline: this attempt's page time limit
        with atomic_path(executed) as tmp:  # the partial notebook of a failed run is kept too
            try:
                kernel = warm.kernel(cwd, list(job.warm_up or (job.notebook,)))
                kernel.fresh()  # the namespace, counter and defaults a page finds in a new kernel
                deadline = kernel.limit(job.seconds_limit)
                # written once, at the end, at a failing cell or where the kernel died (_engine)
                nb = pm.execute_notebook(job.notebook, str(tmp), parameters=job.parameters, kernel_name=KERNEL,
                                         progress_bar=False, log_output=False, cwd=cwd,
                                         engine_name=_engine(), request_save_on_cell_execute=False,
                                         partial_path=str(tmp), warm=kernel)
            except Exception as exc:  # noqa: BLE001 - any failure is reported for this job only
                if is_disk_error(exc):  # not the notebook's fault: no half-written notebook is kept
                    raise
                error = exc
            finally:
                if deadline is not None:
                    deadline.cancel()
        if error is not None and not _kernel_usable():
            warm.drop()  # dead or broken: the next page (or the retry) gets a new kernel
        if error is None or attempt == 2 or (deadline is not None and deadline.fired) \
                or not _is_kernel_failure(error):
            break
    forget_in_file(executed, nb if error is None else None)
    result = JobResult(job.kind, job.title, job.unit_id, job.html_rel, error is None, 0.0)
    if error is not None:
        result.error_name, result.error_value, result.cell = error_of(error)
        if deadline is not None and deadline.fired:
            result.error_name = "PageTimeLimit"
            result.error_value = f"超过每页时限（{job.seconds_limit:g} 秒），已停止；其余报告照常生成"
    try:
        if executed.exists() and executed.stat().st_size > 0:
            export_html(executed, Path(job.html), job.title, job.backlink, nb if error is None else None)
        else:
            raise ReportError(f"{job.title}：笔记本没有运行")
    except Exception as exc:  # noqa: BLE001
        if is_disk_error(exc):
            raise
        if result.ok:
            result.ok = False
            result.error_name, result.error_value, result.cell = error_of(exc)
        write_text(job.html, _failure_page(result, job.backlink))
    result.seconds = round(time.perf_counter() - t0, 2)
    return result


def _kernel_usable() -> bool:
    from pingyi_lib.output import warm

    k = warm.current()
    return k is not None and k.alive()


def _failure_page(r: JobResult, backlink: str) -> str:
    from html import escape

    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(r.title)}</title></head>'
            f'<body><p><a href="{escape(backlink)}">← 返回目录</a></p><h1>{escape(r.title)}：报告生成失败</h1>'
            f"<p>{escape(r.error_name)}</p><pre>{escape(r.error_value)}</pre></body></html>")
