"""Large synthetic rounds for the benchmarks and the engine tests.

    .venv/bin/python bench/generate.py OUT --rows 10000000 --format parquet|csv|gb18030 [--seed 1] [--units 200]

200 units by default (the city bureau, 30 district bureaus, 169 windows and stations; with
``--units N`` the same shares of N), an on-site panel of 20 ballots a unit, and ``rows``
questionnaires written in chunks (memory stays flat), big units and small ones as in a
real round. The last unit is rejected in the units table. About 1% of questionnaires carry
each kind of bad value pingyi rejects, and 0.5% repeat an earlier id, so the quarantine has
realistic work:

    missing id, unknown unit, blank unit, a unit rejected in the units table, unknown and
    blank channel, unknown answer label or code, a date that is no date, a repeated id
    (some repeating a rejected row: the corrected re-entry is kept)

and valid values written the ways clerks write them (spaces around, Chinese labels,
codes 1-5 and 2.0, upper-case and full-width forms). ``hostile=True`` (tests) adds a
comment with a line break, which sends CSV to the exact ``csv`` path.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ITEMS = ("lawful", "fair", "open", "service", "integrity", "overall")
LABELS = np.array(["", "很满意", "比较满意", "基本满意", "不满意", "不了解"], dtype=object)
CHANNELS = np.array(["online", "paper", "phone", "third_party", "网上", "纸质", " Online ", "第三方"], dtype=object)
CATEGORIES = np.array(["群众", "企业代表", "人大代表", "政协委员", "服务对象"], dtype=object)
COMMENTS = np.array(["窗口工作人员服务热情，当天就办好了。", "执法检查次数太多，影响企业生产。", "办事要跑好几趟。",
                     "处罚标准不公示，自由裁量太随意。", "希望网站及时更新政策。"], dtype=object)
PANEL = np.array(["群众代表", "企业代表", "人大代表", "政协委员", "群众代表"], dtype=object)
CHUNK = 1_000_000
# every kind of bad value, as (share of questionnaires, column, value); "dup" repeats an earlier id
BAD = [(0.001, "response_id", ""), (0.002, "unit_id", "x999"), (0.001, "unit_id", ""),
       (0.001, "unit_id", "REJECTED"),  # the last unit, rejected in the units table
       (0.001, "channel", "微信"), (0.0005, "channel", ""), (0.002, "fair", "非常好"), (0.0005, "open", "6"),
       (0.0005, "submitted_at", "昨天"), (0.0005, "submitted_at", "2011/13/45"), (0.005, "dup", None)]


def unit_ids(units: int = 200) -> list[str]:
    width = max(3, len(str(units - 1)))
    return [f"u{i:0{width}d}" for i in range(units)]


def units_table(units: int = 200) -> pd.DataFrame:
    ids = unit_ids(units)
    districts, windows = round(units * 0.15), units // 2  # 30 and 100 of 200
    level = ["city"] + ["district"] * districts + ["window"] * windows + ["station"] * (units - 1 - districts - windows)
    parent = [""] * (1 + districts) + [ids[1 + i % districts] for i in range(units - 1 - districts)]
    df = pd.DataFrame({"unit_id": ids, "name": [f"第{i}评议单位" for i in range(units)], "level": level,
                       "parent_id": parent})
    df.loc[units - 1, "level"] = "县局"  # a rejected unit: its questionnaires are rejected with it
    return df


def onsite_table(rng: np.random.Generator, units: int = 200) -> pd.DataFrame:
    n = units * 20
    df = pd.DataFrame({"ballot_id": [f"O{i:06d}" for i in range(n)],
                       "unit_id": np.repeat(unit_ids(units), 20),
                       "member_category": PANEL[rng.integers(0, len(PANEL), n)]})
    for it in ITEMS:
        df[it] = LABELS[rng.choice(6, n, p=[0.01, 0.5, 0.3, 0.12, 0.04, 0.03])]
    df.loc[5, "member_category"] = "路人"  # unknown panel member category
    df.loc[7, "ballot_id"] = "O000006"  # a repeated ballot
    return df


def survey_chunk(rng: np.random.Generator, start: int, n: int, hostile: bool = False,
                 units_in_round: int = 200) -> pd.DataFrame:
    idx = np.arange(start, start + n)
    ids = pc.binary_join_element_wise("R", pc.utf8_lpad(pa.array(idx).cast(pa.string()), 9, "0"), "")
    share = 0.012 if units_in_round == 200 else 2.4 / units_in_round  # the first rounds' draws kept as they were
    # big units and small ones, like a real round (the last unit is rejected: none of its own)
    unit_no = np.minimum(rng.geometric(share, n) - 1, units_in_round - 2)
    units = pc.binary_join_element_wise(
        "u", pc.utf8_lpad(pa.array(unit_no).cast(pa.string()), max(3, len(str(units_in_round - 1))), "0"), "")
    seconds = rng.integers(0, 37 * 86400, n) + np.datetime64("2011-07-25T08:00:00", "s").astype(np.int64)
    stamps = pc.strftime(pa.array(seconds.astype("datetime64[s]")), format="%Y-%m-%d %H:%M:%S")
    channel = CHANNELS[rng.choice(len(CHANNELS), n, p=[0.3, 0.25, 0.1, 0.2, 0.05, 0.05, 0.03, 0.02])]
    fp = pc.binary_join_element_wise("f", pa.array(rng.integers(0, 1 << 40, n)).cast(pa.string()), "")
    df = pd.DataFrame({"response_id": np.asarray(ids.to_pylist(), dtype=object),
                       "unit_id": np.asarray(units.to_pylist(), dtype=object),
                       "respondent_category": CATEGORIES[rng.integers(0, len(CATEGORIES), n)],
                       "channel": channel, "submitted_at": np.asarray(stamps.to_pylist(), dtype=object),
                       "fingerprint": np.where(channel == "online", np.asarray(fp.to_pylist(), dtype=object), "")})
    mood = rng.choice(5, n, p=[0.45, 0.3, 0.15, 0.07, 0.03])  # answers of one questionnaire hang together
    for it in ITEMS:
        level = np.clip(mood + 1 + rng.choice([-1, 0, 0, 0, 1], n), 1, 5)
        level[rng.random(n) < 0.02] = 0
        col = LABELS[level].copy()
        codes = rng.random(n) < 0.05  # codes as some clerks type them
        col[codes] = level[codes].astype(str)
        col[codes & (level == 2)] = "2.0"
        col[codes & (level == 0)] = ""
        df[it] = col
    spaced = rng.random(n) < 0.01
    df.loc[spaced, "lawful"] = " " + df.loc[spaced, "lawful"] + "\u3000"
    df["comment"] = np.where(rng.random(n) < 0.1, COMMENTS[rng.integers(0, len(COMMENTS), n)], "")
    for i, (share, column, value) in enumerate(BAD):
        if value == "REJECTED":
            value = unit_ids(units_in_round)[-1]
        hit = np.flatnonzero(rng.random(n) < share)
        if start == 0 and n > 40:  # every kind at least once, whatever the size
            hit = np.union1d(hit, [20 + i])
        if column == "dup":
            hit = hit[hit > 0]
            df.loc[hit, "response_id"] = df["response_id"].to_numpy()[rng.integers(0, hit)]
        else:
            df.loc[hit, column] = value
    if hostile and n > 10:
        df.loc[3, "comment"] = "第一行\n第二行"
        df.loc[4, "comment"] = '引号"和逗号,'
        df.loc[6, "response_id"] = df.loc[2, "response_id"]  # a repeat of a bad row (unknown unit) is kept
        df.loc[2, "unit_id"] = "x999"
    return df


def write_round(folder: str | Path, rows: int, fmt: str = "parquet", seed: int = 1, hostile: bool = False,
                units: int = 200) -> Path:
    """Write units, onsite and survey of a synthetic round of ``units`` units into ``folder``; returns it."""
    if units < 40:
        raise ValueError("a generated round has at least 40 units")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_units = units
    units, onsite = units_table(n_units), onsite_table(rng, n_units)
    ext = "parquet" if fmt == "parquet" else "csv"
    for name, df in (("units", units), ("onsite", onsite)):
        if fmt == "parquet":
            df.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            df.to_csv(folder / f"{name}.csv", index=False, encoding="gb18030" if fmt == "gb18030" else "utf-8")
    path = folder / f"survey.{ext}"
    writer = None
    try:
        for start in range(0, rows, CHUNK):
            tb = pa.Table.from_pandas(survey_chunk(rng, start, min(CHUNK, rows - start), hostile, n_units),
                                      preserve_index=False)
            if fmt == "parquet":
                writer = writer or pq.ParquetWriter(path, tb.schema)
                writer.write_table(tb)
            elif fmt == "csv":
                writer = writer or pacsv.CSVWriter(path, tb.schema,
                                                   write_options=pacsv.WriteOptions(quoting_style="needed"))
                writer.write_table(tb)
            else:  # GB18030, as Excel on Chinese Windows writes it
                tb.to_pandas().to_csv(path, mode="a" if start else "w", header=not start, index=False,
                                      encoding="gb18030")
    finally:
        if writer is not None:
            writer.close()
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--format", choices=("parquet", "csv", "gb18030"), default="parquet")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--units", type=int, default=200, help="units in the round (at least 40; default 200)")
    a = ap.parse_args()
    write_round(a.out, a.rows, a.format, a.seed, units=a.units)


if __name__ == "__main__":
    main()
