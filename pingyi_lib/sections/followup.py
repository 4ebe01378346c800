"""Report sections for what the public raised and what was fixed: main problems, the
rectification ledger, the timeline and the look-back, as display frames with Chinese
column labels (the counterpart of views.py for problems.py, followup.py, lookback.py).
"""

from __future__ import annotations

import functools

import pandas as pd

from pingyi_lib.common.numbers import format_share
from pingyi_lib.followup import history, ledger, lookback
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.scoring.results import Results
from pingyi_lib.sections.scores import file_name
from pingyi_lib.sections.uncertainty import interval_text
from pingyi_lib.text import themes

NO_PREVIOUS = "未提供上一年数据，不作比较。"


def ledger_date_text(fu: FollowUp) -> str:
    """整改台账截至 <day>（<where the day comes from>）, and the warning when there is one."""
    text = (f"整改台账截至{fu.report_day.day.isoformat()}（{fu.report_day.source}）：此后的完成和报送日期不计入，"
            "完成率按截至该日已到期的事项计算。")
    return text + (f"注意：{fu.report_day.warning}。" if fu.report_day.warning else "")


def _id_name(rs: Ruleset) -> tuple[str, str]:
    """The headers of the unit id and name columns (ruleset ``labels.columns``)."""
    return rs.column_labels["unit_id"], rs.column_labels["name"]


def lookback_note(previous) -> str:
    """The look-back section's one sentence when there is no previous round ('' otherwise):
    said once, not once per table of the section."""
    return NO_PREVIOUS if previous is None else ""


def problems_table(problems: pd.DataFrame, unit_id: str = "") -> pd.DataFrame:
    """Top themes of one unit ('' = the city): 问题, 评议内容, 条数, 占比, 群众原话 (masked),
    匹配依据 (the keywords or example sentences that found the texts)."""
    p = problems[problems["unit_id"] == unit_id]
    return pd.DataFrame({"问题": p["theme"], "评议内容": p["dimension_label"], "条数（条）": p["count"],
                         "占比": p["share"], "群众原话": ["；".join(q) for q in p["quotes"]],
                         "匹配依据": p["basis"]}).reset_index(drop=True)


def coverage_summary(cov: pd.DataFrame, unit_id: str = "") -> str:
    """One sentence on how much of what the public wrote the themes account for."""
    r = next(x for x in cov.to_dict("records") if x["unit_id"] == unit_id)
    if not r["texts"]:
        return "本单位没有问卷意见或实例调查记录。" if unit_id else "没有问卷意见或实例调查记录。"
    text = (f"问卷意见和实例调查共{r['texts']}条，其中反映问题或提出建议的{r['substantive']}条，"
            f"归入主题{r['themed']}条（覆盖率{format_share(r['coverage'])}）")
    return text + f"；表扬肯定{r['praise']}条，无实质内容{r['blank']}条。"


def coverage_table(cov: pd.DataFrame, res: Results) -> pd.DataFrame:
    """Per unit (the city first): 意见条数, 有实质内容, 归入主题, 未归类, 覆盖率, 表扬肯定."""
    names = dict(zip(res.units["unit_id"], res.units["name"]))
    uid, name = _id_name(res.ruleset)
    return pd.DataFrame({uid: cov["unit_id"], name: cov["unit_id"].map(names).fillna("全市"),
                         "意见（条）": cov["texts"], "有实质内容（条）": cov["substantive"],
                         "归入主题（条）": cov["themed"], "未归类（条）": cov["unthemed"], "覆盖率": cov["coverage"],
                         "表扬肯定（条）": cov["praise"]}).reset_index(drop=True)


def unmatched_table(groups: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """Groups of unthemed comments (largest first): 组, 条数, 涉及单位, 常见词, 示例 (masked)."""
    g = groups if top is None else groups.head(top)
    return pd.DataFrame({"组": g["group"], "条数（条）": g["count"], "涉及单位": g["units"],
                         "常见词": ["、".join(w) for w in g["words"]],
                         "示例": ["；".join(e) for e in g["examples"]]}).reset_index(drop=True)


def problems_summary(problems: pd.DataFrame, unit_id: str = "") -> str:
    p = problems[problems["unit_id"] == unit_id]
    if not len(p):
        return "问卷意见和实例调查中未归纳出集中反映的问题。"
    parts = [f"{t}（{c}条，{s:.1%}，属{d}）" for t, c, s, d in
             zip(p["theme"], p["count"], p["share"], p["dimension_label"])]
    return "群众反映的主要问题依次为：" + "；".join(parts) + "。"


def main_problems_text(problems: pd.DataFrame, unit_ids, ruleset: Ruleset) -> pd.Series:
    """The 群众反映主要问题 text per unit (the workbook's column): 'theme（n条）；…' for the top themes."""
    top = problems[(problems["unit_id"] != "") & (problems["rank"] <= ruleset.problems.workbook_top)]
    text: dict[str, list[str]] = {}
    for uid, theme, count in zip(top["unit_id"], top["theme"], top["count"]):
        text.setdefault(uid, []).append(f"{theme}（{count}条）")
    return pd.Series(["；".join(text.get(u, [])) for u in unit_ids], dtype=object)


# the Chinese words of the states (followup/ledger.py); {days} and {deadline} are filled in
LEDGER_WORDS = {"done": "已完成", "done_late": "超期完成{days}天", "open": "未完成（期限待核）",
                "due_today": "今日到期", "overdue": "逾期{days}天", "not_due": "未到期（{deadline}到期）"}
TIMELINE_WORDS = {"on_time": "按时", "late": "逾期{days}天", "missing": "未报送", "not_due": "未到期（{deadline}到期）"}


def state_word(state: str, days: int, deadline, words: dict[str, str], year: int | None = None) -> str:
    """A state in Chinese (``words``: LEDGER_WORDS or TIMELINE_WORDS) with its days and due
    date (``MM-DD`` in ``year``, else in full)."""
    return words[state].format(days=days, deadline=day_text(deadline, year))


def state_words(states, days, deadlines, words: dict[str, str], year: int | None = None) -> list[str]:
    """:func:`state_word` of each row."""
    return [state_word(s, n, d, words, year) for s, n, d in zip(states, days, deadlines)]


def _main_year(dates: pd.Series) -> int | None:
    """The most common year of ``dates`` (the round's, for a ledger or timeline); None if empty."""
    years = dates.dropna().dt.year
    return int(years.mode().min()) if len(years) else None


def day_text(d, year: int | None = None) -> str:
    """A date as ``MM-DD`` when it lies in ``year``, else ``YYYY-MM-DD`` (a year is never hidden)."""
    if pd.isna(d):
        return ""
    d = pd.Timestamp(d)
    return d.strftime("%m-%d") if year is not None and d.year == year else d.strftime("%Y-%m-%d")


def ledger_table(led: pd.DataFrame, unit_id: str | None = None, *, ruleset: Ruleset) -> pd.DataFrame:
    """Rectification items (of one unit, or all): 编号, 问题, 整改措施, 责任处室, 期限, 台账状态
    (as the file holds it), 完成日期 (the file's), 截至报告日 (the state on the report day:
    已完成, 超期完成N天, 今日到期, 逾期N天, 未到期（MM-DD到期）), 说明 (a later date the file
    holds, a data problem), 对应问题."""
    x = led if unit_id is None else led[led["unit_id"] == unit_id]
    uid, _ = _id_name(ruleset)
    return pd.DataFrame({
        uid: x["unit_id"], "编号": x["item_id"], "问题": x["problem"], "整改措施": x["measure"],
        "责任处室": x["owner"], "期限": x["deadline"].dt.strftime("%Y-%m-%d"), "台账状态": x["status"],
        "完成日期": x["completed_on"].dt.strftime("%Y-%m-%d").fillna(""),
        "截至报告日": state_words(x["state"], x["days"], x["deadline"], LEDGER_WORDS, _main_year(x["deadline"])),
        "说明": x["note"], "对应问题": x["themes"],
    }).drop(columns=[] if unit_id is None else [uid]).reset_index(drop=True)


def attention_items(led: pd.DataFrame) -> pd.DataFrame:
    """The items the city page lists: overdue, due today, or not judged (a deadline to check)."""
    return led[led["state"].isin(("overdue", "due_today", "open"))]


def overdue_overview(res: Results, led: pd.DataFrame) -> pd.DataFrame:
    """Per unit with rectification items: items, due by the report day, completed, completion
    rate (of what was due), overdue, due today, not yet due, completed late."""
    s = ledger.ledger_summary(led)
    names = res.units.set_index("unit_id")["name"]
    uid, name = _id_name(res.ruleset)
    rate = s["completion_rate"].astype(object).where(s["completion_rate"].notna(), None)  # None: nothing due yet
    return pd.DataFrame({uid: s["unit_id"], name: s["unit_id"].map(names), "整改事项（项）": s["items"],
                         "已到期（项）": s["due"], "已完成（项）": s["completed"],
                         "到期事项完成率": rate,
                         "逾期未完成（项）": s["overdue"], "今日到期（项）": s["due_today"],
                         "未到期（项）": s["not_due"], "超期完成（项）": s["completed_late"]}) \
        .sort_values(["逾期未完成（项）", uid], ascending=[False, True], kind="stable").reset_index(drop=True)


def ledger_intro(fu: FollowUp) -> str:
    """The city page's first sentences on the ledger: the day it is read and its totals."""
    return ledger_date_text(fu) + ledger_totals_text(fu.ledger, fu.report_day.day.isoformat())


def ledger_totals_text(led: pd.DataFrame, day_words: str) -> str:
    """One sentence on the whole ledger on the report day (the notice, the city page)."""
    if not len(led):
        return f"截至{day_words}，未报送整改事项。"
    s = ledger.ledger_summary(led)
    due, done = int(s["due"].sum()), int(s["completed"].sum())
    rate = f"到期事项完成率{format_share(done / due)}" if due else "尚无到期事项"
    text = (f"截至{day_words}，共有整改事项{len(led)}项，其中已到期{due}项，已完成{done}项（{rate}），"
            f"逾期未完成{int(s['overdue'].sum())}项，今日到期{int(s['due_today'].sum())}项，"
            f"未到期{int(s['not_due'].sum())}项。")
    later = int(led["note"].str.contains("晚于报告日", regex=False).sum())
    return text + (f"另有{later}项在台账中记为完成、完成日期晚于报告日，按报告日计为未完成。" if later else "")


def problems_note(problems: pd.DataFrame, unit_id: str | None = None) -> str:
    """The sentence above the data problems' table ('' when there are none)."""
    n = len(problems if unit_id is None else problems[problems["unit_id"] == unit_id])
    return f"整改台账、报送记录中有{n}处数据问题（未计入或按说明处理），请核对原文件：" if n else ""


def problems_data_table(problems: pd.DataFrame, unit_id: str | None = None) -> pd.DataFrame:
    """The follow-up data's problems (ledger.data_problems, lookback.reference_problems):
    文件, 行号, 单位, 事项, 问题, 问题代码."""
    x = problems if unit_id is None else problems[problems["unit_id"] == unit_id]
    return pd.DataFrame({"文件": x["file"].map(file_name), "行号": x["row"],
                         "单位": x["unit_id"], "事项": x["item"], "问题": x["reason"],
                         "问题代码": x["reason_code"]}).reset_index(drop=True)


def timeline_table(tl: pd.DataFrame, unit_id: str | None = None, *, ruleset: Ruleset) -> pd.DataFrame:
    """Units × steps as a table: for each step 按时（MM-DD）, 逾期N天（MM-DD）, 未报送, or
    未到期（MM-DD到期）, with a note where the file holds a later or wrong-year date (a date
    outside the round's year, the year of its deadlines, is written in full)."""
    x = tl if unit_id is None else tl[tl["unit_id"] == unit_id]
    if not len(x):
        return pd.DataFrame()
    uid, name = _id_name(ruleset)
    year = _main_year(x["deadline"])
    state = pd.Series(state_words(x["state"], x["days"], x["deadline"], TIMELINE_WORDS, year), index=x.index)
    sent = pd.Series([f"（{day_text(d, year)}）" if pd.notna(d) else "" for d in x["submitted_on"]], index=x.index)
    note = x["note"].map(lambda n: f"；{n}" if n else "")
    cell = state + sent + note
    wide = pd.DataFrame({uid: x["unit_id"], name: x["name"], "step": x["step"], "cell": cell}) \
        .pivot(index=[uid, name], columns="step", values="cell")
    steps = list(dict.fromkeys(x["step"]))
    deadlines = {s: day_text(d, year) for s, d in zip(x["step"], x["deadline"])}
    wide = wide[steps].rename(columns={s: f"{s}（{deadlines[s]}前）" for s in steps})
    order = list(dict.fromkeys(x["unit_id"]))
    return wide.reset_index().set_index(uid).loc[order].reset_index()


def lookback_table(cmp: pd.DataFrame | None, unit_id: str | None = None, *, ruleset: Ruleset) -> pd.DataFrame | None:
    """Year-over-year: 去年/今年/变化 for composite, satisfaction, rank, and whether each change
    is real: 是/否 from the two rounds' bootstrap replicates (stats.change), 未评估 when a round
    was scored without intervals or the unit is in one round only. None when there is no
    previous round (see :func:`lookback_note`)."""
    if cmp is None:  # no previous round
        return None
    x = cmp if unit_id is None else cmp[cmp["unit_id"] == unit_id]

    def words(col: str) -> pd.Series:
        return x[col].map({True: "是", False: "否"}).fillna("未评估").astype(str)

    uid, name = _id_name(ruleset)
    out = pd.DataFrame({
        uid: x["unit_id"], name: x["name"], "参评情况": x["presence"],
        "去年综合得分（分）": x["composite_prev"], "今年综合得分（分）": x["composite_now"],
        "综合得分变化（分）": x["composite_change"],
    })
    if "composite_change_lo" in x:
        out["变化区间（分）"] = [interval_text(lo, hi)
                            for lo, hi in zip(x["composite_change_lo"], x["composite_change_hi"])]
    out["变化是否显著"] = words("significant")
    out["去年群众满意度（%）"], out["今年群众满意度（%）"] = x["satisfaction_prev"], x["satisfaction_now"]
    out["群众满意度变化（百分点）"] = x["satisfaction_change"]
    out["满意度变化是否显著"] = words("satisfaction_significant")
    out["去年排名"], out["今年排名"] = x["rank_prev"].astype(object), x["rank_now"].astype(object)
    out["排名变化"] = x["rank_change"].astype(object)
    out["排名变化是否确实"] = words("rank_change_real")
    return out.reset_index(drop=True)


def lookback_dimensions(cmp: pd.DataFrame | None, unit_id: str, res: Results) -> pd.DataFrame:
    """One unit's questionnaire index per dimension, last year against this year."""
    if cmp is None:  # no previous round
        return None
    rs = res.ruleset
    row = cmp[cmp["unit_id"] == unit_id]
    cols = ["评议内容", "去年问卷调查指数", "今年问卷调查指数", "变化"]
    if not len(row):
        return pd.DataFrame(columns=cols)
    r = row.iloc[0]
    return pd.DataFrame({cols[0]: [rs.item_labels[i] for i in rs.scored_items],
                         cols[1]: [r[f"{i}_prev"] for i in rs.scored_items],
                         cols[2]: [r[f"{i}_now"] for i in rs.scored_items],
                         cols[3]: [r[f"{i}_change"] for i in rs.scored_items]})


def closure_table(cl: pd.DataFrame | None, unit_id: str | None = None, *, ruleset: Ruleset) -> pd.DataFrame | None:
    if cl is None:  # no previous round
        return None
    x = cl if unit_id is None else cl[cl["unit_id"] == unit_id]
    return pd.DataFrame({_id_name(ruleset)[0]: x["unit_id"], "去年编号": x["item_id"], "问题": x["problem"],
                         "去年状态": x["status_prev"], "回头看事项": x["followup_item"],
                         "今年状态": x["status_now"], "已整改到位": x["closed"].map({True: "是", False: "否"}),
                         "依据": x["by"]}).reset_index(drop=True)


def closure_overview(res: Results, cl: pd.DataFrame | None) -> pd.DataFrame:
    if cl is None:  # no previous round
        return None
    s = lookback.closure_summary(cl)
    names = dict(zip(cl["unit_id"], cl["name"]))  # as either round names it: a unit that left keeps its name
    uid, name = _id_name(res.ruleset)
    return pd.DataFrame({uid: s["unit_id"], name: s["unit_id"].map(names),
                         "去年整改事项（项）": s["items_prev"], "去年已完成（项）": s["done_prev"],
                         "今年回头看（项）": s["followed_up"], "已整改到位（项）": s["closed"]})


class FollowUp:
    """Everything the follow-up sections need, computed once per notebook.

    ``previous``: last year's scored round (None = no look-back); ``report_date``: the day
    the ledger is read ('' = the round's: round.toml, else the last date in the data);
    ``older``: the rounds before last year's (scored), most recent first, for the trend.
    ``report_day`` says which day, from where, and warns about a day long after the round.
    ``trend`` (followup.history.trend): every unit's figures in every year of the rounds given,
    None without a past round or when a round's year is unknown; ``open_past``
    (followup.history.open_items): the past rounds' rectification items still open (None likewise).
    """

    def __init__(self, res: Results, previous: Results | None = None, report_date: str = "",
                 older: list[Results] | None = None):
        ds = res.dataset
        self.res = res
        self.problems = themes.main_problems(ds)
        self.coverage = themes.coverage(ds)
        self.report_day = ledger.report_day(ds, report_date or None)
        self.report_date = pd.Timestamp(self.report_day.day)
        day = self.report_date
        self.ledger = ledger.ledger(ds, day)
        self.timeline = ledger.timeline(ds, day)
        self.previous = previous
        hist = history.read_unit_history(ds.path)
        # last year's round as today's ids name its units (unit_history.csv): a renamed unit is compared
        before = history.relabelled(previous, hist) if previous is not None else None
        self.compare = lookback.compare(res, before) if before is not None else None
        self.closure = lookback.closure(res, before, day) if before is not None else None
        found = [ledger.data_problems(ds)]
        if before is not None:  # a look-back item may name an item of any past round
            found.append(lookback.reference_problems(res, before, [history.relabelled(r, hist) for r in older or []]))
        self.data_problems = pd.concat(found, ignore_index=True)
        rounds = [res, *([previous] if previous is not None else []), *(older or [])]
        known = len(rounds) > 1 and all(r.dataset.round.year is not None for r in rounds)
        self.trend = history.trend(rounds, hist) if known else None
        self.open_past = history.open_items(rounds, day, hist) if known else None

    @functools.cached_property
    def dimension_problems(self) -> pd.DataFrame:
        """The main themes under each dimension, city-wide (text.themes.dimension_problems),
        read once when a page first asks (the unit pages never do)."""
        return themes.dimension_problems(self.res.dataset)
