"""``pingyi followup DATASET [--previous P …] [--history DIR] [--report-date D] [--format table|json]``: the
rectification ledger, the timeline and the look-back as of one day, for the clerk who tracks
rectification weekly. The same figures as the pages (followup/ledger.py, followup/lookback.py,
read on the same report day); ``cli.py`` only wires this in.

JSON keys: ``as_of``, ``interim``, ``collection_end``, ``ledger`` (items), ``units``,
``timeline``, ``lookback`` (null without ``--previous``) and ``problems`` (the data problems,
each with file, row, reason_code and reason). States are the stable codes of
followup/ledger.py; days are whole days.
"""

from __future__ import annotations

import json
import sys

import pandas as pd

from pingyi_lib.common.controlchars import visible
from pingyi_lib.common.errors import OptionError


def add_parser(sub, dataset_cmd) -> None:
    """The ``followup`` subcommand, added to the parser's subcommands."""
    sp = dataset_cmd("followup", "the rectification ledger, the timeline of reports and the look-back as of the "
                     "report date (what the pages show)", ("table", "json"))
    sp.add_argument("--previous", metavar="DATASET2", action="append", default=None,
                    help="a past round (may be given once per year): whether the most recent one's rectification "
                         "items were closed (回头看)")
    sp.add_argument("--history", metavar="DIR", default=None,
                    help="a folder of past rounds, one sub-folder per year (as --previous for each)")
    sp.add_argument("--report-date", metavar="YYYY-MM-DD", default=None,
                    help="the day the figures are read (default: report_date of DATASET/round.toml, else the last "
                         "date in the data); later completions and submissions do not count")
    sp.set_defaults(func=cmd_followup)


def _day(v) -> str | None:
    return None if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")


def figures(dataset: str, ruleset: str | None = None, previous: str | list[str] | None = None,
            report_date: str | None = None, history_dir: str | None = None) -> dict:
    """Everything the command prints, as plain values (the JSON document)."""
    from pingyi_lib.dataset.load import load_dataset
    from pingyi_lib.dataset.round import as_of
    from pingyi_lib.followup import history, ledger, lookback
    from pingyi_lib.scoring.results import score

    if report_date:
        try:
            ledger.parse_day(report_date)
        except OptionError:
            raise OptionError(f"--report-date “{visible(str(report_date))}”不是日期；"
                              "请按年月日写，如 2011-09-15") from None
    paths = history.past_paths(dataset, previous, history_dir)
    ds = load_dataset(dataset, ruleset=ruleset)
    past = history.load_past(ds, paths)
    before = past[0] if past else None  # the most recent past round
    day = ledger.report_day(ds, report_date)
    when = pd.Timestamp(day.day)
    led = ledger.ledger(ds, when)
    summary = ledger.ledger_summary(led)
    tl = ledger.timeline(ds, when)
    problems = [ledger.data_problems(ds)]
    look = None
    if before is not None:
        now, prev = score(ds), score(before)
        cl = lookback.closure(now, prev, when)
        look = [{"item_id": r.item_id, "unit_id": r.unit_id, "name": r.name, "closed": bool(r.closed),
                 "by": r.by or None} for r in cl.itertuples(index=False)]
        problems.append(lookback.reference_problems(now, prev, [score(p) for p in past[1:]]))  # any past item
    p = pd.concat(problems, ignore_index=True)
    stage = as_of(ds.round, ds.ruleset, day.day)
    end = stage.collection_end
    return {
        "as_of": day.day.isoformat(), "as_of_source": day.source, "interim": stage.interim,
        "collection_end": end.isoformat() if end else None,
        "ledger": [{"item_id": r.item_id, "unit_id": r.unit_id, "state": r.state, "days": int(r.days),
                    "deadline": _day(r.deadline), "status": r.status, "completed_on": _day(r.completed_on),
                    "note": r.note} for r in led.itertuples(index=False)],
        "units": [{"unit_id": r.unit_id, "items": int(r.items), "due": int(r.due), "done": int(r.completed),
                   "overdue": int(r.overdue), "due_today": int(r.due_today), "not_due": int(r.not_due),
                   "rate": None if pd.isna(r.completion_rate) else round(float(r.completion_rate), 4)}
                  for r in summary.itertuples(index=False)],
        "timeline": [{"unit_id": r.unit_id, "step": r.step, "state": r.state, "days": int(r.days),
                      "deadline": _day(r.deadline), "submitted_on": _day(r.submitted_on), "note": r.note}
                     for r in tl.itertuples(index=False)],
        "lookback": look,
        "problems": [{"file": r.file, "row": int(r.row), "unit_id": r.unit_id, "item": r.item,
                      "reason_code": r.reason_code, "reason": r.reason} for r in p.itertuples(index=False)],
    }


def cmd_followup(args) -> int:
    doc = figures(args.dataset, args.ruleset, args.previous, args.report_date, args.history)
    if args.format == "json":
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _tables(doc)
    if doc["problems"]:
        print(f"注意：整改台账、报送记录中有 {len(doc['problems'])} 处数据问题（见输出的“数据问题”），请核对原文件",
              file=sys.stderr)
    return 0


def _tables(doc: dict) -> None:
    from rich.table import Table

    from pingyi_lib.output.terminal import console
    from pingyi_lib.sections.followup import LEDGER_WORDS, TIMELINE_WORDS, state_word

    con = console()

    def s(v) -> str:
        return visible("" if v is None else str(v))

    head = f"截至 {doc['as_of']}（{doc['as_of_source']}）"
    if doc["interim"]:
        head += f"；阶段性结果：问卷调查至 {doc['collection_end']} 结束"
    con.print(head + "。此后的完成和报送日期不计入；完成率按已到期的事项计算。")
    t = Table(title="各单位整改情况", title_justify="left")
    for h in ("单位编码", "事项", "已到期", "已完成", "完成率", "逾期未完成", "今日到期", "未到期"):
        t.add_column(h, justify="left" if h == "单位编码" else "right")
    for u in doc["units"]:
        rate = "—" if u["rate"] is None else f"{u['rate']:.1%}"
        t.add_row(s(u["unit_id"]), *(str(u[k]) for k in ("items", "due", "done")), rate,
                  *(str(u[k]) for k in ("overdue", "due_today", "not_due")))
    con.print(t)
    t = Table(title="整改事项", title_justify="left")
    for h in ("单位编码", "编号", "期限", "截至报告日", "说明"):
        t.add_column(h)
    for r in doc["ledger"]:
        word = state_word(r["state"], r["days"], r["deadline"], LEDGER_WORDS)
        t.add_row(s(r["unit_id"]), s(r["item_id"]), s(r["deadline"]), word, s(r["note"]))
    con.print(t)
    t = Table(title="工作节点报送", title_justify="left")
    for h in ("单位编码", "环节", "截止", "状态", "报送日期", "说明"):
        t.add_column(h)
    for r in doc["timeline"]:
        word = state_word(r["state"], r["days"], r["deadline"], TIMELINE_WORDS)
        t.add_row(s(r["unit_id"]), s(r["step"]), s(r["deadline"]), word, s(r["submitted_on"]), s(r["note"]))
    con.print(t)
    if doc["lookback"] is not None:
        t = Table(title="回头看：上一年整改事项", title_justify="left")
        for h in ("单位编码", "单位名称", "去年编号", "已整改到位", "依据"):
            t.add_column(h)
        for r in doc["lookback"]:
            t.add_row(s(r["unit_id"]), s(r["name"]), s(r["item_id"]), "是" if r["closed"] else "否", s(r["by"]))
        con.print(t)
    if doc["problems"]:
        t = Table(title="数据问题", title_justify="left")
        for h in ("文件", "行号", "问题", "代码"):
            t.add_column(h)
        for r in doc["problems"]:
            t.add_row(s(r["file"]), str(r["row"]), s(r["reason"]), s(r["reason_code"]))
        con.print(t)
