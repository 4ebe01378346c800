"""The two entry points a notebook needs: ``load_dataset`` and ``score``.

    >>> import pingyi_lib as py
    >>> ds = py.load_dataset("data/sample/2011")
    >>> res = py.score(ds)
    >>> res.units[["name", "composite", "rank"]]

``ds`` holds the clean tables and the quarantine; ``res`` holds DataFrames: ``units``
(one row per unit, the columns of SPEC §6 and more), ``items`` (item indices per unit
and component), ``consequences`` (flags that fire, in words), ``warnings`` and
``quarantine``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.dataset.load import Dataset
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.scoring import consequences, counts, indices

COMPONENTS = ("onsite", "survey")


@dataclass
class Results:
    """What :func:`score` returns. Every attribute is a DataFrame except ``dataset``/``ruleset``."""

    dataset: Dataset
    ruleset: Ruleset
    units: pd.DataFrame
    items: pd.DataFrame
    consequences: pd.DataFrame
    warnings: pd.DataFrame
    counts: dict[str, pd.DataFrame]
    # Filled by pingyi_lib.stats.uncertainty.add_intervals (``score(ds, intervals=True)``), else None:
    # ``intervals``: every index with its bootstrap and analytic interval (long table);
    # ``replicates``: the bootstrap replicates (stats.uncertainty.ScoreReplicates), for the look-back.
    intervals: pd.DataFrame | None = None
    replicates: object | None = None

    @property
    def quarantine(self) -> pd.DataFrame:
        return self.dataset.quarantine

    def league(self, group: str) -> pd.DataFrame:
        """The ranked table of one rank group, best first, unranked units last."""
        u = self.units[self.units["rank_group"] == group]
        return u.sort_values(["rank", "unit_id"], na_position="last", kind="stable")

    def unit(self, unit_id: str) -> pd.Series:
        u = self.units.set_index("unit_id")
        if unit_id not in u.index:
            raise KeyError(f"no unit '{unit_id}' in this round; units are: {', '.join(u.index)}")
        return u.loc[unit_id]

    def __repr__(self) -> str:
        cols = ["unit_id", "name", "composite", "rank", "satisfaction", "flags"]
        return (f"Results of {self.dataset.path}: {len(self.units)} units, "
                f"{len(self.consequences)} consequences, {len(self.quarantine)} rejected rows\n"
                + self.units[cols].to_string(index=False))

    def _repr_html_(self) -> str:
        cols = ["unit_id", "name", "level", "composite", "rank", "satisfaction", "flags"]
        return (f"<p>Results of <code>{html.escape(str(self.dataset.path))}</code>: {len(self.units)} units, "
                f"{len(self.consequences)} consequences, {len(self.quarantine)} rejected rows</p>"
                + self.units[cols].to_html(index=False, escape=True, na_rep=""))


def _component(frame: pd.DataFrame, rs: Ruleset, unit_ids: pd.Index):
    tally = counts.answer_counts(frame, rs)
    items = indices.item_indices(tally, rs)
    comp = indices.component_index(items, rs).reindex(unit_ids)
    valid = counts.valid_counts(frame, rs).reindex(unit_ids, fill_value=0)
    return tally, items, comp, valid


def score(ds: Dataset, ruleset: Ruleset | None = None) -> Results:
    """Score every unit of a dataset: indices, composite, ranks and flags (SPEC §4-5)."""
    rs = ruleset or ds.ruleset
    u = ds.units[["unit_id", "name", "level", "parent_id", "rank_group"]].set_index("unit_id")
    u["level_label"] = u["level"].map(rs.unit_level_labels)
    u["rank_group_label"] = u["rank_group"].map(rs.rank_group_labels)
    u, all_counts, items = _indices(ds, u, rs)
    u = _composite(ds, u, rs)
    u = _discipline_and_panel(ds, u, rs)
    u = _ranks(u, rs).reset_index()
    u = pd.concat([u, consequences.flags(u, rs)], axis=1)
    u["flags"] = consequences.flag_words(u, rs)
    level_order = {lvl: i for i, lvl in enumerate(rs.unit_level_labels)}
    u = u.sort_values(["level", "rank", "unit_id"], key=lambda c: c.map(level_order) if c.name == "level" else c,
                      na_position="last", kind="stable").reset_index(drop=True)
    return Results(ds, rs, u, items, consequences.consequences(u, rs), _warnings(ds, u), all_counts)


def _indices(ds: Dataset, u: pd.DataFrame, rs: Ruleset):
    """On-site and questionnaire indices per unit (raw and published), valid counts, the
    satisfied share; the answer counts and the item table."""
    d = rs.decimals
    all_counts, item_frames = {}, []
    for comp in COMPONENTS:
        tally, items, ci, valid = _component(ds.tables[comp], rs, u.index)
        all_counts[comp] = tally
        item_frames.append(items.assign(component=comp))
        u[f"{comp}_index_raw"] = ci["index"]
        u[f"{comp}_index"] = round_half_up(ci["index"], d)
        u[f"{comp}_valid"] = valid
        if comp == "survey":
            u["satisfied_share"] = round_half_up(ci["satisfied_share"], d + 2)  # a share: 0.8571 = 85.71%
    items = pd.concat(item_frames).reset_index()
    items["index"] = round_half_up(items["index"], d)
    items["label"] = items["item"].map(rs.item_labels)
    items = items[["component", "unit_id", "item", "label", "n", "abstain", "blank", "index", "satisfied_share"]]
    return u, all_counts, items


def _composite(ds: Dataset, u: pd.DataFrame, rs: Ruleset) -> pd.DataFrame:
    """Case and bonus points, the composite from unrounded indices, and its parts."""
    d = rs.decimals
    cp = indices.case_points(ds.cases, u.index, rs)
    bp = indices.bonus_points(ds.bonuses, u.index, rs)
    u = u.join(cp).join(bp)
    u["case_points"] = round_half_up(u["case_points"], d)
    u["bonus_points"] = round_half_up(u["bonus_points"], d)
    u["composite"] = round_half_up(indices.composite(u["onsite_index_raw"], u["survey_index_raw"],
                                                     cp["case_points"], bp["bonus_points"], rs), d)
    parts = indices.composite_parts(u["onsite_index_raw"], u["survey_index_raw"], rs)
    u = u.join(parts.apply(round_half_up, decimals=d))
    u["satisfaction"] = u["survey_index"]
    return u


def _discipline_and_panel(ds: Dataset, u: pd.DataFrame, rs: Ruleset) -> pd.DataFrame:
    """Confirmed violations (seed §六(三)) and the make-up of the on-site panel."""
    viol = ds.violations[ds.violations["confirmed"].astype(bool)]
    u["violation"] = u.index.isin(viol["unit_id"])
    u["violation_kinds"] = viol.groupby("unit_id")["kind"].agg(lambda s: "、".join(dict.fromkeys(s))) \
        .reindex(u.index).fillna("")
    panel = counts.panel_counts(ds.onsite, rs).reindex(u.index)
    u["panel_ballots"] = panel["ballots"].fillna(0).astype(np.int64)
    u["panel_public"] = panel["public"].fillna(0).astype(np.int64)
    u["panel_share"] = panel["share"]
    return u


def _ranks(u: pd.DataFrame, rs: Ruleset) -> pd.DataFrame:
    """Rank, group size, group mean and the bottom group within each rank group."""
    ranks = [indices.rank_group(g, rs) for _, g in u[u["rank_group"].notna()].groupby("rank_group")]
    rk = pd.concat(ranks) if ranks else pd.DataFrame(columns=["rank", "group_n", "group_mean", "in_bottom"])
    u = u.join(rk)
    u["rank"] = u["rank"].astype("Int64")
    u["group_n"] = u["group_n"].astype("Int64")
    u["in_bottom"] = u["in_bottom"].astype("boolean").fillna(False).astype(bool)
    return u


def _warnings(ds: Dataset, units: pd.DataFrame) -> pd.DataFrame:
    """Things to tell the analyst that are not rejected rows."""
    rows = []
    c = ds.cases
    for r in c[~c["substantiated"].astype(bool) & (c["deduction"] > 0)].itertuples(index=False):
        rows.append({"unit_id": r.unit_id, "table": "cases", "row": r.row,
                     "message": f"案例 {r.case_id} 未认定属实，其扣分 {r.deduction:g} 不计入"})
    for r in units[units["bonus_claimed"] > units["bonus_points"]].itertuples(index=False):
        rows.append({"unit_id": r.unit_id, "table": "bonuses", "row": None,
                     "message": f"加分合计 {r.bonus_claimed:g} 超过上限，按 {r.bonus_points:g} 计"})
    for r in units[units["deductions"] > ds.ruleset.case_cap].itertuples(index=False):
        rows.append({"unit_id": r.unit_id, "table": "cases", "row": None,
                     "message": f"扣分合计 {r.deductions:g} 超过上限 {ds.ruleset.case_cap:g}，实例调查得 0 分"})
    rows += [{"unit_id": None, "table": None, "row": None, "message": n} for n in ds.notes]
    return pd.DataFrame(rows, columns=["unit_id", "table", "row", "message"])
