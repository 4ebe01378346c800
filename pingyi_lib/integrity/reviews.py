"""Reviewed decisions on a whole period: rows of ``integrity_review.csv`` that name a unit and a
period (单位编码, 时段开始, 时段结束) instead of one questionnaire.

    >>> ex = expand(review, sv)     # review: the validated table; sv: the round's questionnaires
    >>> ex.rows                     # one decision per questionnaire: the single rows as given, then
    ...                             # every questionnaire of each reviewed period
    >>> ex.periods                  # one line per period row: what it covered, for the audit trail

A period covers the unit's questionnaires submitted from its start up to and including its end;
an end written as a date only (time 0:00) includes that whole day, an end to the minute that
whole minute. A decision on one questionnaire wins over a period's; of two periods that cover the
same questionnaire, the row further down the table wins (a later decision replaces an earlier one).
A period row without a unit, a start or an end, with its end before its start, or covering no
questionnaire, is not applied and says so in a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DECISION_COLUMNS = ["row", "response_id", "decision", "note", "reviewer", "period"]
PERIOD_COLUMNS = ["row", "unit_id", "start", "end", "words", "decision", "note", "reviewer", "positions",
                  "overridden"]


@dataclass(frozen=True)
class Expanded:
    """``rows``: the decisions per questionnaire (DECISION_COLUMNS; ``period`` is '' for a single
    row, else the period in words); ``periods``: one line per period row that was applied
    (PERIOD_COLUMNS; ``positions`` are the rows of ``sv`` it decides, ``overridden`` how many of the
    questionnaires it covers another review row decides instead); ``warnings``: one line per row
    that was not applied."""

    rows: pd.DataFrame
    periods: pd.DataFrame
    warnings: tuple[str, ...]


def period_stop(end: pd.Timestamp) -> pd.Timestamp:
    """The first moment after a written end: a date only → the next day, a minute → the next minute.

    >>> str(period_stop(pd.Timestamp("2011-08-05"))), str(period_stop(pd.Timestamp("2011-08-05 21:30")))
    ('2011-08-06 00:00:00', '2011-08-05 21:31:00')
    """
    if end == end.normalize():
        return end + pd.Timedelta(days=1)
    if end.second == 0 and end.microsecond == 0:
        return end + pd.Timedelta(minutes=1)
    return end + pd.Timedelta(seconds=1)


def _when(t: pd.Timestamp) -> str:
    return f"{t:%Y-%m-%d}" if t == t.normalize() else f"{t:%Y-%m-%d %H:%M}" if t.second == 0 \
        else f"{t:%Y-%m-%d %H:%M:%S}"


def period_words(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """‘2011-08-03 21:00至2011-08-06’: a period as the reviewer wrote it."""
    return f"{_when(start)}至{_when(end)}"


def _text(review: pd.DataFrame, column: str) -> np.ndarray:
    if column not in review:
        return np.full(len(review), "", dtype=object)
    return review[column].fillna("").astype(str).to_numpy(dtype=object)


def _times(review: pd.DataFrame, column: str) -> pd.Series:
    if column not in review:
        return pd.Series(pd.NaT, index=review.index, dtype="datetime64[ns]")
    return pd.to_datetime(review[column])


def expand(review: pd.DataFrame, sv: pd.DataFrame) -> Expanded:
    """The decisions of ``review`` per questionnaire of ``sv`` (see module doc)."""
    ids = _text(review, "response_id")
    single = ids != ""
    rows = np.asarray(review["row"].to_numpy(), dtype=np.int64) if "row" in review \
        else np.arange(len(review), dtype=np.int64) + 2
    units = _text(review, "unit_id")
    start, end = _times(review, "period_start"), _times(review, "period_end")
    decision, note, reviewer = _text(review, "decision"), _text(review, "note"), _text(review, "reviewer")
    first = pd.DataFrame({"row": rows[single], "response_id": ids[single], "decision": decision[single],
                          "note": note[single], "reviewer": reviewer[single], "period": ""})
    warnings: list[str] = []
    t = None  # the submission times, read when a period row asks (a round of millions keeps no copy otherwise)
    lines = []
    for i in np.flatnonzero(~single):
        where = f"问卷复核表第{rows[i]}行"
        s, e = start.iloc[i], end.iloc[i]
        if not units[i] or pd.isna(s) or pd.isna(e):
            warnings.append(f"{where}：没有问卷编号，也没有写全单位编码、时段开始和时段结束，该复核决定未执行")
            continue
        words = period_words(s, e)
        if period_stop(e) <= s:  # an end of a date only takes its whole day: 20:00 to that date is fine
            warnings.append(f"{where}：时段结束（{_when(e)}）早于时段开始（{_when(s)}），该复核决定未执行")
            continue
        if t is None:
            at = pd.to_datetime(sv["submitted_at"]) if "submitted_at" in sv else pd.Series(pd.NaT, index=sv.index)
            t = at.to_numpy(dtype="datetime64[ns]")
        inside = (sv["unit_id"] == units[i]).to_numpy(dtype=bool) & (t >= s.to_datetime64()) \
            & (t < period_stop(e).to_datetime64())
        positions = np.flatnonzero(inside)
        if not len(positions):
            warnings.append(f"{where}：单位 {units[i]} 在 {words} 没有已接受的问卷，该复核决定未执行")
            continue
        lines.append({"row": rows[i], "unit_id": units[i], "start": s, "end": e, "words": words,
                      "decision": decision[i], "note": note[i], "reviewer": reviewer[i], "positions": positions})
    periods = pd.DataFrame(lines, columns=PERIOD_COLUMNS[:-1])
    parts = [pd.DataFrame({  # the ids of the period's questionnaires only: no Python string per row of the round
        "row": p.row, "response_id": sv["response_id"].iloc[p.positions].to_numpy(dtype=object), "decision": p.decision,
        "note": f"按时段复核（{p.unit_id}，{p.words}）" + (f"：{p.note}" if p.note else ""),
        "reviewer": p.reviewer, "period": p.words}) for p in periods.itertuples(index=False)]
    covered = pd.concat(parts[::-1], ignore_index=True) if parts else pd.DataFrame(columns=DECISION_COLUMNS)
    # a later period row replaces an earlier one; a decision on one questionnaire replaces both
    winner = covered.drop_duplicates("response_id", keep="first")
    winner = winner[~winner["response_id"].isin(set(first["response_id"]))]
    won = winner.groupby("row").size()
    periods["overridden"] = [len(p.positions) - int(won.get(p.row, 0)) for p in periods.itertuples(index=False)]
    out = pd.concat([first, winner.sort_values("row", kind="stable")], ignore_index=True)[DECISION_COLUMNS]
    return Expanded(out, periods, tuple(warnings))


def period_audit(ex: Expanded, flagged: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """One line of the audit trail per applied period row (``columns``: the policy's REVIEW_COLUMNS);
    ``flagged``: the policy's rows (response_id, reasons, policy_excluded, excluded), which hold
    every questionnaire a review decided."""
    if not len(ex.periods):
        return pd.DataFrame(columns=columns)
    by_id = flagged.set_index("response_id")
    decided = ex.rows[ex.rows["period"] != ""]
    out = []
    for p in ex.periods.itertuples(index=False):
        hit = by_id.reindex(decided.loc[decided["row"] == p.row, "response_id"])
        n, other = len(hit), int(p.overridden)
        marked = int(sum(any(c != "review" for c in r) for r in hit["reasons"]))
        if p.decision == "exclude":
            outcome = f"按时段剔除{n}份（其中检测标记{marked}份）"
        else:
            outcome = f"按时段保留{n}份（其中推翻自动剔除{int(hit['policy_excluded'].sum())}份）"
        if other:
            outcome += f"；另有{other}份按其他复核行的决定"
        out.append({"row": p.row, "response_id": "", "unit_id": p.unit_id, "decision": p.decision, "note": p.note,
                    "reviewer": p.reviewer, "reasons": (), "policy_excluded": bool(hit["policy_excluded"].any()),
                    "excluded": bool(hit["excluded"].any()), "outcome": outcome, "period": p.words})
    return pd.DataFrame(out)[columns]
