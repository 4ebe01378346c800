"""The report runner: papermill per notebook, nbconvert to offline HTML, an index page
and the results workbook.

Layout of ``OUT``::

    index.html            links to everything, says what failed and why
    city.html             the round (notebooks/city.ipynb)
    units/<unit>.html     one per unit (notebooks/unit.ipynb)
    assets/plotly.min.js  plotly.js, once, loaded by relative path (unless self-contained)
    notebooks/*.ipynb     the executed notebooks (kept; a failed one shows the failing cell, or how
                          far it ran when its kernel died)
    评议结果.xlsx          ranking, satisfaction, main problems (seed §五(六))
    评议结果通报.docx      the notice of results sent upward, in the layout of a government notice
    report.log            what ran, how long, what failed

Each notebook runs in its own process (papermill changes the working directory, so
threads are not safe); one failing unit does not stop the others. The whole folder is
built beside ``OUT`` and swapped in at the end (:mod:`pingyi_lib.output.publish`), so
``OUT`` holds the last good run or the new one, never a mix; a second run into the same
``OUT`` refuses while one holds it. Workers die with the run. A full disk or another I/O
error stops the run with one line naming the file, and ``OUT`` stays as it was.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from pingyi_lib.common.controlchars import visible
from pingyi_lib.common.errors import OptionError, ReportError
from pingyi_lib.common.fonts import FONT_STACK
from pingyi_lib.common.masking import mask_personal_data
from pingyi_lib.common.names import unit_slugs
from pingyi_lib.common.numbers import format_number, format_rank
from pingyi_lib.output.atomic import atomic_path, write_text
from pingyi_lib.output.publish import ReportFolder
from pingyi_lib.output.runlog import log, log_result, logging_to, time_left_column
from pingyi_lib.output.scored import forget_in_file
from pingyi_lib.output.workers import init_worker, quiet_resource_tracker, sigterm_interrupts, stop_workers

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
NOTEBOOK_DIR = PACKAGE_DIR.parents[1] / "notebooks"
HIDDEN_TAGS = {"parameters", "injected-parameters", "analyst-note"}  # analyst-note: notes for JupyterLab only
KERNEL = "python3"
WORKBOOK_NAME = "评议结果.xlsx"
NOTICE_NAME = "评议结果通报.docx"
# what a report folder holds (anything else in OUT: it is someone's folder, not replaced)
REPORT_ENTRIES = frozenset({"index.html", "city.html", "units", "assets", "notebooks", WORKBOOK_NAME, NOTICE_NAME,
                            "report.log"})
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

    exporter = HTMLExporter(template_name="pingyi", extra_template_basedirs=[str(TEMPLATE_DIR / "nbconvert")])
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


def _error_of(exc: BaseException) -> tuple[str, str, int | None]:
    ename = getattr(exc, "ename", None) or type(exc).__name__
    evalue = getattr(exc, "evalue", None) or str(exc)
    return ename, mask_personal_data(str(evalue)), getattr(exc, "exec_count", None)  # shown on the index


def _is_kernel_start_failure(exc: BaseException) -> bool:
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

    papermill_engines.register(ENGINE, SavedWhenTheKernelDies)
    return ENGINE


def _run_job(job: Job) -> JobResult:
    import papermill as pm

    t0 = time.perf_counter()
    executed = Path(job.executed)
    error: BaseException | None = None
    nb = None
    for attempt in (1, 2):  # kernels started at the same moment can race for ports: retry once
        error = None
        with atomic_path(executed) as tmp:  # the partial notebook of a failed run is kept too
            try:
                # written once, at the end, at a failing cell or where the kernel died (_engine);
                # the kernel is killed once the last cell has answered: a graceful shutdown (an
                # interrupt, a reply, polling every 0.1 s, IPython clearing the namespace, the
                # interpreter unloading pandas) cost a unit page 0.25 s and held no output
                nb = pm.execute_notebook(job.notebook, str(tmp), parameters=job.parameters, kernel_name=KERNEL,
                                         progress_bar=False, log_output=False, cwd=str(Path(job.notebook).parent),
                                         engine_name=_engine(), request_save_on_cell_execute=False,
                                         partial_path=str(tmp), shutdown_kernel="immediate")
            except Exception as exc:  # noqa: BLE001 - any failure is reported for this job only
                if is_disk_error(exc):  # not the notebook's fault: no half-written notebook is kept
                    raise
                error = exc
        if error is None or attempt == 2 or not _is_kernel_start_failure(error):
            break
    forget_in_file(executed, nb if error is None else None)
    result = JobResult(job.kind, job.title, job.unit_id, job.html_rel, error is None, 0.0)
    if error is not None:
        result.error_name, result.error_value, result.cell = _error_of(error)
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
            result.error_name, result.error_value, result.cell = _error_of(exc)
        write_text(job.html, _failure_page(result, job.backlink))
    result.seconds = round(time.perf_counter() - t0, 2)
    return result


def _failure_page(r: JobResult, backlink: str) -> str:
    from html import escape

    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(r.title)}</title></head>'
            f'<body><p><a href="{escape(backlink)}">← 返回目录</a></p><h1>{escape(r.title)}：报告生成失败</h1>'
            f"<p>{escape(r.error_name)}</p><pre>{escape(r.error_value)}</pre></body></html>")


def _today() -> str:
    import datetime as dt

    return dt.date.today().isoformat()  # an empty report date means today: a cache of yesterday is stale


def plan_jobs(res, out: Path, notebooks: Path, units: list[str], dataset: str, ruleset: str,
              self_contained: bool, previous: str = "", report_date: str = "", scored: str = "") -> list[Job]:
    from pingyi_lib.output.page import INLINE

    names = res.units.set_index("unit_id")["name"]
    title = res.dataset.round.title
    try:
        slugs = unit_slugs(units)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    jobs = [Job("city", f"{title}：全市评议结果", str(notebooks / "city.ipynb"), str(out / "notebooks" / "city.ipynb"),
                str(out / "city.html"), "city.html",
                {"dataset": dataset, "ruleset": ruleset, "plotlyjs": INLINE if self_contained
                 else "assets/plotly.min.js", "unit_links": "units/{slug}.html", "linked_units": list(units),
                 "previous": previous, "report_date": report_date, "scored": scored},
                "index.html")]
    for uid in units:
        slug = slugs[uid]
        jobs.append(Job("unit", f"{names[uid]}评议结果", str(notebooks / "unit.ipynb"),
                        str(out / "notebooks" / "units" / f"{slug}.ipynb"), str(out / "units" / f"{slug}.html"),
                        f"units/{slug}.html",
                        {"dataset": dataset, "unit_id": uid, "ruleset": ruleset,
                         "plotlyjs": INLINE if self_contained else "../assets/plotly.min.js",
                         "previous": previous, "report_date": report_date, "scored": scored},
                        "../index.html", uid))
    return jobs


def write_index(res, out: Path, results: list[JobResult], dataset: str, report_day=None) -> Path:
    import jinja2

    from pingyi_lib.sections.headline import interim_banner, warned
    from pingyi_lib.sections.scores import table_counts

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                             autoescape=True, keep_trailing_newline=True)
    by_unit = {r.unit_id: r for r in results if r.kind == "unit"}
    city = next(r for r in results if r.kind == "city")
    groups = []
    u = res.units
    for g, label in [*res.ruleset.rank_group_labels.items(), (None, "不参加排名的单位")]:
        rows = u[u["rank_group"] == g] if g else u[u["rank_group"].isna()]
        if g:
            rows = res.league(g)
        if not len(rows):
            continue
        groups.append({"label": label, "units": [
            {"rank": format_rank(r.rank), "name": r.name, "bottom": bool(r.in_bottom),
             "composite": format_number(r.composite), "satisfaction": format_number(r.satisfaction),
             "flags": warned(res, r.flags) if r.flags else r.flags,
             "notes": r.notes, "job": by_unit.get(r.unit_id)} for r in rows.itertuples(index=False)]})
    html = env.get_template("index.html.j2").render(
        title=f"{res.dataset.round.title}评议结果", dataset=dataset, ruleset=res.ruleset.name, units=list(u["unit_id"]),
        groups=groups, city=city, failed=[r for r in results if not r.ok], workbook=WORKBOOK_NAME, notice=NOTICE_NAME,
        recipient=res.ruleset.notice.recipient or "上级",
        labels={k: res.ruleset.header(k) for k in ("rank", "name", "composite", "satisfaction", "in_bottom", "flags",
                                                   "notes")},
        tables=table_counts(res).to_dict("records"), rejected=res.dataset.rejected, incomplete=res.incomplete,
        interim=interim_banner(res),
        report_day=report_day, font_stack=FONT_STACK)
    return write_text(out / "index.html", html)


def write_round_notice(res, path: Path, report_date: str = "", follow=None) -> Path:
    """The notice of results sent upward (评议结果通报.docx), titled with the round
    (``Dataset.round``) and read as of ``report_date`` ('' = the round's report day);
    ``follow``: the batch's ``FollowUp`` (its day wins), so the themes are not read again."""
    from pingyi_lib.output.notice import write_notice
    from pingyi_lib.scoring.results import at_day
    from pingyi_lib.sections.followup import FollowUp
    from pingyi_lib.sections.notice import notice_blocks

    title = res.dataset.round.title
    follow = follow or FollowUp(res, None, report_date)
    res = at_day(res, follow.report_day.day)  # interim or final as on the notice's day
    return write_notice(notice_blocks(res, follow, title), path, title, report_day=follow.report_day.day)


def check_options(dataset: str | Path, *, jobs: int | None, units: list[str] | None, previous: str | Path | None,
                  report_date: str | None) -> tuple[list[str] | None, str]:
    """Refuse a bad option before any work, each in one plain line. Returns the units
    without repeats and the report date as YYYY-MM-DD ('' when not given: the round's day)."""
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise OptionError(f"--jobs 必须是不小于 1 的整数，而不是 {jobs}")
    if units:
        units = list(dict.fromkeys(units))
    day = ""
    if report_date:
        from pingyi_lib.followup.ledger import parse_day

        try:
            day = parse_day(report_date).strftime("%Y-%m-%d")
        except (OptionError, ValueError):
            raise OptionError(f"--report-date “{visible(str(report_date))}”不是日期；"
                              "请按年月日写，如 2011-09-15") from None
    if previous:
        from pingyi_lib.dataset.load import same_content

        if same_content(dataset, previous):
            raise OptionError(f"--previous {visible(str(previous))} 与本轮数据 {visible(str(dataset))} 内容相同；"
                              "请给出上一年的数据")
    return units, day


def run_reports(dataset: str | Path, out: str | Path, *, units: list[str] | None = None, jobs: int | None = None,
                ruleset: str | Path | None = None, notebooks: str | Path | None = None,
                self_contained: bool = False, progress: bool | None = None, verbose: bool = False,
                previous: str | Path | None = None, report_date: str | None = None,
                notify=None, allow_incomplete: bool = False):
    """Write every report of a round into ``out``. Returns (Results, list[JobResult]).

    ``units``: unit ids to report on (default: all); ``jobs``: parallel processes
    (default: all cores); ``notebooks``: folder with city.ipynb and unit.ipynb (default:
    the project's); ``self_contained``: embed plotly.js in every page instead of one
    shared ``assets/plotly.min.js``; ``previous``: last year's dataset for the look-back;
    ``report_date``: the day the rectification ledger is read (YYYY-MM-DD; default the
    round's: round.toml's report_date, else the last date in the data); ``notify``: called
    with each notice for the user (rejected rows, a report date long after the round),
    which also goes to report.log; ``allow_incomplete``: write the reports even when a unit is
    missing from a league (else :class:`LeagueIncomplete` is raised before anything is written;
    with it every page says 本次排名不完整).

    ``out`` is replaced whole at the end (built beside it, then swapped in); on an error
    it is left as it was. Raises :class:`OptionError` for a bad option or ``out``,
    :class:`ReportError` when another run holds ``out`` or a write fails (disk full).
    """
    from pingyi_lib.output import scored
    from pingyi_lib.scoring.completeness import require_complete

    units, asked_day = check_options(dataset, jobs=jobs, units=units, previous=previous, report_date=report_date)
    folder = ReportFolder(out, REPORT_ENTRIES)
    folder.check()  # a file or a read-only folder: refused before the data is read
    dataset_abs = str(Path(dataset).resolve())
    ruleset_abs = str(Path(ruleset).resolve()) if ruleset else ""
    nb_dir = Path(notebooks).resolve() if notebooks else NOTEBOOK_DIR
    for name in ("city.ipynb", "unit.ipynb"):
        if not (nb_dir / name).is_file():
            raise OptionError(f"找不到报告笔记本 {nb_dir / name}"
                              "（--notebooks 应指向含 city.ipynb 和 unit.ipynb 的目录）")
    previous_abs = str(Path(previous).resolve()) if previous else ""
    # scored once for the whole batch (a bad previous round is one plain error here, not a failure per
    # unit); every notebook gets the pickled bundle as its `scored` parameter
    bundle = scored.compute(dataset_abs, ruleset_abs, previous_abs, asked_day)
    res, _, follow = bundle
    if not allow_incomplete:
        require_complete(res.gaps)  # before anything is written: OUT stays as it was
    day = follow.report_day  # one day for every page (--report-date, round.toml, else the data's last date)
    notices = report_notices(res, day)
    all_units = list(res.units["unit_id"])
    if units:
        unknown = [x for x in units if x not in all_units]
        if unknown:
            raise OptionError(f"本轮没有单位 {', '.join(unknown)}；本轮的单位编码：{', '.join(all_units)}")
    chosen = units or all_units
    with folder, sigterm_interrupts():
        stage = folder.staging
        assert stage is not None

        def public(text: str) -> str:  # name files where they will be, not where they were built
            return text.replace(str(stage), str(folder.out))

        try:
            results = _build(bundle, stage, folder.out, nb_dir, chosen, dataset, dataset_abs, ruleset_abs,
                             self_contained, previous_abs, asked_day, day, notices, notify, jobs, progress, verbose)
        except OSError as exc:
            if exc.filename is None:
                exc.filename = str(stage)
            raise ReportError(public(disk_error_text(exc))) from None
        stopped = next((r for r in results if r.disk_error), None)
        if stopped is not None:
            raise ReportError(public(stopped.disk_error))
        try:
            folder.publish()
        except OSError as exc:
            raise ReportError(f"无法替换 {folder.out}：{exc.strerror or exc}") from None
    return res, results


def _build(bundle, stage: Path, out: Path, nb_dir: Path, chosen: list[str], dataset, dataset_abs: str,
           ruleset_abs: str, self_contained: bool, previous_abs: str, asked_day: str, day, notices: list[str],
           notify, jobs: int | None, progress: bool | None, verbose: bool) -> list[JobResult]:
    """Write the whole report into the staging folder ``stage``. ``asked_day``: --report-date
    as YYYY-MM-DD ('' when not given); ``day``: the ReportDay every page is read on."""
    from pingyi_lib.output import scored
    from pingyi_lib.output.workbook import write_results_workbook

    res, _, follow = bundle
    title = res.dataset.round.title
    with logging_to(stage / "report.log", verbose) as run_log:
        for n in notices:
            log.warning("%s", n)
            if notify:
                notify(n)
        cache = scored.keep(bundle, dataset_abs, ruleset_abs, previous_abs, asked_day, day.day.isoformat(), _today())
        plan = plan_jobs(res, stage, nb_dir, chosen, dataset_abs, ruleset_abs, self_contained, previous_abs,
                         day.day.isoformat(), str(cache))
        check_parameters(nb_dir / "city.ipynb", plan[0].parameters)
        check_parameters(nb_dir / "unit.ipynb", plan[-1].parameters if len(plan) > 1 else {})
        if not self_contained:
            from plotly.offline import get_plotlyjs

            write_text(stage / "assets" / "plotly.min.js", get_plotlyjs())
        for sub in ("notebooks/units", "units"):
            (stage / sub).mkdir(parents=True, exist_ok=True)
        workers = max(1, min(jobs or os.cpu_count() or 1, len(plan)))
        log.info("%s：数据集 %s，%d 个单位，%d 份报告，%d 个进程；整改台账截至 %s（%s）", title,
                 dataset_abs, len(res.units), len(plan), workers, day.day.isoformat(), day.source)
        results = _execute(plan, workers, progress, title)
        if any(r.disk_error for r in results):
            return results
        write_results_workbook(res, stage / WORKBOOK_NAME, report_day=day, ledger=follow.ledger)
        write_round_notice(res, stage / NOTICE_NAME, follow=follow)
        write_index(res, stage, results, visible(str(dataset)), day)  # a folder name can hold an escape too
        log.info("wrote %s", out / "index.html")
        run_log.finish()
    return results


def report_notices(res, day) -> list[str]:
    """What a user must be told before the reports are read: interim results, an incomplete
    league, rejected rows and a report date long after the round (each a sentence in Chinese)."""
    out = [f"{res.as_of.label}：报告日在问卷调查截止之前，得分和排名还会变化，评议结果运用列为预警"] \
        if res.interim else []
    if res.incomplete:
        out.append(res.incomplete)
    n = res.dataset.rejected
    if n:
        out.append(f"共有 {n} 行数据被拒绝，未计入评议结果；逐行原因见 pingyi validate {visible(res.dataset.path)}"
                   "，或汇总表的“数据质量”工作表")
    if day.warning:
        out.append(day.warning)
    return out


def _execute(plan: list[Job], workers: int, progress: bool | None, title: str = "报告") -> list[JobResult]:
    show = sys.stderr.isatty() if progress is None else progress
    results: list[JobResult] = []
    bar = None
    if show:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        bar = Progress(SpinnerColumn(), TextColumn(title), BarColumn(), MofNCompleteColumn(), TextColumn("已用"),
                       TimeElapsedColumn(), time_left_column(), TextColumn("{task.description}"), transient=False)
        bar.start()
        task = bar.add_task("", total=len(plan))
    try:
        kernel_log = str(Path(plan[0].executed).parent / "kernels.log")
        write_text(kernel_log, "")  # this run's kernel messages only
        quiet_resource_tracker()
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                   initializer=init_worker, initargs=(kernel_log, os.getpid()))
        try:
            futures = {pool.submit(run_job, job): job for job in plan}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    results.append(fut.result())
                except Exception as exc:  # noqa: BLE001 - a worker died: report, go on
                    name, value, _ = _error_of(exc)
                    results.append(JobResult(job.kind, job.title, job.unit_id, job.html_rel, False, 0.0,
                                             name, value))
                log_result(results[-1])
                if bar:
                    bar.update(task, advance=1, description=job.title)
                if results[-1].disk_error:  # the disk is full: nothing else can be written either
                    stop_workers(pool)
                    return results
        except BaseException:
            stop_workers(pool)
            raise
        pool.shutdown(wait=True)
    finally:
        if bar:
            bar.stop()
    order = {j.html_rel: i for i, j in enumerate(plan)}
    return sorted(results, key=lambda r: order[r.html])
