"""The trend over several rounds (历年对比) as display frames with Chinese column labels: the
counterpart of followup/history.py for the workbook and the pages."""

from __future__ import annotations

import pandas as pd

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


def years_text(trend: pd.DataFrame | None) -> str:
    """The trend section's first sentence: which years are compared (or that none are)."""
    if trend is None:
        return NO_TREND
    years = sorted(set(int(y) for y in trend["year"]))
    return (f"历年对比：{'、'.join(str(y) for y in years)} 年共 {len(years)} 轮评议。变化与该单位上一次参评的年度相比；"
            "“显著”指两年重抽样之差的 95% 区间不含 0，名次区间不重叠时名次变化才确实。")


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
