"""The look-back (回头看, seed §五(七)): this round against the previous one.

Per unit: change in composite, satisfaction, rank and each dimension; units added or
removed between the rounds are listed, not dropped. And whether last year's
rectification items were closed: done then, or answered by a look-back item of the same
unit this year that names them (``回头看(R2011-007): …``) and is done by the report day.

Significance: where both rounds were scored with intervals (``score(ds, intervals=True)``),
the change in composite and satisfaction is significant when the interval of the
difference of the two rounds' bootstrap replicates excludes 0, and a rank change is real
when the two rank intervals do not overlap (stats.change). Without intervals these are
NA (unknown), never a guess.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.followup import ledger
from pingyi_lib.scoring.results import Results
from pingyi_lib.stats import change

PRESENCE = {"both": "两年均参评", "new": "本年新增", "gone": "本年未参评"}


def compare(now: Results, prev: Results) -> pd.DataFrame:
    """One row per unit of either round.

    Columns: unit_id, name, presence (两年均参评 / 本年新增 / 本年未参评), then for composite,
    satisfaction and each scored dimension's questionnaire index ``<x>_prev``, ``<x>_now``,
    ``<x>_change``; ``rank_prev``, ``rank_now``, ``rank_change`` (positive = moved up);
    with intervals in both rounds ``composite_change_lo/hi``, ``satisfaction_change_lo/hi``,
    ``rank_lo/hi_prev``, ``rank_lo/hi_now``; ``significant`` (the composite change),
    ``satisfaction_significant`` and ``rank_change_real`` (NA where unknown).
    """
    rs = now.ruleset
    cols = ["unit_id", "name", "rank_group", "composite", "satisfaction", "rank"]
    a = prev.units[cols].set_index("unit_id")
    b = now.units[cols].set_index("unit_id")
    ids = list(b.index) + [u for u in a.index if u not in b.index]
    out = pd.DataFrame(index=pd.Index(ids, name="unit_id"))
    out["name"] = b["name"].reindex(ids).fillna(a["name"].reindex(ids))
    in_a, in_b = out.index.isin(a.index), out.index.isin(b.index)
    out["presence"] = np.where(in_a & in_b, PRESENCE["both"], np.where(in_b, PRESENCE["new"], PRESENCE["gone"]))
    for x in ("composite", "satisfaction"):
        out[f"{x}_prev"] = a[x].reindex(ids)
        out[f"{x}_now"] = b[x].reindex(ids)
        out[f"{x}_change"] = round_half_up(out[f"{x}_now"] - out[f"{x}_prev"], rs.decimals)
    out["rank_prev"] = a["rank"].reindex(ids).astype("Int64")
    out["rank_now"] = b["rank"].reindex(ids).astype("Int64")
    same_group = a["rank_group"].reindex(ids) == b["rank_group"].reindex(ids)
    out["rank_change"] = (out["rank_prev"] - out["rank_now"]).where(same_group)
    for item in rs.scored_items:
        p, n = survey_item(prev, item).reindex(ids), survey_item(now, item).reindex(ids)
        out[f"{item}_prev"], out[f"{item}_now"] = p, n
        out[f"{item}_change"] = round_half_up(n - p, rs.decimals)
    for col in ("significant", "satisfaction_significant", "rank_change_real"):
        out[col] = pd.array([pd.NA] * len(out), dtype="boolean")
    if now.replicates is not None and prev.replicates is not None:
        ch = change.change_intervals(now.replicates, prev.replicates, rs).reindex(ids)
        for col in ("composite_change_lo", "composite_change_hi", "satisfaction_change_lo", "satisfaction_change_hi"):
            out[col] = ch[col]
        out["significant"] = ch["composite_significant"].astype("boolean")
        out["satisfaction_significant"] = ch["satisfaction_significant"].astype("boolean")
        ra = prev.units.set_index("unit_id")[["rank_lo", "rank_hi"]].reindex(ids)
        rb = now.units.set_index("unit_id")[["rank_lo", "rank_hi"]].reindex(ids)
        out["rank_lo_prev"], out["rank_hi_prev"] = ra["rank_lo"], ra["rank_hi"]
        out["rank_lo_now"], out["rank_hi_now"] = rb["rank_lo"], rb["rank_hi"]
        real = change.ranks_differ(ra["rank_lo"], ra["rank_hi"], rb["rank_lo"], rb["rank_hi"])
        out["rank_change_real"] = real.where(same_group.fillna(False).to_numpy(), pd.NA)
    return out.reset_index()


def survey_item(res: Results, item: str) -> pd.Series:
    it = res.items[(res.items["component"] == "survey") & (res.items["item"] == item)]
    return it.set_index("unit_id")["index"]


_REF = re.compile(r"回头看\s*\(([^()]*)\)")
_SPLIT = re.compile(r"[、,;\s]+")


def references(problem: str) -> list[str]:
    """The previous round's item ids a look-back item names: ``回头看(R2011-007)``, read after
    NFKC (so ``回头看（R2011-007）`` too), several ids separated by 、 , ; or spaces."""
    out = []
    for inside in _REF.findall(unicodedata.normalize("NFKC", str(problem))):
        out += [x for x in _SPLIT.split(inside) if x]
    return out


def naming_rows(now: Results, report_date=None) -> pd.DataFrame:
    """Every (look-back item of this round, previous item it names) pair, with the look-back
    item's unit, row, and whether it is done by the report day."""
    led = ledger.ledger(now.dataset, report_date, now.ruleset)
    rows = [(r.item_id, r.unit_id, r.row, bool(r.done), r.deadline, ref)
            for r in led.itertuples(index=False) for ref in references(r.problem)]
    return pd.DataFrame(rows, columns=["followup_item", "followup_unit", "row", "done_now", "deadline", "ref"])


def closure(now: Results, prev: Results, report_date=None) -> pd.DataFrame:
    """Last round's rectification items and whether they were closed by the report day.

    Columns: unit_id, name (as either round names the unit, so a unit that left the round keeps
    its name), item_id, problem, status_prev, followup_item (this round's look-back items of the
    same unit naming it, '、'-joined), status_now (done by the day: the ruleset's done word; else
    that of the latest naming item as its file holds it, or ''), done_prev, closed, by (the
    look-back item that closed it; the item itself when it was done last round; '' if open).
    An item is closed when it was done last round or any look-back item of its unit naming it is
    done by the report day. References to unknown items or to another unit's item close nothing
    (see :func:`reference_problems`).
    """
    rs = now.ruleset
    done = rs.rectification_done
    old = prev.dataset.rectifications
    names = prev.units.set_index("unit_id")["name"].combine_first(now.units.set_index("unit_id")["name"])
    pairs = naming_rows(now, report_date)
    owner = dict(zip(old["item_id"], old["unit_id"]))
    pairs = pairs[pairs["ref"].map(owner) == pairs["followup_unit"]]
    status = dict(zip(now.dataset.rectifications["item_id"], now.dataset.rectifications["status"]))
    out = pd.DataFrame({"unit_id": old["unit_id"], "item_id": old["item_id"], "problem": old["problem"],
                        "status_prev": old["status"]})
    out.insert(1, "name", out["unit_id"].map(names).fillna(""))
    by_ref = {ref: g.sort_values(["deadline", "row"], kind="stable") for ref, g in pairs.groupby("ref")}
    follow, now_status, closer = [], [], []
    for item in out["item_id"]:
        g = by_ref.get(item)
        hit = g[g["done_now"]] if g is not None else None
        follow.append("" if g is None else "、".join(dict.fromkeys(g["followup_item"])))
        closer.append(hit["followup_item"].iloc[0] if hit is not None and len(hit) else "")
        now_status.append("" if g is None else done if len(hit) else status.get(g["followup_item"].iloc[-1], ""))
    out["followup_item"], out["status_now"] = follow, now_status
    out["done_prev"] = out["status_prev"] == done
    out["closed"] = out["done_prev"] | pd.Series(closer, index=out.index).ne("")
    out["by"] = np.where(out["done_prev"], out["item_id"], closer)
    return out.reset_index(drop=True)


def reference_problems(now: Results, prev: Results, older: list[Results] | tuple = ()) -> pd.DataFrame:
    """Look-back references that close nothing, as data problems (ledger.PROBLEM_COLUMNS):
    an id that is not one of last round's items (``unknown_reference``; ``older``: rounds before
    last year's, whose items may be named too) and another unit's item (``other_unit_reference``),
    each naming this round's file and row."""
    owner: dict = {}
    for r in (*reversed(list(older)), prev):  # last year's wins where an id repeats
        old = r.dataset.rectifications
        owner.update(zip(old["item_id"], old["unit_id"]))
    pairs = naming_rows(now)
    f = now.dataset.file_of("rectifications")
    rows = []
    which = "往年" if older else "上一年"
    for p in pairs.itertuples(index=False):
        if p.ref not in owner:
            rows.append(("rectifications", f, p.row, p.followup_unit, p.followup_item, "unknown_reference",
                         f"回头看事项{p.followup_item}提到的“{p.ref}”不是{which}的整改事项编号，"
                         "未计入整改到位情况"))
        elif owner[p.ref] != p.followup_unit:
            rows.append(("rectifications", f, p.row, p.followup_unit, p.followup_item, "other_unit_reference",
                         f"回头看事项{p.followup_item}（单位{p.followup_unit}）提到的{p.ref}属于单位{owner[p.ref]}，"
                         "不能关闭其他单位的整改事项"))
    return pd.DataFrame(rows, columns=ledger.PROBLEM_COLUMNS).astype({"row": np.int64})


def closure_summary(cl: pd.DataFrame) -> pd.DataFrame:
    """Per unit: last round's items, done then, followed up by a look-back item, closed by now."""
    g = cl.assign(followed_up=cl["followup_item"] != "").groupby("unit_id")
    return pd.DataFrame({"items_prev": g.size(), "done_prev": g["done_prev"].sum(),
                         "followed_up": g["followed_up"].sum(), "closed": g["closed"].sum()}) \
        .astype(np.int64).reset_index()
