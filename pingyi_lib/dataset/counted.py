"""The long counts of a round's response tables (``COUNT_COLUMNS``: table, unit, measure, item,
level, n): answers per unit × item × level, rows, valid rows, public ballots, rows per day.
Counted from clean rows with numpy here, or in SQL by the DuckDB engine (engine.py); they
add up across the parts of a round (:func:`merge_counts`). Every score is derived from them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.dataset import schema
from pingyi_lib.scheme.ruleset import Ruleset

COUNT_COLUMNS = ["table", "unit_id", "measure", "item", "level", "n"]


def counts_of_rows(rows: pd.DataFrame, table: schema.Table, ruleset: Ruleset) -> pd.DataFrame:
    """The long counts (:data:`COUNT_COLUMNS`) of clean rows: the engine's compact rows or a
    clean table of the pandas path (``unit_id`` as text or categories, answers as level
    codes, date-times parsed); the same table :func:`_counts` makes in SQL, counted with numpy.
    The one counting of rows in pandas (``scoring.counts.long_counts`` hands on to it)."""
    items = [c.id for c in table.columns if c.kind == schema.ANSWER]
    levels = len(ruleset.levels) + 1
    unit = rows["unit_id"].astype("category")
    unit = unit.cat.reorder_categories(unit.cat.categories.sort_values())  # units in the order of their ids
    code = unit.cat.codes.to_numpy().astype(np.int32)  # 4 bytes a row: this runs on millions
    ids, n_units = unit.cat.categories.to_numpy(dtype=object), len(unit.cat.categories)
    per_unit = np.bincount(code, minlength=n_units)
    scored = np.zeros(levels, dtype=bool)  # by level code: one lookup a row, not a search of the codes
    scored[[lv.code for lv in ruleset.levels if lv.score is not None]] = True
    valid = np.zeros(len(rows), dtype=bool)
    for it in (it for it in ruleset.scored_items if it in items):
        got = rows[it].to_numpy()
        valid |= scored[got if got.dtype.kind in "iu" else got.astype(np.int32)]
    n_valid = np.bincount(code[valid], minlength=n_units)
    panel = next((c.id for c in table.columns if c.kind == schema.PANEL_CATEGORY), None)
    n_public = np.bincount(code[rows[panel].isin(ruleset.public_categories).to_numpy()], minlength=n_units) \
        if panel else None
    answers = {it: np.bincount(code * np.int32(levels) + rows[it].to_numpy().astype(np.int32),
                               minlength=n_units * levels).reshape(n_units, levels) for it in items}
    recs = []
    for u in np.flatnonzero(per_unit):
        recs += [(table.name, ids[u], "rows", "", -1, int(per_unit[u])),
                 (table.name, ids[u], "valid", "", -1, int(n_valid[u]))]
        if n_public is not None:
            recs.append((table.name, ids[u], "public", "", -1, int(n_public[u])))
        for it in items:
            recs += [(table.name, ids[u], "answers", it, lv, int(n)) for lv, n in enumerate(answers[it][u])]
    when = next((c.id for c in table.columns if c.kind == schema.DATETIME), None)
    if when is not None and when in rows:
        at = rows[when].to_numpy()
        has = ~np.isnat(at)
        if has.any():
            day = at[has].astype("datetime64[D]").astype(np.int64)
            first = int(day.min())
            key_code, keys = pd.factorize((code[has].astype(np.int64) << 32) | (day - first))
            n = np.bincount(key_code)
            for j in np.argsort(keys):  # unit, then day
                key = int(keys[j])
                day_text = str(np.datetime64(first + (key & 0xFFFFFFFF), "D"))
                recs.append((table.name, ids[key >> 32], "days", day_text, -1, int(n[j])))
    return counts_frame(recs)


def day_counts(long: pd.DataFrame | None, table: str) -> pd.Series:
    """Rows of ``table`` per calendar day (the ``days`` measure), as a Series day → n."""
    if long is None:
        return pd.Series([], dtype=np.int64)
    d = long[(long["table"] == table) & (long["measure"] == "days")]
    return d.groupby(pd.to_datetime(d["item"]).to_numpy())["n"].sum() if len(d) else pd.Series([], dtype=np.int64)


def counts_frame(rows) -> pd.DataFrame:
    """A COUNT_COLUMNS frame with fixed dtypes."""
    df = pd.DataFrame(rows, columns=COUNT_COLUMNS)
    return df.astype({"table": object, "unit_id": object, "measure": object, "item": object,
                      "level": np.int16, "n": np.int64})


def subtract_counts(total: pd.DataFrame, taken: pd.DataFrame) -> pd.DataFrame:
    """``total`` without the rows counted in ``taken`` (both COUNT_COLUMNS): what counting
    the kept rows again would give, at the cost of counting the few rows taken out. A unit
    left with no row of a table drops out of that table's counts, a day with none too."""
    if not len(taken):
        return total
    neg = taken.assign(n=-taken["n"])
    m = pd.concat([total, neg], ignore_index=True).groupby(COUNT_COLUMNS[:-1], sort=True, as_index=False)["n"].sum()
    rows = m[m["measure"] == "rows"]
    alive = pd.MultiIndex.from_frame(rows.loc[rows["n"] > 0, ["table", "unit_id"]])
    keep = pd.MultiIndex.from_frame(m[["table", "unit_id"]]).isin(alive)
    keep &= ~((m["measure"] == "days") & (m["n"] == 0)).to_numpy()
    return counts_frame(m.loc[keep, COUNT_COLUMNS].itertuples(index=False, name=None))


def merge_counts(parts) -> pd.DataFrame:
    """Counts of several parts of a round added up (they add: each row is in one part)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return counts_frame([])
    m = pd.concat(parts, ignore_index=True).groupby(COUNT_COLUMNS[:-1], sort=True, as_index=False)["n"].sum()
    return counts_frame(m[COUNT_COLUMNS].itertuples(index=False, name=None))
