"""``pingyi report DATASET --out DIR …``: run the notebooks and write the offline report
folder (output/runner.py). ``cli.py`` only wires this in.

For scheduled runs: ``--quiet`` prints nothing on success (a failure is still one line per
failed page, or one line for an error); ``--if-changed`` writes nothing and exits 0 when the
report in ``--out`` was made from the same inputs, options and pingyi (output/manifest.py),
saying so in one line unless ``--quiet``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pingyi_lib.common.controlchars import visible

PAGE_SECONDS = 600.0  # a page takes seconds; ten minutes means it hangs


def add_parser(dataset_cmd, allow_incomplete_help: str) -> None:
    """The ``report`` subcommand, added through cli's ``dataset_cmd``."""
    sp = dataset_cmd("report", "run the notebooks and write the HTML reports, index.html and 评议结果.xlsx", ("table",))
    sp.add_argument("--out", required=True, metavar="DIR",
                    help="folder for the reports (created; a rerun replaces it whole, at the end)")
    sp.add_argument("--units", nargs="+", metavar="UNIT",
                    help="only these unit ids (default: every unit; a repeated id runs once); into a report of "
                         "the same inputs and options only their pages are made again and the rest is kept")
    sp.add_argument("--jobs", type=int, default=None, metavar="N",
                    help="parallel processes, 1 or more (default: all cores)")
    sp.add_argument("--page-time-limit", type=float, default=PAGE_SECONDS, metavar="SECONDS",
                    help=f"end a page still running after this many seconds; it is shown as failed on the index "
                         f"and the other pages go on (default: {PAGE_SECONDS:g}; 0: no limit)")
    sp.add_argument("--notebooks", metavar="DIR", default=None,
                    help="folder with city.ipynb and unit.ipynb (default: the ones that ship with pingyi)")
    sp.add_argument("--self-contained", action="store_true",
                    help="embed plotly.js in every page (pages travel alone; ~4.8 MB each)")
    sp.add_argument("--previous", metavar="DATASET2", action="append", default=None,
                    help="a past round (not this round again); given once per year: the most recent adds the "
                         "look-back (回头看), all of them the trend over the years (历年对比)")
    sp.add_argument("--history", metavar="DIR", default=None,
                    help="a folder of past rounds, one sub-folder per year, each used as a --previous (the current "
                         "round and later years in it are left out)")
    sp.add_argument("--report-date", metavar="YYYY-MM-DD", default=None,
                    help="the day the rectification ledger is read, year first as dates in the data "
                         "(default: report_date of DATASET/round.toml, else the last date in the data)")
    sp.add_argument("--allow-incomplete", action="store_true", help=allow_incomplete_help)
    sp.add_argument("--if-changed", action="store_true",
                    help="write nothing (exit 0) when the report in --out was made from the same input files, "
                         "ruleset, options and pingyi version (its run.json); for scheduled runs")
    sp.add_argument("--quiet", action="store_true", help="print nothing but errors (for scheduled jobs)")
    sp.add_argument("--progress", action="store_true", help="show a progress bar even when not on a terminal")
    sp.add_argument("--verbose", action="store_true", help="log each report to stderr as well as report.log")
    sp.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from pingyi_lib.output import manifest
    from pingyi_lib.output.runner import run_reports

    res, results = run_reports(args.dataset, args.out, units=args.units or None, jobs=args.jobs,
                               ruleset=args.ruleset, notebooks=args.notebooks, self_contained=args.self_contained,
                               progress=False if args.quiet else (True if args.progress else None),
                               verbose=args.verbose, previous=args.previous, report_date=args.report_date,
                               history=args.history,
                               notify=None if args.quiet else lambda m: print(f"注意：{visible(m)}", file=sys.stderr),
                               allow_incomplete=args.allow_incomplete, if_changed=args.if_changed,
                               page_seconds=args.page_time_limit or None)
    out = Path(args.out).resolve()
    if res is None:  # --if-changed, and nothing changed
        if not args.quiet:
            last = manifest.read(out) or {}
            print(visible(f"未重新生成：{out} 中的报告（{last.get('finished', '?')} 生成）与本次的数据、规则、选项和 "
                          "pingyi 版本相同"))
        return 0
    failed = [r for r in results if not r.ok]
    for r in failed:
        last = r.error_value.strip().splitlines()[-1] if r.error_value.strip() else ""
        print(visible(f"失败：{r.title}：{r.error_name}: {last}"), file=sys.stderr)
    if not args.quiet:
        print(visible(f"{res.dataset.round.title}：{len(results)} 份报告写成 {len(results) - len(failed)} 份；"
                      f"打开 {out / 'index.html'}"))
    return 1 if failed else 0
