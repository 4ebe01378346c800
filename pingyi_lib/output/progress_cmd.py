"""``pingyi progress DATASET [--as-of YYYY-MM-DD] [--format table|json] [--out DIR]
[--fail-if-at-risk]``: how far each unit's questionnaires have come while the survey window is
open (followup/collection.py), for the nightly run during the window; ``cli.py`` only wires
this in.

JSON: exactly ``as_of``, ``deadline``, ``days_left`` and ``units`` (one object per unit: the
figures of ``collection.UNIT_COLUMNS`` with days as YYYY-MM-DD, and ``mix_gaps``, ``onsite``,
``alerts``). ``--out DIR``: an offline page (index.html and assets/plotly.min.js) published
with the same staged swap as ``report``. Exit 0; 1 with ``--fail-if-at-risk`` when a unit is
at risk.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import numpy as np

from pingyi_lib.common.controlchars import visible
from pingyi_lib.common.errors import OptionError


def add_parser(sub, dataset_cmd) -> None:
    """The ``progress`` subcommand, added to the parser's subcommands."""
    sp = dataset_cmd("progress", "how far each unit's questionnaires have come in the survey window: valid so far "
                     "against the minimum, the projected day, the units at risk, the respondent mix, the alerts",
                     ("table", "json"))
    sp.add_argument("--as-of", metavar="YYYY-MM-DD", default=None,
                    help="count the questionnaires submitted on or before this day (default: today, held inside the "
                         "round's survey window)")
    sp.add_argument("--out", metavar="DIR", default=None,
                    help="also write an offline progress page (DIR/index.html), replacing DIR as a whole")
    sp.add_argument("--fail-if-at-risk", action="store_true",
                    help="exit 1 when a unit is at risk of missing its minimum by the deadline (for monitoring); "
                         "the units at risk are named on stderr")
    sp.add_argument("--quiet", action="store_true",
                    help="print no table and no line on success (a nightly job); JSON is still written when asked")
    sp.set_defaults(func=cmd_progress)


def parse_day(text: str | None) -> dt.date | None:
    if text in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise OptionError(f"--as-of “{visible(text)}”不是日期；请按年月日写，如 2011-08-15") from None


def _day(v) -> str | None:
    return None if v is None or v != v else v.isoformat()


def _num(v):
    """A plain JSON number (None for NaN)."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    f = float(v)
    return None if f != f else (int(f) if f.is_integer() and not isinstance(v, (float, np.floating)) else f)


def figures(p) -> dict:
    """The JSON document: exactly ``as_of``, ``deadline``, ``days_left``, ``units``."""
    mix = {uid: g for uid, g in p.mix[p.mix["needed"] > 0].groupby("unit_id", sort=False)}
    onsite = p.onsite.set_index("unit_id")
    alerts = {uid: g for uid, g in p.alerts.groupby("unit_id", sort=False)}
    units = []
    for r in p.units.to_dict("records"):
        uid = r["unit_id"]
        o = {}
        for k, v in r.items():
            o[k] = _day(v) if k.endswith(("_day", "_from", "_to", "_on")) else v if isinstance(v, str) else _num(v)
        o["rate"] = None if o["rate"] is None else round(o["rate"], 3)
        o["chance"] = None if o["chance"] is None else round(o["chance"], 4)
        for k in ("quota", "quota_short_by"):
            o[k] = None if o[k] is None else int(o[k])
        g = mix.get(uid)
        o["mix_gaps"] = [] if g is None else [
            {"category": m.category, "target": float(m.target), "questionnaires": int(m.questionnaires),
             "achieved": None if m.achieved != m.achieved else round(float(m.achieved), 4), "needed": int(m.needed)}
            for m in g.itertuples(index=False)]
        o["onsite"] = None if uid not in onsite.index else {
            "ballots": int(onsite.at[uid, "ballots"]), "public": int(onsite.at[uid, "public"]),
            "share": round(float(onsite.at[uid, "share"]), 4), "compliant": bool(onsite.at[uid, "compliant"])}
        a = alerts.get(uid)
        o["alerts"] = [] if a is None else [{"reason": x.reason, "label": x.label, "count": int(x.count)}
                                            for x in a.itertuples(index=False)]
        units.append(o)
    return {"as_of": p.as_of.isoformat(), "deadline": _day(p.deadline), "days_left": p.days_left, "units": units}


def cmd_progress(args) -> int:
    from pingyi_lib.dataset.load import load_dataset
    from pingyi_lib.followup.collection import progress

    day = parse_day(args.as_of)
    if args.out:
        from pingyi_lib.output.progress_page import PAGE_ENTRIES
        from pingyi_lib.output.publish import ReportFolder

        ReportFolder(args.out, PAGE_ENTRIES).check()  # before the work: a folder we would refuse
    ds = load_dataset(args.dataset, ruleset=args.ruleset)
    p = progress(ds, day)
    if args.format == "json":
        json.dump(figures(p), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif not args.quiet:
        _print(p, ds)
    if args.out:
        from pingyi_lib.output.progress_page import write_page

        index = write_page(p, ds, args.out)
        if not args.quiet:
            print(f"进度页：{index}", file=sys.stderr)
    if args.fail_if_at_risk and len(p.at_risk):
        from pingyi_lib.sections.progress import risk_line

        print(visible(risk_line(p)), file=sys.stderr)
        return 1
    return 0


def _print(p, ds) -> None:
    from pingyi_lib.output.terminal import console, print_frame
    from pingyi_lib.sections import progress as sec

    con = console()
    title = ds.round.title if ds.round else ""
    con.print(visible(f"{title} 问卷收集进度"))
    for line in sec.summary(p):
        con.print(visible(line))
    frames = [("各单位进度", sec.unit_table(p).drop(columns="单位编码")), ("问卷配额", sec.quota_table(p)),
              ("调查对象构成缺口（按评议规则的目标占比）", sec.mix_gap_table(p)),
              ("现场评议代表构成", sec.onsite_table(p, ds.ruleset.panel_min_share)),
              ("问卷异常提示（截至当日）", sec.alert_table(p))]
    for name, f in frames:
        if len(f):
            print_frame(con, f, name)
