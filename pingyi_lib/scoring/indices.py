"""Counts → indices, components, composite and ranks (SPEC §4). Pure functions.

Every function takes small frames (counts, cases, bonuses) and the ruleset and
returns a new frame; nothing is mutated and nothing is read from disk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.scheme.ruleset import Ruleset


def item_index_array(counts, ruleset: Ruleset):
    """The arithmetic of :func:`item_indices` on an array of counts ``[..., level code 0..L]``.

    Returns ``(n, index, share)`` with the shape of ``counts`` minus its last axis: scored
    answers, ``100 × Σ score / n`` and the satisfied share (NaN where ``n = 0``). Bootstrap
    replicates (``units × replicates × items × levels``) go through this same function, so a
    replicate's index is computed exactly as the published one.
    """
    score = np.array([lv.score if lv.score is not None else 0.0 for lv in ruleset.levels])
    has_score = np.array([lv.score is not None for lv in ruleset.levels])
    satisfied = np.array([lv.satisfied for lv in ruleset.levels])
    c = np.asarray(counts, dtype=float)[..., 1:len(ruleset.levels) + 1]
    n = c[..., has_score].sum(axis=-1)
    total = c @ score
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.where(n > 0, 100.0 * total / n, np.nan)
        share = np.where(n > 0, (c[..., satisfied & has_score]).sum(axis=-1) / n, np.nan)
    return n, index, share


def item_indices(counts: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """Per group × item: ``n`` scored answers, ``abstain``, ``blank``, ``index`` (0-100) and
    ``satisfied_share`` (satisfied answers / answers with an opinion, 0-1).

    ``index = 100 × Σ score / n`` over answers with a score; NaN when ``n = 0``.
    """
    codes = [lv.code for lv in ruleset.levels]
    has_score = np.array([lv.score is not None for lv in ruleset.levels])
    c = counts[[0, *codes]].to_numpy(dtype=float)
    n, index, share = item_index_array(c, ruleset)
    out = pd.DataFrame({"n": n.astype(np.int64),
                        "abstain": c[:, 1:][:, ~has_score].sum(axis=1).astype(np.int64),
                        "blank": counts[0].to_numpy(dtype=np.int64),
                        "index": index, "satisfied_share": share}, index=counts.index)
    return out


def component_index_array(n, index, share, weights):
    """The arithmetic of :func:`component_index` on arrays whose last axis is the scored items.

    ``n``, ``index``, ``share`` as returned by :func:`item_index_array`; ``weights`` the item
    weights in the same order. An item with ``n = 0`` drops out; returns ``(index, share, n)``
    (index and share NaN where no item has an answer).
    """
    n = np.nan_to_num(np.asarray(n, dtype=float))
    use = n > 0
    w = np.where(use, np.asarray(weights, dtype=float), 0.0)
    wx = np.where(use, w * np.nan_to_num(index), 0.0)
    sat = np.where(use, np.nan_to_num(share) * n, 0.0)
    wsum, total = w.sum(axis=-1), n.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out_index = np.where(wsum > 0, wx.sum(axis=-1) / wsum, np.nan)
        out_share = np.where(total > 0, sat.sum(axis=-1) / total, np.nan)
    return out_index, out_share, total


def component_index(items: pd.DataFrame, ruleset: Ruleset, by: str | list[str] = "unit_id") -> pd.DataFrame:
    """Weighted mean of the scored items' indices per group (the on-site or questionnaire index).

    An item with ``n = 0`` drops out of the mean; a group with no scored answers at all
    gets NaN (the component is missing). Also returns the pooled satisfied share and ``n``,
    the scored answers behind the index.
    """
    by = [by] if isinstance(by, str) else list(by)
    scored = list(ruleset.scored_items)
    it = items.reset_index()
    it = it[it["item"].isin(scored)]
    wide = it.set_index([*by, "item"])[["n", "index", "satisfied_share"]].unstack("item") \
        if len(it) else pd.DataFrame(columns=pd.MultiIndex.from_product([["n", "index", "satisfied_share"], scored]))
    wide = wide.reindex(columns=pd.MultiIndex.from_product([["n", "index", "satisfied_share"], scored]))
    index, share, n = component_index_array(wide["n"].to_numpy(dtype=float), wide["index"].to_numpy(dtype=float),
                                            wide["satisfied_share"].to_numpy(dtype=float),
                                            [ruleset.item_weights[i] for i in scored])
    out = pd.DataFrame({"index": index, "satisfied_share": share, "n": n}, index=wide.index)
    out = out[out["n"] > 0]
    out["n"] = out["n"].astype(np.int64)
    return out


def case_points(cases: pd.DataFrame, unit_ids, ruleset: Ruleset) -> pd.DataFrame:
    """``C = max(0, cap − Σ deduction)`` over substantiated cases, per unit (all units listed).

    Columns: ``cases`` (number investigated), ``substantiated``, ``deductions`` (counted),
    ``ignored_deductions`` (on unsubstantiated cases: a warning, counts 0), ``case_points``.
    """
    idx = pd.Index(list(unit_ids), name="unit_id")
    counted = cases["substantiated"].astype(bool) if ruleset.substantiated_only \
        else pd.Series(True, index=cases.index)
    d = cases["deduction"].astype(float)
    g = pd.DataFrame({"unit_id": cases["unit_id"], "cases": 1, "substantiated": cases["substantiated"].astype(int),
                      "deductions": d.where(counted, 0.0), "ignored_deductions": d.where(~counted, 0.0)}) \
        .groupby("unit_id").sum()
    out = g.reindex(idx, fill_value=0)
    out[["cases", "substantiated"]] = out[["cases", "substantiated"]].astype(np.int64)
    out["case_points"] = np.maximum(0.0, ruleset.case_cap - out["deductions"])
    return out


def bonus_points(bonuses: pd.DataFrame, unit_ids, ruleset: Ruleset) -> pd.DataFrame:
    """``B = min(cap, Σ points)`` per unit; ``bonus_claimed`` is the uncapped sum."""
    idx = pd.Index(list(unit_ids), name="unit_id")
    s = bonuses.groupby("unit_id")["points"].sum().astype(float).reindex(idx, fill_value=0.0)
    return pd.DataFrame({"bonus_claimed": s, "bonus_points": np.minimum(ruleset.bonus_cap, s)})


def composite_parts_array(onsite, survey, ruleset: Ruleset):
    """The arithmetic of :func:`composite_parts` on arrays of any (equal) shape: ``(onsite_part,
    survey_part)``, a missing component's weight spread over the present one."""
    w = ruleset.weights
    onsite, survey = np.asarray(onsite, dtype=float), np.asarray(survey, dtype=float)
    has_o, has_q = ~np.isnan(onsite), ~np.isnan(survey)
    present = w.onsite * has_o + w.survey * has_q
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = (w.onsite + w.survey) / np.where(present > 0, present, np.nan)
    any_ = has_o | has_q
    return (np.where(any_, w.onsite * np.nan_to_num(onsite) * scale, np.nan),
            np.where(any_, w.survey * np.nan_to_num(survey) * scale, np.nan))


def composite_parts(onsite: pd.Series, survey: pd.Series, ruleset: Ruleset) -> pd.DataFrame:
    """Points each index component adds to the composite: ``wO·O`` and ``wQ·Q``, with a missing
    component's weight spread over the present ones in proportion (both NaN when both are missing)."""
    o, q = composite_parts_array(onsite.to_numpy(dtype=float), survey.to_numpy(dtype=float), ruleset)
    return pd.DataFrame({"onsite_part": o, "survey_part": q}, index=onsite.index)


def composite_array(onsite, survey, cases, bonus, ruleset: Ruleset):
    """``wO·O + wQ·Q + C + B`` on arrays (unrounded); NaN when both index components are missing."""
    o, q = composite_parts_array(onsite, survey, ruleset)
    return o + q + np.asarray(cases, dtype=float) + np.asarray(bonus, dtype=float)


def composite(onsite: pd.Series, survey: pd.Series, cases: pd.Series, bonus: pd.Series,
              ruleset: Ruleset) -> pd.Series:
    """``wO·O + wQ·Q + C + B`` with the missing-component rule of :func:`composite_parts`;
    NaN when both index components are missing."""
    c = composite_array(onsite.to_numpy(dtype=float), survey.to_numpy(dtype=float),
                        np.asarray(cases, dtype=float), np.asarray(bonus, dtype=float), ruleset)
    return pd.Series(c, index=onsite.index, name="composite")


def competition_rank_array(values):
    """1, 2, 2, 4 ranking down axis 0 (each column ranked on its own), highest first; NaN stays NaN."""
    x = np.asarray(values, dtype=float)
    flat = x.ndim == 1
    if flat:
        x = x[:, None]
    missing = np.isnan(x)
    key = np.where(missing, -np.inf, x)
    order = np.argsort(-key, axis=0, kind="stable")
    xs = np.take_along_axis(key, order, axis=0)
    pos = np.broadcast_to(np.arange(len(x))[:, None], x.shape)
    start = np.ones(x.shape, dtype=bool)
    start[1:] = xs[1:] != xs[:-1]
    first = np.maximum.accumulate(np.where(start, pos, 0), axis=0)
    rank = np.empty(x.shape)
    np.put_along_axis(rank, order, first + 1.0, axis=0)
    rank[missing] = np.nan
    return rank[:, 0] if flat else rank


def competition_rank(values: pd.Series) -> pd.Series:
    """1, 2, 2, 4 ranking, highest first; NaN stays NaN."""
    return pd.Series(competition_rank_array(values.to_numpy(dtype=float)), index=values.index, name=values.name)


def bottom_size(n, ruleset: Ruleset):
    """``k = min(bottom_max, ⌊n · bottom_max_share⌋)``: how many ranks of a group of ``n`` are 排名靠后."""
    return np.minimum(ruleset.bottom_max, np.floor(np.asarray(n) * ruleset.bottom_max_share + 1e-9).astype(np.int64))


def rank_array(composite, violation, ruleset: Ruleset):
    """The ranking rules of :func:`rank_group` on a ``units × replicates`` array of published composites.

    ``violation`` is one bool per unit. Returns ``(rank, group_n, group_mean, in_bottom)``:
    ``rank`` and ``in_bottom`` shaped like ``composite`` (rank NaN for a unit without a
    composite), ``group_n`` and ``group_mean`` one per column.
    """
    c = np.asarray(composite, dtype=float)
    flat = c.ndim == 1
    if flat:
        c = c[:, None]
    ranked = ~np.isnan(c)
    viol = np.asarray(violation, dtype=bool)[:, None] & ranked
    clean = ranked & ~viol
    r_clean = competition_rank_array(np.where(clean, c, np.nan))
    r_viol = competition_rank_array(np.where(viol, c, np.nan))
    m = clean.sum(axis=0)
    rank = np.where(clean, r_clean, np.where(viol, m + r_viol, np.nan))
    n = ranked.sum(axis=0)
    k = bottom_size(n, ruleset)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = round_half_up(np.where(n > 0, np.where(ranked, c, 0.0).sum(axis=0) / np.where(n > 0, n, 1), np.nan),
                       ruleset.decimals)
    in_bottom = np.where(ranked, rank > n - k, False)
    if flat:
        return rank[:, 0], int(n[0]), float(np.asarray(mean).ravel()[0]), in_bottom[:, 0]
    return rank, n, np.asarray(mean), in_bottom


def rank_group(frame: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """Rank the units of one rank group.

    ``frame`` has ``composite`` (published, rounded) and ``violation`` (bool). Units with a
    confirmed violation rank after all others: ``m`` + their competition rank among the
    violators. Units without a composite are listed, not ranked. Returns ``rank``,
    ``group_n``, ``group_mean`` and ``in_bottom`` (``rank > n − k``, ``k = min(3, n·share)``).
    """
    rank, n, mean, in_bottom = rank_array(frame["composite"].to_numpy(dtype=float),
                                          frame["violation"].to_numpy(dtype=bool), ruleset)
    return pd.DataFrame({"rank": pd.Series(rank, index=frame.index).astype("Int64"), "group_n": n,
                         "group_mean": mean, "in_bottom": in_bottom.astype(bool)}, index=frame.index)
