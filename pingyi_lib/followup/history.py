"""Several past rounds (长效机制, seed §五(七)): which rounds, how units are matched across years,
and the trend of every unit.

Past rounds come from ``--previous`` (given once per round) and ``--history DIR`` (every
sub-folder of DIR that holds a round; the current round and later years are left out). Each is
read with its own ruleset and its own round.toml (:func:`load_past`); the most recent is last
year's round of the one-year look-back (回头看), the rest add years to the trend.

Units are matched by id. A unit renamed or merged is described by an optional
``unit_history.csv`` in the current round's folder, one row per change::

    old_id,new_id,year
    xb-chunjiang,xb-cj,2012        # from 2012 on, xb-chunjiang is called xb-cj
    wj-hutang,wj-hutang-lx,2011    # two units merged into one in 2011:
    wj-luoxi,wj-hutang-lx,2011     #   both rows name the same new id and year

A past round of year ``y`` has every change of a later year applied, in order of year (so a
chain a → b → c ends at c). A change that gives several old ids of one round the same id is a
merger: the predecessors keep their own ids and figures (one unit's score is never made up of
two), and the rows say which unit they were merged into (``merged_into``). An old id given two
new ids in one year (a split) is not followed: its figures stay under its own id.

Significance, as in the one-year look-back (followup.lookback, stats.change): a year-on-year
change in composite or satisfaction is significant when the interval of the difference of the
two rounds' bootstrap replicates excludes 0; a rank change is real when the two rank intervals
do not overlap (within the same rank group only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pingyi_lib.common.controlchars import visible
from pingyi_lib.common.errors import DatasetError, OptionError, RulesetError
from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.followup import lookback
from pingyi_lib.stats import change

UNIT_HISTORY = "unit_history.csv"
HISTORY_COLUMNS = ("old_id", "new_id", "year")

# the trend's figures per unit and year, as each round's Results has them
FIGURES = ("composite", "composite_lo", "composite_hi", "satisfaction", "satisfaction_lo", "satisfaction_hi",
           "rank", "rank_lo", "rank_hi", "rank_group", "rank_group_label", "group_n", "in_bottom")


def as_list(previous) -> list[str]:
    """``previous`` as a list of paths: None or '' → [], one path → [it], a list → its non-empty items."""
    if not previous:
        return []
    if isinstance(previous, (str, Path)):
        return [str(previous)]
    return [str(p) for p in previous if p]


def history_rounds(folder: str | Path) -> list[Path]:
    """The rounds of a ``--history`` folder: its sub-folders holding a round (a round.toml, a units
    table by either of its names, or a workbook), sorted by name. OptionError when the folder does
    not exist."""
    d = Path(folder)
    if not d.is_dir():
        raise OptionError(f"--history {visible(str(folder))} 不是文件夹；应为每年一轮评议数据的上级文件夹")
    from pingyi_lib.scheme.ruleset import load_ruleset

    rs = load_ruleset()  # the tables' file names are the schema's, whatever a round's ruleset
    return sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith(".") and _holds_round(p, rs))


def _holds_round(folder: Path, rs) -> bool:
    from pingyi_lib.dataset import excel
    from pingyi_lib.dataset.schema import table_for_name

    def holds(f: Path) -> bool:  # the files read_folder reads: .csv, .parquet and workbooks
        suffix = f.suffix.lower()
        return f.name == "round.toml" or suffix in excel.SUFFIXES or (
            suffix in (".csv", ".parquet") and table_for_name(f.stem, rs) == "units")

    return any(f.is_file() and holds(f) for f in folder.iterdir())


def past_paths(dataset: str | Path, previous=None, history: str | Path | None = None) -> list[str]:
    """Every past round asked for, as absolute paths in the order given (``--previous`` first,
    then ``--history``'s rounds), each once. Refused in one line (OptionError): a ``--previous``
    that is the current round (the same folder or the same files), a round given twice. In
    ``--history`` the current round and the rounds of its year or later (:func:`year_hint`) are
    left out, not refused: the folder of every year usually holds them."""
    from pingyi_lib.dataset.load import same_content

    out: list[str] = []
    for p in as_list(previous):
        if same_content(dataset, p):
            raise OptionError(f"--previous {visible(str(p))} 与本轮数据 {visible(str(dataset))} 内容相同；"
                              "请给出往年的数据")
        _add(out, p)
    if history:
        now = year_hint(dataset)
        for p in history_rounds(history):
            then = year_hint(p)
            if now is not None and then is not None and then >= now:
                continue  # this year's round (or a later one) in the folder of every year
            if not same_content(dataset, p) and not any(same_content(p, q) for q in out):
                out.append(str(p.resolve()))
    return out


def year_hint(folder: str | Path) -> int | None:
    """A round's year without reading its data: ``year`` of its round.toml, else a year in the
    folder's name (``2011``, ``常州2011``); None when neither says."""
    import re
    import tomllib

    try:
        y = tomllib.loads((Path(folder) / "round.toml").read_text(encoding="utf-8")).get("year")
        if isinstance(y, int) and not isinstance(y, bool):
            return y
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    m = re.search(r"(?<!\d)(19|20)\d{2}(?!\d)", Path(folder).resolve().name)
    return int(m.group(0)) if m else None


def _add(out: list[str], p: str | Path) -> None:
    from pingyi_lib.dataset.load import same_content

    twin = next((q for q in out if same_content(p, q)), None)
    if twin is not None:
        raise OptionError(f"往年数据给了两次：{visible(str(p))} 与 {visible(str(twin))} 是同一轮数据")
    out.append(str(Path(p).resolve()))


def load_past(ds, paths: list[str]) -> list:
    """The past rounds (Datasets), most recent first, each read with its own ruleset and
    round.toml. One line each (OptionError): a round whose ruleset cannot be read, two rounds of
    the same year, a round not earlier than the current one, a round whose year is unknown when
    there are several (they could not be put in order)."""
    from pingyi_lib.dataset.load import load_dataset

    rounds = []
    for p in paths:
        try:
            rounds.append(load_dataset(p))
        except RulesetError as exc:
            raise OptionError(f"往年数据 {visible(str(p))} 的评议规则无法读取：{exc}") from None
    for r in rounds:
        require_earlier(ds, r)
        if r.round.year is None and len(rounds) > 1:
            raise OptionError(f"无法确定往年数据 {visible(str(r.path))} 是哪一年的评议（round.toml 没有 year，"
                              "数据中也没有日期）；请在其 round.toml 中写明 year")
    seen: dict[int, str] = {}
    for r in rounds:
        y = r.round.year
        if y is not None and y in seen:
            raise OptionError(f"两轮往年数据都是 {y} 年：{visible(seen[y])} 与 {visible(str(r.path))}；"
                              "每年只能给一轮")
        if y is not None:
            seen[y] = str(r.path)
    return sorted(rounds, key=lambda r: -(r.round.year or 0))


def require_earlier(ds, before) -> None:
    """Refuse a past round that is not an earlier year than the round (OptionError, one line):
    its items and scores would be read from the same or a later year. Rounds whose year is
    unknown (no round.toml year, no dates in the data) are not judged."""
    now, then = ds.round.year, before.round.year
    if now is not None and then is not None and then >= now:
        raise OptionError(f"--previous 应是更早一年的评议数据：{visible(str(before.path))} 是 {then} 年，"
                          f"本轮 {visible(str(ds.path))} 是 {now} 年")


def no_history() -> pd.DataFrame:
    """A unit history with no change (no ``unit_history.csv``)."""
    return pd.DataFrame({c: pd.Series(dtype=object if c != "year" else "int64") for c in HISTORY_COLUMNS})


def read_unit_history(folder: str | Path) -> pd.DataFrame:
    """``unit_history.csv`` of a round folder (columns old_id, new_id, year; empty when there is
    none). DatasetError for a file without those columns or with a row whose year is not a
    year or whose ids are empty, naming the row."""
    path = Path(folder) / UNIT_HISTORY
    if not path.is_file():
        return no_history()
    import csv

    from pingyi_lib.dataset.read import decode_bytes

    lines = csv.reader(decode_bytes(path.read_bytes(), str(path)).lstrip("\ufeff").splitlines())
    records = [(n, r) for n, r in enumerate(lines, start=1) if any(x.strip() for x in r)]  # blank lines skipped
    header = [c.strip() for c in records[0][1]] if records else []
    df = pd.DataFrame([(r + [""] * len(header))[:len(header)] for _, r in records[1:]], columns=header, dtype=object)
    line_no = np.array([n for n, _ in records[1:]], dtype=int)
    missing = [c for c in HISTORY_COLUMNS if c not in df.columns]
    if missing:
        raise DatasetError(f"{visible(str(path))}：缺少列 {'、'.join(missing)}（应有 old_id、new_id、year）",
                           path=str(path), column=missing[0])
    df = df[list(HISTORY_COLUMNS)].copy()
    for c in ("old_id", "new_id"):
        df[c] = df[c].fillna("").astype(str).str.strip()
    year = pd.to_numeric(df["year"].astype(str).str.strip(), errors="coerce")
    bad = year.isna() | (year != year.round()) | (df["old_id"] == "") | (df["new_id"] == "")
    if bad.any():
        row = int(line_no[np.flatnonzero(bad.to_numpy())[0]])
        raise DatasetError(f"{visible(str(path))} 第 {row} 行：old_id、new_id 不能为空，year 应为年份",
                           path=str(path))
    df["year"] = year.astype("int64")
    return df.reset_index(drop=True)


def id_map(history: pd.DataFrame, year: int | None, ids) -> tuple[dict[str, str], dict[str, str]]:
    """For a past round of ``year`` holding ``ids``: (renames old id → today's id, mergers old id →
    the id it was merged into). Every change of a later year applies, in order of year."""
    ids = list(ids)
    if year is None or history.empty:
        return {}, {}
    final = {u: u for u in ids}
    for y in sorted(set(history["year"])):
        if y <= year:
            continue
        step = history[history["year"] == y]
        targets = step.groupby("old_id")["new_id"].agg(lambda s: sorted(set(s)))
        for u, now in final.items():
            t = targets.get(now)
            if t is not None and len(t) == 1:  # a split (several new ids) is not followed
                final[u] = t[0]
    counts = pd.Series(list(final.values())).value_counts()
    renames, merged = {}, {}
    for u, v in final.items():
        if v == u:
            continue
        if counts[v] > 1 or v in final and final.get(v) == v:  # several units end as one
            merged[u] = v
        else:
            renames[u] = v
    return renames, merged


def relabelled(res, history: pd.DataFrame):
    """A past round as today's ids name its units (renames of :func:`id_map`; ``res`` itself when
    there is none): its units, items, bootstrap replicates and rectification items, so that the
    one-year look-back (followup.lookback) matches a renamed unit as the trend does. A shallow
    copy: nothing of ``res`` is changed."""
    import dataclasses

    renames, _ = id_map(history, res.dataset.round.year, res.units["unit_id"])
    if not renames:
        return res

    def ids(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(unit_id=frame["unit_id"].map(lambda u: renames.get(u, u)))

    ds = res.dataset
    tables = type(ds.tables)()
    dict.update(tables, dict.items(ds.tables))  # tables not built yet stay so
    if "rectifications" in ds.tables:
        dict.__setitem__(tables, "rectifications", ids(ds.tables["rectifications"]))
    return dataclasses.replace(res, dataset=dataclasses.replace(ds, tables=tables), units=ids(res.units),
                               items=ids(res.items), replicates=_replicates(res.replicates, renames))


def _replicates(reps, renames: dict[str, str]):
    """Bootstrap replicates (stats.uncertainty.ScoreReplicates) with their units renamed (None stays None)."""
    if reps is None:
        return None
    return type(reps)(**{**vars(reps), "unit_ids": pd.Index([renames.get(x, x) for x in reps.unit_ids])})


def trend(rounds: list, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per unit and year it was evaluated, newest round first in ``rounds``
    (:class:`Results`, scored with intervals for the significance).

    Columns: unit_id (today's id; a merged predecessor keeps its own), year, id_then (its id
    that year), name (that year's), merged_into ('' or the id it was merged into), the
    :data:`FIGURES`, each scored dimension's questionnaire index, then against the unit's
    previous year in the trend: prev_year, composite_change, composite_change_lo/hi,
    significant, satisfaction_change, satisfaction_change_lo/hi, satisfaction_significant,
    rank_change (positive = moved up; same rank group only), rank_change_real. Rows are in
    the current round's unit order (units no longer evaluated after), years ascending.
    """
    history = history if history is not None else no_history()
    frames, reps = [], {}
    items = list(rounds[0].ruleset.scored_items)
    for res in rounds:
        year = res.dataset.round.year
        u = res.units
        renames, merged = id_map(history, year, u["unit_id"]) if res is not rounds[0] else ({}, {})
        f = pd.DataFrame({"unit_id": u["unit_id"].map(lambda x: renames.get(x, x)), "year": year,
                          "id_then": u["unit_id"], "name": u["name"],
                          "merged_into": u["unit_id"].map(lambda x: merged.get(x, ""))})
        for c in FIGURES:
            f[c] = u[c].to_numpy() if c in u.columns else np.nan
        for item in items:
            f[item] = u["unit_id"].map(lookback.survey_item(res, item)).to_numpy()
        frames.append(f)
        if res.replicates is not None:
            reps[year] = _replicates(res.replicates, renames)
    out = pd.concat(frames, ignore_index=True)
    out["rank"] = out["rank"].astype("Int64")
    out["group_n"] = out["group_n"].astype("Int64")
    order = {u: i for i, u in enumerate(dict.fromkeys(out["unit_id"]))}
    out = out.sort_values(["unit_id", "year"], key=lambda s: s.map(order) if s.name == "unit_id" else s,
                          kind="stable").reset_index(drop=True)
    return _changes(out, reps, rounds[0].ruleset)


def _changes(out: pd.DataFrame, reps: dict, rs) -> pd.DataFrame:
    prev = out.groupby("unit_id", sort=False).shift(1)
    out["prev_year"] = prev["year"].astype("Int64")
    for x in ("composite", "satisfaction"):
        out[f"{x}_change"] = round_half_up(out[x] - prev[x], rs.decimals)
        out[f"{x}_change_lo"] = np.nan
        out[f"{x}_change_hi"] = np.nan
    same_group = (out["rank_group"] == prev["rank_group"]) & out["rank_group"].notna()
    out["rank_change"] = (prev["rank"].astype("Int64") - out["rank"]).where(same_group.to_numpy())
    out["significant"] = pd.array([pd.NA] * len(out), dtype="boolean")
    out["satisfaction_significant"] = pd.array([pd.NA] * len(out), dtype="boolean")
    real = change.ranks_differ(prev["rank_lo"], prev["rank_hi"], out["rank_lo"], out["rank_hi"])
    out["rank_change_real"] = real.where(same_group.to_numpy(), pd.NA)
    if not reps:
        return out
    for (y_now, y_prev), idx in out[out["prev_year"].notna()].groupby(["year", "prev_year"]).groups.items():
        if y_now not in reps or y_prev not in reps:
            continue
        ch = change.change_intervals(reps[y_now], reps[y_prev], rs)
        ids = out.loc[idx, "unit_id"]
        for x in ("composite", "satisfaction"):
            for end in ("lo", "hi"):
                out.loc[idx, f"{x}_change_{end}"] = ids.map(ch[f"{x}_change_{end}"]).to_numpy(dtype=float)
        out.loc[idx, "significant"] = ids.map(ch["composite_significant"]).astype("boolean").to_numpy()
        out.loc[idx, "satisfaction_significant"] = ids.map(ch["satisfaction_significant"]).astype("boolean").to_numpy()
    return out


def repeat_bottom(trend: pd.DataFrame | None, years: int) -> pd.DataFrame:
    """The units in their group's bottom (排名靠后) in each of the last ``years`` rounds of the
    trend, this round included (consecutive rounds: a unit missing from one of them is not):
    unit_id, name (this year's), years (ascending), reason (the years with each rank). Empty when
    the rule is off (``years`` < 2) or there are fewer rounds."""
    cols = ["unit_id", "name", "years", "reason"]
    if trend is None or years < 2:
        return pd.DataFrame(columns=cols)
    last = sorted(set(int(y) for y in trend["year"]))[-years:]
    if len(last) < years:
        return pd.DataFrame(columns=cols)
    t = trend[trend["year"].isin(last)]
    hit = t.groupby("unit_id", sort=False)["in_bottom"].agg(lambda s: len(s) == years and bool(s.all()))
    rows = []
    for uid in hit.index[hit.to_numpy(dtype=bool)]:
        g = t[t["unit_id"] == uid].sort_values("year")
        ranks = "；".join(f"{int(r.year)}年第{int(r.rank)}名/共{int(r.group_n)}名" for r in g.itertuples(index=False))
        rows.append((uid, g["name"].iloc[-1], [int(y) for y in g["year"]],
                     f"{'、'.join(f'{y}年' for y in g['year'].astype(int))}连续{years}轮排名靠后（{ranks}）"))
    return pd.DataFrame(rows, columns=cols)


def with_repeat_bottom(res, trend: pd.DataFrame | None):
    """``res`` with the ruleset's ``[consequences.repeat_bottom]`` applied (a new Results; ``res``
    itself when the rule is off or there are no past rounds): a consequence row per unit caught,
    with the years as its reason, the rule's label in its flags, and the column ``repeat_bottom``
    (the rule was judged: :func:`judged_consequences`)."""
    import dataclasses

    from pingyi_lib.scheme.consequence_rules import REPEAT_BOTTOM

    rule = res.ruleset.repeat_bottom
    if not rule.on or trend is None:
        return res
    hits = repeat_bottom(trend, rule.years)
    rows = pd.DataFrame({"unit_id": hits["unit_id"], "name": hits["name"], "flag": REPEAT_BOTTOM,
                         "label": rule.label, "reason": hits["reason"], "consequence": rule.consequence,
                         "clause": rule.clause})
    units = res.units.copy()
    caught = units["unit_id"].isin(set(hits["unit_id"]))
    units[REPEAT_BOTTOM] = caught.to_numpy()
    units["flags"] = [("、".join(x for x in (f, rule.label) if x)) if c else f for f, c in zip(units["flags"], caught)]
    return dataclasses.replace(res, units=units,
                               consequences=pd.concat([res.consequences, rows[res.consequences.columns]],
                                                      ignore_index=True))


def judged_consequences(res) -> dict:
    """Every consequence the ruleset prescribes and this round was judged on, by flag → Flag:
    the one-round flags, and ``repeat_bottom`` when it is on and past rounds were given."""
    from pingyi_lib.scheme.consequence_rules import REPEAT_BOTTOM
    from pingyi_lib.scheme.ruleset import Flag

    rs = res.ruleset
    out = {f: rs.flags[f] for f in rs.consequence_flags}
    rule = rs.repeat_bottom
    if rule.on and REPEAT_BOTTOM in res.units.columns:
        out[REPEAT_BOTTOM] = Flag(rule.label, rule.consequence, rule.clause)
    return out


def open_items(rounds: list, day, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rectification items of every past round still open on ``day``: not done in their own
    round, and named by no look-back item (回头看(ID)) of the same unit (matched through
    ``history``) done in a later round by that round's report day (this round: ``day``).
    ``rounds``: this round first, then the past ones, most recent first.

    Columns: unit_id (today's), name, year, item_id, problem, deadline, followed_up (the look-back
    items that named it, '、'-joined; '' when none)."""
    from pingyi_lib.followup import ledger

    history = history if history is not None else no_history()
    cols = ["unit_id", "name", "year", "item_id", "problem", "deadline", "followed_up"]
    namings = []
    for i, later in enumerate(rounds[:-1]):
        when = day if i == 0 else ledger.report_day(later.dataset, None).day
        pairs = lookback.naming_rows(later, pd.Timestamp(when))
        renames, _ = id_map(history, later.dataset.round.year, pairs["followup_unit"]) if i else ({}, {})
        namings.append(pairs.assign(unit=pairs["followup_unit"].map(lambda u: renames.get(u, u)), at=i))
    names = pd.concat(namings, ignore_index=True) if namings else pd.DataFrame(columns=["ref", "unit", "at"])
    out = []
    for j, past in enumerate(rounds[1:], start=1):
        items = past.dataset.rectifications
        if not len(items):
            continue
        renames, _ = id_map(history, past.dataset.round.year, items["unit_id"])
        unit = items["unit_id"].map(lambda u: renames.get(u, u))
        later = names[names["at"] < j]
        for k, (item, u) in enumerate(zip(items["item_id"], unit)):
            if items["status"].iloc[k] == past.ruleset.rectification_done:
                continue
            hit = later[(later["ref"] == item) & (later["unit"] == u)]
            if hit["done_now"].astype(bool).any():
                continue
            out.append((u, "", int(past.dataset.round.year), item, items["problem"].iloc[k],
                        items["deadline"].iloc[k] if "deadline" in items else pd.NaT,
                        "、".join(dict.fromkeys(hit["followup_item"]))))
    frame = pd.DataFrame(out, columns=cols)
    names_now = dict(zip(rounds[0].units["unit_id"], rounds[0].units["name"]))
    for past in rounds[1:]:
        for uid, name in zip(past.units["unit_id"], past.units["name"]):
            names_now.setdefault(uid, name)
    frame["name"] = frame["unit_id"].map(lambda u: names_now.get(u, ""))
    return frame.sort_values(["year", "unit_id", "item_id"], kind="stable").reset_index(drop=True)
