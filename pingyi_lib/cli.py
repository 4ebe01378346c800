"""The ``pingyi`` command (SPEC §6): argument parsing and printing only.

Exit codes: 0 success, 1 data problems found (or a report failed, the output folder is
busy, a write failed), 2 usage error. A user's mistake (a missing table, a bad ruleset)
prints one plain line on stderr; ``--debug`` shows the traceback instead.

Text from the data reaches the terminal only through :func:`shown` (control characters
written out, so a cell cannot set the window title or clear the screen); ``--format csv``
and ``json`` are for programs and stay faithful to the data (JSON escapes controls itself).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence

from pingyi_lib.common.errors import DatasetNotFound, LeagueIncomplete, OptionError, PingyiError, RulesetError
from pingyi_lib.common.numbers import format_number, format_rank, format_share
from pingyi_lib.common.values import plain
from pingyi_lib.output import (
    count_cmd,
    followup_cmd,
    import_cmd,
    integrity_cmd,
    lab_cmd,
    progress_cmd,
    report_cmd,
    setup_cmd,
    validate_cmd,
)
from pingyi_lib.output.terminal import console, shown

SCORE_COLUMNS = ["unit_id", "name", "level", "rank_group", "onsite_index", "survey_index", "case_points",
                 "bonus_points", "composite", "rank", "group_mean", "satisfaction", "satisfied_share",
                 "in_bottom", "no_excellence", "talk", "worst", "panel_noncompliant", "low_sample"]
# `score --intervals` (docs/statistics.md): appended to SCORE_COLUMNS
INTERVAL_COLUMNS = ["composite_lo", "composite_hi", "satisfaction_lo", "satisfaction_hi", "rank_lo", "rank_hi",
                    "p_bottom", "p_talk", "p_no_excellence"]


def _csv_value(v, decimals: int = 2) -> str:
    v = plain(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format_number(v, decimals, missing="")
    return str(v)


def error_text(exc: PingyiError) -> str:
    """An error as printed: one line with control characters written out; the list of units
    missing from a league (:class:`LeagueIncomplete`, written by pingyi) keeps one line per
    unit, each line written out the same way."""
    if isinstance(exc, LeagueIncomplete):
        return "\n".join(shown(line) for line in str(exc).split("\n"))
    return shown(exc)


def _print_rows(rows: list[dict], columns: list[str], fmt: str, decimals: int = 2, key: str = "units") -> None:
    if fmt == "json":
        json.dump({key: [{c: plain(r[c]) for c in columns} for r in rows]}, sys.stdout,
                  ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            # shares and probabilities (0-1) keep two more places than the published scores
            w.writerow([_csv_value(r[c], decimals + 2 if c.endswith("_share") or c.startswith("p_") else decimals)
                        for c in columns])


def _score_tables(res) -> None:
    from rich.table import Table

    con = console()
    rs = res.ruleset
    u = res.units

    def _num(v) -> str:  # published figures, with the ruleset's decimals
        return format_number(v, rs.decimals, missing="")

    groups = [g for g in rs.rank_group_labels if (u["rank_group"] == g).any()]
    columns = ["rank", "unit_id", "name", "onsite_index", "survey_index", "case_points", "bonus_points",
               "composite", "satisfaction", "flags"]
    headers = [rs.column_labels[c] + ("%" if c == "satisfaction" else "") for c in columns]
    left = {rs.column_labels[c] for c in ("unit_id", "name", "flags")}
    for g in groups:
        league = res.league(g)
        mean = league["group_mean"].dropna()
        t = Table(title=f"{shown(rs.rank_group_labels[g])}（{int(league['group_n'].max())} 个单位参加排名，"
                        f"平均分 {_num(mean.iloc[0]) if len(mean) else '—'}）", title_justify="left")
        for h in headers:
            t.add_column(h, justify="left" if h in left else "right")
        for r in league.itertuples(index=False):
            t.add_row(format_rank(r.rank), shown(r.unit_id), shown(r.name), _num(r.onsite_index),
                      _num(r.survey_index), _num(r.case_points), _num(r.bonus_points), _num(r.composite),
                      _num(r.satisfaction), shown(r.flags) + ("（排名靠后）" if r.in_bottom and not r.flags else ""))
        con.print(t)
        con.print()
    others = u[u["rank_group"].isna()]
    if len(others):
        t = Table(title="不参加排名的单位", title_justify="left")
        for h in headers[1:]:
            t.add_column(h, justify="left" if h in left else "right")
        for r in others.itertuples(index=False):
            t.add_row(shown(r.unit_id), shown(r.name), _num(r.onsite_index), _num(r.survey_index),
                      _num(r.case_points), _num(r.bonus_points), _num(r.composite), _num(r.satisfaction),
                      shown(r.flags))
        con.print(t)
    if res.intervals is not None:
        _interval_tables(res, groups, con)
    if len(res.consequences):
        con.print()
        con.print("评议结果运用：")
        robust = res.units.set_index("unit_id") if res.intervals is not None else None
        for c in res.consequences.itertuples(index=False):
            note = ""
            if robust is not None and f"{c.flag}_robustness" in robust.columns:
                u = robust.loc[c.unit_id]
                note = f"（稳健性：{u[f'{c.flag}_robustness']}，重抽样中触发概率 {format_share(u[f'p_{c.flag}'])}）"
            con.print(shown(f"  {c.name}【{c.label}】{c.reason}{note}。{c.consequence}。"), soft_wrap=True)
    if len(res.notes):  # 样本不足: said beside the figures, not among the consequences
        con.print()
        con.print(f"{rs.column_labels.get('notes', '数据质量提示')}：")
        for c in res.notes.itertuples(index=False):
            con.print(shown(f"  {c.name}【{c.label}】{c.reason}。{c.consequence}。"), soft_wrap=True)


def _interval_tables(res, groups, con) -> None:
    """Per rank group: the league with intervals (sections.uncertainty.league_intervals):
    composite and satisfaction with their intervals, the rank interval and the probabilities
    of the bottom group and of each sampled consequence."""
    from rich.table import Table

    from pingyi_lib.sections.uncertainty import PROBABILITY_COLUMNS, league_intervals

    rs = res.ruleset
    n = res.replicates.replicates if res.replicates is not None else rs.stats.replicates
    for g in groups:
        frame = league_intervals(res, g).drop(columns=rs.column_labels["unit_id"])
        t = Table(title=f"{shown(rs.rank_group_labels[g])}：抽样误差（{n}次重抽样，{rs.stats.level:.0%}区间）",
                  title_justify="left")
        for h in frame.columns:
            t.add_column(h, justify="left" if h == rs.column_labels["name"] else "right")
        for row in frame.itertuples(index=False):
            t.add_row(*[format_share(v) if h in PROBABILITY_COLUMNS else
                        format_number(v, rs.decimals, missing="") if isinstance(v, float) else shown(v)
                        for h, v in zip(frame.columns, row)])
        con.print(t)
        con.print()


def cmd_score(args) -> int:
    from pingyi_lib.scoring.results import score

    ds = count_cmd.dataset_of(args)
    res = score(ds)
    _check_league(res, args.allow_incomplete)
    if args.intervals:
        from pingyi_lib.stats.uncertainty import add_intervals

        res = add_intervals(res)
    if args.format == "table":
        _score_tables(res)
    else:
        columns = SCORE_COLUMNS + (INTERVAL_COLUMNS if args.intervals else [])
        _print_rows(res.units.to_dict("records"), columns, args.format, res.ruleset.decimals)
    if res.interim:
        from pingyi_lib.sections.headline import interim_banner

        print(shown(f"注意：{interim_banner(res)}"), file=sys.stderr)
    if ds.rejected:
        print(shown(f"注意：共有 {ds.rejected} 行数据被拒绝，未计入评议结果；"
                    f"逐行原因见 pingyi validate {args.dataset}"), file=sys.stderr)
    found = res.integrity
    if found is not None and (found.excluded or found.flagged):
        print(shown(f"注意：{found.summary()}`{count_cmd.command_of(args, 'integrity')}` 列出明细"), file=sys.stderr)
    for m in res.warnings["message"]:
        print(f"提示：{shown(m)}", file=sys.stderr)
    return 0


def _check_league(res, allow_incomplete: bool) -> None:
    """Stop (exit 1) when a league would change silently; with --allow-incomplete, say so."""
    from pingyi_lib.scoring.completeness import require_complete

    if not allow_incomplete:
        require_complete(res.gaps)
    elif res.incomplete:
        print(f"注意：{shown(res.incomplete)}", file=sys.stderr)


def cmd_problems(args) -> int:
    from pingyi_lib.dataset.load import load_dataset
    from pingyi_lib.text.themes import coverage, main_problems

    ds = load_dataset(args.dataset, ruleset=args.ruleset)
    names = dict(zip(ds.units["unit_id"], ds.units["name"]))
    if args.unit is not None and args.unit not in names:
        raise OptionError(f"没有编码为 {shown(args.unit)!r} 的单位（--unit）")
    cov = {r["unit_id"]: r for r in coverage(ds).to_dict("records")}
    if args.unmatched:
        return _print_unmatched(ds, args, names, cov)
    mp = main_problems(ds)
    order = ["", *ds.units["unit_id"]] if args.unit is None else [args.unit]

    def cover(uid: str) -> dict:
        r = cov[uid]
        return {"texts": r["texts"], "substantive": r["substantive"], "themed": r["themed"], "praise": r["praise"],
                "coverage": None if r["substantive"] == 0 else round(float(r["coverage"]), 4)}

    if args.format == "json":
        def themes(uid: str) -> list[dict]:
            return [{"theme": r.theme, "dimension": r.dimension, "count": int(r.count),
                     "share": round(float(r.share), 4), "quotes": list(r.quotes), "basis": r.basis}
                    for r in mp[mp["unit_id"] == uid].itertuples(index=False)]

        doc = {"units": [{"unit_id": uid, "name": names[uid], "themes": themes(uid), "coverage": cover(uid)}
                         for uid in order if uid]}
        if args.unit is None:
            doc["city"] = {"themes": themes(""), "coverage": cover("")}
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.table import Table

    from pingyi_lib.common.numbers import format_share

    con = console()
    for uid in order:
        p = mp[mp["unit_id"] == uid]
        r = cov[uid]
        line = (f"有实质内容的意见{r['substantive']}条，归入主题{r['themed']}条"
                f"（覆盖率{format_share(r['coverage'])}）；表扬肯定{r['praise']}条")
        if not len(p) and not r["texts"]:
            continue
        t = Table(title=f"{shown(names.get(uid, '全市'))} 群众反映主要问题", caption=line, title_justify="left",
                  caption_justify="left")
        for h in ("问题", "评议内容", "条数", "占比", "群众原话", "匹配依据"):
            t.add_column(h, justify="right" if h in ("条数", "占比") else "left", overflow="fold")
        for x in p.itertuples(index=False):
            t.add_row(shown(x.theme), shown(x.dimension_label), str(x.count), format_share(x.share),
                      shown(" / ".join(x.quotes)), shown(x.basis))
        con.print(t)
    return 0


def _print_unmatched(ds, args, names: dict, cov) -> int:
    """`pingyi problems --unmatched`: substantive texts no theme took, grouped by similarity."""
    from pingyi_lib.text.unmatched import unmatched_groups

    groups = unmatched_groups(ds, unit_id=args.unit)
    uid = args.unit or ""
    r = cov[uid]
    if args.format == "json":
        doc = {"unit_id": args.unit, "substantive": r["substantive"], "unthemed": r["unthemed"],
               "groups": [{"group": int(g.group), "count": int(g.count), "units": list(g.unit_ids),
                           "words": list(g.words), "examples": list(g.examples)}
                          for g in groups.itertuples(index=False)]}
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.table import Table

    con = console()
    title = f"{shown(names.get(uid, '全市'))} 未归入主题的意见（按相似分组）"
    t = Table(title=title, title_justify="left", caption_justify="left",
              caption=f"有实质内容的意见{r['substantive']}条，未归入主题{r['unthemed']}条，分为{len(groups)}组。"
                      "在规则文件的 [[problems.themes]] 中补充关键词或主题后重新运行，相应的组即归入主题。")
    for h in ("组", "条数", "涉及单位", "常见词", "示例"):
        t.add_column(h, justify="right" if h in ("组", "条数", "涉及单位") else "left", overflow="fold")
    for g in groups.itertuples(index=False):
        t.add_row(str(g.group), str(g.count), str(g.units), shown("、".join(g.words)), shown(" / ".join(g.examples)))
    con.print(t)
    return 0


_ARGPARSE_ZH = [  # argparse's own messages, in the words the rest of the command uses
    (r"the following arguments are required: (.*)", r"缺少必需的参数：\1"),
    (r"unrecognized arguments: (.*)", r"无法识别的参数：\1"),
    (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)", r"参数 \1 的值 \2 无效（可选：\3）"),
    (r"argument (\S+): invalid (int|float) value: (.*)", r"参数 \1 的值 \3 不是数字"),
    (r"argument (\S+): expected at least one argument", r"参数 \1 至少需要一个值"),
    (r"argument (\S+): expected one argument", r"参数 \1 需要一个值"),
    (r"argument (\S+): (.*)", r"参数 \1：\2"),
]


class ChineseArgumentParser(argparse.ArgumentParser):
    """argparse with its usage errors in Chinese (exit code 2, as argparse's)."""

    def error(self, message: str):
        for pattern, repl in _ARGPARSE_ZH:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, repl, message)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = ChineseArgumentParser(prog="pingyi",
                                description="民主评议政风行风: score, validate and report an evaluation round.")
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=ChineseArgumentParser)

    def dataset_cmd(name: str, help: str, formats: Sequence[str]) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("dataset", metavar="DATASET", help="a dataset folder (CSV files, or a workbook: xlsx xls ods)")
        sp.add_argument("--ruleset", metavar="FILE", default=None,
                        help="ruleset TOML (default: DATASET/ruleset.toml if present, else changzhou-2011)")
        sp.add_argument("--format", choices=formats, default="table")
        return sp

    allow = "rank even when a unit is missing from a league (a rejected units row, a ranked unit with no valid " \
            "questionnaire) or, with --counts, when count files carry no questionnaires for the integrity check; " \
            "every page and the workbook then say 本次排名不完整"
    sp = dataset_cmd("score", "score every unit and print the league tables", ("table", "csv", "json"))
    sp.add_argument("--allow-incomplete", action="store_true", help=allow)
    sp.add_argument("--intervals", action="store_true",
                    help="add bootstrap intervals, rank intervals and the probability of each consequence "
                         "(columns " + ", ".join(INTERVAL_COLUMNS) + ")")
    count_cmd.add_counts_option(sp)
    sp.set_defaults(func=cmd_score)
    count_cmd.add_parser(dataset_cmd)
    validate_cmd.add_parser(dataset_cmd)
    sp = dataset_cmd("problems", "main problems raised by the public, per unit and for the city",
                     ("table", "json"))
    sp.add_argument("--unmatched", action="store_true",
                    help="list the substantive comments no theme took, grouped by similarity (to improve the ruleset)")
    sp.add_argument("--unit", metavar="UNIT", default=None, help="only this unit id (default: every unit)")
    sp.set_defaults(func=cmd_problems)
    integrity_cmd.add_parser(dataset_cmd)
    report_cmd.add_parser(dataset_cmd, allow)
    followup_cmd.add_parser(sub, dataset_cmd)
    progress_cmd.add_parser(sub, dataset_cmd)
    setup_cmd.add_parsers(sub)
    lab_cmd.add_parser(sub)
    import_cmd.add_parser(sub)
    return p


USAGE_ERRORS = (RulesetError, OptionError, DatasetNotFound)  # exit 2: the command was asked wrongly


def exit_code(exc: PingyiError) -> int:
    """The one place errors become exit codes: 2 for a usage error, 1 for data problems."""
    return 2 if isinstance(exc, USAGE_ERRORS) else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `pingyi score … | head`: the reader left, nothing to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep Python's exit flush quiet
        return 0
    except PingyiError as exc:
        if args.debug:
            raise
        print(f"错误：{error_text(exc)}", file=sys.stderr)
        return exit_code(exc)
    except OSError as exc:  # disk full, a file that cannot be read: one line naming it
        if args.debug:
            raise
        where = f"{shown(exc.filename)}：" if exc.filename else ""
        print(f"错误：{where}{exc.strerror or shown(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130


def entry() -> None:  # console script
    sys.exit(main())
