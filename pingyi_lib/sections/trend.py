"""The trend over several rounds (历年对比) as display frames with Chinese column labels: the
counterpart of followup/history.py for the workbook and the pages."""

from __future__ import annotations

import pandas as pd

from pingyi_lib.common.numbers import format_number
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.sections.uncertainty import interval_text, rank_range

SHEET = "历年对比"


def change_word(change, significant) -> str:
    """How a year-on-year change reads: 显著上升 / 显著下降 / 变化不显著; '—' for the first year
    of a unit, 未评估 where a round was scored without intervals."""
    if pd.isna(change):
        return "—"
    if pd.isna(significant):
        return "未评估"
    if not significant:
        return "变化不显著"
    return "显著上升" if change > 0 else "显著下降"


def rank_word(rank_change, real) -> str:
    """A rank change as read: 上升N位 / 下降N位 / 名次未变, with （名次区间不重叠） when it is real;
    '—' when the rank groups differ or it is the unit's first year."""
    if pd.isna(rank_change):
        return "—"
    n = int(rank_change)
    text = "名次未变" if n == 0 else (f"上升{n}位" if n > 0 else f"下降{-n}位")
    return text + ("（名次区间不重叠）" if n and not pd.isna(real) and bool(real) else "")


def trend_table(trend: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """One row per unit and year (followup.history.trend), headed as a reader sees it: the
    unit, the year, its id that year when it differs, composite and satisfaction with their
    intervals, rank with its interval, each dimension's questionnaire index, and each
    year-on-year change with whether it is significant."""
    rs = ruleset
    labels = rs.column_labels
    d = rs.decimals
    t = trend
    out = pd.DataFrame({
        labels["unit_id"]: t["unit_id"], labels["name"]: t["name"], "年度": t["year"].astype(int),
        "当年编码": [then if then != now else "" for then, now in zip(t["id_then"], t["unit_id"])],
        "合并入": t["merged_into"],
        labels["rank_group_label"]: t["rank_group_label"].fillna("不参加排名"),
        labels["composite"]: t["composite"],
        f"{labels['composite']}区间": [interval_text(lo, hi, d)
                                      for lo, hi in zip(t["composite_lo"], t["composite_hi"])],
        labels["rank"]: t["rank"].astype(object).where(t["rank"].notna(), None),
        "名次区间": [rank_range(lo, hi) for lo, hi in zip(t["rank_lo"], t["rank_hi"])],
        labels["satisfaction"]: t["satisfaction"],
        f"{labels['satisfaction']}区间": [interval_text(lo, hi, d)
                                         for lo, hi in zip(t["satisfaction_lo"], t["satisfaction_hi"])],
    })
    for item in rs.scored_items:
        out[f"{rs.item_labels.get(item, item)}（问卷）"] = t[item]
    out["比较年度"] = t["prev_year"].astype(object).where(t["prev_year"].notna(), None)
    out[f"{labels['composite']}变化"] = t["composite_change"]
    out[f"{labels['composite']}变化区间"] = [interval_text(lo, hi, d) for lo, hi in
                                            zip(t["composite_change_lo"], t["composite_change_hi"])]
    out[f"{labels['composite']}变化判断"] = [change_word(c, s) for c, s in zip(t["composite_change"], t["significant"])]
    out[f"{labels['satisfaction']}变化"] = t["satisfaction_change"]
    out[f"{labels['satisfaction']}变化判断"] = [change_word(c, s) for c, s in
                                              zip(t["satisfaction_change"], t["satisfaction_significant"])]
    out["名次变化"] = [rank_word(c, r) for c, r in zip(t["rank_change"], t["rank_change_real"])]
    return out.reset_index(drop=True)


NO_TREND = "未提供往年数据，不作历年对比。"


def years_text(trend: pd.DataFrame | None, ruleset: Ruleset) -> str:
    """The trend section's first sentence: which years are compared (or that none are)."""
    if trend is None:
        return NO_TREND
    years = sorted(set(int(y) for y in trend["year"]))
    return (f"历年对比：{'、'.join(str(y) for y in years)} 年共 {len(years)} 轮评议。变化与该单位上一次参评的年度相比；"
            f"“显著”指两年重抽样之差的 {ruleset.stats.level:.0%} 区间不含 0，名次区间不重叠时名次变化才确实。")


def chart_title(ruleset: Ruleset) -> str:
    """The title of a unit's trend chart (charts.trend_lines), naming the intervals' level."""
    return f"历年综合得分和群众满意度（竖线：{ruleset.stats.level:.0%}区间）"


def unit_table(trend: pd.DataFrame | None, unit_id: str, ruleset: Ruleset) -> pd.DataFrame | None:
    """One unit's years (newest last) as :func:`trend_table` shows them, without the columns
    that only repeat the unit; None without a trend."""
    if trend is None:
        return None
    t = trend_table(trend[trend["unit_id"] == unit_id], ruleset)
    drop = [ruleset.column_labels["unit_id"], "合并入"] + (["当年编码"] if not t["当年编码"].astype(bool).any() else [])
    return t.drop(columns=drop)


def unit_chart_frame(trend: pd.DataFrame | None, unit_id: str) -> pd.DataFrame | None:
    """The unit's composite and satisfaction per year with their intervals (charts.trend_lines)."""
    if trend is None:
        return None
    cols = ["year", "composite", "composite_lo", "composite_hi", "satisfaction", "satisfaction_lo", "satisfaction_hi"]
    return trend.loc[trend["unit_id"] == unit_id, cols].reset_index(drop=True)


def movers(trend: pd.DataFrame | None, ruleset: Ruleset, year: int | None = None) -> pd.DataFrame | None:
    """The units whose composite changed significantly in ``year`` (default: the latest) against
    their previous year in the trend, rises first then falls, largest first; None without a trend."""
    if trend is None:
        return None
    year = int(trend["year"].max()) if year is None else year
    x = trend[(trend["year"] == year) & (trend["significant"] == True)]  # noqa: E712 - NA is not significant
    x = x.assign(_up=x["composite_change"] > 0, _size=x["composite_change"].abs())
    x = x.sort_values(["_up", "_size"], ascending=[False, False], kind="stable")
    labels = ruleset.column_labels
    return pd.DataFrame({
        labels["unit_id"]: x["unit_id"], labels["name"]: x["name"],
        "变化": [change_word(c, s) for c, s in zip(x["composite_change"], x["significant"])],
        "比较年度": x["prev_year"].astype(int), f"{labels['composite']}变化": x["composite_change"],
        "变化区间": [interval_text(lo, hi, ruleset.decimals) for lo, hi in
                 zip(x["composite_change_lo"], x["composite_change_hi"])],
        "名次变化": [rank_word(c, r) for c, r in zip(x["rank_change"], x["rank_change_real"])],
    }).reset_index(drop=True)


def movers_text(trend: pd.DataFrame | None, ruleset: Ruleset) -> str:
    """One sentence: how many units rose and fell significantly in the latest year ('' without a trend)."""
    m = movers(trend, ruleset)
    if m is None:
        return ""
    up = int((m["变化"] == "显著上升").sum())
    down = int((m["变化"] == "显著下降").sum())
    year = int(trend["year"].max())
    if not up and not down:
        return f"{year} 年没有单位的综合得分比上一次参评显著上升或下降。"
    return f"{year} 年综合得分比上一次参评显著上升的单位 {up} 个，显著下降的 {down} 个。"


def open_items_text(open_past: pd.DataFrame | None) -> str:
    """One sentence on the past rounds' rectification items still open ('' without past rounds)."""
    if open_past is None:
        return ""
    if not len(open_past):
        return "往年的整改事项均已整改到位（当年完成，或本单位以后的回头看事项已完成）。"
    per_year = open_past.groupby("year").size()
    parts = "，".join(f"{int(y)} 年 {int(n)} 项" for y, n in per_year.items())
    return (f"往年的整改事项仍未整改到位 {len(open_past)} 项（{parts}）：当年未完成，以后也没有本单位已完成的"
            "回头看事项提到它。")


def open_items_table(open_past: pd.DataFrame | None, ruleset: Ruleset) -> pd.DataFrame | None:
    """The past rounds' open rectification items (followup.history.open_items) as shown."""
    if open_past is None:
        return None
    labels = ruleset.column_labels
    return pd.DataFrame({
        labels["unit_id"]: open_past["unit_id"], labels["name"]: open_past["name"], "年度": open_past["year"],
        "事项编号": open_past["item_id"], "问题": open_past["problem"],
        "整改期限": [d.strftime("%Y-%m-%d") if pd.notna(d) else "—" for d in pd.to_datetime(open_past["deadline"])],
        "提到它的回头看事项（未完成）": open_past["followed_up"].replace("", "—"),
    }).reset_index(drop=True)


def notice_sentences(trend: pd.DataFrame | None, ruleset: Ruleset, bottom_years: int = 2) -> list[str]:
    """The notice's sentence per unit where the trend matters: a significant change of the
    composite in the latest year (with the rank change), and a unit in its group's bottom in the
    last ``bottom_years`` rounds or more (whether or not the ruleset attaches a consequence)."""
    if trend is None:
        return []
    d = ruleset.decimals
    year = int(trend["year"].max())
    out = []
    for r in trend[(trend["year"] == year) & (trend["significant"] == True)].itertuples(index=False):  # noqa: E712
        way = "上升" if r.composite_change > 0 else "下降"
        rank = rank_word(r.rank_change, r.rank_change_real).replace("（", "，").replace("）", "")
        rank = "" if rank == "—" else f"，{rank}" if rank.startswith("名次") else f"，名次{rank}"
        out.append(f"{r.name}综合得分{format_number(r.composite, d)}分，比{int(r.prev_year)}年{way}"
                   f"{format_number(abs(r.composite_change), d)}分（变化显著{rank}）。")
    from pingyi_lib.followup.history import repeat_bottom

    n = len(set(trend["year"]))
    seen = set()
    for k in range(n, bottom_years - 1, -1):  # the longest run of each unit
        for r in repeat_bottom(trend, k).itertuples(index=False):
            if r.unit_id not in seen:
                seen.add(r.unit_id)
                out.append(f"{r.name}{r.reason}。")
    return out
