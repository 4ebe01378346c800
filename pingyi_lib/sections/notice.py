"""The notice of results sent upward (评议结果通报; seed §五(六): the results, with each
district's final ranking, satisfaction and main problems, are reported to the city's
纠风办), as a list of blocks that ``output/notice.py`` writes as a Word document.

A block is ``(kind, value)``: ``("title", text)``, ``("recipient", text)``,
``("heading", text)`` (一、二、…), ``("subheading", text)`` (（一）…), ``("para", text)``,
``("table", DataFrame)`` (figures already formatted as text with their units in the
headers) or ``("signature", (sender, date))``. Every number is the published one, from
the same frames as the workbook.
"""

from __future__ import annotations

import pandas as pd

from pingyi_lib.common.numbers import format_number, format_rank, format_share
from pingyi_lib.scoring.results import Results
from pingyi_lib.sections import duties, followup, headline, trend

CN_NUMERALS = "一二三四五六七八九十"
RANKING_COLUMNS = ["rank", "name", "onsite_index", "survey_index", "case_points", "bonus_points", "composite",
                   "satisfaction", "flags"]


def _n(i: int) -> str:
    return CN_NUMERALS[i] if i < len(CN_NUMERALS) else str(i + 1)


def chinese_date(day: pd.Timestamp) -> str:
    """2011-09-20 → 2011年9月20日 (the date line of a notice)."""
    return f"{day.year}年{day.month}月{day.day}日"


def ranking_table(res: Results, units: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``Results.units`` as the notice's ranking table: text cells, units in headers."""
    rs = res.ruleset
    out = {}
    for col in RANKING_COLUMNS:
        head = rs.header(col)
        if col == "rank":
            out[head] = [format_rank(v, "—") for v in units[col]]
        elif col in ("name", "flags"):
            out[head] = [str(v) for v in units[col]]
        else:
            words = pd.Series([format_number(v, rs.decimals) for v in units[col]], index=units.index)
            out[head] = words.mask(headline.not_started(res, units, col), headline.NOT_STARTED).tolist()
    return pd.DataFrame(out)


def notice_blocks(res: Results, fu: followup.FollowUp, title: str) -> list[tuple[str, object]]:
    """The notice's content in order: title, recipient, opening, 一、评议排名, 二、群众满意度,
    三、群众反映的主要问题, 四、评议结果运用, 五、责任分解 (per dimension: who leads it, the units that
    need rectification on it), with past rounds 历年对比 (a sentence per unit where the trend matters,
    the past rounds' open items), then 整改落实情况, signature."""
    rs = res.ruleset
    u = res.units
    day = fu.report_date
    interim = res.interim
    blocks: list[tuple[str, object]] = [("title", f"关于{title}{'阶段性' if interim else ''}结果的通报")]
    if rs.notice.recipient:
        blocks.append(("recipient", f"{rs.notice.recipient}："))
    basis = rs.notice.basis or "评议实施方案"
    if interim:  # never claims the round complete
        end = res.as_of.collection_end
        blocks.append(("para", f"根据{basis}，{title}正在进行，问卷调查至{chinese_date(end)}结束。"
                               f"现将{res.as_of.label}通报如下。得分和排名还会变化，"
                               "评议结果运用条款为预警（评议如在报告日结束将触发），最终结果以评议结束后的通报为准："))
    else:
        blocks.append(("para", f"根据{basis}，{title}已完成现场评议、问卷调查和实例调查，并经综合评定。"
                               "现将评议结果通报如下："))
    if res.incomplete:  # a league short of a unit never reads as complete (run with --allow-incomplete)
        blocks.append(("para", f"{res.incomplete}。"))
    section = 0

    def heading(text: str) -> None:
        nonlocal section
        blocks.append(("heading", f"{_n(section)}、{text}"))
        section += 1

    heading("评议排名")
    sub = 0
    for g, label in rs.rank_group_labels.items():
        lg = res.league(g)
        ranked = lg[lg["rank"].notna()]
        if not len(lg):
            continue
        mean = format_number(ranked["group_mean"].iloc[0], rs.decimals, "分") if len(ranked) else "—"
        blocks.append(("subheading", f"（{_n(sub)}）{label}（{len(ranked)}个单位参加排名，组平均分{mean}）"))
        blocks.append(("table", ranking_table(res, lg)))
        sub += 1
    others = u[u["rank_group"].isna()]
    if len(others):
        blocks.append(("subheading", f"（{_n(sub)}）不参加排名的单位"))
        blocks.append(("table", ranking_table(res, others)))

    heading("群众满意度")
    sat = u[u["satisfaction"].notna()].sort_values("satisfaction", ascending=False, kind="stable")
    below = sat[sat["satisfaction"] < rs.talk_threshold]
    text = f"参评单位群众满意度（问卷调查指数）在{format_number(sat['satisfaction'].min(), rs.decimals, '%')}至" \
           f"{format_number(sat['satisfaction'].max(), rs.decimals, '%')}之间，" if len(sat) else ""
    if len(below):
        text += (f"低于{rs.talk_threshold:g}%的单位{len(below)}个：" + "、".join(
            f"{r.name}（{format_number(r.satisfaction, rs.decimals, '%')}）" for r in below.itertuples(index=False))
            + "。")
    else:
        text += f"没有单位低于{rs.talk_threshold:g}%。"
    blocks.append(("para", text))

    heading("群众反映的主要问题")
    blocks.append(("para", followup.problems_summary(fu.problems, "")))
    main = followup.main_problems_text(fu.problems, u["unit_id"], rs)
    n = 0
    for name, problems in zip(u["name"], main):
        if problems:
            n += 1
            blocks.append(("para", f"{n}. {name}：{problems}。"))

    heading("评议结果运用（预警）" if interim else "评议结果运用")
    for r in headline.bottom_groups(res).itertuples(index=False):
        blocks.append(("para", f"{r.事项}：{r.内容}"))
    c = res.consequences
    if len(c):
        for r in c.itertuples(index=False):
            clause = f"依据{r.clause}，" if r.clause else ""
            blocks.append(("para", f"{r.name}【{headline.warned(res, r.label)}】{r.reason}。{clause}{r.consequence}。"
                                   + (headline.WARNING_NOTE if interim else "")))
    else:
        blocks.append(("para", "没有单位触发评议结果运用条款。"))
    gaps = headline.component_gaps(res)
    if len(gaps):
        blocks.append(("para", "；".join(f"{r.name}{r.text}" for r in gaps.itertuples(index=False)) + "。"))
    for change in headline.integrity_changes(res):  # a suspicious period that would change a consequence
        blocks.append(("para", f"问卷异常提示：{change['内容']}"))
    notes = res.notes
    if len(notes):
        blocks.append(("para", "另（数据质量提示，不属于评议结果运用）：" + "；".join(
            f"{r.name}{r.label}，{r.reason}，{r.consequence}" for r in notes.itertuples(index=False)) + "。"))

    heading("责任分解")
    blocks.append(("para", duties.duties_note(res)))
    for text in duties.notice_paragraphs(res, fu):
        blocks.append(("para", text))

    if fu.trend is not None:  # past rounds given: the units where the trend matters
        heading("历年对比")
        years = "、".join(f"{y}年" for y in sorted(set(int(y) for y in fu.trend["year"])))
        blocks.append(("para", f"对照{years}的评议结果（变化均与该单位上一次参评相比，经抽样误差检验）："))
        said = trend.notice_sentences(fu.trend, rs)
        for text in said or ["各单位综合得分与上一次参评相比没有显著变化，也没有单位连续排名靠后。"]:
            blocks.append(("para", text))
        if fu.open_past is not None:
            blocks.append(("para", trend.open_items_text(fu.open_past)))

    heading("整改落实情况")
    led = fu.ledger
    blocks.append(("para", followup.ledger_totals_text(led, chinese_date(day))))
    if len(led):
        ov = followup.overdue_overview(res, led).drop(columns=[rs.column_labels["unit_id"]])
        ov["到期事项完成率"] = ov["到期事项完成率"].map(lambda v: "无到期事项" if v is None else format_share(v))
        blocks.append(("table", ov.astype(str)))

    blocks.append(("signature", (rs.notice.sender, chinese_date(day))))
    return blocks
