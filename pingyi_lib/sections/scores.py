"""Report sections as small DataFrames with Chinese column labels, from a :class:`Results`.

Each function answers one question a report asks (the score card of a unit, its
dimensions against the group, the answers per item, …). Notebooks call them and show
the result; tests call them and check the numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pingyi_lib.common.masking import mask_fingerprint, mask_personal_data
from pingyi_lib.common.names import unit_slug
from pingyi_lib.common.numbers import format_number, format_rank, format_share, round_half_up
from pingyi_lib.dataset import schema
from pingyi_lib.followup.duties import group_means
from pingyi_lib.followup.history import judged_consequences
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.scoring import counts, indices
from pingyi_lib.scoring.results import Results
from pingyi_lib.sections.headline import with_not_started


def unit_table(units: pd.DataFrame, columns: list[str], ruleset: Ruleset, with_units: bool = False) -> pd.DataFrame:
    """``units`` (rows of ``Results.units``) cut to ``columns`` and headed with the Chinese
    labels of the ruleset (``labels`` in the TOML): the one mapping of a unit table's columns
    to what a reader sees, used by pages, the workbook and the command line.

    ``with_units``: headers carry the unit of their figures (综合得分（分）, 现场评议指数,
    群众满意度（%）), as on pages. Ranks become plain integers or None (a unit that is not ranked).
    """
    out = units[columns].copy()
    if "rank" in out:
        out["rank"] = out["rank"].astype(object).where(out["rank"].notna(), None)
    names = {c: ruleset.header(c) for c in columns} if with_units else ruleset.column_labels
    return out.rename(columns=names).reset_index(drop=True)


CARD_COLUMNS = ("composite", "rank", "group_mean", "onsite_index", "survey_index", "case_points", "bonus_points",
                "satisfaction", "satisfied_share")
PARTS_COLUMNS = CARD_COLUMNS[3:]  # what the composite is made of (the headline already gives composite and rank)


def _card_label(rs: Ruleset, column: str) -> str:
    return rs.column_labels[column] + ("指数" if rs.column_units.get(column) == "指数" else "")


def score_card(res: Results, unit_id: str, columns: tuple[str, ...] = CARD_COLUMNS) -> dict[str, str]:
    """The key figures of one unit, formatted as published with their units: {label: text}
    (综合得分: 83.25分, 现场评议指数: 88.31, 群众满意度: 86.51%, 满意率: 83.7%). A figure the
    unit does not have (组平均分 of an unranked unit, 现场评议指数 without a panel) is left out."""
    rs = res.ruleset
    u = res.unit(unit_id)
    card = {}
    for col in columns:
        if col not in ("composite", "rank") and pd.isna(u[col]):
            continue  # a figure the unit does not have (no panel, not ranked) is not a tile of dashes
        unit = rs.column_units.get(col, "")
        if col == "rank":
            text = f"{format_rank(u['rank'])}/{u['group_n']}" if pd.notna(u["rank"]) else "不参加排名"
        elif col == "satisfied_share":
            text = format_share(u[col])
        else:
            text = format_number(u[col], rs.decimals, "" if unit == "指数" else unit)
        card[_card_label(rs, col)] = text
    return card


def card_titles(res: Results) -> dict[str, str]:
    """Hover text of each tile of :func:`score_card`: what the figure means (ruleset glossary)."""
    rs = res.ruleset
    return {_card_label(rs, c): rs.glossary[c] for c in CARD_COLUMNS if c in rs.glossary}


def glossary(res: Results) -> dict[str, str]:
    """The foot of a page: {term: what it means}, from the ruleset's ``labels.glossary``."""
    rs = res.ruleset
    return {_card_label(rs, c): text for c, text in rs.glossary.items()}


def consequence_table(res: Results, unit_id: str | None = None) -> pd.DataFrame:
    """The consequences that fire (of one unit, or all): 单位编码, 单位名称, 结果, 原因, 结果运用, 依据."""
    rs = res.ruleset
    c = res.consequences if unit_id is None else res.consequences[res.consequences["unit_id"] == unit_id]
    out = pd.DataFrame({rs.column_labels["unit_id"]: c["unit_id"], rs.column_labels["name"]: c["name"],
                        "结果": c["label"], "原因": c["reason"], rs.column_labels["flags"]: c["consequence"],
                        "依据": c["clause"]}).reset_index(drop=True)
    return out if unit_id is None else out.drop(columns=[rs.column_labels["unit_id"], rs.column_labels["name"]])


def unit_consequences(res: Results, unit_id: str) -> pd.DataFrame:
    return consequence_table(res, unit_id)


def dimensions(res: Results, unit_id: str) -> pd.DataFrame:
    """Per scored dimension: the unit's questionnaire and on-site item index against the
    mean of the same index over the ranked units of its group (``组平均``).

    Columns: item, 评议内容, 问卷调查指数, 现场评议指数, 问卷调查指数组平均, 现场评议指数组平均.
    """
    rs = res.ruleset
    u = res.unit(unit_id)
    it = res.items[res.items["item"].isin(rs.scored_items)]
    means = group_means(res)
    out = pd.DataFrame({"item": list(rs.scored_items)})
    out["评议内容"] = out["item"].map(rs.item_labels)
    for comp in ("survey", "onsite"):
        label = rs.component_labels[comp] + "指数"
        c = it[it["component"] == comp]
        mine = c[c["unit_id"] == unit_id].set_index("item")["index"]
        group = means[(means["rank_group"] == u["rank_group"]) & (means["component"] == comp)] \
            .set_index("item")["group_mean"] if pd.notna(u["rank_group"]) else mine  # outside the leagues: itself
        out[label] = out["item"].map(mine).astype(float)
        out[f"{label}组平均"] = round_half_up(out["item"].map(group).astype(float), rs.decimals)
    return out


def dimension_across_units(res: Results, item: str, group: str | None = None) -> pd.DataFrame:
    """One dimension (item) for every unit of a rank group (every unit when ``group`` is None):
    单位编码, 单位名称 (ruleset labels), 有效问卷（份）, 问卷调查指数, 现场评议指数, in league order."""
    rs = res.ruleset
    u = res.units if group is None else res.units[res.units["rank_group"] == group]
    it = res.items[res.items["item"] == item].set_index(["component", "unit_id"])["index"]
    return pd.DataFrame({
        rs.column_labels["unit_id"]: u["unit_id"], rs.column_labels["name"]: u["name"],
        "有效问卷（份）": u["survey_valid"].astype(np.int64),
        "问卷调查指数": [it.get(("survey", x), np.nan) for x in u["unit_id"]],
        "现场评议指数": [it.get(("onsite", x), np.nan) for x in u["unit_id"]],
    }).astype({"问卷调查指数": float, "现场评议指数": float}).reset_index(drop=True)


def answer_distribution(res: Results, unit_id: str, component: str = "survey") -> pd.DataFrame:
    """Answers per item and level for one unit (counts), with 未作答 for blanks.

    Columns: item, 评议内容, then one column per level label, then 未作答.
    """
    rs = res.ruleset
    c = res.counts[component]
    levels = [lv.label for lv in rs.levels]
    cols = ["item", "评议内容", *levels, "未作答"]
    if not len(c) or unit_id not in c.index.get_level_values("unit_id"):
        return pd.DataFrame(columns=cols)
    sub = c.xs(unit_id, level="unit_id")
    out = pd.DataFrame({"item": sub.index, "评议内容": [rs.item_labels[i] for i in sub.index]})
    for lv in rs.levels:
        out[lv.label] = sub[lv.code].to_numpy()
    out["未作答"] = sub[counts.BLANK].to_numpy()
    return out[cols].reset_index(drop=True)


def breakdown(res: Results, unit_id: str, column: str) -> pd.DataFrame:
    """The questionnaire index of one unit by respondent category or channel.

    Columns: the category (Chinese label for channels), 问卷（份）, 问卷调查指数, 满意率.
    Derived from counts per (unit, category, item, level), like every index.
    """
    rs = res.ruleset
    sv = res.dataset.survey
    sv = sv[sv["unit_id"] == unit_id]
    label = {"respondent_category": "调查对象类别", "channel": "渠道"}[column]
    if not len(sv):
        return pd.DataFrame(columns=[label, "问卷（份）", "问卷调查指数", "满意率"])
    key = sv[column].replace("", "未填写")
    sv = sv.assign(**{column: key})
    tally = counts.answer_counts(sv, rs, by=["unit_id", column])
    comp = indices.component_index(indices.item_indices(tally, rs), rs, by=["unit_id", column]) \
        .xs(unit_id, level="unit_id")
    n = sv.groupby(column).size()
    out = pd.DataFrame({label: n.index, "问卷（份）": n.to_numpy()})
    out["问卷调查指数"] = round_half_up(out[label].map(comp["index"]).astype(float), rs.decimals)
    out["满意率"] = out[label].map(comp["satisfied_share"]).astype(float)
    if column == "channel":
        out[label] = out[label].map(lambda c: rs.channels.get(c, c))
    return out.sort_values("问卷（份）", ascending=False, kind="stable").reset_index(drop=True)


def panel(res: Results, unit_id: str) -> pd.DataFrame:
    """The on-site panel by member category, public + enterprise marked.

    Columns: 代表类别, 票数（票）, 占比, 群众或企业代表.
    """
    rs = res.ruleset
    on = res.dataset.onsite
    on = on[on["unit_id"] == unit_id]
    if not len(on):
        return pd.DataFrame(columns=["代表类别", "票数（票）", "占比", "群众或企业代表"])
    n = on.groupby("member_category").size()
    n = n.reindex([c for c in rs.panel_categories if c in n.index])
    return pd.DataFrame({"代表类别": n.index, "票数（票）": n.to_numpy(), "占比": (n / n.sum()).to_numpy(),
                         "群众或企业代表": [c in rs.public_categories for c in n.index]})


def cases(res: Results, unit_id: str) -> pd.DataFrame:
    c = res.dataset.cases
    c = c[c["unit_id"] == unit_id]
    # summaries are published: personal data in them is masked like the quotes of problems
    return pd.DataFrame({"案例编号": c["case_id"], "来源": c["source"],
                         "情况摘要": c["summary"].map(mask_personal_data),
                         "是否属实": c["substantiated"].astype(bool), "扣分（分）": c["deduction"].astype(float)}) \
        .reset_index(drop=True)


def bonuses(res: Results, unit_id: str) -> pd.DataFrame:
    b = res.dataset.bonuses
    b = b[b["unit_id"] == unit_id]
    return pd.DataFrame({"事由": b["reason"], "加分（分）": b["points"].astype(float)}).reset_index(drop=True)


def data_quality(res: Results, unit_id: str | None = None) -> pd.DataFrame:
    """Per unit (or the one row of ``unit_id``, without the id column): scored questionnaires
    and ballots, rejected rows that name the unit,
    questionnaires excluded under evaluation discipline (integrity), valid answers against
    the minimum, and the low-sample flag.

    Columns: 单位编码, 单位名称, 问卷（份）, 有效问卷（份）, 现场评议票（票）, 有效票（票）,
    被拒绝行（条）, 剔除问卷（份）, and the data-quality notes (数据质量提示, e.g. 样本不足) in words.
    """
    rs = res.ruleset
    u = res.units
    q = res.quarantine
    excluded = q["reason_code"].astype(str).str.startswith("integrity_")
    rejected = q[(q["unit_id"] != "") & ~excluded].groupby("unit_id").size()
    ds = res.dataset
    accepted = {t: ds.accepted_per_unit(t) for t in ("survey", "onsite")}  # from counts when rows are not read
    out = pd.DataFrame({
        rs.column_labels["unit_id"]: u["unit_id"], rs.column_labels["name"]: u["name"],
        "问卷（份）": u["unit_id"].map(accepted["survey"]).fillna(0).astype(np.int64),
        "有效问卷（份）": u["survey_valid"].astype(np.int64),
        "现场评议票（票）": u["unit_id"].map(accepted["onsite"]).fillna(0).astype(np.int64),
        "有效票（票）": u["onsite_valid"].astype(np.int64),
        "被拒绝行（条）": u["unit_id"].map(rejected).fillna(0).astype(np.int64),
        "剔除问卷（份）": u["unit_id"].map(q[excluded].groupby("unit_id").size()).fillna(0).astype(np.int64),
        rs.column_labels["notes"]: u["notes"],
    })
    if unit_id is not None:
        out = out[u["unit_id"].to_numpy() == unit_id].drop(columns=rs.column_labels["unit_id"])
    return out.reset_index(drop=True)


def table_counts(res: Results) -> pd.DataFrame:
    """Accepted and rejected rows per table: 表 (Chinese name), 文件, 接受（行）, 拒绝（行）."""
    zh = {name: t.zh for name, t in schema.tables(res.ruleset).items()}
    c = res.dataset.table_counts
    return pd.DataFrame({"表": c["table"].map(lambda t: zh.get(t, t)), "文件": c["file"].map(file_name),
                         "接受（行）": c["accepted"], "拒绝（行）": c["rejected"]}).reset_index(drop=True)


def rejected_rows(res: Results, unit_id: str | None = None) -> pd.DataFrame:
    """The quarantine as a clerk reads it: 表 (Chinese name), 文件, 行号, 单位编码, 列 (the header
    as written in the file), 值 and 原因 (personal values masked: this is published), 原因代码.
    With ``unit_id``: that unit's rows, without 单位编码."""
    zh = {name: t.zh for name, t in schema.tables(res.ruleset).items()}
    unit_col = res.ruleset.column_labels["unit_id"]
    q = res.quarantine if unit_id is None else res.quarantine[res.quarantine["unit_id"] == unit_id]
    out = pd.DataFrame({"表": q["table"].map(lambda t: zh.get(t, t)), "文件": q["file"].map(file_name),
                        "行号": q["row"].astype(object), unit_col: q["unit_id"], "列": q["header"],
                        "值": [mask_fingerprint(v) if c == "fingerprint" else mask_personal_data(str(v))
                              for c, v in zip(q["column"], q["value"].fillna(""))],
                        "原因": q["reason"].fillna("").astype(str).map(mask_personal_data),
                        "原因代码": q["reason_code"]})
    return (out if unit_id is None else out.drop(columns=unit_col)).reset_index(drop=True)


def file_name(path: str) -> str:
    """A file as a clerk names it on a page: its name, without the folders."""
    return Path(path).name if path else ""


def unit_warnings(res: Results, unit_id: str) -> list[str]:
    w = res.warnings
    return list(w.loc[w["unit_id"] == unit_id, "message"])


LEAGUE_COLUMNS = ["rank", "unit_id", "name", "onsite_index", "survey_index", "case_points", "bonus_points",
                  "composite", "satisfaction", "in_bottom", "flags", "notes"]
CITY_COLUMNS = ["unit_id", "name", "survey_index", "case_points", "bonus_points", "composite", "satisfaction",
                "flags", "notes"]


def league(res: Results, group: str) -> pd.DataFrame:
    """The league table of a rank group with Chinese headings (and units), the bottom group
    marked, consequences and data-quality notes in words."""
    lg = res.league(group)
    lg = with_not_started(res, lg.assign(in_bottom=lg["in_bottom"].map({True: "排名靠后", False: ""})))
    return unit_table(lg, LEAGUE_COLUMNS, res.ruleset, with_units=True)


def city_bureau_table(res: Results) -> pd.DataFrame:
    """The city bureau's own figures (it is scored, not ranked), headed like a league table."""
    u = res.units[res.units["unit_id"].isin(city_unit_ids(res))]
    return unit_table(u, CITY_COLUMNS, res.ruleset, with_units=True)


def heatmap_frame(res: Results, component: str = "survey") -> pd.DataFrame:
    """Unit × dimension matrix of item indices (rows: unit names in league order)."""
    rs = res.ruleset
    it = res.items[(res.items["component"] == component) & res.items["item"].isin(rs.scored_items)]
    m = it.pivot(index="unit_id", columns="item", values="index")
    order = [x for x in res.units["unit_id"] if x in m.index]
    m = m.reindex(index=order, columns=list(rs.scored_items))
    m.index = m.index.map(res.units.set_index("unit_id")["name"])
    m.columns = [rs.item_labels[c] for c in m.columns]
    return m


def consequence_summary(res: Results) -> pd.DataFrame:
    """How many units each consequence hits, and which (data-quality notes are not consequences)."""
    rs = res.ruleset
    c = res.consequences
    rows = []
    for flag, f in judged_consequences(res).items():
        hit = c[c["flag"] == flag]
        rows.append({"结果": f.label, "单位数（个）": len(hit), "单位": "、".join(hit["name"]) or "无",
                     rs.column_labels["flags"]: f.consequence, "依据": f.clause})
    return pd.DataFrame(rows)


def unit_summary(res: Results, unit_id: str) -> str:
    """One paragraph in Chinese: score, rank, satisfaction and what the rules decided."""
    rs = res.ruleset
    u = res.unit(unit_id)
    if pd.isna(u["composite"]):
        return f"{u['name']}本轮没有有效的现场评议和问卷调查答卷，未计算综合得分，不参加排名。"
    text = f"{u['name']}综合得分{format_number(u['composite'])}分"
    if pd.notna(u["rank"]):
        text += (f"，在{u['rank_group_label']}中排名第{u['rank']}名（共{u['group_n']}名，"
                 f"平均分{format_number(u['group_mean'])}分）")
    else:
        text += "（不参加排名）"
    if pd.notna(u["satisfaction"]):
        rel = "低于" if u["satisfaction"] < rs.talk_threshold else "不低于"
        text += f"；群众满意度{format_number(u['satisfaction'])}%，{rel}{rs.talk_threshold:g}%"
    labels = [rs.flags[f].label for f in rs.consequence_flags if u[f]]
    text += "；触发评议结果运用：" + "、".join(labels) + "。" if labels else "；未触发评议结果运用条款。"
    return text


def city_summary(res: Results) -> str:
    """One paragraph in Chinese about the round as a whole: how many units, each group's mean
    and first place, how many fall below the 约谈 line. Who is in the bottom group and what
    happens to them is the headline's (sections.headline), not repeated here."""
    rs = res.ruleset
    u = res.units
    parts = [f"本轮共评议{len(u)}个单位"]
    for g, label in rs.rank_group_labels.items():
        lg = u[(u["rank_group"] == g) & u["rank"].notna()]
        if len(lg):
            best = lg.sort_values("rank").iloc[0]
            parts.append(f"{label}{len(lg)}个参加排名，平均分{format_number(lg['group_mean'].iloc[0])}分，"
                         f"第一名{best['name']}（{format_number(best['composite'])}分）")
    below = u[u["satisfaction"] < rs.talk_threshold]
    parts.append(f"群众满意度低于{rs.talk_threshold:g}%的单位{len(below)}个")
    return "；".join(parts) + "。"


def city_unit_ids(res: Results) -> list[str]:
    """The units at city level (the city bureau itself)."""
    return list(res.units.loc[res.units["level"] == "city", "unit_id"])


def unit_links(unit_ids, pattern: str) -> dict[str, str]:
    """unit id → relative link to its report, for the units that have one."""
    if not pattern:
        return {}
    return {u: pattern.format(slug=unit_slug(u)) for u in unit_ids}
