"""Counts → indices, components, composite and ranks (SPEC §4). Pure functions.

Every function takes small frames (counts, cases, bonuses) and the ruleset and
returns a new frame; nothing is mutated and nothing is read from disk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.scheme.ruleset import Ruleset


def item_indices(counts: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """Per group × item: ``n`` scored answers, ``abstain``, ``blank``, ``index`` (0-100) and
    ``satisfied_share`` (satisfied answers / answers with an opinion, 0-1).

    ``index = 100 × Σ score / n`` over answers with a score; NaN when ``n = 0``.
    """
    codes = [lv.code for lv in ruleset.levels]
    score = np.array([lv.score if lv.score is not None else 0.0 for lv in ruleset.levels])
    has_score = np.array([lv.score is not None for lv in ruleset.levels])
    satisfied = np.array([lv.satisfied for lv in ruleset.levels])
    c = counts[codes].to_numpy(dtype=float)
    n = c[:, has_score].sum(axis=1)
    total = c @ score
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.where(n > 0, 100.0 * total / n, np.nan)
        share = np.where(n > 0, (c[:, satisfied & has_score]).sum(axis=1) / n, np.nan)
    out = pd.DataFrame({"n": n.astype(np.int64),
                        "abstain": c[:, ~has_score].sum(axis=1).astype(np.int64),
                        "blank": counts[0].to_numpy(dtype=np.int64),
                        "index": index, "satisfied_share": share}, index=counts.index)
    return out


def component_index(items: pd.DataFrame, ruleset: Ruleset, by: str | list[str] = "unit_id") -> pd.DataFrame:
    """Weighted mean of the scored items' indices per group (the on-site or questionnaire index).

    An item with ``n = 0`` drops out of the mean; a group with no scored answers at all
    gets NaN (the component is missing). Also returns the pooled satisfied share and ``n``,
    the scored answers behind the index.
    """
    by = [by] if isinstance(by, str) else list(by)
    it = items.reset_index()
    it = it[it["item"].isin(ruleset.scored_items) & (it["n"] > 0)]
    w = it["item"].map(ruleset.item_weights).astype(float)
    parts = pd.DataFrame({**{b: it[b] for b in by}, "wx": w * it["index"], "w": w,
                          "sat": it["satisfied_share"] * it["n"], "n": it["n"]})
    s = parts.groupby(by).sum()
    return pd.DataFrame({"index": s["wx"] / s["w"], "satisfied_share": s["sat"] / s["n"], "n": s["n"]})


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


def composite_parts(onsite: pd.Series, survey: pd.Series, ruleset: Ruleset) -> pd.DataFrame:
    """Points each index component adds to the composite: ``wO·O`` and ``wQ·Q``, with a missing
    component's weight spread over the present ones in proportion (both NaN when both are missing)."""
    w = ruleset.weights
    has_o, has_q = onsite.notna(), survey.notna()
    present = w.onsite * has_o + w.survey * has_q
    scale = (w.onsite + w.survey) / present.where(present > 0)
    return pd.DataFrame({"onsite_part": (w.onsite * onsite.fillna(0) * scale).where(has_o | has_q),
                         "survey_part": (w.survey * survey.fillna(0) * scale).where(has_o | has_q)})


def composite(onsite: pd.Series, survey: pd.Series, cases: pd.Series, bonus: pd.Series,
              ruleset: Ruleset) -> pd.Series:
    """``wO·O + wQ·Q + C + B`` with the missing-component rule of :func:`composite_parts`;
    NaN when both index components are missing."""
    p = composite_parts(onsite, survey, ruleset)
    return (p["onsite_part"] + p["survey_part"] + cases + bonus).rename("composite")


def competition_rank(values: pd.Series) -> pd.Series:
    """1, 2, 2, 4 ranking, highest first; NaN stays NaN."""
    return values.rank(method="min", ascending=False)


def rank_group(frame: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """Rank the units of one rank group.

    ``frame`` has ``composite`` (published, rounded) and ``violation`` (bool). Units with a
    confirmed violation rank after all others: ``m`` + their competition rank among the
    violators. Units without a composite are listed, not ranked. Returns ``rank``,
    ``group_n``, ``group_mean`` and ``in_bottom`` (``rank > n − k``, ``k = min(3, n·share)``).
    """
    ranked = frame["composite"].notna()
    viol = frame["violation"].astype(bool) & ranked
    clean = ranked & ~viol
    rank = pd.Series(np.nan, index=frame.index)
    rank[clean] = competition_rank(frame.loc[clean, "composite"])
    m = int(clean.sum())
    rank[viol] = m + competition_rank(frame.loc[viol, "composite"])
    n = int(ranked.sum())
    k = min(ruleset.bottom_max, int(np.floor(n * ruleset.bottom_max_share + 1e-9)))
    mean = round_half_up(frame.loc[ranked, "composite"].mean(), ruleset.decimals) if n else np.nan
    return pd.DataFrame({"rank": rank.astype("Int64"), "group_n": n, "group_mean": mean,
                         "in_bottom": (rank > n - k).fillna(False).astype(bool)}, index=frame.index)
