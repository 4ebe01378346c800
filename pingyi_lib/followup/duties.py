"""Who answers for each dimension (seed §三, §五(七), §六(二)): the weak results under each
dimension, the offices that lead it, and the rectification items they must see through.

The leaders and offices of a round are in its round.toml (:class:`pingyi_lib.dataset.round.Duty`);
everything here is read from the scored round, its intervals and its ledger:

- :func:`city_index`: each dimension's questionnaire index over every valid questionnaire of
  the round, with its interval (normal, from the pooled answer counts);
- :func:`weak_units`: the units clearly below their group's mean on a dimension: the upper end
  of the unit's interval on that dimension lies below the mean of the ranked units of its
  group (questionnaire or on-site index), never a point difference;
- :func:`ledger_dimensions`: each rectification item's dimensions, from the themes of its
  problem (an item whose problem raises no theme has none; the ledger's ``dimensions``);
- :func:`owner_problems`: the ledger's ``owner`` (责任处室) checked against the round's offices:
  a near name is proposed, an unknown one is a warning with file and row; the item is kept;
- :func:`office_overview`: per office, the dimensions it leads, the weak units on them, the
  open and overdue items on those dimensions, and the overdue items it owns in the ledger.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from pingyi_lib.common.controlchars import visible
from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.dataset.round import RoundInfo
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.scoring import indices
from pingyi_lib.scoring.results import Results
from pingyi_lib.stats import intervals

WEAK_COLUMNS = ["unit_id", "name", "rank_group", "item", "component", "index", "lo", "hi", "group_mean"]
OPEN_STATES = ("overdue", "due_today", "not_due", "open")  # not done on the report day


def city_index(res: Results, component: str = "survey") -> pd.DataFrame:
    """Per scored dimension (ruleset order): ``item``, ``n`` (scored answers of every unit),
    ``index`` (0-100, from the pooled counts), ``lo``, ``hi`` (the normal interval at
    ``stats.level``: the standard deviation of the answers' scores over √n), rounded as
    published. NaN where no answer has a score."""
    rs = res.ruleset
    items = list(rs.scored_items)
    counts = res.counts.get(component)
    levels = [0, *(lv.code for lv in rs.levels)]
    if counts is None or not len(counts):
        pooled = np.zeros((len(items), len(levels)))
    else:
        pooled = (counts.groupby(level="item").sum().reindex(index=items, columns=levels, fill_value=0)
                  .to_numpy(dtype=float))
    n, index, _ = indices.item_index_array(pooled, rs)
    score = np.array([lv.score if lv.score is not None else np.nan for lv in rs.levels]) * 100
    c = pooled[:, 1:]
    dev = np.where(np.isnan(score), 0.0, (np.nan_to_num(score)[None, :] - np.nan_to_num(index)[:, None]) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(n > 1, (c * dev).sum(axis=1) / (n - 1) / n, np.nan)
    lo, hi = intervals.normal(index, np.sqrt(var), rs.stats.level)
    d = rs.decimals
    return pd.DataFrame({"item": items, "n": n.astype(np.int64), "index": round_half_up(index, d),
                         "lo": round_half_up(np.asarray(lo, dtype=float), d),
                         "hi": round_half_up(np.asarray(hi, dtype=float), d)})


def group_means(res: Results) -> pd.DataFrame:
    """Per rank group × component × dimension: the mean item index of the group's ranked units
    (the 组平均 of the unit page's dimension table), unrounded. Columns rank_group, component,
    item, group_mean."""
    u = res.units[res.units["rank"].notna() & res.units["rank_group"].notna()][["unit_id", "rank_group"]]
    it = res.items[res.items["item"].isin(res.ruleset.scored_items)].merge(u, on="unit_id")
    return it.groupby(["rank_group", "component", "item"], as_index=False)["index"].mean() \
        .rename(columns={"index": "group_mean"})


def weak_units(res: Results) -> pd.DataFrame:
    """The units clearly below their group's mean on a dimension (WEAK_COLUMNS, one row per unit
    × dimension × component; league order, then ruleset order). Needs the round's intervals
    (``score(..., intervals=True)``); without them, or for a unit outside the leagues, none."""
    if res.intervals is None:
        return pd.DataFrame(columns=WEAK_COLUMNS)
    rs = res.ruleset
    t = res.intervals[res.intervals["measure"] == "item_index"]
    t = t[t["item"].isin(rs.scored_items)][["unit_id", "component", "item", "estimate", "lo", "hi"]]
    u = res.units[["unit_id", "name", "rank_group"]].reset_index().rename(columns={"index": "_order"})
    t = t.merge(u, on="unit_id").merge(group_means(res), on=["rank_group", "component", "item"])
    weak = t[t["hi"] < t["group_mean"]].rename(columns={"estimate": "index"})
    weak = weak.assign(_item=weak["item"].map({c: i for i, c in enumerate(rs.scored_items)}),
                       _comp=weak["component"].map({c: i for i, c in enumerate(("survey", "onsite"))}))
    weak = weak.sort_values(["_order", "_item", "_comp"], kind="stable")
    return weak[WEAK_COLUMNS].reset_index(drop=True)


def ledger_dimensions(themes: list[list[str]], ruleset: Ruleset) -> list[str]:
    """Each ledger item's dimensions (codes in ruleset order, '、'-joined; '' when its problem
    raises no theme), from the themes of its problem (``text.themes.themes_of``)."""
    of = {t.name: t.dimension for t in ruleset.problems.themes}
    order = {c: i for i, c in enumerate(ruleset.scored_items)}
    return ["、".join(sorted({of[t] for t in found if t in of}, key=lambda c: order.get(c, len(order))))
            for found in themes]


def dimension_codes(value) -> list[str]:
    """The dimension codes of a ledger item's ``dimensions`` ('、'-joined; [] when it has none)."""
    return [c for c in str(value or "").split("、") if c]


def on_dimensions(led: pd.DataFrame, items) -> pd.Series:
    """Which ledger items fall under any of the dimensions ``items``."""
    wanted = set(items)
    return pd.Series([bool(wanted.intersection(dimension_codes(d))) for d in led["dimensions"]], index=led.index,
                     dtype=bool)


def near_office(name: str, offices) -> str:
    """The round's office ``name`` most likely means ('' when none is close): the same name
    without spaces, one that contains it or is contained in it (办公室 → 局办公室), else the
    closest by characters (difflib, ratio ≥ 0.6)."""
    squeezed = "".join(str(name).split())
    offices = list(offices)
    for o in offices:
        if o == squeezed:
            return o
    inside = [o for o in offices if squeezed and (squeezed in o or o in squeezed)]
    if len(inside) == 1:
        return inside[0]
    close = difflib.get_close_matches(squeezed, offices, n=1, cutoff=0.6)
    return close[0] if close else ""


def owner_problems(rectifications: pd.DataFrame, info: RoundInfo, file: str) -> list[tuple]:
    """The ledger's owners the round does not name, as rows of followup.ledger.PROBLEM_COLUMNS:
    a near name (``owner_near``: proposed) or an unknown one (``owner_unknown``), with file and
    row. A round that names no office checks nothing; an empty owner is not an office to check."""
    offices = info.offices
    rows = []
    if offices:
        for rec in rectifications.itertuples(index=False):
            owner = str(rec.owner).strip() if isinstance(rec.owner, str) else ""
            if not owner or owner in offices:
                continue
            near = near_office(owner, offices)
            if near:
                rows.append(("rectifications", file, rec.row, rec.unit_id, rec.item_id, "owner_near",
                             f"整改事项{rec.item_id}的责任处室“{visible(owner)}”不是本轮 round.toml 中的处室，"
                             f"是否为“{near}”？请核对"))
            else:
                rows.append(("rectifications", file, rec.row, rec.unit_id, rec.item_id, "owner_unknown",
                             f"整改事项{rec.item_id}的责任处室“{visible(owner)}”不是本轮 round.toml 中的处室"
                             f"（{'、'.join(offices)}），请核对"))
    return rows


def office_overview(res: Results, led: pd.DataFrame, weak: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per office the round names (lead offices first, in round.toml's order), and per
    ledger owner the round does not name: ``office``, ``leads`` (dimension codes it leads),
    ``weak_units`` (unit ids weak on those dimensions, league order), ``open_items`` and
    ``overdue_items`` (item ids on those dimensions not done on the report day / overdue),
    ``owned`` and ``owned_overdue`` (items the ledger's owner column gives it, and how many are
    overdue). Lists are tuples."""
    info = res.dataset.round
    weak = weak_units(res) if weak is None else weak
    lead = {}
    for item, duty in info.duties:
        for office in duty.lead_offices:
            lead.setdefault(office, []).append(item)
    owners = [o for o in dict.fromkeys(str(x).strip() for x in led["owner"] if isinstance(x, str)) if o]
    offices = list(dict.fromkeys([*lead, *info.offices, *owners]))
    rows = []
    for office in offices:
        items = tuple(lead.get(office, ()))
        open_ = led[on_dimensions(led, items) & led["state"].isin(OPEN_STATES)]
        mine = led[led["owner"].astype(str).str.strip() == office]
        rows.append({"office": office, "leads": items,
                     "weak_units": tuple(dict.fromkeys(weak.loc[weak["item"].isin(items), "unit_id"])),
                     "open_items": tuple(open_["item_id"]),
                     "overdue_items": tuple(open_.loc[open_["overdue"], "item_id"]),
                     "owned": len(mine), "owned_overdue": int(mine["overdue"].sum())})
    return pd.DataFrame(rows, columns=["office", "leads", "weak_units", "open_items", "overdue_items", "owned",
                                       "owned_overdue"])

