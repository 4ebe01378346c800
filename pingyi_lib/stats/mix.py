"""Respondent mix: achieved against target shares, and a post-stratified questionnaire index
as a sensitivity analysis (seed §五(四): 委托第三方按照一定比例 … 发放调查问卷).

The official questionnaire index counts every valid questionnaire once. If a unit's
returns over-represent one kind of respondent, its index leans that way. Post-
stratification reweights each respondent category ``c`` of a unit to its target share:
every questionnaire of ``c`` weighs ``target_c / achieved_c``. Two rules where the data
cannot follow the targets:

* a category the ruleset does not list keeps its achieved share (weight 1), and the
  listed targets are scaled to the rest;
* a listed category with no questionnaire in the unit cannot be weighted up: its target
  is spread over the listed categories present, in proportion (``missing`` names them).

The weighted answers go through the same item-index, component, composite, ranking and
rules functions as the official scores; only the questionnaire index differs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.scoring import consequences, counts, indices
from pingyi_lib.scoring.results import Results

UNSTATED = "未填写"


def _valid_survey(res: Results, unit_ids: set | None = None) -> pd.DataFrame:
    """The questionnaires with a scored answer (of the units ``unit_ids`` only, when given:
    a unit's page looks at its own rows, not at every row of the round)."""
    rs = res.ruleset
    sv = res.dataset.survey
    if unit_ids is not None:
        sv = sv[sv["unit_id"].isin(unit_ids)]
    sv = sv[counts.has_scored_answer(sv, rs)]
    cat = sv["respondent_category"].fillna("") if "respondent_category" in sv else pd.Series("", index=sv.index)
    return sv.assign(respondent_category=cat.replace("", UNSTATED))


def mix_table(res: Results, unit_ids=None) -> pd.DataFrame:
    """Achieved against target share per unit and respondent category (valid questionnaires).

    Columns: ``unit_id``, ``category``, ``questionnaires``, ``achieved`` (0-1), ``target`` (0-1,
    NaN for a category the ruleset does not list), ``weight`` (the post-stratification weight
    of one questionnaire of that category; NaN where there is none). Empty when the ruleset
    gives no targets. ``unit_ids``: only these units (a unit's page), in the round's order;
    default every unit.
    """
    rs = res.ruleset
    cols = ["unit_id", "category", "questionnaires", "achieved", "target", "weight"]
    if not rs.respondent_targets:
        return pd.DataFrame(columns=cols)
    units = res.units
    wanted = None if unit_ids is None else set(unit_ids)
    if wanted is not None:
        units = units[units["unit_id"].isin(wanted)]
    sv = _valid_survey(res, wanted)
    level = units.set_index("unit_id")["level"]
    got = sv.groupby(["unit_id", "respondent_category"], observed=True).size().rename("questionnaires")
    per_unit = {uid: n.droplevel("unit_id") for uid, n in got[got > 0].groupby(level="unit_id", observed=True)}
    rows = []
    for uid in units["unit_id"]:
        targets = rs.respondent_targets.get(level[uid], {})
        n_c = per_unit.get(uid, pd.Series(dtype=int))
        total = n_c.sum()
        if not targets or not total:
            continue
        listed_present = [c for c in targets if c in n_c.index]
        unlisted = [c for c in n_c.index if c not in targets]
        rest = 1 - n_c[unlisted].sum() / total
        t_present = sum(targets[c] for c in listed_present)
        for c in list(targets) + sorted(unlisted):
            q = int(n_c.get(c, 0))
            achieved = q / total
            if c in targets:
                eff = targets[c] / t_present * rest if c in listed_present and t_present > 0 else np.nan
                weight = eff / achieved if q else np.nan
            else:
                weight = 1.0
            rows.append({"unit_id": uid, "category": c, "questionnaires": q, "achieved": achieved,
                         "target": targets.get(c, np.nan), "weight": weight})
    return pd.DataFrame(rows, columns=cols)


def post_stratified(res: Results) -> pd.DataFrame:
    """The official and the post-stratified questionnaire index side by side, with what they
    decide.

    Columns: ``unit_id``, ``name``, ``rank_group``, ``survey_index``, ``survey_index_weighted``,
    ``composite``, ``composite_weighted``, ``rank``, ``rank_weighted``, ``in_bottom``,
    ``in_bottom_weighted``, ``talk``, ``talk_weighted``, ``no_excellence``,
    ``no_excellence_weighted``, ``missing`` (listed categories with no questionnaire, joined
    by 、), ``changed`` (rank, bottom group or a consequence differs). Units without targets
    or questionnaires keep their official values.
    """
    rs = res.ruleset
    mix = mix_table(res)
    u = res.units.copy()
    weighted_q = u["survey_index_raw"].copy()
    if len(mix):
        sv = _valid_survey(res)
        tally = counts.answer_counts(sv, rs, by=["unit_id", "respondent_category"])
        w = mix.set_index(["unit_id", "category"])["weight"].dropna()
        key = pd.MultiIndex.from_arrays([tally.index.get_level_values("unit_id"),
                                         tally.index.get_level_values("respondent_category")])
        weights = w.reindex(key).to_numpy()
        has = ~np.isnan(weights)
        sub = tally[has].mul(weights[has], axis=0)
        sub = sub.groupby(level=["unit_id", "item"], sort=True).sum()
        comp = indices.component_index(indices.item_indices(sub, rs), rs)
        ids_w = u["unit_id"].isin(comp.index)
        weighted_q = weighted_q.where(~ids_w, u["unit_id"].map(comp["index"]))
    missing = mix[(mix["questionnaires"] == 0) & mix["target"].notna()].groupby("unit_id")["category"] \
        .agg("、".join) if len(mix) else pd.Series(dtype=object)

    w_units = u.copy()
    w_units["survey_index_raw"] = weighted_q
    w_units["survey_index"] = round_half_up(weighted_q, rs.decimals)
    w_units["satisfaction"] = w_units["survey_index"]
    cp = indices.case_points(res.dataset.cases, u["unit_id"], rs)["case_points"].to_numpy()
    bp = indices.bonus_points(res.dataset.bonuses, u["unit_id"], rs)["bonus_points"].to_numpy()
    w_units["composite"] = round_half_up(indices.composite_array(
        u["onsite_index_raw"], weighted_q, cp, bp, rs), rs.decimals)
    w_units = w_units.drop(columns=["rank", "group_n", "group_mean", "in_bottom"])
    parts = [indices.rank_group(g, rs) for _, g in w_units[w_units["rank_group"].notna()].groupby("rank_group")]
    if parts:
        w_units = w_units.join(pd.concat(parts))
    else:
        w_units = w_units.assign(rank=pd.NA, group_n=pd.NA, group_mean=np.nan, in_bottom=False)
    w_units["in_bottom"] = w_units["in_bottom"].astype("boolean").fillna(False).astype(bool)
    flags = consequences.flags(w_units, rs)

    out = pd.DataFrame({"unit_id": u["unit_id"], "name": u["name"], "rank_group": u["rank_group"],
                        "survey_index": u["survey_index"], "survey_index_weighted": w_units["survey_index"],
                        "composite": u["composite"], "composite_weighted": w_units["composite"],
                        "rank": u["rank"], "rank_weighted": w_units["rank"].astype("Int64"),
                        "in_bottom": u["in_bottom"], "in_bottom_weighted": w_units["in_bottom"]})
    for f in ("talk", "no_excellence"):
        out[f], out[f"{f}_weighted"] = u[f], flags[f]
    out["missing"] = [missing.get(uid, "") for uid in out["unit_id"]]
    same_rank = (out["rank"] == out["rank_weighted"]).fillna(out["rank"].isna() & out["rank_weighted"].isna())
    out["changed"] = ~same_rank.astype(bool) | (out["in_bottom"] != out["in_bottom_weighted"]) \
        | (out["talk"] != out["talk_weighted"]) | (out["no_excellence"] != out["no_excellence_weighted"])
    return out.reset_index(drop=True)
