"""The floor: a bare DuckDB script doing the work `pingyi score` does on the big table.

    python bench/floor.py DATASET

Reads units and survey (CSV or Parquet), finds the rejected rows with their row numbers
and a reason code (unknown or blank unit, blank id, unknown channel, unknown answer, a
date that is no date), the duplicate ids among the valid rows, counts answers per unit
× item × level and prints the questionnaire index of each unit. No pingyi code, no
pandas: what the hardware and DuckDB cost for the same work.
"""

import sys
from pathlib import Path

import duckdb

folder = Path(sys.argv[1])
ITEMS = ["lawful", "fair", "open", "service", "integrity"]
LEVELS = {"很满意": 1, "比较满意": 2, "基本满意": 3, "不满意": 4, "不了解": 5, "1": 1, "2": 2, "2.0": 2, "3": 3, "4": 4,
          "5": 5}
SCORES = {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.0}
CHANNELS = ["online", "paper", "phone", "third_party", "网上", "纸质", "电话", "第三方"]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")  # as pingyi: no bar drawn on stdout


def source(name):
    p = folder / f"{name}.parquet"
    if p.exists():
        return f"(SELECT *, file_row_number + 2 AS row FROM read_parquet('{p}', file_row_number = true))"
    con.execute(f"CREATE TABLE {name}_t AS SELECT * FROM read_csv('{folder / name}.csv', all_varchar = true)")
    return f"(SELECT *, rowid + 2 AS row FROM {name}_t)"


units = [u for (u,) in con.execute(f"SELECT unit_id FROM {source('units')} "
                                   "WHERE level IN ('city', 'district', 'window', 'station')").fetchall()]
survey = source("survey")
lv = ", ".join(f"'{k}'" for k in LEVELS)
unit_list = ", ".join(f"'{u}'" for u in units)
t = lambda c: f"lower(trim(coalesce({c}, '')))"  # noqa: E731
bad = " WHEN ".join(["trim(coalesce(response_id, '')) = '' THEN 'missing_id'",
                     f"trim(coalesce(unit_id, '')) NOT IN ({unit_list}) THEN 'unknown_unit'",
                     f"{t('channel')} NOT IN ({', '.join(repr(c) for c in CHANNELS)}) THEN 'unknown_channel'",
                     *[f"trim(coalesce({it}, '')) NOT IN ('', {lv}) THEN 'unknown_answer'"
                       for it in [*ITEMS, "overall"]],
                     "submitted_at IS NOT NULL AND try_cast(submitted_at AS TIMESTAMP) IS NULL THEN 'bad_date'"])
answers = ", ".join(f"trim(coalesce({it}, '')) AS {it}" for it in ITEMS)
con.execute(f"CREATE TEMP TABLE checked AS SELECT row, trim(response_id) AS id, trim(unit_id) AS unit, "
            f"CASE WHEN {bad} END AS reason, {answers} FROM {survey}")
rejected = con.execute("SELECT row, reason FROM checked WHERE reason IS NOT NULL ORDER BY row").fetchall()
dups = con.execute("SELECT row, id FROM (SELECT row, id, row_number() OVER (PARTITION BY id ORDER BY row) AS k "
                   "FROM checked WHERE reason IS NULL) WHERE k > 1 ORDER BY row").fetchall()
case = lambda c: "CASE " + c + " " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in LEVELS.items()) + " ELSE 0 END"  # noqa: E731
counts = con.execute(
    "SELECT unit, item, level, count(*) FROM (UNPIVOT (SELECT unit, "
    + ", ".join(f"{case(it)} AS {it}" for it in ITEMS)
    + " FROM checked WHERE reason IS NULL AND row NOT IN (SELECT row FROM (SELECT row, row_number() OVER "
      "(PARTITION BY id ORDER BY row) AS k FROM checked WHERE reason IS NULL) WHERE k > 1)) "
    f"ON {', '.join(ITEMS)} INTO NAME item VALUE level) GROUP BY ALL").fetchall()
per = {}
for unit, item, level, n in counts:
    s = per.setdefault(unit, {}).setdefault(item, [0.0, 0])
    if level in SCORES:
        s[0] += SCORES[level] * n
        s[1] += n
for unit in sorted(per):
    idx = [100 * a / b for a, b in per[unit].values() if b]
    print(unit, round(sum(idx) / len(idx), 2) if idx else "")
print(f"{len(rejected)} rejected, {len(dups)} duplicates", file=sys.stderr)
