"""The sufficient statistics: answers counted per unit × item × level, once.

Every index of SPEC §4 is a function of these counts, so scoring never touches the
answer rows again. Counting is one ``np.bincount`` over the whole table.

    >>> c = answer_counts(ds.survey, rs)          # doctest: +SKIP
    >>> c.loc[("ly", "lawful")]                   # doctest: +SKIP
    0      3      # blank
    1    120      # 很满意
    ...
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pingyi_lib.dataset import schema
from pingyi_lib.scheme.ruleset import Ruleset

BLANK = 0  # level code of an unanswered item


def _groups(frame: pd.DataFrame, by: Sequence[str]) -> tuple[np.ndarray, pd.Index]:
    """Group number of each row and the sorted group keys."""
    if len(by) == 1:
        col = frame[by[0]]
        codes, uniques = pd.factorize(col.astype(object) if isinstance(col.dtype, pd.CategoricalDtype) else col,
                                      sort=True)
        return codes, pd.Index(uniques, name=by[0])
    g = frame.groupby(list(by), sort=True, dropna=False)
    return g.ngroup().to_numpy(), pd.MultiIndex.from_tuples(list(g.groups.keys()), names=list(by)) \
        if len(frame) else pd.MultiIndex.from_arrays([[] for _ in by], names=list(by))


def answer_counts(answers: pd.DataFrame, ruleset: Ruleset, by: str | Sequence[str] = "unit_id",
                  items: Sequence[str] | None = None) -> pd.DataFrame:
    """Count answers per group × item × level.

    ``answers`` holds one row per ballot or questionnaire, the item columns as level
    codes (0 = blank, 1..L as in the ruleset). Returns a frame indexed by the ``by``
    columns plus ``item``, with one int64 column per level code 0..L.
    """
    by = [by] if isinstance(by, str) else list(by)
    items = [it for it in (items or ruleset.items) if it in answers.columns]
    n_levels = len(ruleset.levels) + 1
    codes, keys = _groups(answers, by)
    n_groups, n_items = len(keys), len(items)
    if n_groups == 0 or n_items == 0:
        idx = pd.MultiIndex.from_arrays([[] for _ in by] + [[]], names=[*by, "item"])
        return pd.DataFrame(np.zeros((0, n_levels), dtype=np.int64), index=idx, columns=range(n_levels))
    a = answers[items].to_numpy(dtype=np.int64)
    flat = (codes[:, None] * n_items + np.arange(n_items)[None, :]) * n_levels + a
    c = np.bincount(flat.ravel(), minlength=n_groups * n_items * n_levels)
    c = c.reshape(n_groups * n_items, n_levels)
    key_tuples = [k if isinstance(k, tuple) else (k,) for k in keys]
    idx = pd.MultiIndex.from_tuples([(*k, it) for k in key_tuples for it in items], names=[*by, "item"])
    return pd.DataFrame(c, index=idx, columns=range(n_levels))


def has_scored_answer(answers: pd.DataFrame, ruleset: Ruleset) -> np.ndarray:
    """Which rows (ballots or questionnaires; answers as level codes) hold at least one scored
    answer to a scored item: not blank, not abstaining. The valid rows of SPEC §4."""
    scored_codes = [lv.code for lv in ruleset.levels if lv.score is not None]
    items = [it for it in ruleset.scored_items if it in answers.columns]
    if not len(answers) or not items:
        return np.zeros(len(answers), dtype=bool)
    return np.isin(answers[items].to_numpy(), scored_codes).any(axis=1)


def valid_counts(answers: pd.DataFrame, ruleset: Ruleset, by: str = "unit_id") -> pd.Series:
    """Ballots or questionnaires per unit with at least one scored answer (not blank, not abstain)."""
    if not len(answers) or not any(it in answers.columns for it in ruleset.scored_items):
        return pd.Series(dtype=np.int64, name="valid")
    has = has_scored_answer(answers, ruleset)
    return pd.Series(has, index=answers.index).groupby(answers[by].to_numpy()).sum().astype(np.int64) \
        .rename("valid").rename_axis(by)


def panel_counts(onsite: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """Per unit: ballots, ballots of public + enterprise members, and their share."""
    if not len(onsite):
        return pd.DataFrame({"ballots": pd.Series(dtype=np.int64), "public": pd.Series(dtype=np.int64),
                             "share": pd.Series(dtype=float)}).rename_axis("unit_id")
    public = onsite["member_category"].isin(ruleset.public_categories)
    g = public.groupby(onsite["unit_id"].to_numpy())
    out = pd.DataFrame({"ballots": g.size(), "public": g.sum().astype(np.int64)}).rename_axis("unit_id")
    out["share"] = out["public"] / out["ballots"]
    return out


# --- counts as one long table (dataset/counted.py COUNT_COLUMNS): what machines exchange ------------------

def long_counts(frame: pd.DataFrame, table: str, ruleset: Ruleset) -> pd.DataFrame:
    """The counts of one clean response table (survey or onsite) as a long table: the
    same numbers the engine computes, from rows already in pandas (``counted.counts_of_rows``)."""
    from pingyi_lib.dataset.counted import counts_of_rows

    return counts_of_rows(frame, schema.tables(ruleset)[table], ruleset)


def merge_counts(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Counts of several parts of a round added up (dataset/engine.py ``merge_counts``)."""
    from pingyi_lib.dataset.counted import merge_counts as merge

    return merge(parts)


def from_long(long: pd.DataFrame, table: str, ruleset: Ruleset) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """(answer counts, valid counts, panel counts) of one table from a long count table:
    the frames :func:`answer_counts`, :func:`valid_counts` and :func:`panel_counts` give."""
    n_levels = len(ruleset.levels) + 1
    c = long[long["table"] == table]
    rows = c[c["measure"] == "rows"].set_index("unit_id")["n"]
    units = sorted(rows.index[rows > 0])
    ans = c[c["measure"] == "answers"]
    items = [it for it in ruleset.items if it in set(ans["item"])]
    if not units or not items:
        tally = answer_counts(pd.DataFrame({"unit_id": pd.Series(dtype=object)}), ruleset)
    else:
        wide = ans.pivot_table(index=["unit_id", "item"], columns="level", values="n", aggfunc="sum", fill_value=0)
        idx = pd.MultiIndex.from_tuples([(u, it) for u in units for it in items], names=["unit_id", "item"])
        tally = wide.reindex(index=idx, columns=range(n_levels), fill_value=0).astype(np.int64)
        tally.columns = range(n_levels)
    valid = c[c["measure"] == "valid"].set_index("unit_id")["n"].reindex(units, fill_value=0) \
        .astype(np.int64).rename("valid").rename_axis("unit_id")
    public = c[c["measure"] == "public"].set_index("unit_id")["n"].reindex(units, fill_value=0).astype(np.int64)
    ballots = rows.reindex(units).astype(np.int64)
    panel = pd.DataFrame({"ballots": ballots, "public": public}).rename_axis("unit_id")
    panel["share"] = panel["public"] / panel["ballots"]
    return tally, valid, panel
