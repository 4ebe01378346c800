"""Intervals on every published index, rank uncertainty and robustness: :func:`add_intervals`.

    >>> res = py.score(ds, intervals=True)        # or add_intervals(py.score(ds))
    >>> res.units[["unit_id", "composite", "composite_lo", "composite_hi", "rank_lo", "rank_hi", "p_talk"]]
    >>> res.intervals                             # every index, bootstrap and analytic side by side

Columns added to ``res.units`` (published rounding; intervals at ``ruleset.stats.level``):

* ``composite_lo/hi``, ``onsite_index_lo/hi``, ``survey_index_lo/hi``, ``satisfaction_lo/hi``
  (points), ``satisfied_share_lo/hi`` (0-1): bootstrap percentile intervals;
* ``rank_lo``, ``rank_hi``: the rank interval; ``p_bottom``, ``p_talk``, ``p_no_excellence``: the
  share of replicates in which the unit is in the bottom group or the rule fires;
* ``talk_robustness``, ``no_excellence_robustness``: 稳健 / 较可能 / 可能是抽样波动 for a
  consequence that fires ('' when it does not).

``res.intervals`` is a long table, one row per unit × index (composite, each component
index, the satisfied share, each item index of each component). ``res.replicates`` keeps
the replicate arrays (:class:`ScoreReplicates`) for the look-back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pingyi_lib.common.errors import OptionError
from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.scoring import indices
from pingyi_lib.scoring.results import COMPONENTS, Results
from pingyi_lib.stats import intervals, ranks
from pingyi_lib.stats.bootstrap import ItemReplicates, resample_items
from pingyi_lib.stats.patterns import answer_patterns

COMPONENT_LABELS = {"onsite": "现场评议", "survey": "问卷调查"}
METHOD_LABELS = {"exact": "多项分布重抽样", "normal": "多项分布正态极限", "": ""}


@dataclass
class ScoreReplicates:
    """Every replicate's scores, ``units × replicates``, rows in the order of ``unit_ids``."""

    unit_ids: pd.Index
    onsite: np.ndarray  # on-site index (unrounded)
    survey: np.ndarray  # questionnaire index = satisfaction (unrounded)
    satisfied_share: np.ndarray
    composite_raw: np.ndarray  # before rounding
    composite: np.ndarray  # published (rounded): what is ranked
    satisfaction: np.ndarray  # published (rounded): what the talk rule reads
    rank: np.ndarray
    in_bottom: np.ndarray
    no_excellence: np.ndarray
    talk: np.ndarray
    items: dict[str, ItemReplicates]  # item-index replicates; add_intervals drops them once summarised

    @property
    def replicates(self) -> int:
        return self.composite.shape[1]


def replicate_scores(units: pd.DataFrame, items: dict[str, ItemReplicates], ruleset: Ruleset,
                     cases=0.0, bonus=0.0) -> ScoreReplicates:
    """Recompute the composite, ranks and sampled rules from item-index replicates exactly as
    :func:`pingyi_lib.scoring.results.score` does: component indices, case points, bonus, the
    missing-component rule, rounding before ranking, then SPEC §4-5 per rank group.

    ``units`` needs ``unit_id``, ``rank_group``, ``violation``; ``items`` maps each component
    to replicates whose units are ``units["unit_id"]`` in order (a missing component: no
    answers anywhere); ``cases`` and ``bonus`` are the unrounded case and bonus points per unit
    (fixed: cases are investigated, not sampled).
    """
    rs = ruleset
    ids = pd.Index(units["unit_id"], name="unit_id")
    empty = np.full((len(ids), next(iter(items.values())).n.shape[1]), np.nan)
    comp = {}
    for c in COMPONENTS:
        if c not in items:
            comp[c] = (empty, empty, empty)
            continue
        r = items[c]
        sel = [r.items.index(i) for i in rs.scored_items if i in r.items]
        w = [rs.item_weights[r.items[j]] for j in sel]
        comp[c] = indices.component_index_array(r.n[..., sel], r.index[..., sel], r.share[..., sel], w)
    cases = np.broadcast_to(np.asarray(cases, dtype=float), (len(ids),))[:, None]
    bonus = np.broadcast_to(np.asarray(bonus, dtype=float), (len(ids),))[:, None]
    raw = indices.composite_array(comp["onsite"][0], comp["survey"][0], cases, bonus, rs)
    published = round_half_up(raw, rs.decimals)
    satisfaction = round_half_up(comp["survey"][0], rs.decimals)
    rk = ranks.rank_replicates(published, satisfaction, units, rs)
    return ScoreReplicates(ids, comp["onsite"][0], comp["survey"][0], comp["survey"][1], raw, published,
                           satisfaction, rk["rank"], rk["in_bottom"], rk["no_excellence"], rk["talk"], items)


def fixed_points(res: Results) -> tuple[np.ndarray, np.ndarray]:
    """The unrounded case points and bonus points per unit of ``res.units``, as scoring uses them."""
    ids = pd.Index(res.units["unit_id"], name="unit_id")
    rs = res.ruleset
    return (indices.case_points(res.dataset.cases, ids, rs)["case_points"].to_numpy(),
            indices.bonus_points(res.dataset.bonuses, ids, rs)["bonus_points"].to_numpy())


def observed_items(res: Results, component: str) -> ItemReplicates:
    """The observed counts as a single 'replicate': feeding it to :func:`replicate_scores`
    reproduces the published scores (the check that replicates are scored like the round)."""
    rs = res.ruleset
    ids = pd.Index(res.units["unit_id"], name="unit_id")
    c = res.counts[component]
    items = tuple(dict.fromkeys(c.index.get_level_values("item"))) if len(c) else ()
    full = pd.MultiIndex.from_product([ids, items], names=["unit_id", "item"])
    arr = c.reindex(full, fill_value=0).to_numpy(dtype=float).reshape(len(ids), 1, len(items), -1)
    n, index, share = indices.item_index_array(arr, rs)
    zeros = np.zeros(len(ids), dtype=np.int64)
    return ItemReplicates(ids, items, n, index, share, zeros, zeros, np.full(len(ids), "", dtype=object))


def add_intervals(res: Results) -> Results:
    """A copy of ``res`` with intervals, rank uncertainty and robustness (see the module doc)."""
    rs = res.ruleset
    for c in COMPONENTS:
        if res.dataset.engines.get(c) == "counts":
            raise OptionError("抽样区间需要每份问卷的答案组合，用 --counts 合并的计数中没有；"
                              "请对数据集本身计算区间（不加 --counts）")
    ids = pd.Index(res.units["unit_id"], name="unit_id")
    patterns = {c: answer_patterns(res.dataset.tables[c], rs) for c in COMPONENTS}
    items = {c: resample_items(patterns[c], ids, rs, c) for c in COMPONENTS}
    reps = replicate_scores(res.units, items, rs, *fixed_points(res))
    lin = {c: intervals.linearised(patterns[c], ids, rs) for c in COMPONENTS}
    table = interval_table(res, reps, lin)

    u = res.units.copy()
    wide = table[table["item"] == ""].set_index(["unit_id", "measure"])[["lo", "hi"]].unstack("measure")
    for m in ("composite", "onsite_index", "survey_index", "satisfied_share"):
        for side in ("lo", "hi"):
            u[f"{m}_{side}"] = u["unit_id"].map(wide[(side, m)]) if (side, m) in wide.columns else np.nan
    u["satisfaction_lo"], u["satisfaction_hi"] = u["survey_index_lo"], u["survey_index_hi"]
    summary = ranks.rank_summary({"rank": reps.rank, "in_bottom": reps.in_bottom,
                                  "no_excellence": reps.no_excellence, "talk": reps.talk}, u, rs)
    u = u.merge(summary, on="unit_id", how="left")
    for col in ("p_bottom", "p_talk", "p_no_excellence"):
        u[col] = u[col].round(4)
    # keep what the look-back needs (units × replicates); the item replicates are in `table`
    return dataclasses.replace(res, units=u, intervals=table, replicates=dataclasses.replace(reps, items={}))


def interval_table(res: Results, reps: ScoreReplicates, lin: dict[str, dict[str, pd.DataFrame]]) -> pd.DataFrame:
    """One row per unit × index: ``unit_id``, ``measure`` (composite, onsite_index, survey_index,
    satisfied_share, item_index), ``component``, ``item`` ('' for whole-unit measures), ``label``,
    ``estimate`` (published), ``lo``, ``hi`` (bootstrap), ``analytic_lo``, ``analytic_hi``,
    ``se`` (analytic standard error), ``analytic`` (正态 or Wilson), ``n`` (valid questionnaires or
    scored answers behind it) and ``draw`` (多项分布重抽样 or 多项分布正态极限)."""
    rs = res.ruleset
    level, d = rs.stats.level, rs.decimals
    u = res.units.set_index("unit_id").reindex(reps.unit_ids)
    rows = []

    def add(measure, component, item, label, estimate, rep, se, analytic, n, draw, digits=d, bounds=None,
            size=None):
        a_lo, a_hi = bounds if bounds is not None else intervals.normal(estimate, se, level)
        lo, hi = intervals.percentile(rep, level, axis=1, n=n if size is None else size)  # expanded percentile
        rows.append(pd.DataFrame({
            "unit_id": reps.unit_ids, "measure": measure, "component": component, "item": item, "label": label,
            "estimate": np.asarray(estimate, dtype=float),
            "lo": round_half_up(lo, digits), "hi": round_half_up(hi, digits),
            "analytic_lo": round_half_up(np.asarray(a_lo, dtype=float), digits),
            "analytic_hi": round_half_up(np.asarray(a_hi, dtype=float), digits),
            "se": np.asarray(se, dtype=float), "analytic": analytic, "n": n, "draw": draw}))

    # the composite: components are independent samples, case points and bonus are fixed; each
    # component's coefficient is what the missing-component rule makes of one point of it
    has_o, has_q = u["onsite_index_raw"].notna().to_numpy(), u["survey_index_raw"].notna().to_numpy()
    coef = dict(zip(COMPONENTS, indices.composite_parts_array(np.where(has_o, 1.0, np.nan),
                                                              np.where(has_q, 1.0, np.nan), rs)))
    var, ws_den = np.zeros(len(u)), np.zeros(len(u))
    for c, has in (("onsite", has_o), ("survey", has_q)):
        lu = lin[c]["units"].reindex(reps.unit_ids)
        v = np.where(has, np.nan_to_num(coef[c]) ** 2 * np.nan_to_num(lu["index_var"].to_numpy()), 0.0)
        var = var + v
        with np.errstate(invalid="ignore", divide="ignore"):
            ws_den = ws_den + np.where(v > 0, v ** 2 / (lu["valid"].to_numpy() - 1), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):  # Welch-Satterthwaite degrees of freedom
        composite_size = np.where(ws_den > 0, var ** 2 / ws_den + 1, np.nan)
    draws = {c: np.array([METHOD_LABELS[m] for m in reps.items[c].method], dtype=object) for c in COMPONENTS}
    both = np.where(draws["survey"] == "", draws["onsite"],
                    np.where((draws["onsite"] == "") | (draws["onsite"] == draws["survey"]), draws["survey"],
                             draws["survey"] + "、" + draws["onsite"]))
    n_all = (u["survey_valid"] + u["onsite_valid"]).to_numpy()
    add("composite", "", "", "综合得分", u["composite"], reps.composite_raw, np.sqrt(var), "正态", n_all, both,
        size=composite_size)

    for c, rep in (("onsite", reps.onsite), ("survey", reps.survey)):
        lu = lin[c]["units"].reindex(reps.unit_ids)
        add(f"{c}_index", c, "", f"{COMPONENT_LABELS[c]}指数", u[f"{c}_index"], rep, np.sqrt(lu["index_var"]), "正态",
            u[f"{c}_valid"].to_numpy(), draws[c])

    ls = lin["survey"]["units"].reindex(reps.unit_ids)
    p = ls["share"].to_numpy()  # unrounded
    with np.errstate(invalid="ignore", divide="ignore"):  # Wilson on the effective number of answers
        n_eff = np.where(ls["share_var"] > 0, p * (1 - p) / ls["share_var"], ls["answers"])
    add("satisfied_share", "survey", "", "满意率", u["satisfied_share"], reps.satisfied_share,
        np.sqrt(ls["share_var"]), "Wilson", u["survey_valid"].to_numpy(), draws["survey"], digits=d + 2,
        bounds=intervals.wilson(p, n_eff, level))

    for c in COMPONENTS:
        r = reps.items[c]
        li = lin[c]["items"]
        for j, item in enumerate(r.items):
            est = res.items[(res.items["component"] == c) & (res.items["item"] == item)] \
                .set_index("unit_id")["index"].reindex(reps.unit_ids)
            lv = li.xs(item, level="item").reindex(reps.unit_ids) if len(li) else pd.DataFrame(
                {"n": 0, "index_var": np.nan}, index=reps.unit_ids)
            add("item_index", c, item, f"{COMPONENT_LABELS[c]}·{rs.item_labels.get(item, item)}", est,
                r.index[:, :, j], np.sqrt(lv["index_var"]), "正态",
                lv["n"].fillna(0).to_numpy(dtype=np.int64), draws[c])
    out = pd.concat(rows, ignore_index=True)
    return out[out["estimate"].notna()].reset_index(drop=True)  # a unit without that index: no row
