"""The integrity section of the reports (评议纪律): frames with Chinese headings from ``res.integrity``.

What was flagged and excluded per unit, the bursts, the effect of the exclusion on
score, rank and consequences, the reviewed overrides, the confirmed violations and the
``worst`` listing (seed §六(三)). Notebooks and the command line show these frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.common.masking import mask_fingerprint, mask_personal_data
from pingyi_lib.common.numbers import format_number, format_rank, format_share
from pingyi_lib.integrity.policy import REASONS, REVIEW, Integrity
from pingyi_lib.scoring.results import Results

DECISIONS = {"exclude": "剔除", "keep": "保留", "": ""}


def _found(res: Results) -> Integrity:
    if res.integrity is None:
        raise ValueError("these results were scored without the integrity check (score(ds, integrity=False))")
    return res.integrity


def _reason_words(found: Integrity, reasons) -> str:
    return "、".join(found.label(r) for r in reasons)


def overview(res: Results, flagged_only: bool = True) -> pd.DataFrame:
    """Per unit: questionnaires, flagged, excluded, flagged share, suspicion (0-100) and the
    reasons with their counts; units with nothing flagged are left out unless asked for.

    Columns: 单位编码, 单位名称, 问卷, 标记, 剔除, 标记占比, 可疑度, 标记原因.
    """
    found = _found(res)
    u = found.units
    if flagged_only:
        u = u[(u["flagged"] > 0) | (u["excluded"] > 0)]
    u = u.sort_values(["suspicion", "unit_id"], ascending=[False, True], kind="stable")
    labels = res.ruleset.column_labels
    reasons = [", ".join(f"{found.label(r)} {int(row[r])}" for r in REASONS if row[r])
               for _, row in u.iterrows()]  # units: a few dozen rows
    return pd.DataFrame({
        labels["unit_id"]: u["unit_id"].to_numpy(), labels["name"]: u["name"].to_numpy(),
        "问卷": u["responses"].to_numpy(), "标记": u["flagged"].to_numpy(), "剔除": u["excluded"].to_numpy(),
        "标记占比": [format_share(x) for x in u["flagged_share"]],
        "可疑度": u["suspicion"].astype(float).to_numpy(), "标记原因": reasons,
    })


def reason_counts(res: Results, unit_id: str) -> pd.DataFrame:
    """One unit's questionnaires per reason, their share and what the policy does with them.

    Columns: 标记原因, 问卷, 占本单位问卷, 处理.
    """
    found = _found(res)
    u = found.units.set_index("unit_id").loc[unit_id]
    rows = []
    for r in REASONS:
        if u[r]:
            what = "剔除" if r == REVIEW or found.rules.reasons[r].exclude else "仅标记，待复核"
            rows.append({"标记原因": found.label(r), "问卷": int(u[r]),
                         "占本单位问卷": format_share(u[r] / u["responses"]) if u["responses"] else "—",
                         "处理": what})
    return pd.DataFrame(rows, columns=["标记原因", "问卷", "占本单位问卷", "处理"])


def unit_summary(res: Results, unit_id: str) -> str:
    """One paragraph: flagged, excluded, suspicion and what the exclusion changed."""
    found = _found(res)
    u = found.units.set_index("unit_id").loc[unit_id]
    if not u["flagged"] and not u["excluded"]:
        return f"{u['name']}本轮问卷{int(u['responses'])}份，问卷异常检测未发现疑似刷票问卷。"
    text = (f"{u['name']}本轮问卷{int(u['responses'])}份，其中{int(u['flagged'])}份被标记"
            f"（占{format_share(u['flagged_share'])}），可疑度{format_number(u['suspicion'], 1)}")
    if u["excluded"]:
        c = found.comparison.set_index("unit_id").loc[unit_id] if found.comparison is not None else None
        text += f"；按评议纪律规则剔除{int(u['excluded'])}份，不计入得分"
        if c is not None and pd.notna(c["composite"]):
            text += (f"，综合得分由{format_number(c['composite_without'])}分变为{format_number(c['composite'])}分"
                     f"（{format_number(c['composite_change'])}）")
    return text + "。是否认定为刷票，以市纠风办核查认定的违反评议纪律情况为准。"


def city_summary(res: Results) -> str:
    """One paragraph about the round: what was excluded and flagged, which units stand out."""
    found = _found(res)
    text = found.summary()
    u = found.units[found.units["flagged"] > 0].sort_values("suspicion", ascending=False)
    if len(u):
        text += "可疑度较高的单位：" + "、".join(f"{r.name}（{format_number(r.suspicion, 1)}）"
                                         for r in u.head(5).itertuples(index=False)) + "。"
    return text


def episodes(res: Results, unit_id: str | None = None) -> pd.DataFrame:
    """The bursts (短时集中提交) of one unit or all, earliest first.

    Columns: 单位名称, 渠道, 开始, 结束, 问卷, 终端数, 各项同档, 有意见, 平常约.
    """
    found = _found(res)
    b = found.bursts
    if unit_id is not None:
        b = b[b["unit_id"] == unit_id]
    names = res.units.set_index("unit_id")["name"]
    cols = ["单位名称", "渠道", "开始", "结束", "问卷", "终端数", "各项同档", "有意见", "平常约"]
    if not len(b):
        return pd.DataFrame(columns=cols)
    b = b.sort_values(["start", "unit_id"], kind="stable")
    return pd.DataFrame({
        "单位名称": b["unit_id"].map(names).to_numpy(),
        "渠道": b["channel"].map(lambda c: res.ruleset.channels.get(c, c)).to_numpy(),
        "开始": [f"{t:%Y-%m-%d %H:%M}" for t in b["start"]], "结束": [f"{t:%Y-%m-%d %H:%M}" for t in b["end"]],
        "问卷": b["responses"].astype(np.int64).to_numpy(), "终端数": b["fingerprints"].astype(np.int64).to_numpy(),
        "各项同档": [format_share(x) for x in b["straightline_share"]],
        "有意见": [format_share(x) for x in b["comment_share"]],
        "平常约": [format_number(x, 1) for x in b["expected"]],
    }, columns=cols)


def effect(res: Results, unit_id: str | None = None, changed_only: bool = False) -> pd.DataFrame:
    """Score, rank and consequences with the exclusion (as published) and without it.

    Columns: 单位编码, 单位名称, 剔除问卷, 问卷调查(剔除后), 问卷调查(不剔除), 综合得分(剔除后),
    综合得分(不剔除), 变化, 排名(剔除后), 排名(不剔除), 结果运用(剔除后), 结果运用(不剔除).
    """
    found = _found(res)
    c = found.comparison
    if unit_id is not None:
        c = c[c["unit_id"] == unit_id]
    if changed_only:
        c = c[c["changed"] | (c["excluded"] > 0)]
    labels = res.ruleset.column_labels
    s, k = labels["survey_index"], labels["composite"]
    return pd.DataFrame({
        labels["unit_id"]: c["unit_id"].to_numpy(), labels["name"]: c["name"].to_numpy(),
        "剔除问卷": c["excluded"].to_numpy(),
        f"{s}(剔除后)": c["survey_index"].astype(float).to_numpy(),
        f"{s}(不剔除)": c["survey_index_without"].astype(float).to_numpy(),
        f"{k}(剔除后)": c["composite"].astype(float).to_numpy(),
        f"{k}(不剔除)": c["composite_without"].astype(float).to_numpy(),
        "变化": c["composite_change"].astype(float).to_numpy(),
        "排名(剔除后)": [format_rank(x) for x in c["rank"]],
        "排名(不剔除)": [format_rank(x) for x in c["rank_without"]],
        "结果运用(剔除后)": c["flags"].to_numpy(), "结果运用(不剔除)": c["flags_without"].to_numpy(),
    })


def flagged_rows(res: Results, unit_id: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """The flagged or reviewed questionnaires, most suspicious first (ties: file order).

    Columns: 问卷编号, 单位编码, 提交时间, 渠道, 终端标识 (masked: its first characters), 标记原因, 处理, 说明.
    """
    found = _found(res)
    r = found.rows
    if unit_id is not None:
        r = r[r["unit_id"] == unit_id]
    r = r.sort_values(["suspicion", "row"], ascending=[False, True], kind="stable")
    if limit is not None:
        r = r.head(limit)
    what = np.where(r["excluded"], "剔除", np.where(r["decision"] == "keep", "保留（复核）", "仅标记"))
    return pd.DataFrame({
        "问卷编号": r["response_id"].to_numpy(), res.ruleset.column_labels["unit_id"]: r["unit_id"].to_numpy(),
        "提交时间": [f"{t:%Y-%m-%d %H:%M:%S}" if pd.notna(t) else "" for t in pd.to_datetime(r["submitted_at"])],
        "渠道": r["channel"].map(lambda c: res.ruleset.channels.get(c, c)).to_numpy(),
        "终端标识": r["fingerprint"].map(mask_fingerprint).to_numpy(),
        "标记原因": [_reason_words(found, x) for x in r["reasons"]],
        "处理": what, "说明": r["detail"].to_numpy(),
    })


def reviews(res: Results, unit_id: str | None = None) -> pd.DataFrame:
    """The reviewed overrides as applied (the audit trail).

    Columns: 复核表行, 问卷编号, 单位编码, (复核时段, when a row decides a whole period,)
    处理决定, 复核意见, 复核人, 检测原因, 结果.
    """
    found = _found(res)
    v = found.reviews
    if unit_id is not None:
        v = v[v["unit_id"] == unit_id]
    out = pd.DataFrame({
        "复核表行": v["row"].astype(np.int64).to_numpy(), "问卷编号": v["response_id"].to_numpy(),
        res.ruleset.column_labels["unit_id"]: v["unit_id"].to_numpy(),
        "处理决定": v["decision"].map(DECISIONS).to_numpy(), "复核意见": v["note"].to_numpy(),
        "复核人": v["reviewer"].to_numpy(), "检测原因": [_reason_words(found, x) for x in v["reasons"]],
        "结果": v["outcome"].to_numpy(),
    })
    if "period" in v and (v["period"] != "").any():
        out.insert(3, "复核时段", v["period"].to_numpy())
    return out


def violations(res: Results, unit_id: str | None = None) -> pd.DataFrame:
    """Reported breaches of evaluation discipline and whether they were confirmed; a
    confirmed one makes the unit the worst (最差单位). Summaries are masked like quotes.

    Columns: 单位名称, 类别, 情况摘要, 是否认定, 结果运用.
    """
    v = res.dataset.violations
    if unit_id is not None:
        v = v[v["unit_id"] == unit_id]
    names = res.units.set_index("unit_id")["name"]
    confirmed = v["confirmed"].astype(bool).to_numpy()
    worst = res.ruleset.flags["worst"].label
    return pd.DataFrame({
        "单位名称": v["unit_id"].map(names).to_numpy(), "类别": v["kind"].to_numpy(),
        "情况摘要": v["summary"].map(mask_personal_data).to_numpy(), "是否认定": confirmed,
        "结果运用": np.where(confirmed, worst, "不予认定，不影响排名"),
    })


def worst(res: Results) -> pd.DataFrame:
    """The units listed as worst (最差单位) and why."""
    c = res.consequences[res.consequences["flag"] == "worst"]
    return c[["name", "reason", "consequence"]].rename(columns={"name": "单位名称", "reason": "原因",
                                                                "consequence": "结果运用"}).reset_index(drop=True)


def timeline(res: Results, unit_id: str | None = None, freq: str | None = None) -> pd.DataFrame:
    """Questionnaires per time bin for one unit (or every unit with something flagged),
    counting excluded ones too, with how many of each bin were in a burst.

    ``freq``: a pandas frequency; default the burst window (``[integrity.burst]``).
    Columns: unit_id, name, start, responses, burst, excluded.
    """
    found = _found(res)
    freq = freq or f"{found.rules.burst_window_minutes:g}min"
    rows = found.rows
    units = [unit_id] if unit_id is not None else list(found.units.loc[found.units["flagged"] > 0, "unit_id"])
    sv = res.dataset.survey
    kept = sv.loc[sv["unit_id"].isin(units), ["unit_id", "submitted_at"]] if "submitted_at" in sv \
        else pd.DataFrame(columns=["unit_id", "submitted_at"])
    gone = rows.loc[rows["excluded"] & rows["unit_id"].isin(units), ["unit_id", "submitted_at"]]
    burst = rows.loc[rows["unit_id"].isin(units) & rows["reasons"].map(lambda r: "burst" in r),
                     ["unit_id", "submitted_at"]]
    cols = ["unit_id", "name", "start", "responses", "burst", "excluded"]
    if not len(kept) + len(gone) or not units:
        return pd.DataFrame(columns=cols)

    def binned(f: pd.DataFrame) -> pd.Series:
        f = f.dropna(subset=["submitted_at"])
        t = pd.to_datetime(f["submitted_at"]).dt.floor(freq)
        return f.groupby([f["unit_id"], t.rename("start")]).size()

    n = binned(pd.concat([kept, gone], ignore_index=True))
    out = pd.DataFrame({"responses": n})
    out["burst"] = binned(burst).reindex(out.index, fill_value=0)
    out["excluded"] = binned(gone).reindex(out.index, fill_value=0)
    out = out.reset_index()
    out["name"] = out["unit_id"].map(res.units.set_index("unit_id")["name"])
    return out[cols].astype({"responses": np.int64, "burst": np.int64, "excluded": np.int64})


def _when(t) -> str:
    # to the minute, as a reviewer copies it into 问卷复核表 (an end to the minute includes that minute)
    return f"{pd.Timestamp(t):%Y-%m-%d %H:%M}"


def _words(flags) -> str:
    return flags if isinstance(flags, str) and flags else "无"


def _moved(name: str, before, after) -> str:
    return f"{name}的结果运用由“{_words(before)}”变为“{_words(after)}”"


def periods_note(res: Results) -> str:
    """What a suspicious period is, in one paragraph above its table."""
    rules = res.ruleset.integrity.period
    if rules is None:
        return "本轮规则未设置可疑时段检测（[integrity.period]）。"
    return (f"可疑时段：某单位连续几天（最多{rules.max_days}天）的问卷与本单位其他日子相比，"
            "在答案分布、各题答案的一致性、提交节奏、提交时刻或答卷人身份类别上的差异超出偶然（全轮误报概率不超过"
            f"{format_share(rules.false_alarm)}）。下表给出不计该时段问卷时的得分、排名和结果运用；"
            "正式结果不变，除非评议办复核后决定剔除：在问卷复核表中写单位编码、时段开始、时段结束和处理决定"
            "（问卷编号留空），即按时段处理该单位这段时间的全部问卷。")


def periods(res: Results, unit_id: str | None = None) -> pd.DataFrame:
    """The suspicious periods (可疑时段) of one unit or all, and the unit's result without each.

    Columns: 单位名称, 可疑时段, 问卷, 符合异常, 依据, 综合得分, 不计该时段, 排名, 不计该时段排名,
    结果运用, 不计该时段结果运用.
    """
    a = _found(res).alerts
    if unit_id is not None:
        a = a[a["unit_id"] == unit_id]
    k = res.ruleset.column_labels["composite"]
    cols = ["单位名称", "可疑时段", "问卷", "符合异常", "依据", k, "不计该时段", "排名", "不计该时段排名",
            "结果运用", "不计该时段结果运用"]
    if not len(a):
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({
        "单位名称": a["name"].to_numpy(), "可疑时段": [f"{_when(s)}至{_when(e)}" for s, e in zip(a["start"], a["end"])],
        "问卷": a["responses"].to_numpy(), "符合异常": a["flagged"].to_numpy(), "依据": a["evidence"].to_numpy(),
        k: a["composite"].astype(float).to_numpy(), "不计该时段": a["composite_without"].astype(float).to_numpy(),
        "排名": [format_rank(x) for x in a["rank"]], "不计该时段排名": [format_rank(x) for x in a["rank_without"]],
        "结果运用": [_words(x) for x in a["flags"]], "不计该时段结果运用": [_words(x) for x in a["flags_without"]],
    }, columns=cols)


def without_flagged(res: Results, unit_id: str | None = None, changed_only: bool = True) -> pd.DataFrame:
    """Score, rank and consequences as published and with every flagged questionnaire (not only
    the excluded) left out.

    Columns: 单位编码, 单位名称, 综合得分, 不计被标记问卷, 排名, 不计被标记问卷排名, 结果运用,
    不计被标记问卷结果运用.
    """
    c = _found(res).comparison
    if unit_id is not None:
        c = c[c["unit_id"] == unit_id]
    if changed_only:
        c = c[c["changed_without_flagged"]]
    labels = res.ruleset.column_labels
    k = labels["composite"]
    return pd.DataFrame({
        labels["unit_id"]: c["unit_id"].to_numpy(), labels["name"]: c["name"].to_numpy(),
        k: c["composite"].astype(float).to_numpy(),
        "不计被标记问卷": c["composite_without_flagged"].astype(float).to_numpy(),
        "排名": [format_rank(x) for x in c["rank"]],
        "不计被标记问卷排名": [format_rank(x) for x in c["rank_without_flagged"]],
        "结果运用": [_words(x) for x in c["flags"]],
        "不计被标记问卷结果运用": [_words(x) for x in c["flags_without_flagged"]],
    })


def period_changes(res: Results, unit_id: str | None = None) -> list[dict]:
    """What the headlines say when leaving questionnaires out would change a consequence, for
    any unit of the league, either way: one entry per suspicious period (of ``unit_id``, or
    naming it), and one for leaving every flagged questionnaire out. Each: ``text`` (a
    sentence) and ``unit_ids`` (the units whose consequences change, the period's first)."""
    found = _found(res)
    names = res.units.set_index("unit_id")["name"]
    out = []
    for a in found.alerts.itertuples(index=False):
        changes = list(a.league_changes)
        ids = tuple(dict.fromkeys([a.unit_id, *(u for u, _, _ in changes)]))
        if not changes or (unit_id is not None and unit_id not in ids):
            continue
        moved = "；".join(_moved(names.get(u, u), f, g) for u, f, g in changes)
        why = a.evidence.split("。")[0]
        out.append({"unit_ids": ids, "text": (
            f"{a.name}{_when(a.start)}至{_when(a.end)}的{int(a.responses)}份问卷为可疑时段（{why}）。"
            f"不计这一时段，{a.name}排名{format_rank(a.rank)}→{format_rank(a.rank_without)}，{moved}。"
            "正式结果不变，除非评议办复核后决定剔除（integrity_review.csv）。")})
    c = found.comparison
    if c is not None and "flags_without_flagged" in c:
        moved = c[c["flags"].fillna("") != c["flags_without_flagged"].fillna("")]
        if unit_id is not None and unit_id not in set(moved["unit_id"]):
            moved = moved.iloc[0:0]
        if len(moved):
            out.append({"unit_ids": tuple(moved["unit_id"]), "text": "不计全部被标记（未剔除）的问卷，" + "；".join(
                _moved(r.name, r.flags, r.flags_without_flagged) for r in moved.itertuples(index=False))
                + "。正式结果不变。"})
    return out
