"""Rank uncertainty: SPEC §4's ranking and §5's rules applied inside every replicate.

Nothing here ranks on its own: each replicate's published composites go through
:func:`pingyi_lib.scoring.indices.rank_array` (ties, violators last, the bottom-group size,
the group mean) and :func:`pingyi_lib.scoring.consequences.rule_array` (``talk``,
``no_excellence``), the functions the published league table comes from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.scoring import consequences, indices
from pingyi_lib.stats.intervals import rank_bounds

SAMPLED_FLAGS = ("no_excellence", "talk")  # the consequences that depend on the sample


def rank_replicates(composite, satisfaction, units: pd.DataFrame, ruleset: Ruleset) -> dict[str, np.ndarray]:
    """Ranks, bottom group and the sampled rules in every replicate.

    ``composite`` and ``satisfaction``: published (rounded) values, ``units × replicates``,
    rows in the order of ``units`` (which needs ``rank_group`` and ``violation``). Returns
    ``rank``, ``in_bottom``, ``group_mean``, ``no_excellence``, ``talk``, each ``units × replicates``
    (rank NaN and flags False for units not ranked).
    """
    composite = np.asarray(composite, dtype=float)
    shape = composite.shape
    out = {"rank": np.full(shape, np.nan), "group_mean": np.full(shape, np.nan),
           "in_bottom": np.zeros(shape, dtype=bool)}
    out.update({f: np.zeros(shape, dtype=bool) for f in SAMPLED_FLAGS})
    group = units["rank_group"].to_numpy(dtype=object)
    violation = units["violation"].to_numpy(dtype=bool)
    for g in pd.unique(group[pd.notna(group)]):
        rows = np.flatnonzero(group == g)
        rank, _, mean, bottom = indices.rank_array(composite[rows], violation[rows], ruleset)
        rules = consequences.rule_array(bottom, composite[rows], mean[None, :], satisfaction[rows], ruleset)
        out["rank"][rows], out["in_bottom"][rows] = rank, bottom
        out["group_mean"][rows] = mean[None, :]
        for f in SAMPLED_FLAGS:
            out[f][rows] = rules[f]
    return out


def rank_summary(reps: dict[str, np.ndarray], units: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """Per unit: ``rank_lo``, ``rank_hi`` (the rank interval at the ruleset's level),
    ``p_bottom``, ``p_talk``, ``p_no_excellence`` (share of replicates) and, for each sampled
    consequence that fires in the published result, its robustness label
    (``talk_robustness``, ``no_excellence_robustness``; '' when it does not fire).
    Units not ranked get NA throughout."""
    ranked = units["rank"].notna().to_numpy()
    lo, hi = rank_bounds(reps["rank"], ruleset.stats.level, axis=1)
    out = pd.DataFrame({"unit_id": units["unit_id"].to_numpy()})
    out["rank_lo"] = pd.array(np.where(ranked, lo, np.nan), dtype="Float64").astype("Int64")
    out["rank_hi"] = pd.array(np.where(ranked, hi, np.nan), dtype="Float64").astype("Int64")
    out["p_bottom"] = np.where(ranked, reps["in_bottom"].mean(axis=1), np.nan)
    for f in SAMPLED_FLAGS:
        out[f"p_{f}"] = np.where(ranked, reps[f].mean(axis=1), np.nan)
    for f in SAMPLED_FLAGS:
        fires = units[f].to_numpy(dtype=bool)
        out[f"{f}_robustness"] = [robustness(p, ruleset) if hit else "" for p, hit in zip(out[f"p_{f}"], fires)]
    return out


def robustness(p: float, ruleset: Ruleset) -> str:
    """The words for a consequence that fires in a share ``p`` of the replicates:
    稳健 (≥ stats.robust), 较可能 (≥ stats.likely) or 可能是抽样波动."""
    st = ruleset.stats
    if p >= st.robust:
        return st.labels["robust"]
    if p >= st.likely:
        return st.labels["likely"]
    return st.labels["noise"]
