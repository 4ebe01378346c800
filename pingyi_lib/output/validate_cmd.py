"""``pingyi validate DATASET [--format table|json]``: every table's accepted and rejected rows,
every rejected row with its file, row and reason, and the units a league would miss; exit 1
when a row is rejected. ``cli.py`` only wires this in.
"""

from __future__ import annotations

import json
import sys

from pingyi_lib.output.terminal import console, shown


def add_parser(dataset_cmd) -> None:
    """The ``validate`` subcommand."""
    dataset_cmd("validate", "check a dataset and list every rejected row (exit 1 if any)", ("table", "json")) \
        .set_defaults(func=cmd_validate)


def cmd_validate(args) -> int:
    from pingyi_lib.dataset.load import load_dataset
    from pingyi_lib.dataset.schema import tables
    from pingyi_lib.dataset.validate import where

    ds = load_dataset(args.dataset, ruleset=args.ruleset)
    q = ds.quarantine
    if args.format == "json":
        out = {"tables": {r.table: {"accepted": int(r.accepted), "rejected": int(r.rejected)}
                          for r in ds.table_counts.itertuples(index=False)},
               "rejected": [{"table": r.table, "file": r.file, "row": int(r.row), "unit_id": r.unit_id,
                             "column": r.column, "header": r.header, "value": r.value,
                             "reason_code": r.reason_code, "reason": r.reason}
                            for r in q.itertuples(index=False)]}
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        from rich.table import Table

        zh = {name: t.zh for name, t in tables(ds.ruleset).items()}
        con = console()
        t = Table(title=shown(f"{ds.round.title}（{ds.path}）"), title_justify="left")
        for h in ("表", "文件", "接受（行）", "拒绝（行）"):
            t.add_column(h, justify="right" if h.endswith("（行）") else "left")
        for r in ds.table_counts.itertuples(index=False):
            t.add_row(zh.get(r.table, r.table), shown(r.file), str(r.accepted), str(r.rejected))
        con.print(t)
        if len(q):
            t = Table(title=f"被拒绝的行：共 {len(q)} 行", title_justify="left")
            for h in ("表", "位置", "列", "值", "原因"):
                t.add_column(h, overflow="fold")
            for r in q.itertuples(index=False):
                t.add_row(zh.get(r.table, r.table), shown(where(r.file, r.row)), shown(r.header), shown(r.value)[:40],
                          shown(r.reason))
            con.print(t)
        else:
            con.print("没有被拒绝的行")
        for n in ds.notes:
            con.print(f"注意：{shown(n)}")
        _print_league_gaps(ds, con)
    return 1 if len(q) else 0


def _print_league_gaps(ds, con) -> None:
    from pingyi_lib.scoring.results import score

    gaps = score(ds).gaps
    if len(gaps):
        con.print(f"排名不完整：{len(gaps)} 个单位不能参加排名"
                  "（pingyi score / report 将停止，除非加 --allow-incomplete）")
        for m in gaps["message"]:
            con.print(f"  - {shown(m)}", soft_wrap=True)
