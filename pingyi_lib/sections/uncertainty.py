"""Report sections for sampling uncertainty: intervals, rank intervals, how robust each
consequence is, and the respondent mix, as display frames and sentences in Chinese
(from ``score(ds, intervals=True)`` and pingyi_lib.stats).
"""

from __future__ import annotations

import pandas as pd

from pingyi_lib.common.numbers import format_number, format_rank, format_share
from pingyi_lib.scoring.results import Results
from pingyi_lib.stats import mix, ranks

PROBABILITY_COLUMNS = ("靠后概率", "约谈概率", "不评优概率", "触发概率")  # shares 0-1 of the replicates


def interval_text(lo, hi, digits: int = 2, scale: float = 1.0, suffix: str = "") -> str:
    """'a–b' for an interval, '—' when either end is missing."""
    if pd.isna(lo) or pd.isna(hi):
        return "—"
    return f"{format_number(float(lo) * scale, digits)}–{format_number(float(hi) * scale, digits)}{suffix}"


def rank_range(lo, hi) -> str:
    """'第3–5名', or '第3名' when the interval is one rank; '—' when missing."""
    if pd.isna(lo) or pd.isna(hi):
        return "—"
    return f"第{format_rank(lo)}名" if lo == hi else f"第{format_rank(lo)}–{format_rank(hi)}名"


def level_text(res: Results) -> str:
    return f"{res.ruleset.stats.level:.0%}"


def has_intervals(res: Results) -> bool:
    return res.intervals is not None


def interval_card(res: Results, unit_id: str) -> dict[str, str]:
    """Tiles for a unit page: the interval of the composite, satisfaction and rank, and the
    probability of being in the bottom group."""
    if not has_intervals(res):
        return {}
    u = res.unit(unit_id)
    lv = level_text(res)
    card = {f"综合得分{lv}区间": interval_text(u["composite_lo"], u["composite_hi"]),
            f"满意度{lv}区间": interval_text(u["satisfaction_lo"], u["satisfaction_hi"], suffix="%")}
    if pd.notna(u["rank"]):
        card[f"排名{lv}区间"] = rank_range(u["rank_lo"], u["rank_hi"])
        card["排名靠后的概率"] = format_share(u["p_bottom"], 0)
    return card


def interval_table(res: Results, unit_id: str) -> pd.DataFrame:
    """Every index of one unit with its bootstrap interval and the analytic cross-check.

    Columns: 指标, 公布值, 区间 (bootstrap), 解析区间 (正态 or Wilson), 解析方法, 样本量, 抽样方法.
    Shares are shown as percentages.
    """
    if not has_intervals(res):
        return pd.DataFrame()
    t = res.intervals[res.intervals["unit_id"] == unit_id]
    share = t["measure"] == "satisfied_share"
    scale = share.map({True: 100.0, False: 1.0})
    digits = share.map({True: 2, False: res.ruleset.decimals})
    suffix = share.map({True: "%", False: ""})
    lv = level_text(res)
    return pd.DataFrame({
        "指标": t["label"],
        "公布值": [format_number(e * s, d, x) for e, s, d, x in zip(t["estimate"], scale, digits, suffix)],
        f"{lv}区间": [interval_text(lo, hi, d, s, x)
                    for lo, hi, d, s, x in zip(t["lo"], t["hi"], digits, scale, suffix)],
        "解析区间": [interval_text(lo, hi, d, s, x)
                 for lo, hi, d, s, x in zip(t["analytic_lo"], t["analytic_hi"], digits, scale, suffix)],
        "解析方法": t["analytic"], "样本量": t["n"], "抽样方法": t["draw"],
    }).reset_index(drop=True)


def robustness(res: Results, unit_id: str | None = None) -> pd.DataFrame:
    """The sampled consequences that fire (约谈, 不评优), how often they fire in the replicates,
    and the robustness label in words. Columns: 单位编码, 单位名称 (all units only), 结果,
    触发概率, 稳健性, 说明."""
    label = res.ruleset.column_labels
    unit_cols = [label["unit_id"], label["name"]] if unit_id is None else []
    cols = [*unit_cols, "结果", "触发概率", "稳健性", "说明"]
    if not has_intervals(res):
        return pd.DataFrame(columns=cols)
    u = res.units if unit_id is None else res.units[res.units["unit_id"] == unit_id]
    rows = []
    for r in u.to_dict("records"):
        for f in ranks.SAMPLED_FLAGS:
            if r[f]:
                rows.append({label["unit_id"]: r["unit_id"], label["name"]: r["name"],
                             "结果": res.ruleset.flags[f].label, "触发概率": r[f"p_{f}"],
                             "稳健性": r[f"{f}_robustness"], "说明": robustness_sentence(res, r, f)})
    return pd.DataFrame(rows, columns=cols)


def robustness_note(res: Results, unit_id: str, flag: str) -> str:
    """'（稳健性：可能是抽样波动，重抽样中54.1%触发）' for a sampled consequence that fires,
    '' otherwise or without intervals: for the headlines."""
    if not has_intervals(res) or flag not in ranks.SAMPLED_FLAGS:
        return ""
    u = res.unit(unit_id)
    if not u[flag]:
        return ""
    return f"（稳健性：{u[f'{flag}_robustness']}，重抽样中{format_share(u[f'p_{flag}'])}触发）"


def rank_interval_note(res: Results, unit_id: str) -> str:
    """'，排名95%区间第9–11名' for a ranked unit, '' otherwise or without intervals."""
    if not has_intervals(res):
        return ""
    u = res.unit(unit_id)
    if pd.isna(u["rank"]):
        return ""
    return f"，排名{level_text(res)}区间{rank_range(u['rank_lo'], u['rank_hi'])}"


def robustness_sentence(res: Results, u: dict, flag: str) -> str:
    """Why a consequence is or is not robust, with the numbers, in one sentence."""
    rs = res.ruleset
    n = res.replicates.replicates if res.replicates is not None else rs.stats.replicates
    lv = level_text(res)
    text = f"在{n}次重抽样中{format_share(u[f'p_{flag}'])}触发（{u[f'{flag}_robustness']}）"
    if flag == "talk":
        span = interval_text(u["satisfaction_lo"], u["satisfaction_hi"])
        text += (f"；满意度{format_number(u['satisfaction'], rs.decimals)}%的{lv}区间为{span}%，"
                 + ("包含" if u["satisfaction_lo"] <= rs.talk_threshold <= u["satisfaction_hi"] else "不包含")
                 + f"{rs.talk_threshold:g}%约谈线")
    text += f"；排名{lv}区间为{rank_range(u['rank_lo'], u['rank_hi'])}，排名靠后的概率{format_share(u['p_bottom'])}。"
    return text


def league_intervals(res: Results, group: str) -> pd.DataFrame:
    """A rank group's league with intervals: 排名, 单位名称, 综合得分, 区间, 排名区间, 满意度, 区间,
    靠后概率, 约谈概率, 不评优概率."""
    if not has_intervals(res):
        return pd.DataFrame()
    t = res.league(group)
    t = t[t["rank"].notna()]
    lv = level_text(res)
    label = res.ruleset.column_labels
    return pd.DataFrame({
        label["rank"]: t["rank"].astype(object), label["unit_id"]: t["unit_id"], label["name"]: t["name"],
        label["composite"]: t["composite"],
        f"{label['composite']}{lv}区间": [interval_text(a, b) for a, b in zip(t["composite_lo"], t["composite_hi"])],
        f"{label['rank']}{lv}区间": [rank_range(a, b) for a, b in zip(t["rank_lo"], t["rank_hi"])],
        label["satisfaction"]: t["satisfaction"],
        f"{label['satisfaction']}{lv}区间": [interval_text(a, b)
                                           for a, b in zip(t["satisfaction_lo"], t["satisfaction_hi"])],
        "靠后概率": t["p_bottom"], "约谈概率": t["p_talk"], "不评优概率": t["p_no_excellence"],
    }).reset_index(drop=True)


def funnel_table(res: Results, group: str) -> pd.DataFrame:
    """The units of a funnel plot (stats.funnel) and where each lies against its control
    limits, lowest satisfaction first: 单位编码, 单位名称, 有效问卷（份）, 群众满意度（%）, 与控制限比较."""
    from pingyi_lib.stats import funnel

    points, _, _ = funnel.funnel(res, group)
    levels = sorted(res.ruleset.stats.funnel_levels, reverse=True)  # the widest limits first

    def place(row) -> str:
        for lv in levels:
            side = row[f"outside_{lv:g}"]
            if side:
                return f"{'低于' if side == 'below' else '高于'}{format_share(lv, 1).replace('.0%', '%')}控制限"
        return "在控制限内"

    label = res.ruleset.column_labels
    p = points.sort_values(["satisfaction", "unit_id"], kind="stable")
    return pd.DataFrame({label["unit_id"]: p["unit_id"], label["name"]: p["name"], "有效问卷（份）": p["n"],
                         f"{label['satisfaction']}（%）": p["satisfaction"],
                         "与控制限比较": [place(r) for r in p.to_dict("records")]}).reset_index(drop=True)


def mix_overview(res: Results, unit_id: str | None = None) -> pd.DataFrame:
    """Achieved against target share of respondent categories: one row per unit × category
    (of one unit, or all). Columns: 单位编码 (all units only), 调查对象类别, 有效问卷, 实际占比,
    目标占比, 权重."""
    m = mix.mix_table(res, None if unit_id is None else [unit_id])
    out = pd.DataFrame({res.ruleset.column_labels["unit_id"]: m["unit_id"], "调查对象类别": m["category"],
                        "有效问卷": m["questionnaires"], "实际占比": m["achieved"], "目标占比": m["target"],
                        "权重": m["weight"]})
    if unit_id is not None:
        out = out[m["unit_id"] == unit_id].iloc[:, 1:]
    return out.reset_index(drop=True)


def mix_gaps(res: Results) -> pd.DataFrame:
    """Per unit, the listed category furthest from its target: unit_id, 单位名称, 类别, 实际占比,
    目标占比, 偏差 (achieved − target), 缺少类别."""
    m = mix.mix_table(res)
    m = m[m["target"].notna()]
    if not len(m):
        return pd.DataFrame()
    m = m.assign(gap=m["achieved"] - m["target"])
    worst = m.loc[m["gap"].abs().groupby(m["unit_id"]).idxmax()]
    missing = m[m["questionnaires"] == 0].groupby("unit_id")["category"].agg("、".join)
    names = res.units.set_index("unit_id")["name"]
    order = {u: i for i, u in enumerate(res.units["unit_id"])}
    worst = worst.sort_values("unit_id", key=lambda s: s.map(order))
    label = res.ruleset.column_labels
    return pd.DataFrame({label["unit_id"]: worst["unit_id"], label["name"]: worst["unit_id"].map(names),
                         "偏离最大的类别": worst["category"], "实际占比": worst["achieved"],
                         "目标占比": worst["target"], "偏差": worst["gap"],
                         "缺少类别": worst["unit_id"].map(missing).fillna("")}).reset_index(drop=True)


def weighting_table(res: Results, only_changed: bool = False) -> pd.DataFrame:
    """The official questionnaire index against the post-stratified one, with rank and
    consequences under each (a sensitivity analysis; the official scores stand)."""
    p = mix.post_stratified(res)
    p = p[p["rank"].notna()]
    if only_changed:
        p = p[p["changed"]]
    labels = res.ruleset.flags

    def conseq(row, suffix: str) -> str:
        return "、".join(labels[f].label for f in ranks.SAMPLED_FLAGS if row[f + suffix]) or "无"

    label = res.ruleset.column_labels
    return pd.DataFrame({
        label["unit_id"]: p["unit_id"], label["name"]: p["name"], label["survey_index"]: p["survey_index"],
        "加权" + label["survey_index"]: p["survey_index_weighted"],
        label["composite"]: p["composite"], "加权" + label["composite"]: p["composite_weighted"],
        label["rank"]: p["rank"].astype(object), "加权" + label["rank"]: p["rank_weighted"].astype(object),
        "结果运用": [conseq(r, "") for r in p.to_dict("records")],
        "加权后结果运用": [conseq(r, "_weighted") for r in p.to_dict("records")],
        "是否变化": p["changed"], "缺少类别": p["missing"],
    }).reset_index(drop=True)


def weighting_summary(res: Results) -> str:
    """One sentence: which units' ranks or consequences change under weighting."""
    if not res.ruleset.respondent_targets:
        return "规则未设定调查对象目标比例，不作加权分析。"
    p = mix.post_stratified(res)
    ch = p[p["changed"] & p["rank"].notna()]
    if not len(ch):
        return "按目标比例加权后，各单位排名和评议结果运用均不变。"
    parts = []
    for r in ch.to_dict("records"):
        bits = []
        if r["rank"] != r["rank_weighted"]:
            bits.append(f"排名由第{format_rank(r['rank'])}名变为第{format_rank(r['rank_weighted'])}名")
        for f in ranks.SAMPLED_FLAGS:
            if r[f] != r[f + "_weighted"]:
                bits.append(("不再" if r[f] else "将") + f"触发{res.ruleset.flags[f].label}")
        if r["in_bottom"] != r["in_bottom_weighted"]:
            bits.append("退出排名靠后" if r["in_bottom"] else "进入排名靠后")
        parts.append(f"{r['name']}（{'，'.join(bits)}）")
    return ("按目标比例加权（仅作敏感性分析，正式结果不变）后，排名或评议结果运用发生变化的单位："
            + "；".join(parts) + "。")
