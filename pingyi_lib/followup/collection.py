"""The collection window (问卷调查期): how far each unit's questionnaires have come on a day,
while there is still time to act (``pingyi progress``; docs/progress.md).

Read as of a day: only questionnaires submitted on or before it count (the day itself counts
whole). Questionnaires without a submission time are in the file now, so they count, and are
reported apart (``undated``). Per unit:

- ``received``: every questionnaire row of the unit by that day, accepted or rejected;
- ``rejected`` (by the data checks), ``excluded`` (by the integrity policy, on the rows so far),
  ``unscored`` (accepted, not excluded, without one scored answer), ``valid`` (the rest:
  accepted and counted), so ``received = valid + rejected + excluded + unscored``;
- ``minimum`` (``minimum.survey``), ``short_by = max(0, minimum - valid)``;
- the pace: valid questionnaires of the last ``progress.rate_days`` days (fewer at the start
  of the window), the projected day of the minimum (and of the quota, ``units.quota``) with
  a range, the chance of reaching the minimum by the deadline and ``at_risk`` when it is below
  ``progress.at_risk`` (stats/arrivals.py);
- the respondent mix against the ruleset's targets (:func:`mix_gaps`), the on-site panels
  against the ≥ 50% rule, and the integrity alerts so far.

Everything is counted once per unit and day from the compact rows (never the table).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pingyi_lib.common.errors import RulesetError
from pingyi_lib.dataset.load import Dataset, isin
from pingyi_lib.dataset.validate import QUARANTINE_TIME
from pingyi_lib.integrity.policy import check, survey_window
from pingyi_lib.scheme.ruleset import INTEGRITY_REASONS, Ruleset
from pingyi_lib.scoring.counts import has_scored_answer
from pingyi_lib.scoring.results import component_counts
from pingyi_lib.stats.arrivals import reach_chance, reach_day
from pingyi_lib.stats.mix import UNSTATED  # a questionnaire without a respondent category

EPS = 1e-9  # shares times counts are compared after this much rounding slack

UNIT_COLUMNS = ["unit_id", "name", "level", "received", "valid", "rejected", "excluded", "unscored", "undated",
                "minimum", "short_by", "recent", "recent_days", "rate", "reached_on", "projected_day",
                "projected_from", "projected_to", "chance", "at_risk", "quota", "quota_short_by",
                "quota_projected_day", "quota_projected_from", "quota_projected_to", "flagged"]


@dataclass(frozen=True)
class Progress:
    """A round's collection as of one day (see the module doc).

    ``units``: one row per unit (:data:`UNIT_COLUMNS`); days are ``datetime.date`` or None.
    ``daily``: valid questionnaires per unit (rows) and day (columns, the window's first day or
    the first day with data, to ``as_of``), cumulative; undated ones count from the first day.
    ``mix``: per unit and target category (``unit_id, category, target, questionnaires,
    achieved, needed``), ``onsite``: per unit with ballots (``unit_id, ballots, public, share,
    compliant``), ``alerts``: per unit and reason (``unit_id, reason, label, count``).
    ``unattributed``: rejected rows by the day whose unit is not a unit of the round.
    """

    as_of: dt.date
    start: dt.date | None
    deadline: dt.date | None
    units: pd.DataFrame
    daily: pd.DataFrame
    mix: pd.DataFrame
    onsite: pd.DataFrame
    alerts: pd.DataFrame
    unattributed: int
    level: float  # central probability of the projected ranges
    at_risk_below: float

    @property
    def days_left(self) -> int | None:
        """Whole days after ``as_of`` up to and including the deadline (0 on and after it)."""
        return None if self.deadline is None else max(0, (self.deadline - self.as_of).days)

    @property
    def started(self) -> bool:
        return self.start is None or self.as_of >= self.start

    @property
    def at_risk(self) -> pd.DataFrame:
        return self.units[self.units["at_risk"].fillna(False).astype(bool)]

    def totals(self) -> dict[str, int]:
        u = self.units
        out = {k: int(u[k].sum()) for k in ("received", "valid", "rejected", "excluded", "unscored", "undated")}
        out["received"] += self.unattributed
        out["rejected"] += self.unattributed
        out.update(units=len(u), reached=int((u["short_by"] == 0).sum()), at_risk=len(self.at_risk),
                   unattributed=self.unattributed)
        return out


def default_day(ds: Dataset, today: dt.date | None = None) -> dt.date:
    """The day progress is read when none is given: today, held inside the round's survey
    window (a round that is over reads as of its last day, one not started as of its first);
    a round without a window reads as of today or its last date, whichever is earlier."""
    today = today or dt.date.today()
    window = survey_window(ds, ds.ruleset)
    if window is None:
        last = ds.round.last_date if ds.round is not None else None
        return min(today, last) if last else today
    start, end = (w.date() for w in window)
    return min(max(today, start), end)


def progress(ds: Dataset, as_of: dt.date | None = None, today: dt.date | None = None) -> Progress:
    """The collection of ``ds`` as of ``as_of`` (default: :func:`default_day`)."""
    rs = ds.ruleset
    rules = rs.progress
    if rules is None:
        raise RulesetError("评议规则中没有 [progress] 一节（问卷收集进度的规则）；请加上 rate_days、level 和 "
                           "at_risk 三项（见 docs/ruleset.md）", path=rs.source, key="progress")
    day = as_of or default_day(ds, today)
    window = survey_window(ds, rs)
    start, deadline = (None, None) if window is None else (window[0].date(), window[1].date())
    cut = pd.Timestamp(day) + pd.Timedelta(days=1)  # the whole day counts

    rows = ds.compact_rows("survey")
    later = (rows["submitted_at"] >= cut).to_numpy() if "submitted_at" in rows else np.zeros(len(rows), bool)
    if later.any():  # the ids as a list from Arrow: iterating an Arrow column in Python takes seconds
        import pyarrow as pa

        late = rows["response_id"][later]
        ids = pa.array(late.array).to_pylist() if late.dtype != object else list(late)
        now = ds.without_rows("survey", set(ids), ds.quarantine.iloc[:0])
    else:
        now = ds
    found = check(now)
    rows = now.compact_rows("survey")

    units = ds.units
    ids = pd.Index(units["unit_id"])
    unit = _codes(rows["unit_id"], ids)  # every accepted row names a unit of the round
    n_units = len(ids)
    excluded = isin(rows["response_id"], found.rows.loc[found.rows["excluded"], "response_id"])
    scored = has_scored_answer(rows, rs)
    valid = scored & ~excluded
    at = rows["submitted_at"].to_numpy() if "submitted_at" in rows else np.full(len(rows), np.datetime64("NaT"))
    dated = ~np.isnat(at)

    def per_unit(mask) -> np.ndarray:
        return np.bincount(unit[mask], minlength=n_units)

    rejected, rejected_undated, unattributed = _rejected(ds, ids, cut)
    out = pd.DataFrame({"unit_id": ids, "name": units["name"].to_numpy(), "level": units["level"].to_numpy()})
    out["valid"] = per_unit(valid)
    out["excluded"] = per_unit(excluded)
    out["unscored"] = per_unit(~scored & ~excluded)
    out["rejected"] = rejected
    out["received"] = out["valid"] + out["excluded"] + out["unscored"] + out["rejected"]
    out["undated"] = per_unit(~dated) + rejected_undated
    out["minimum"] = rs.min_survey
    out["short_by"] = np.maximum(0, rs.min_survey - out["valid"])

    first = start if start is not None and start <= day else None
    days = _days(at[valid & dated], first, day)
    counts = _daily(at[valid & dated], unit[valid & dated], days, n_units)
    cumulative = np.cumsum(counts, axis=1) + per_unit(valid & ~dated)[:, None]
    daily = pd.DataFrame(cumulative, index=ids, columns=days)

    recent_days = rules.rate_days if start is None else max(0, min(rules.rate_days, (day - start).days + 1))
    recent_from = pd.Timestamp(day - dt.timedelta(days=max(recent_days, 1) - 1))
    recent = per_unit(valid & dated & (at >= recent_from.to_datetime64()) & (at < cut.to_datetime64()))
    out["recent"] = recent
    out["recent_days"] = recent_days
    out["rate"] = recent / recent_days if recent_days else np.nan
    out["reached_on"] = _reached_on(daily, rs.min_survey)

    left = None if deadline is None else max(0, (deadline - day).days)
    judged = recent_days > 0 and deadline is not None  # a pace and a deadline to set it against
    short = out["short_by"].to_numpy()
    chance = reach_chance(recent, max(recent_days, 1), short, left or 0) if judged else np.full(n_units, np.nan)
    out["chance"] = np.where(short == 0, 1.0, chance)
    out["at_risk"] = pd.Series([bool(c < rules.at_risk) if judged else None if g else False  # None: cannot judge
                                for g, c in zip(short, chance)], dtype=object)
    out["quota"] = _quota(units)
    has_quota = ~np.isnan(out["quota"].to_numpy())
    quota_short = np.where(has_quota, np.maximum(0, np.nan_to_num(out["quota"].to_numpy()) - out["valid"]), 0)
    out["quota_short_by"] = np.where(has_quota, quota_short, np.nan)
    quota_reached = _reached_on(daily, out["quota"].to_numpy())
    q_lo, q_hi = (1 - rules.level) / 2, (1 + rules.level) / 2
    for prefix, gap, hit, on in (("projected", short, short == 0, out["reached_on"]),
                                 ("quota_projected", quota_short.astype(np.int64), has_quota & (quota_short == 0),
                                  quota_reached)):
        for name, q in ((f"{prefix}_day", 0.5), (f"{prefix}_from", q_lo), (f"{prefix}_to", q_hi)):
            d = reach_day(recent, max(recent_days, 1), gap, q) if recent_days else np.full(n_units, -1)
            out[name] = [r if h else None if g == 0 or k < 0 else day + dt.timedelta(days=int(k))
                         for g, k, h, r in zip(gap, d, hit, on)]
    out["flagged"] = found.units["flagged"].to_numpy()

    cats = rows["respondent_category"] if "respondent_category" in rows else pd.Series("", index=rows.index)
    mix = mix_gaps(out, cats[valid], unit[valid], rs)
    return Progress(day, start, deadline, out[UNIT_COLUMNS], daily, mix, _onsite(ds), _alerts(found),
                    unattributed, rules.level, rules.at_risk)


def _codes(values: pd.Series, ids: pd.Index) -> np.ndarray:
    """Positions in ``ids`` of ``values`` (each distinct value looked up once)."""
    cat = values.astype("category")
    return ids.get_indexer(cat.cat.categories.astype(str))[cat.cat.codes.to_numpy()]


def _rejected(ds: Dataset, ids: pd.Index, cut: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, int]:
    """Rejected questionnaire rows by the day (submitted before ``cut`` or without a time):
    per unit, of them without a time per unit, and those of no unit of the round."""
    q = ds.quarantine
    q = q[(q["table"] == "survey") & ~q["reason_code"].astype(str).str.startswith("integrity_")]
    at = q[QUARANTINE_TIME] if QUARANTINE_TIME in q else pd.Series(pd.NaT, index=q.index)
    undated = at.isna().to_numpy()
    by_day = undated | (at < cut).to_numpy()
    pos = ids.get_indexer(q["unit_id"].astype(str))
    known = pos >= 0
    per = np.bincount(pos[known & by_day], minlength=len(ids))
    per_undated = np.bincount(pos[known & undated], minlength=len(ids))
    return per, per_undated, int((~known & by_day).sum())


def _days(at: np.ndarray, first: dt.date | None, day: dt.date) -> list[dt.date]:
    """The days of the cumulative table: from the window's first day (or the first day with a
    valid questionnaire, if earlier or the window is unknown) to ``day``."""
    begin = first or day
    if len(at):
        earliest = pd.Timestamp(at.min()).date()
        begin = min(begin, earliest)
    n = (day - begin).days + 1
    return [begin + dt.timedelta(days=i) for i in range(max(n, 1))]


def _daily(at: np.ndarray, unit: np.ndarray, days: list[dt.date], n_units: int) -> np.ndarray:
    """Valid questionnaires per unit and day (rows: units; columns: ``days``)."""
    first = np.datetime64(days[0], "D")
    d = (at.astype("datetime64[D]") - first).astype(np.int64)
    return np.bincount(unit * len(days) + d, minlength=n_units * len(days)).reshape(n_units, len(days))


def _reached_on(daily: pd.DataFrame, minimum) -> list[dt.date | None]:
    """The first day each unit's cumulative valid questionnaires reached ``minimum`` (a number,
    or one per unit; NaN: none)."""
    c = daily.to_numpy()
    if not c.shape[1]:
        return [None] * len(c)
    hit = c >= np.broadcast_to(np.asarray(minimum, dtype=float), (len(c),))[:, None]
    first = hit.argmax(axis=1)
    return [daily.columns[j] if hit[i, j] else None for i, j in enumerate(first)]


def _quota(units: pd.DataFrame) -> np.ndarray:
    if "quota" not in units:
        return np.full(len(units), np.nan)
    q = pd.to_numeric(units["quota"], errors="coerce").to_numpy(dtype=float)
    return np.where(q > 0, np.ceil(q - EPS), np.nan)


def needed(target: float, have: int, total: int, planned: int) -> int:
    """How many more questionnaires of one category meet its target share ``target``: enough
    that the category holds its share of the planned size (``planned``: the quota, else the
    minimum) and, counting the added ones, of all the unit's questionnaires so far
    (``(have + x) / (total + x) ≥ target``)."""
    by_plan = target * max(planned, total) - have
    by_share = (target * total - have) / (1 - target) if target < 1 else (math.inf if total > have else 0)
    return max(0, math.ceil(by_plan - EPS), math.ceil(by_share - EPS))


def mix_gaps(units: pd.DataFrame, cats: pd.Series, unit: np.ndarray, rs: Ruleset) -> pd.DataFrame:
    """Per unit and category of its level's targets (``[respondent_mix]``): the valid
    questionnaires of that category so far (``cats``, one per valid questionnaire, of the unit
    at the same position of ``unit``), their share, and :func:`needed`. Categories the targets
    do not list are left out (they keep what they have, as in stats/mix.py)."""
    cols = ["unit_id", "category", "target", "questionnaires", "achieved", "needed"]
    cat = cats.astype("category")
    names = [UNSTATED if c == "" else str(c) for c in cat.cat.categories]
    code = cat.cat.codes.to_numpy().astype(np.int64)
    got = np.bincount(unit * len(names) + code, minlength=len(units) * len(names)).reshape(len(units), len(names)) \
        if len(names) else np.zeros((len(units), 0), dtype=np.int64)
    where: dict[str, list[int]] = {}
    for j, n in enumerate(names):
        where.setdefault(n, []).append(j)
    out = []
    for i, u in enumerate(units.itertuples(index=False)):
        targets = rs.respondent_targets.get(u.level, {})
        total = int(u.valid)
        quota = getattr(u, "quota", np.nan)
        planned = int(quota) if quota == quota else int(u.minimum)
        for c, t in targets.items():
            have = int(got[i, where.get(c, [])].sum())
            out.append((u.unit_id, c, t, have, have / total if total else np.nan, needed(t, have, total, planned)))
    return pd.DataFrame(out, columns=cols)


def _onsite(ds: Dataset) -> pd.DataFrame:
    """On-site ballots per unit against the ≥ 50% rule (seed §五(三)), judged as the
    ``panel_noncompliant`` consequence judges it; the ballots carry no date, so they are
    counted whole."""
    rs = ds.ruleset
    panel = component_counts(ds, "onsite", rs)[2]
    out = panel[panel["ballots"] > 0].reset_index()
    out["compliant"] = ~(out["share"] < rs.panel_min_share)
    return out[["unit_id", "ballots", "public", "share", "compliant"]]


def _alerts(found) -> pd.DataFrame:
    """Integrity alerts so far: per unit and reason with at least one flagged questionnaire."""
    u = found.units
    recs = [(uid, r, found.label(r), int(n)) for r in INTEGRITY_REASONS for uid, n in zip(u["unit_id"], u[r]) if n]
    order = {uid: i for i, uid in enumerate(u["unit_id"])}
    recs.sort(key=lambda x: (order[x[0]], INTEGRITY_REASONS.index(x[1])))
    return pd.DataFrame(recs, columns=["unit_id", "reason", "label", "count"])
