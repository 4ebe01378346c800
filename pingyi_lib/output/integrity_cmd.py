"""``pingyi integrity DATASET [--counts PART…] [--format table|json] [--limit N]``: what the integrity check
flagged and excluded, the suspicious periods with the league without them, the reviews and
the flagged questionnaires. A suspicion is not a data error: the exit code is 0.
``cli.py`` only wires this in.
"""

from __future__ import annotations

import json
import math
import sys

from pingyi_lib.output import count_cmd
from pingyi_lib.output.terminal import console, print_frame, shown


def add_parser(dataset_cmd) -> None:
    """The ``integrity`` subcommand."""
    sp = dataset_cmd("integrity", "questionnaires that look stuffed (刷票): flagged, excluded, suspicious periods "
                     "and the effect on the scores", ("table", "json"))
    sp.add_argument("--limit", type=int, default=20, metavar="N",
                    help="flagged questionnaires listed in the table (default 20; json lists all)")
    count_cmd.add_counts_option(sp)
    sp.set_defaults(func=cmd_integrity)


def _number(x):
    """A JSON number, or null for a missing one."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return int(x) if float(x).is_integer() else float(x)


def _text(x) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)


def document(res) -> dict:
    """The JSON of ``pingyi integrity`` (docs/integrity.md)."""
    from pingyi_lib.integrity.policy import REASONS

    found = res.integrity
    rows = found.rows[found.rows["reasons"].map(len) > 0]
    comparison = found.comparison.set_index("unit_id")
    alerts = found.alerts
    units = []
    for _, r in found.units.iterrows():
        c = comparison.loc[r["unit_id"]] if r["unit_id"] in comparison.index else None
        mine = alerts[alerts["unit_id"] == r["unit_id"]]
        units.append({
            "unit_id": r["unit_id"], "responses": int(r["responses"]), "flagged": int(r["flagged"]),
            "excluded": int(r["excluded"]), "suspicion": float(r["suspicion"]),
            "reasons": {k: int(r[k]) for k in REASONS if r[k]},
            "without_flagged": None if c is None else {
                "score": _number(c["composite_without_flagged"]), "rank": _number(c["rank_without_flagged"]),
                "consequences": _text(c["flags_without_flagged"])},
            "alerts": [{"start": a.start.isoformat(sep=" "), "end": a.end.isoformat(sep=" "),
                        "responses": int(a.responses), "flagged": int(a.flagged), "evidence": a.evidence,
                        "log10_p": round(float(a.log10_p), 2), "score": _number(a.composite),
                        "score_without": _number(a.composite_without), "rank": _number(a.rank),
                        "rank_without": _number(a.rank_without), "consequences": _text(a.flags),
                        "consequences_without": _text(a.flags_without)}
                       for a in mine.itertuples(index=False)],
        })
    return {"units": units,
            "flagged": [{"response_id": r.response_id, "unit_id": r.unit_id, "reasons": list(r.reasons),
                         "excluded": bool(r.excluded)} for r in rows.itertuples(index=False)],
            "reviews": [{"row": int(r.row), "response_id": r.response_id, "unit_id": r.unit_id,
                         "period": r.period, "decision": r.decision, "note": r.note,
                         "reviewer": r.reviewer, "outcome": r.outcome}
                        for r in found.reviews.itertuples(index=False)]}


def cmd_integrity(args) -> int:
    from pingyi_lib.scoring.completeness import unchecked_gap
    from pingyi_lib.scoring.results import score
    from pingyi_lib.sections import integrity

    ds = count_cmd.dataset_of(args)
    if ds.unchecked:  # nothing to judge the questionnaires by: say so, never an empty report
        print(f"错误：{shown(unchecked_gap(ds)['message'])}", file=sys.stderr)
        return 1
    res = score(ds)
    found = res.integrity
    if args.format == "json":
        json.dump(document(res), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        con = console()
        con.print(shown(found.summary()))
        for change in integrity.period_changes(res):
            con.print(shown(f"注意：{change['text']}"))
        overview = integrity.overview(res)
        if len(overview):
            print_frame(con, overview, "各单位问卷异常")
            con.print(f"其余{len(found.units) - len(overview)}个单位的问卷未被标记。")
        for title, frame in (("可疑时段", integrity.periods(res)),
                             ("短时集中提交", integrity.episodes(res)),
                             ("剔除问卷对得分、排名和结果运用的影响", integrity.effect(res, changed_only=True)),
                             ("不计全部被标记问卷时的得分、排名和结果运用", integrity.without_flagged(res)),
                             ("人工复核记录", integrity.reviews(res))):
            if len(frame):
                print_frame(con, frame, title)
        flagged = integrity.flagged_rows(res, limit=args.limit)
        if len(flagged):
            print_frame(con, flagged.drop(columns="说明"), f"被标记的问卷（可疑度高者在前，前{len(flagged)}份）")
            more = len(found.rows) - len(flagged)
            if more > 0:
                con.print(f"还有{more}份；`--format json` 列出全部。")
    for m in found.warnings:
        print(f"提示：{shown(m)}", file=sys.stderr)
    return 0
