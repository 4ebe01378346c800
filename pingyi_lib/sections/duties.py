"""The 责任分解 section (seed §三, §五(七), §六(二)): per dimension its city-wide index, the units
clearly below their group on it, the main problems under it and who answers for it; per
office the dimensions it leads, those units and the rectification items it must see through.
The figures are read by :mod:`pingyi_lib.followup.duties`; this module puts them in words.

Names come only from the round's round.toml: a round that names no one says 未指定, never a
name from another round or from the ruleset.
"""

from __future__ import annotations

import pandas as pd

from pingyi_lib.common.numbers import format_number
from pingyi_lib.followup import duties
from pingyi_lib.scoring.results import Results
from pingyi_lib.sections.followup import LEDGER_WORDS, FollowUp, state_word
from pingyi_lib.sections.scores import dimensions
from pingyi_lib.sections.uncertainty import interval_text, level_text

NOT_NAMED = "未指定"


def names(values) -> str:
    """Names '、'-joined, or 未指定."""
    return "、".join(values) or NOT_NAMED


def duties_note(res: Results) -> str:
    """Where the names come from, how a unit is judged weak, and what a round without names shows."""
    info = res.dataset.round
    lv = level_text(res)
    rule = (f"“明显低于组平均”指该单位在这项评议内容上的{lv}区间整体低于所在排名组参加排名单位的平均值"
            "（问卷调查指数或现场评议指数；只看点值差不算），不参加排名的单位不作比较。")
    if res.intervals is None:
        rule = "本报告未计算抽样区间，不判断哪些单位明显低于组平均。"
    if not any(d.named for _, d in info.duties):
        who = "本轮 round.toml 未写各评议内容的责任领导和处室（实施意见三），下表显示“未指定”。"
    else:
        who = "各评议内容的责任领导、牵头处室和责任处室取自本轮 round.toml（实施意见三）。"
    return who + rule


def _weak_labels(res: Results, weak: pd.DataFrame) -> dict[str, str]:
    """Per dimension: its weak units' names in league order, '（现场评议）' after a unit weak on
    the on-site index only."""
    out: dict[str, list[str]] = {}
    for (item, _), g in weak.groupby(["item", "unit_id"], sort=False):
        comps = set(g["component"])
        name = g["name"].iat[0]
        onsite = res.ruleset.component_labels["onsite"]
        out.setdefault(item, []).append(name if "survey" in comps else f"{name}（{onsite}）")
    return {k: "、".join(v) for k, v in out.items()}


def dimension_table(res: Results, fu: FollowUp) -> pd.DataFrame:
    """Per dimension: 评议内容, 全市问卷调查指数, its interval, 明显低于组平均的单位, 主要问题
    (city-wide themes under it, with counts), 责任领导, 牵头处室, 责任处室."""
    rs = res.ruleset
    info = res.dataset.round
    city = duties.city_index(res).set_index("item")
    weak = _weak_labels(res, duties.weak_units(res))
    dp = fu.dimension_problems
    rows = []
    for item in rs.scored_items:
        d = info.duty(item)
        p = dp[dp["dimension"] == item]
        c = city.loc[item]
        rows.append({"评议内容": rs.item_labels[item],
                     f"全市{rs.component_labels['survey']}指数": format_number(c["index"], rs.decimals),
                     f"{level_text(res)}区间": interval_text(c["lo"], c["hi"], rs.decimals),
                     "明显低于组平均的单位": weak.get(item, "无"),
                     "主要问题": "；".join(f"{t}（{n}条）" for t, n in zip(p["theme"], p["count"])) or "无",
                     "责任领导": names(d.leaders), "牵头处室": names(d.lead_offices),
                     "责任处室": names(d.responsible_offices)})
    return pd.DataFrame(rows)


def office_table(res: Results, fu: FollowUp) -> pd.DataFrame:
    """Per office (lead offices first): 处室, 牵头评议内容, 明显低于组平均的单位 (on those
    dimensions), 未完成整改事项（项） and 其中逾期（项） (items on those dimensions, on the
    report day), 台账中负责事项（项） and 其中逾期（项） (the ledger's owner column), 说明."""
    rs = res.ruleset
    info = res.dataset.round
    ov = duties.office_overview(res, fu.ledger)
    name = res.units.set_index("unit_id")["name"]
    named = set(info.offices)
    return pd.DataFrame({
        "处室": ov["office"],
        "牵头评议内容": ["、".join(rs.item_labels[i] for i in x) or "—" for x in ov["leads"]],
        "明显低于组平均的单位": ["、".join(name.get(u, u) for u in x) or "无" for x in ov["weak_units"]],
        "未完成整改事项（项）": [len(x) for x in ov["open_items"]],
        "其中逾期（项）": [len(x) for x in ov["overdue_items"]],
        "台账中负责事项（项）": ov["owned"], "台账中逾期（项）": ov["owned_overdue"],
        "说明": ["" if o in named or not named else "不是本轮 round.toml 中的处室（整改台账的责任处室）"
               for o in ov["office"]],
    })


def office_items(res: Results, fu: FollowUp) -> pd.DataFrame:
    """The rectification items not done on the report day on a dimension that has a lead
    office, overdue first: 事项编号, 单位, 问题, 评议内容, 牵头处室 (of its dimensions), 责任处室
    (the ledger's owner), 截至报告日."""
    rs = res.ruleset
    info = res.dataset.round
    led = fu.ledger
    led = led[led["state"].isin(duties.OPEN_STATES) & (led["dimensions"] != "")]
    led = led.assign(_late=~led["overdue"]).sort_values(["_late", "deadline", "item_id"], kind="stable")
    name = res.units.set_index("unit_id")["name"]
    rows = []
    for r in led.itertuples(index=False):
        items = duties.dimension_codes(r.dimensions)
        offices = list(dict.fromkeys(o for i in items for o in info.duty(i).lead_offices))
        if not offices:
            continue
        rows.append({"事项编号": r.item_id, "单位": name.get(r.unit_id, r.unit_id), "问题": r.problem,
                     "评议内容": "、".join(rs.item_labels[i] for i in items), "牵头处室": "、".join(offices),
                     "责任处室": r.owner,
                     "截至报告日": state_word(r.state, r.days, r.deadline, LEDGER_WORDS, info.year)})
    return pd.DataFrame(rows, columns=["事项编号", "单位", "问题", "评议内容", "牵头处室", "责任处室", "截至报告日"])


def unit_dimensions(res: Results, unit_id: str) -> pd.DataFrame:
    """The unit page's dimension table (sections.scores.dimensions without ``item``), with
    明显低于组平均 (the indices on which the unit is clearly below its group) and 市局牵头处室
    (the lead offices of the city bureau for those dimensions; '' beside a dimension that is not weak)."""
    info = res.dataset.round
    dims = dimensions(res, unit_id)
    weak = duties.weak_units(res)
    weak = weak[weak["unit_id"] == unit_id]
    on = {item: "、".join(res.ruleset.component_labels[c] for c in g["component"]) for item, g in weak.groupby("item")}
    out = dims.drop(columns="item")
    out["明显低于组平均"] = [on.get(i, "") for i in dims["item"]]
    out["市局牵头处室"] = [names(info.duty(i).lead_offices) if i in on else "" for i in dims["item"]]
    return out


def weak_sentence(res: Results, unit_id: str) -> str:
    """One sentence for a unit page: its weak dimensions and who leads them at the city bureau."""
    rs = res.ruleset
    info = res.dataset.round
    weak = duties.weak_units(res)
    items = list(dict.fromkeys(weak.loc[weak["unit_id"] == unit_id, "item"]))
    if res.intervals is None:
        return "本报告未计算抽样区间，不判断明显低于组平均的评议内容。"
    if pd.isna(res.unit(unit_id)["rank"]):
        return "本单位不参加排名，不与组平均比较。"
    if not items:
        return "本单位没有明显低于组平均的评议内容（按区间判断）。"
    parts = [f"{rs.item_labels[i]}（市局牵头处室：{names(info.duty(i).lead_offices)}）" for i in items]
    return "本单位明显低于组平均的评议内容：" + "；".join(parts) + "。整改时请与市局牵头处室对接。"


def notice_paragraphs(res: Results, fu: FollowUp) -> list[str]:
    """The notice's paragraph per dimension: its city-wide index, who leads it (or 未指定), the
    units whose result on it needs rectification (clearly below their group), and its items
    not done on the report day."""
    rs = res.ruleset
    info = res.dataset.round
    city = duties.city_index(res).set_index("item")
    weak = _weak_labels(res, duties.weak_units(res))
    led = fu.ledger
    open_ = led[led["state"].isin(duties.OPEN_STATES)]
    out = []
    for k, item in enumerate(rs.scored_items, start=1):
        d = info.duty(item)
        c = city.loc[item]
        text = (f"{k}. {rs.item_labels[item]}：全市{rs.component_labels['survey']}指数"
                f"{format_number(c['index'], rs.decimals)}"
                f"（{level_text(res)}区间{interval_text(c['lo'], c['hi'], rs.decimals)}）。")
        text += (f"由{'、'.join(d.lead_offices)}牵头" + (f"（责任领导：{'、'.join(d.leaders)}）" if d.leaders else "")
                 if d.lead_offices else f"牵头处室{NOT_NAMED}")
        if item in weak:
            text += f"，{weak[item]}在这一项上明显低于所在组平均，需要整改"
        else:
            text += "，没有单位在这一项上明显低于所在组平均"
        on = open_[duties.on_dimensions(open_, [item])]
        if len(on):
            text += f"；整改台账中这一项尚未完成{len(on)}项，其中逾期{int(on['overdue'].sum())}项"
        out.append(text + "。")
    return out
