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
    report.log            what ran, how long, what failed, what the kernels and libraries said
    run.json              the manifest: the inputs' hashes, the options, the versions, the times
                          (output/manifest.py; ``--if-changed`` reads it)

Each notebook runs in its own process (papermill changes the working directory, so
threads are not safe); one failing unit does not stop the others. The whole folder is
built beside ``OUT`` and swapped in at the end (:mod:`pingyi_lib.output.publish`), so
``OUT`` holds the last good run or the new one, never a mix; a second run into the same
``OUT`` refuses while one holds it. Workers die with the run. A full disk or another I/O
error stops the run with one line naming the file, and ``OUT`` stays as it was.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from pingyi_lib.common.controlchars import visible
from pingyi_lib.common.errors import OptionError, ReportError
from pingyi_lib.common.fonts import FONT_STACK
from pingyi_lib.common.names import unit_slugs
from pingyi_lib.common.numbers import format_number, format_rank
from pingyi_lib.followup.history import as_list
from pingyi_lib.output import manifest
from pingyi_lib.output.atomic import write_text
from pingyi_lib.output.jobs import Job, JobResult, check_parameters, disk_error_text, error_of, run_job
from pingyi_lib.output.packaged import REPORT_NOTEBOOKS, notebook_dir, template_dir
from pingyi_lib.output.publish import ReportFolder
from pingyi_lib.output.runlog import fold_in, log, log_result, logging_to, server_folders, time_left_column
from pingyi_lib.output.workers import (
    quiet_resource_tracker,
    run_in_workers,
    sigterm_interrupts,
    skip_slow_optional_modules,
)

TEMPLATE_DIR = template_dir()
NOTEBOOK_DIR = notebook_dir()  # the bundled notebooks (package data); --notebooks overrides
WORKBOOK_NAME = "评议结果.xlsx"
NOTICE_NAME = "评议结果通报.docx"
# what a report folder holds (anything else in OUT: it is someone's folder, not replaced)
REPORT_ENTRIES = frozenset({"index.html", "city.html", "units", "assets", "notebooks", WORKBOOK_NAME, NOTICE_NAME,
                            "report.log", manifest.NAME})


def _today() -> str:
    import datetime as dt

    return dt.date.today().isoformat()  # an empty report date means today: a cache of yesterday is stale


def plan_jobs(res, out: Path, notebooks: Path, units: list[str], dataset: str, ruleset: str,
              self_contained: bool, previous: str | list[str] = "", report_date: str = "", scored: str = "",
              page_seconds: float | None = None, city: bool = True) -> list[Job]:
    """The pages of a batch: the city page (unless ``city`` is False: it is kept from the report
    in OUT, output/carry.py), then one page per unit of ``units``."""
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
                "index.html")][:1 if city else 0]
    for uid in units:
        slug = slugs[uid]
        jobs.append(Job("unit", f"{names[uid]}评议结果", str(notebooks / "unit.ipynb"),
                        str(out / "notebooks" / "units" / f"{slug}.ipynb"), str(out / "units" / f"{slug}.html"),
                        f"units/{slug}.html",
                        {"dataset": dataset, "unit_id": uid, "ruleset": ruleset,
                         "plotlyjs": INLINE if self_contained else "../assets/plotly.min.js",
                         "previous": previous, "report_date": report_date, "scored": scored},
                        "../index.html", uid))
    warm_up = tuple(str(notebooks / n) for n in REPORT_NOTEBOOKS)
    for job in jobs:  # every worker's kernel imports what both notebooks import, once
        job.warm_up, job.seconds_limit = warm_up, page_seconds
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


def check_options(dataset: str | Path, *, jobs: int | None, units: list[str] | None, previous, report_date: str | None,
                  history: str | Path | None = None) -> tuple[list[str] | None, str, list[str]]:
    """Refuse a bad option before any work, each in one plain line. Returns the units
    without repeats, the report date as YYYY-MM-DD ('' when not given: the round's day) and the
    past rounds (``previous``: one path or several, and the rounds of ``history``; absolute
    paths, followup.history.past_paths)."""
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
    from pingyi_lib.followup.history import past_paths

    return units, day, past_paths(dataset, previous, history)


def run_reports(dataset: str | Path, out: str | Path, *, units: list[str] | None = None, jobs: int | None = None,
                ruleset: str | Path | None = None, notebooks: str | Path | None = None,
                self_contained: bool = False, progress: bool | None = None, verbose: bool = False,
                previous=None, report_date: str | None = None, history: str | Path | None = None,
                notify=None, allow_incomplete: bool = False, if_changed: bool = False,
                page_seconds: float | None = None):
    """Write every report of a round into ``out``. Returns (Results, list[JobResult]), or
    (None, []) when ``if_changed`` and the report in ``out`` was made from the same inputs,
    options and pingyi (output/manifest.py): then nothing is read or written.

    ``units``: unit ids to report on (default: all); ``jobs``: parallel processes
    (default: all cores); ``notebooks``: folder with city.ipynb and unit.ipynb (default:
    the ones that ship with pingyi); ``self_contained``: embed plotly.js in every page instead of one
    shared ``assets/plotly.min.js``; ``previous``: last year's dataset for the look-back, or a
    list of past rounds (the most recent gives the look-back, all of them the trend); ``history``:
    a folder of past rounds, one sub-folder each (followup.history);
    ``report_date``: the day the rectification ledger is read (YYYY-MM-DD; default the
    round's: round.toml's report_date, else the last date in the data); ``notify``: called
    with each notice for the user (rejected rows, a report date long after the round),
    which also goes to report.log; ``allow_incomplete``: write the reports even when a unit is
    missing from a league (else :class:`LeagueIncomplete` is raised before anything is written;
    with it every page says 本次排名不完整); ``page_seconds``: a page still running then is ended
    and shown as failed, the others go on (default: no limit).

    ``out`` is replaced whole at the end (built beside it, then swapped in); on an error
    it is left as it was. Raises :class:`OptionError` for a bad option or ``out``,
    :class:`ReportError` when another run holds ``out`` or a write fails (disk full).
    """
    from pingyi_lib.output import scored
    from pingyi_lib.scoring.completeness import require_complete

    skip_slow_optional_modules()
    units, asked_day, past = check_options(dataset, jobs=jobs, units=units, previous=previous,
                                           report_date=report_date, history=history)
    if page_seconds is not None and not page_seconds > 0:
        raise OptionError("--page-time-limit 应为正的秒数（0 表示不限时）")
    folder = ReportFolder(out, REPORT_ENTRIES)
    folder.check()  # a file or a read-only folder: refused before the data is read
    dataset_abs = str(Path(dataset).resolve())
    ruleset_abs = str(Path(ruleset).resolve()) if ruleset else ""
    nb_dir = Path(notebooks).resolve() if notebooks else NOTEBOOK_DIR
    for name in REPORT_NOTEBOOKS:
        if not (nb_dir / name).is_file():
            raise OptionError(f"找不到报告笔记本 {nb_dir / name}"
                              "（--notebooks 应指向含 city.ipynb 和 unit.ipynb 的目录）")
    # the notebooks' `previous`: '' (none), one round's folder (as before), or the list of past rounds
    previous_abs: str | list[str] = past if len(past) > 1 else (past[0] if past else "")
    from pingyi_lib.dataset.load import ruleset_file

    started = manifest.now()
    run = manifest.RunInputs.of(dataset_abs, ruleset_file(dataset_abs, ruleset_abs), previous_abs, nb_dir,
                                units=units, report_date=asked_day, self_contained=self_contained,
                                allow_incomplete=allow_incomplete)
    if if_changed:
        run.reason = manifest.why_rebuild(folder.out, run)
        if not run.reason:
            return None, []
    # scored once for the whole batch (a bad previous round is one plain error here, not a failure per
    # unit), or read from the store of an earlier batch of the same inputs; every notebook gets the
    # store's folder as its `scored` parameter
    key = scored.batch_key(run.scoring(), asked_day, _today())
    stored = scored.reuse(key, dataset_abs, ruleset_abs, previous_abs)
    bundle = stored[0] if stored else scored.compute(dataset_abs, ruleset_abs, previous_abs, asked_day)
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
    from pingyi_lib.output.carry import kept_report

    extra = (WORKBOOK_NAME, NOTICE_NAME, *(() if self_contained else ("assets/plotly.min.js",)))
    with folder, sigterm_interrupts():
        stage = folder.staging
        assert stage is not None
        # read under the folder's lock: no other run can replace OUT meanwhile
        kept = kept_report(folder.out, run, units, all_units, day.day.isoformat(), extra)

        def public(text: str) -> str:  # name files where they will be, not where they were built
            return text.replace(str(stage), str(folder.out))

        try:
            results = _build(bundle, stage, folder.out, nb_dir, chosen, dataset, dataset_abs, ruleset_abs,
                             self_contained, previous_abs, asked_day, day, notices, notify, jobs, progress, verbose,
                             (run, started), page_seconds, (key, stored[1] if stored else ""), kept)
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
           ruleset_abs: str, self_contained: bool, previous_abs: str | list[str], asked_day: str, day,
           notices: list[str], notify, jobs: int | None, progress: bool | None, verbose: bool, made_of,
           page_seconds: float | None = None, store: tuple[str, str] = ("", ""), kept=None) -> list[JobResult]:
    """Write the whole report into the staging folder ``stage``. ``asked_day``: --report-date
    as YYYY-MM-DD ('' when not given); ``day``: the ReportDay every page is read on;
    ``made_of``: (manifest.RunInputs, start time) for run.json; ``store``: the scored store's
    name (scored.batch_key) and its folder when the bundle was read from it ('' when scored here);
    ``kept``: what is kept from the report in ``out`` (carry.KeptReport) when only some unit pages
    are made again, else None."""
    from pingyi_lib.output import scored
    from pingyi_lib.output.carry import copy_kept, in_order
    from pingyi_lib.output.workbook import write_results_workbook

    res, _, follow = bundle
    title = res.dataset.round.title
    run, started = made_of
    past = {f"previous{i}": p for i, p in enumerate(as_list(previous_abs))}
    folders = server_folders(dataset=dataset_abs, **past, ruleset=ruleset_abs, notebooks=nb_dir, stage=stage, out=out)
    with logging_to(stage / "report.log", verbose, folders) as run_log:
        if run.reason:  # --if-changed, and something changed
            log.info("重新生成：%s", run.reason)
        for n in notices:
            log.warning("%s", n)
            if notify:
                notify(n)
        key, cache = store
        if cache:
            log.info("评分结果沿用上次以相同数据、规则和 pingyi 版本计算的结果（缓存），未重新计分")
        else:
            cache = scored.keep(bundle, key, dataset_abs, ruleset_abs, previous_abs, day.day.isoformat())
        plan = plan_jobs(res, stage, nb_dir, chosen, dataset_abs, ruleset_abs, self_contained, previous_abs,
                         day.day.isoformat(), str(cache), page_seconds, city=kept is None)
        for name, kind in (("city.ipynb", "city"), ("unit.ipynb", "unit")):
            check_parameters(nb_dir / name, next((j.parameters for j in plan if j.kind == kind), {}))
        for sub in ("notebooks/units", "units"):
            (stage / sub).mkdir(parents=True, exist_ok=True)
        if kept is not None:
            copy_kept(kept, out, stage)
            log.info("只重新生成所选单位的报告（--units）：全市页面、汇总表、通报和其余 %d 个单位的报告沿用 %s 中"
                     "上次以相同数据、规则、选项和 pingyi 版本生成的，未重新生成", len(kept.results) - 1, out.name)
        elif not self_contained:
            from plotly.offline import get_plotlyjs

            write_text(stage / "assets" / "plotly.min.js", get_plotlyjs())
        workers = max(1, min(jobs or os.cpu_count() or 1, len(plan)))
        log.info("%s：数据集 %s，%d 个单位，%d 份报告，%d 个进程；整改台账截至 %s（%s）", title,
                 dataset_abs, len(res.units), len(plan), workers, day.day.isoformat(), day.source)
        results = _execute(plan, workers, progress, title)
        if any(r.disk_error for r in results):
            return results
        if kept is not None:
            results = in_order(kept, results)
            run = manifest.RunInputs(run.inputs, {**run.options, "units": kept.units})  # the folder's run, whole
        else:
            write_results_workbook(res, stage / WORKBOOK_NAME, report_day=day, ledger=follow.ledger, follow=follow)
            write_round_notice(res, stage / NOTICE_NAME, follow=follow)
        # the round's folder by its name (never the server's folders); a name can hold an escape too
        write_index(res, stage, results, visible(Path(str(dataset)).name), day)
        write_text(stage / manifest.NAME, json.dumps(manifest.manifest(run, res, results, day, started, workers),
                                                     ensure_ascii=False, indent=2) + "\n")
        log.info("wrote %s", out / "index.html")  # as 2011/index.html: report.log names no server folder
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
    kernel_log = Path(plan[0].executed).parent / "kernels.log"  # folded into report.log at the end

    def failed(job: Job, exc: BaseException) -> JobResult:
        name, value, _ = error_of(exc)
        if isinstance(exc, BrokenProcessPool):
            name, value = "WorkerDied", "运行这份报告的进程意外退出，重试一次后仍然如此；其余报告照常生成"
        return JobResult(job.kind, job.title, job.unit_id, job.html_rel, False, 0.0, name, value)

    def on_result(job: Job, result: JobResult) -> bool:
        results.append(result)
        log_result(result)
        if bar:
            bar.update(task, advance=1, description=job.title)
        return bool(result.disk_error)  # the disk is full: nothing else can be written either

    try:
        write_text(kernel_log, "")  # this run's kernel messages only
        quiet_resource_tracker()
        run_in_workers(plan, workers, run_job, str(kernel_log), on_result, failed)
    finally:
        if bar:
            bar.stop()
    if any(r.disk_error for r in results):
        return results
    fold_in(kernel_log)  # the workers have ended: nothing writes it any more
    order = {j.html_rel: i for i, j in enumerate(plan)}
    return sorted(results, key=lambda r: order[r.html])
