"""What the reader must act on, first: the headline of the city page and of a unit page,
and the data-quality notes shown apart from it.

Each function returns a small frame, one row per point, with the columns

* ``code``: a stable English key for programs and tests (``bottom:district``, ``talk``, …);
* ``事项``: what the point is about, in Chinese (排名靠后（辖市(区)安监局）, 约谈, …);
* ``内容``: one sentence with the units, their figures and the reason, '无' when nothing fired;
* ``unit_ids``: the units the point names (a tuple, possibly empty).

A consequence names the clause of the scheme it comes from. Data-quality notes (样本不足,
rejected rows) never appear among the consequences: :func:`city_notes` and :func:`unit_notes`.

Results read before the collection closes (``res.interim``) open with the point ``interim``
(阶段性结果（截至…，问卷调查至…结束）), and every consequence is listed as 预警: what would fire
if the round closed on the report day. A component a unit has no data for is named beside its
composite with where its weight went (尚未开展 while the round is open), never silently.
"""

from __future__ import annotations

import pandas as pd

from pingyi_lib.common.numbers import format_number, format_rank
from pingyi_lib.followup.history import judged_consequences
from pingyi_lib.scheme.ruleset import COMPONENT_COLUMNS
from pingyi_lib.scoring.results import COMPONENTS, Results
from pingyi_lib.sections.integrity import period_changes
from pingyi_lib.sections.uncertainty import rank_interval_note, robustness_note

COLUMNS = ["code", "事项", "内容", "unit_ids"]
NONE = "无"


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def _points(value, rs, column: str) -> str:
    """A figure with its unit (ruleset ``labels.units``): 83.25分, 75.83%."""
    return format_number(value, rs.decimals, rs.column_units.get(column, ""))


def warned(res: Results, label: str) -> str:
    """A consequence's label as published: 预警：<label> while the results are interim."""
    return f"预警：{label}" if res.interim else label


WARNING_NOTE = "（阶段性结果：评议如在报告日结束将触发）"


def interim_points(res: Results) -> list[dict]:
    """The first point of every headline while the results are interim ([] when final)."""
    if not res.interim:
        return []
    text = (f"{res.as_of.label}：现场评议和问卷调查仍在进行，得分和排名还会变化；以下评议结果运用条款是预警"
            "（评议如在报告日结束将触发），不是最终结果。")
    return [{"code": "interim", "事项": "阶段性结果", "内容": text, "unit_ids": ()}]


def page_title(res: Results, title: str) -> str:
    """A page's title, with （阶段性结果） while the results are interim."""
    return f"{title}（阶段性结果）" if res.interim else title


def interim_banner(res: Results) -> str:
    """The banner at the top of every page while the results are interim ('' when final)."""
    if not res.interim:
        return ""
    return f"{res.as_of.label}：得分和排名还会变化，评议结果运用为预警，不是最终结果"


def component_gaps(res: Results) -> pd.DataFrame:
    """Units with a composite that lack one index component: unit_id, name, component, text
    (现场评议尚未开展，其50%权重暂计入问卷调查 while interim; 没有现场评议的有效数据，其50%权重计入问卷调查
    after the round)."""
    rs = res.ruleset
    u = res.units[res.units["composite"].notna()]
    labels = rs.component_labels
    rows = []
    for comp, other in (COMPONENTS, COMPONENTS[::-1]):
        weight = f"{getattr(rs.weights, comp) * 100:g}%"
        for r in u[u[COMPONENT_COLUMNS[comp]].isna()].itertuples(index=False):
            text = (f"{labels[comp]}尚未开展，其{weight}权重暂计入{labels[other]}" if res.interim
                    else f"没有{labels[comp]}的有效数据，其{weight}权重计入{labels[other]}")
            rows.append((r.unit_id, r.name, comp, text))
    return pd.DataFrame(rows, columns=["unit_id", "name", "component", "text"])


NOT_STARTED = "尚未开展"
# the index components (scoring.results.COMPONENTS) as columns of Results.units
COMPONENT_INDEX = tuple(COMPONENT_COLUMNS[c] for c in COMPONENTS)


def not_started(res: Results, units: pd.DataFrame, column: str) -> pd.Series:
    """Rows of ``units`` whose ``column`` (an index component) reads 尚未开展: the results are
    interim and the unit has a composite without that component."""
    if not res.interim or column not in COMPONENT_INDEX:
        return pd.Series(False, index=units.index)
    return units[column].isna() & units["composite"].notna()


def with_not_started(res: Results, units: pd.DataFrame) -> pd.DataFrame:
    """``units`` with each index component that has not started (:func:`not_started`) read
    as 尚未开展 instead of a blank; the rows are otherwise unchanged."""
    out = units
    for col in COMPONENT_INDEX:
        gone = not_started(res, units, col)
        if gone.any():
            out = out.assign(**{col: units[col].astype(object).mask(gone, NOT_STARTED)})
    return out


def _clause_text(clause: str) -> str:
    return f"（依据{clause}）" if clause else ""


def bottom_groups(res: Results) -> pd.DataFrame:
    """Per rank group, the units in its bottom group (排名靠后), worst last:
    code ``bottom:<group>``; 内容 like 金坛市安监局（第5名，83.25分）、…（共7名，组平均分82.73分）."""
    rs = res.ruleset
    rows = []
    for g, label in rs.rank_group_labels.items():
        lg = res.league(g)
        ranked = lg[lg["rank"].notna()]
        if not len(ranked):
            continue
        bottom = ranked[ranked["in_bottom"]]
        if len(bottom):
            who = "、".join(f"{r.name}（第{format_rank(r.rank)}名，{_points(r.composite, rs, 'composite')}）"
                           for r in bottom.itertuples(index=False))
            text = (f"{who}；本组共{len(ranked)}个单位参加排名，"
                    f"组平均分{_points(ranked['group_mean'].iloc[0], rs, 'group_mean')}。")
        else:
            text = f"{NONE}（本组参加排名的单位不足，不划排名靠后）。"
        rows.append({"code": f"bottom:{g}", "事项": warned(res, f"{rs.column_labels['in_bottom']}（{label}）"),
                     "内容": text,
                     "unit_ids": tuple(bottom["unit_id"])})
    return _frame(rows)


def city_headline(res: Results) -> pd.DataFrame:
    """The city page's first screen: the bottom group of each rank group, then every
    consequence of the scheme (约谈, 不评优, 最差单位, 评议代表构成不合规) with who and why,
    '无' for a consequence that hit nobody."""
    rows = interim_points(res) + bottom_groups(res).to_dict("records")
    c = res.consequences
    for flag, rule in judged_consequences(res).items():
        hit = c[c["flag"] == flag]
        label = rule.label
        if len(hit):
            text = "；".join(f"{r.name}：{r.reason}{robustness_note(res, r.unit_id, flag)}"
                            for r in hit.itertuples(index=False))
            text += f"。{rule.consequence}{_clause_text(rule.clause)}。"
            text += WARNING_NOTE if res.interim else ""
            label = f"{label}（{len(hit)}个单位）"
        else:
            text = f"{NONE}。"
        rows.append({"code": flag, "事项": warned(res, label), "内容": text, "unit_ids": tuple(hit["unit_id"])})
    rows += integrity_changes(res)
    gaps = component_gaps(res)
    if len(gaps):
        rows.append({"code": "component_gap", "事项": "尚未开展的评议环节" if res.interim else "缺少的评议环节",
                     "内容": "；".join(f"{r.name}：{r.text}" for r in gaps.itertuples(index=False)) + "。",
                     "unit_ids": tuple(dict.fromkeys(gaps["unit_id"]))})
    return _frame(rows)


def integrity_changes(res: Results, unit_id: str | None = None) -> list[dict]:
    """Headline rows when a suspicious period, or the flagged questionnaires, would change a
    consequence if left out (either way; ``sections.integrity.period_changes``)."""
    if res.integrity is None:
        return []
    return [{"code": "integrity_period", "事项": "问卷异常可能改变结果运用", "内容": c["text"],
             "unit_ids": c["unit_ids"]} for c in period_changes(res, unit_id)]


def city_notes(res: Results) -> pd.DataFrame:
    """Data-quality notes of the round: each data-quality flag (样本不足) with its units and
    reasons, then the rejected rows."""
    rs = res.ruleset
    rows = []
    n = res.notes
    for flag in rs.note_flags:
        hit = n[n["flag"] == flag]
        if len(hit):
            text = "；".join(f"{r.name}：{r.reason}" for r in hit.itertuples(index=False))
            rows.append({"code": flag, "事项": f"{rs.flags[flag].label}（{len(hit)}个单位）",
                         "内容": f"{text}。{rs.flags[flag].consequence}。", "unit_ids": tuple(hit["unit_id"])})
    rows += _rejected(res, None)
    return _frame(rows)


def _rejected(res: Results, unit_id: str | None) -> list[dict]:
    """Rows rejected by validation, and questionnaires excluded under evaluation discipline
    (the integrity policy; their reason codes start with ``integrity_``), counted once each."""
    q = res.quarantine
    if unit_id is not None:
        q = q[q["unit_id"] == unit_id]
    integrity = q["reason_code"].astype(str).str.startswith("integrity_")
    n = q[~integrity][["table", "row"]].drop_duplicates().shape[0]
    text = (f"{n}条数据行未通过校验，未计入评分（原因见“数据质量”）。" if n
            else "全部数据行通过校验。")
    rows = [{"code": "rejected", "事项": "被拒绝的数据行", "内容": text,
             "unit_ids": (unit_id,) if unit_id is not None and n else ()}]
    m = q[integrity][["table", "row"]].drop_duplicates().shape[0]
    if m:
        rows.append({"code": "excluded", "事项": "剔除的问卷",
                     "内容": f"{m}份问卷按评议纪律核查规则被剔除，未计入评分（见“评议纪律核查”）。",
                     "unit_ids": (unit_id,) if unit_id is not None else ()})
    return rows


def unit_headline(res: Results, unit_id: str) -> pd.DataFrame:
    """A unit page's first screen: composite, rank (and whether in the bottom group), group
    mean, then each consequence that fired with its reason and clause."""
    rs = res.ruleset
    u = res.unit(unit_id)
    label = rs.column_labels
    gaps = component_gaps(res)
    gap = "；".join(gaps.loc[gaps["unit_id"] == unit_id, "text"])
    rows = interim_points(res) + [{
        "code": "composite", "事项": label["composite"],
        "内容": (_points(u["composite"], rs, "composite") + (f"（{gap}）" if gap else "")) if pd.notna(u["composite"])
        else "未计算（本轮没有有效的现场评议和问卷调查答卷）", "unit_ids": (unit_id,)}]
    if pd.notna(u["rank"]):
        rank = f"第{format_rank(u['rank'])}名/共{u['group_n']}名（{u['rank_group_label']}）"
        if u["in_bottom"]:
            rank += f"，{label['in_bottom']}"
        rank += rank_interval_note(res, unit_id)
        rows.append({"code": "rank", "事项": label["rank"], "内容": rank, "unit_ids": (unit_id,)})
        rows.append({"code": "group_mean", "事项": label["group_mean"],
                     "内容": _points(u["group_mean"], rs, "group_mean"), "unit_ids": (unit_id,)})
    else:
        rows.append({"code": "rank", "事项": label["rank"], "内容": "不参加排名", "unit_ids": (unit_id,)})
    c = res.consequences[res.consequences["unit_id"] == unit_id]
    for r in c.itertuples(index=False):
        rows.append({"code": r.flag, "事项": f"{label['flags']}{'（预警）' if res.interim else ''}：{r.label}",
                     "内容": f"{r.reason}{robustness_note(res, unit_id, r.flag)}。"
                           f"{r.consequence}{_clause_text(r.clause)}。" + (WARNING_NOTE if res.interim else ""),
                     "unit_ids": (unit_id,)})
    rows += integrity_changes(res, unit_id)
    if not len(c):
        why = ""
        if u["in_bottom"]:  # in the bottom group yet nothing happens: say why, or the reader wonders
            why = (f"排名靠后，但综合得分不低于组平均分、群众满意度不低于{rs.talk_threshold:g}%，")
        rows.append({"code": "no_consequence", "事项": label["flags"], "内容": f"{why}未触发评议结果运用条款。",
                     "unit_ids": ()})
    return _frame(rows)


def unit_notes(res: Results, unit_id: str) -> pd.DataFrame:
    """A unit's data-quality notes: its data-quality flags with their reasons, its rejected
    rows, and the warnings that name it (a case not substantiated, a capped bonus)."""
    n = res.notes[res.notes["unit_id"] == unit_id]
    rows = [{"code": r.flag, "事项": r.label, "内容": f"{r.reason}。{r.consequence}。", "unit_ids": (unit_id,)}
            for r in n.itertuples(index=False)]
    rows += _rejected(res, unit_id)
    w = res.warnings
    for m in w.loc[w["unit_id"] == unit_id, "message"]:
        rows.append({"code": "warning", "事项": "提示", "内容": f"{m}。", "unit_ids": (unit_id,)})
    return _frame(rows)
