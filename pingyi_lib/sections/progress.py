"""The collection window as a reader sees it (``pingyi progress``, its page): Chinese frames
and sentences from a :class:`~pingyi_lib.followup.collection.Progress`."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pingyi_lib.common.numbers import format_number
from pingyi_lib.followup.collection import Progress


def _md(day: dt.date | None) -> str:
    return "" if day is None else day.isoformat()


def _pct(x: float) -> str:
    return "" if x != x else f"{format_number(100 * x, 0)}%"


def _names(p: Progress) -> dict[str, str]:
    return dict(zip(p.units["unit_id"], p.units["name"]))


def state(p: Progress, r) -> str:
    """One unit's state in words: 已达到, 有风险, 正常, or why it cannot be judged."""
    if r.short_by == 0:
        return f"已达到（{_md(r.reached_on)}）" if r.reached_on else "已达到"
    if p.deadline is not None and p.as_of >= p.deadline:
        return "截止时未达到" if p.as_of > p.deadline else "今天截止，未达到"
    if r.at_risk is None:
        return "尚未开始" if not p.started else "无法判断（没有截止日）"
    return "有风险" if r.at_risk else "正常"


def projected(p: Progress, r, prefix: str = "projected") -> tuple[str, str]:
    """(the projected day, its range) in words."""
    day, lo, hi = (getattr(r, f"{prefix}_{k}") for k in ("day", "from", "to"))
    short = r.short_by if prefix == "projected" else r.quota_short_by
    if short == 0:
        return _md(day), ""
    if day is None:
        return ("一年内达不到" if r.recent else "近期没有新问卷") if p.started else "", ""
    return _md(day), f"{_md(lo)} 至 {_md(hi) or '一年以后'}"


def unit_table(p: Progress) -> pd.DataFrame:
    """One row per unit: what came in, what counts, what is missing and when it should arrive."""
    level = format_number(100 * p.level, 0)
    undated = bool(p.units["undated"].sum())  # said apart only when the round has such rows
    rows = []
    for r in p.units.itertuples(index=False):
        day, span = projected(p, r)
        row = {"单位编码": r.unit_id, "单位名称": r.name, "已收到（份）": r.received}
        if undated:
            row["其中无提交时间（份）"] = r.undated
        row.update({
            "有效（份）": r.valid, "拒绝（份）": r.rejected, "剔除（份）": r.excluded, "最低要求（份）": r.minimum,
            "还差（份）": r.short_by,
            (f"近{r.recent_days}天日均（份）" if r.recent_days else "日均（份）"):
                format_number(r.rate, 1) if r.rate == r.rate else "",
            "预计达到日": day, f"区间（{level}%）": span,
            "按期达到的把握": _pct(r.chance) if r.short_by else "", "状态": state(p, r)})
        rows.append(row)
    return pd.DataFrame(rows)


def quota_table(p: Progress) -> pd.DataFrame:
    """Units with a survey quota (units.quota): the quota, what is missing and the projected day."""
    u = p.units[p.units["quota"].notna()]
    rows = []
    for r in u.itertuples(index=False):
        day, span = projected(p, r, "quota_projected")
        rows.append({"单位名称": r.name, "问卷配额（份）": int(r.quota), "有效（份）": r.valid,
                     "还差（份）": int(r.quota_short_by), "预计达到日": day, "区间": span})
    return pd.DataFrame(rows, columns=["单位名称", "问卷配额（份）", "有效（份）", "还差（份）", "预计达到日", "区间"])


def mix_gap_table(p: Progress) -> pd.DataFrame:
    """The respondent categories each unit is short of, and how many more would meet the target."""
    names = _names(p)
    m = p.mix[p.mix["needed"] > 0]
    return pd.DataFrame({"单位名称": m["unit_id"].map(names), "调查对象类别": m["category"],
                         "目标占比": m["target"].map(_pct), "已有（份）": m["questionnaires"],
                         "目前占比": m["achieved"].map(_pct), "还需（份）": m["needed"]}).reset_index(drop=True)


def onsite_table(p: Progress, min_share: float) -> pd.DataFrame:
    """The on-site panels so far against the rule: public and enterprise members ≥ ``min_share``."""
    names = _names(p)
    o = p.onsite
    return pd.DataFrame({"单位名称": o["unit_id"].map(names).fillna(o["unit_id"]), "现场评议票（票）": o["ballots"],
                         "群众和企业代表（票）": o["public"], "占比": o["share"].map(_pct),
                         f"不少于{_pct(min_share)}": o["compliant"].map({True: "合规", False: "不合规"})})


def alert_table(p: Progress) -> pd.DataFrame:
    """Integrity alerts so far: per unit and reason, the questionnaires flagged."""
    names = _names(p)
    a = p.alerts
    return pd.DataFrame({"单位名称": a["unit_id"].map(names), "问卷异常": a["label"], "问卷（份）": a["count"]})


def summary(p: Progress) -> list[str]:
    """The sentences at the top: the day, the deadline, the totals, the units at risk."""
    t = p.totals()
    minimum = int(p.units["minimum"].iloc[0]) if len(p.units) else 0
    if p.deadline is None:
        when = f"截至{p.as_of.isoformat()}（评议规则和 round.toml 都没有给出问卷调查的截止日，无法预计能否按期达到）。"
    elif not p.started:
        when = (f"截至{p.as_of.isoformat()}，问卷调查尚未开始（{p.start.isoformat()}开始，"
                f"{p.deadline.isoformat()}截止）。")
    elif p.as_of > p.deadline:
        when = f"截至{p.as_of.isoformat()}，问卷调查已于{p.deadline.isoformat()}截止。"
    else:
        when = f"截至{p.as_of.isoformat()}，问卷调查{p.deadline.isoformat()}截止，还剩{p.days_left}天。"
    lines = [when,
             f"共收到问卷{t['received']}份：有效{t['valid']}份，拒绝{t['rejected']}份，按评议纪律规则剔除{t['excluded']}份"
             + (f"，没有一项有效答案{t['unscored']}份" if t["unscored"] else "")
             + f"；{t['reached']}个单位（共{t['units']}个）已达到最低要求{minimum}份有效问卷。"]
    if t["undated"]:
        lines.append(f"其中{t['undated']}份没有提交时间，按已收到计入。")
    if t["unattributed"]:
        lines.append(f"另有{t['unattributed']}份被拒绝的问卷不属于本轮任何单位（单位编码不对），只计入合计。")
    if len(p.at_risk):
        lines.append(risk_line(p))
    elif p.started and p.deadline is not None:
        lines.append("没有单位有按期达不到最低要求的风险。")
    return lines


def risk_line(p: Progress) -> str:
    """The units at risk in one sentence: 2个单位可能无法按期达到最低要求：甲（还差3份）、乙（还差5份）。"""
    risk = p.at_risk
    missed = p.deadline is not None and p.as_of >= p.deadline
    return (f"{len(risk)}个单位{'未达到' if missed else '可能无法按期达到'}最低要求："
            + "、".join(f"{r.name}（还差{r.short_by}份）" for r in risk.itertuples(index=False)) + "。")
