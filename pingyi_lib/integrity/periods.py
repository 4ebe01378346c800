"""Suspicious periods (可疑时段): the days in which a unit's questionnaires differ from its own
other days beyond chance, and bursts that are surges of ordinary questionnaires.

An auto-fill tool sends questionnaires one by one from fresh devices, a few minutes apart
or hours apart: no row of it need look odd. What it cannot hide is that, while it runs,
the unit's questionnaires are unlike the unit's other days:

- **answer mix** (答案分布): the tool answers from the operator's weights, not from one
  person's experience; a rank-sum test of the questionnaires' mean scores, period against
  the rest of the unit, two-sided;
- **halo** (题间一致性): an honest respondent's answers go together (one general
  satisfaction drives them all); a tool draws each question on its own. The sum of squares
  within questionnaires, against what the unit's own halo leaves, one-sided;
- **rhythm** (提交间隔): a tool waits 70-180 s (or 10-40 min) between submissions, so
  neighbouring gaps are alike; arrivals at random make half of them so; binomial, one-sided;
- **hours** (提交时刻): more questionnaires in the quiet hours than the unit's others have;
  binomial, one-sided;
- **respondent categories** (身份类别): a category over-represented in the period;
  binomial per category, Bonferroni over the categories.

Each candidate period is a run of up to ``max_days`` consecutive days (a day starts at
``day_starts`` o'clock, so a night stays whole) with ``min_responses`` questionnaires in it
and as many outside it. Its evidences are combined by Fisher's method; a period alerts when
the combined p-value is below ``false_alarm / N``, N the candidates tested in the whole
round (Bonferroni: the chance that an honest round alerts anywhere is at most
``false_alarm``). A unit's alerts are its best periods that do not overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from pingyi_lib.integrity.evidence import (
    RowTerms,
    binomial_tail_log,
    fisher_log,
    in_time_order,
    normal_tail_log,
    regular_gaps,
)
from pingyi_lib.scheme.collection import PeriodRules

EVIDENCE = ("mix", "halo", "rhythm", "hours", "category")
ALERT_COLUMNS = ["unit", "first_day", "last_day", "start", "end", "responses", "log_p", "tested",
                 "mean", "mean_rest", "halo", "halo_rest", "regular", "gaps", "quiet", "quiet_rest",
                 "category", "category_share", "category_share_rest", *(f"log_p_{e}" for e in EVIDENCE)]


@dataclass(frozen=True)
class Periods:
    """What :func:`suspicious_periods` found: ``alerts`` (ALERT_COLUMNS: ``unit`` the unit code,
    ``first_day``/``last_day`` day numbers, ``start``/``end`` the first and last submission in
    seconds, the evidence figures and the log p-values), ``member`` (per row of the round, the
    alert it lies in, -1: none) and ``fit`` (the row fits its alert's anomaly)."""

    alerts: pd.DataFrame
    member: np.ndarray
    fit: np.ndarray
    tested: int


def _unit_rank(unit: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mid-ranks of ``value`` within each unit and each unit's tie term Σ(t³ - t).

    From the counts of each distinct value per unit (a questionnaire's mean score takes few
    values): a value's mid-rank in its unit is the count of the unit's smaller values plus
    (its own count + 1) / 2, as ``groupby(unit).rank(method="average")`` gives it.

    >>> _unit_rank(np.array([0, 0, 0, 1, 1]), np.array([.5, .2, .5, .9, .1]))[0].tolist()
    [2.5, 1.0, 2.5, 2.0, 1.0]
    """
    n_units = int(unit.max(initial=-1)) + 1
    if not len(unit):
        return np.zeros(0), np.zeros(n_units)
    code, uniques = pd.factorize(value, sort=True)  # code order = value order
    width = len(uniques)
    if n_units * width > 4 * len(unit) + (1 << 20):  # many distinct values: a table of counts would not pay
        ranks = pd.Series(value).groupby(unit).rank(method="average").to_numpy()
        ties = pd.DataFrame({"u": unit, "v": value}).value_counts().reset_index(name="t")
        t = ties["t"].to_numpy(dtype=float)
        return ranks, np.bincount(ties["u"].to_numpy(), weights=t ** 3 - t, minlength=n_units)
    cell = unit.astype(np.int64) * width + code
    counts = np.bincount(cell, minlength=n_units * width).reshape(n_units, width).astype(float)
    below = np.cumsum(counts, axis=1) - counts  # the unit's rows with a smaller value
    ranks = (below + (counts + 1) / 2).reshape(-1)[cell]
    return ranks, (counts ** 3 - counts).sum(axis=1)


def _rank_sum_log_p(r_sum, n_in, n_all, tie, two_sided=True):
    """log p of a rank sum of ``n_in`` of ``n_all`` ranked rows (normal approximation with the
    tie correction); also the z."""
    n_out = n_all - n_in
    with np.errstate(invalid="ignore", divide="ignore"):
        var = n_in * n_out / 12 * ((n_all + 1) - tie / np.maximum(n_all * (n_all - 1), 1))
        z = np.where(var > 0, (r_sum - n_in * (n_all + 1) / 2) / np.sqrt(np.maximum(var, 1e-300)), 0.0)
    return normal_tail_log(z, two_sided=two_sided), z


def surges(unit: np.ndarray, mean: np.ndarray, sec: np.ndarray, has_time: np.ndarray, pos: np.ndarray,
           episode: np.ndarray, p: float) -> np.ndarray:
    """Which burst episodes are surges of ordinary people: their answers look like the unit's
    other questionnaires (the rank-sum test of their mean scores against the unit's others is
    not below ``p``) and they arrive as people do (the rhythm test of their gaps is not below
    ``p``). ``unit``/``mean``/``sec``/``has_time``: every row of the round; ``pos``/``episode``:
    the rows in bursts. Returns one boolean per episode number (0 .. max)."""
    n_ep = int(episode.max(initial=-1)) + 1
    if n_ep == 0 or p <= 0:
        return np.zeros(n_ep, dtype=bool)
    ok = ~np.isnan(mean) & np.isin(unit, np.unique(unit[pos]))  # only the units with a burst are ranked
    ranks = np.full(len(unit), np.nan)
    r, tie = _unit_rank(unit[ok], mean[ok])
    ranks[ok] = r
    n_unit = np.bincount(unit[ok], minlength=len(tie))
    has = ok[pos]
    n_in = np.bincount(episode[has], minlength=n_ep)
    r_sum = np.bincount(episode[has], weights=ranks[pos[has]], minlength=n_ep)
    ep_unit = np.zeros(n_ep, dtype=np.int64)
    ep_unit[episode] = unit[pos]
    log_p, _ = _rank_sum_log_p(r_sum, n_in, n_unit[ep_unit], tie[ep_unit])
    timed = np.flatnonzero(has_time & np.isin(unit, np.unique(unit[pos])))
    timed, fine = in_time_order(unit, sec, timed)
    valid, regular = np.zeros(len(unit), dtype=bool), np.zeros(len(unit), dtype=bool)
    valid[timed], regular[timed] = regular_gaps(unit[timed], fine)
    gaps = np.bincount(episode, weights=valid[pos], minlength=n_ep)
    alike = np.bincount(episode, weights=regular[pos], minlength=n_ep)
    rhythm = binomial_tail_log(alike, gaps, np.full(n_ep, 0.5))
    return (n_in > 0) & (n_in < n_unit[ep_unit]) & (log_p >= math.log(p)) & (rhythm >= math.log(p))


def suspicious_periods(unit: np.ndarray, sec: np.ndarray, judged: np.ndarray, terms: RowTerms,
                       category: np.ndarray | None, rules: PeriodRules,
                       covered: tuple[int, int] | None = None, order: np.ndarray | None = None) -> Periods:
    """The suspicious periods of a round (module doc). ``unit``: unit codes; ``sec``: submission
    seconds; ``judged``: rows judged (a time, a channel of ``rules.channels``); ``terms``: the rows' answer terms
    (:class:`~pingyi_lib.integrity.evidence.RowTerms`); ``category``: respondent category codes
    (-1: not stated) or None; ``covered``: the first second of the survey and the first after it
    (the hours test reads only the days it covers whole), or None (every day read); ``order``:
    every row's position sorted by unit and time (:func:`~pingyi_lib.integrity.evidence.sort_order`),
    if the caller has it (each pass then takes its rows from it, not sorting them again).

    Each pass takes every unit's most significant period; the next pass judges the units that
    had one again without it (its rows no longer in "the rest", its days closed), against the
    first pass's threshold (as Holm's step-down would, but never looser), until no unit has one
    or MAX_PASSES."""
    n = len(unit)
    member = np.full(n, -1, dtype=np.int64)
    fit = np.zeros(n, dtype=bool)
    judged = judged.copy()
    alerts: list[dict] = []
    taken: list[tuple[int, int, int]] = []
    n_tested = 0
    for _ in range(MAX_PASSES):
        found, tested = _scan(unit, sec, judged, terms, category, rules, n_tested, taken, covered, order)
        n_tested = n_tested or tested
        if not found:
            break
        for alert, at, fits in found:
            member[at] = len(alerts)
            fit[at] = fits
            judged[at] = False
            taken.append((alert["unit"], alert["first_day"], alert["last_day"]))
            alerts.append({**alert, "tested": n_tested})
        judged &= np.isin(unit, [a["unit"] for a, _, _ in found])
    frame = pd.DataFrame(alerts, columns=ALERT_COLUMNS).sort_values(["unit", "start"], kind="stable")
    renumber = np.full(len(alerts) + 1, -1, dtype=np.int64)
    renumber[frame.index.to_numpy()] = np.arange(len(frame))
    return Periods(frame.reset_index(drop=True), renumber[member], fit, n_tested)


MAX_PASSES = 4  # periods a unit may have at most


@dataclass
class _Days:
    """A pass's judged rows, sorted by unit and time, and running sums over each unit's days:
    what every candidate period of the pass is summed from."""

    pos: np.ndarray    # the round's row of each sorted row
    u: np.ndarray      # unit code, submission second, minutes-of-day facts, per sorted row
    t: np.ndarray
    quiet: np.ndarray
    mean: np.ndarray
    cat: np.ndarray | None
    tie: np.ndarray    # per unit: the rank-sum tie term, the halo ratio ρ and the variance of d
    rho: np.ndarray
    d_var: np.ndarray
    starts: np.ndarray  # the first sorted row of each (unit, day)
    day_unit: np.ndarray
    day: np.ndarray
    cum: dict[str, np.ndarray]  # running sums over the (unit, day)s, one leading 0
    cum_cat: np.ndarray | None  # the same per respondent category
    unit_rows: np.ndarray  # per unit: its first sorted row, one past its last
    unit_end_rows: np.ndarray
    unit_days: np.ndarray  # per unit: its first (unit, day), one past its last
    unit_end_days: np.ndarray

    def row_span(self, first: int, last: int) -> tuple[int, int]:
        """The sorted rows of the (unit, day)s ``first`` .. ``last``."""
        return self.starts[first], (self.starts[last + 1] if last + 1 < len(self.starts) else len(self.pos))


def _days(unit, sec, judged, terms, category, rules: PeriodRules,
          covered: tuple[int, int] | None = None, order: np.ndarray | None = None) -> _Days | None:
    pos = np.flatnonzero(judged) if order is None else order[judged[order]]  # the latter in (unit, time) order
    if not len(pos):
        return None
    # a second's rows in the order of their time within it
    pos, fine = in_time_order(unit, sec, pos, presorted=order is not None)
    u, t = unit[pos].astype(np.int64), sec[pos]
    gap_ok, regular = regular_gaps(u, fine)
    del fine
    day = (t - rules.day_starts * 3600) // 86400
    quiet_hour = np.zeros(24, dtype=bool)  # by hour of the day (0-23, the ruleset's): a lookup a row
    quiet_hour[list(rules.quiet_hours)] = True
    quiet = quiet_hour[(t % 86400) // 3600]
    # the hours test reads only days the survey covers whole: a window opening at midnight
    # leaves its first day (from day_starts the day before) six quiet hours and nothing else
    whole = np.ones(len(pos), dtype=bool)
    if covered is not None:
        begins = day * 86400 + rules.day_starts * 3600
        whole = (begins >= covered[0]) & (begins + 86400 <= covered[1])
        del begins
    # the terms of the judged rows, in their order, made when needed and each freed once summed
    got = terms.at(pos, ("k", "mean"))
    k, mean = got.pop("k"), got.pop("mean")
    scored, two = k > 0, k >= 2
    del k
    n_units = int(u.max()) + 1

    ranks, tie = np.zeros(len(pos)), np.zeros(n_units)
    if scored.any():
        r, tie_s = _unit_rank(u[scored], mean[scored])
        ranks[scored] = r
        tie[:len(tie_s)] = tie_s
        del r
    # the halo: ρ = W/T of the unit, and d = w - ρ Σ(x - μ_unit)² of each questionnaire
    # (the rows with fewer than two scored answers count 0: zeroed in place, no second copy)
    got = terms.at(pos, ("k", "sum", "sq", "within"))
    s2, sq2, w2, k2 = got.pop("sum"), got.pop("sq"), got.pop("within"), got.pop("k").astype(float)
    for x in (s2, sq2, w2, k2):
        x[~two] = 0.0
    unit_sum, unit_k, unit_sq, unit_w = (np.bincount(u, weights=x, minlength=n_units) for x in (s2, k2, sq2, w2))
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(unit_k > 0, unit_sum / unit_k, 0.0)
        total_ss = unit_sq - unit_sum ** 2 / np.maximum(unit_k, 1)
        rho = np.where(total_ss > 0, unit_w / total_ss, 0.0)
    mu_u = mu[u]
    d = sq2 - 2 * mu_u * s2
    d += mu_u ** 2 * k2  # dev = Σ(x - μ_unit)² of the questionnaire
    del mu_u
    d *= rho[u]
    np.subtract(w2, d, out=d)
    d[~two] = 0.0
    n2_unit = np.bincount(u, weights=two, minlength=n_units)
    d_mean = np.bincount(u, weights=d, minlength=n_units) / np.maximum(n2_unit, 1)
    spread = d - d_mean[u]
    spread **= 2
    spread[~two] = 0.0
    d_var = np.bincount(u, weights=spread, minlength=n_units) / np.maximum(n2_unit - 1, 1)
    del spread

    new = np.ones(len(pos), dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | (day[1:] != day[:-1])
    starts = np.flatnonzero(new)

    def running(per_day: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(per_day)])

    # summed per (unit, day) one column at a time (yes/no columns as they are), each column
    # dropped once summed: no rows × columns of floats
    cum = {"n": running(np.diff(np.append(starts, len(pos))).astype(float))}
    columns = {"ns": scored, "rank": ranks, "n2": two, "w": w2, "sum": s2, "sq": sq2, "k": k2, "d": d,
               "mean": partial(np.where, scored, mean, 0.0), "gap": gap_ok, "regular": regular, "quiet": quiet,
               "n_whole": whole, "quiet_whole": partial(np.logical_and, quiet, whole)}
    del ranks, w2, s2, sq2, k2, d, gap_ok, regular
    for c in list(columns):
        v = columns.pop(c)
        v = v() if isinstance(v, partial) else v  # made when summed
        cum[c] = running(np.add.reduceat(v, starts, dtype=float))
        del v
    del scored, two, whole
    cat = category[pos] if category is not None else None
    cum_cat = None
    if cat is not None and (cat >= 0).any():
        n_cat = int(cat.max()) + 1
        stated = cat >= 0
        day_of_row = np.cumsum(new) - 1
        per_day = np.bincount(day_of_row[stated] * n_cat + cat[stated], minlength=len(starts) * n_cat) \
            .reshape(len(starts), n_cat)
        cum_cat = np.vstack([np.zeros((1, n_cat)), np.cumsum(per_day, axis=0)])
    units = np.arange(n_units)
    return _Days(pos, u, t, quiet, mean, cat, tie, rho, d_var, starts, u[starts], day[starts], cum, cum_cat,
                 np.searchsorted(u, units, side="left"), np.searchsorted(u, units, side="right"),
                 np.searchsorted(u[starts], units, side="left"), np.searchsorted(u[starts], units, side="right"))


@dataclass
class _Candidates:
    """The candidate periods of a pass that are tested: (unit, day) ``i`` .. ``j`` of unit ``cu``,
    their sums ``P`` and their unit's ``T`` (the columns of ``_Days.cum``), and their evidence."""

    i: np.ndarray
    j: np.ndarray
    cu: np.ndarray
    P: dict[str, np.ndarray]
    T: dict[str, np.ndarray]
    logs: np.ndarray | None = None  # log p of each evidence (EVIDENCE), and whether it is available
    have: np.ndarray | None = None
    z_mix: np.ndarray | None = None
    top_cat: np.ndarray | None = None
    ss_in: np.ndarray | None = None


def _candidates(dd: _Days, rules: PeriodRules, taken: list[tuple[int, int, int]]) -> _Candidates:
    """Every run of a unit's days within ``max_days`` with enough questionnaires in and out,
    not overlapping ``taken``."""
    ii, jj = [], []
    for span in range(rules.max_days):
        i = np.arange(len(dd.starts) - span)
        j = i + span
        ok = (dd.day_unit[i] == dd.day_unit[j]) & (dd.day[j] - dd.day[i] < rules.max_days)
        if not ok.any():
            break
        ii.append(i[ok])
        jj.append(j[ok])
    i, j = np.concatenate(ii), np.concatenate(jj)
    cu = dd.day_unit[i]
    P = {c: v[j + 1] - v[i] for c, v in dd.cum.items()}
    T = {c: v[dd.unit_end_days[cu]] - v[dd.unit_days[cu]] for c, v in dd.cum.items()}
    tested = (P["n"] >= rules.min_responses) & (T["n"] - P["n"] >= rules.min_responses)
    for tu, ta, tb in taken:
        tested &= ~((cu == tu) & (dd.day[i] <= tb) & (dd.day[j] >= ta))
    return _Candidates(i[tested], j[tested], cu[tested], {c: v[tested] for c, v in P.items()},
                       {c: v[tested] for c, v in T.items()})


def _evidence(dd: _Days, cc: _Candidates) -> None:
    """The log p-value of each evidence of each candidate (module doc), into ``cc``."""
    P, T, cu, count = cc.P, cc.T, cc.cu, len(cc.i)
    frac = P["n"] / T["n"]
    logs = np.zeros((count, len(EVIDENCE)))
    have = np.zeros((count, len(EVIDENCE)), dtype=bool)
    logs[:, 0], cc.z_mix = _rank_sum_log_p(P["rank"], P["ns"], T["ns"], dd.tie[cu])
    have[:, 0] = (P["ns"] > 0) & (P["ns"] < T["ns"])
    with np.errstate(invalid="ignore", divide="ignore"):
        cc.ss_in = P["sq"] - P["sum"] ** 2 / np.maximum(P["k"], 1)
        f2 = P["n2"] / np.maximum(T["n2"], 1)
        sd = np.sqrt(dd.d_var[cu] * P["n2"] * np.maximum(1 - f2, 0))
        z_halo = np.where(sd > 0, (P["w"] - dd.rho[cu] * cc.ss_in) / np.maximum(sd, 1e-300), 0.0)
    logs[:, 1] = normal_tail_log(z_halo)
    have[:, 1] = (P["n2"] >= 2) & (T["n2"] > P["n2"]) & (dd.d_var[cu] > 0)
    logs[:, 2] = binomial_tail_log(P["regular"], P["gap"], np.full(count, 0.5))
    have[:, 2] = P["gap"] > 0
    # of the unit's quiet-hour questionnaires on whole days, as many in the period as its share of those days' rows
    frac_whole = P["n_whole"] / np.maximum(T["n_whole"], 1)
    logs[:, 3] = binomial_tail_log(P["quiet_whole"], T["quiet_whole"], frac_whole)
    have[:, 3] = (T["quiet_whole"] > 0) & (P["n_whole"] > 0)
    cc.top_cat = np.full(count, -1)
    if dd.cum_cat is not None:
        n_cat = dd.cum_cat.shape[1]
        x = dd.cum_cat[cc.j + 1] - dd.cum_cat[cc.i]
        tot = dd.cum_cat[dd.unit_end_days[cu]] - dd.cum_cat[dd.unit_days[cu]]
        per = binomial_tail_log(x, tot, np.repeat(frac[:, None], n_cat, axis=1))
        present = (tot > 0).sum(axis=1)
        cc.top_cat = per.argmin(axis=1)
        logs[:, 4] = np.minimum(per.min(axis=1) + np.log(np.maximum(present, 1)), 0.0)
        have[:, 4] = present >= 2
    cc.logs, cc.have = logs, have


def _scan(unit, sec, judged, terms, category, rules: PeriodRules, n_tested: int,
          taken: list[tuple[int, int, int]], covered: tuple[int, int] | None = None, order=None):
    """One pass: per unit, its most significant candidate period below the threshold
    (``false_alarm / n_tested``; ``n_tested`` 0: this pass's own count), not overlapping the
    ``taken`` (unit, first day, last day). Returns ([(alert, rows, rows fitting)], candidates tested)."""
    dd = _days(unit, sec, judged, terms, category, rules, covered, order)
    if dd is None:
        return [], 0
    cc = _candidates(dd, rules, taken)
    count = len(cc.i)
    if not count:
        return [], 0
    _evidence(dd, cc)
    log_p = fisher_log(cc.logs, cc.have)
    alert = log_p < math.log(rules.false_alarm / (n_tested or count))
    # each unit's most significant: sorted by unit, then log p; the first of each unit
    picked = np.flatnonzero(alert)
    picked = picked[np.lexsort((log_p[picked], cc.cu[picked]))]
    picked = picked[np.r_[True, cc.cu[picked][1:] != cc.cu[picked][:-1]]] if len(picked) else picked
    return [_describe(dd, cc, int(c), float(log_p[c]), rules) for c in picked], count


def _describe(dd: _Days, cc: _Candidates, c: int, log_p: float, rules: PeriodRules):
    """One alert: its figures (ALERT_COLUMNS), its rows of the round, and which of them fit its anomaly."""
    P, T, u, have, logs = cc.P, cc.T, int(cc.cu[c]), cc.have[c], cc.logs[c]
    lo, hi = dd.row_span(cc.i[c], cc.j[c])
    sig = math.log(rules.evidence_p)
    rest_n = T["n"][c] - P["n"][c]
    rest_ns = T["ns"][c] - P["ns"][c]
    fits = np.ones(hi - lo, dtype=bool)
    if have[0] and logs[0] < sig:
        first = dd.unit_rows[u]
        rest = np.delete(dd.mean[first:dd.unit_end_rows[u]], np.arange(lo, hi) - first)
        fits &= _over_represented(dd.mean[lo:hi], rest, cc.z_mix[c] > 0)
    if have[3] and logs[3] < sig:
        fits &= dd.quiet[lo:hi]
    cat_code = int(cc.top_cat[c]) if dd.cum_cat is not None and have[4] else -1
    cat_in = cat_rest = np.nan
    if cat_code >= 0:
        x_c = dd.cum_cat[cc.j[c] + 1, cat_code] - dd.cum_cat[cc.i[c], cat_code]
        t_c = dd.cum_cat[dd.unit_end_days[u], cat_code] - dd.cum_cat[dd.unit_days[u], cat_code]
        cat_in, cat_rest = x_c / P["n"][c], (t_c - x_c) / max(rest_n, 1)
        if logs[4] < sig:
            fits &= dd.cat[lo:hi] == cat_code
    rest_k = T["k"][c] - P["k"][c]
    return ({
        "unit": u, "first_day": int(dd.day[cc.i[c]]), "last_day": int(dd.day[cc.j[c]]),
        "start": int(dd.t[lo]), "end": int(dd.t[hi - 1]), "responses": int(P["n"][c]), "log_p": log_p,
        "tested": 0, "mean": P["mean"][c] / max(P["ns"][c], 1),
        "mean_rest": (T["mean"][c] - P["mean"][c]) / max(rest_ns, 1),
        "halo": _agreement(P["w"][c], cc.ss_in[c], P["k"][c], P["n2"][c]),
        "halo_rest": _agreement(T["w"][c] - P["w"][c],
                                (T["sq"][c] - P["sq"][c]) - (T["sum"][c] - P["sum"][c]) ** 2 / max(rest_k, 1),
                                rest_k, T["n2"][c] - P["n2"][c]),
        "regular": P["regular"][c], "gaps": P["gap"][c],
        "quiet": P["quiet"][c] / P["n"][c], "quiet_rest": (T["quiet"][c] - P["quiet"][c]) / max(rest_n, 1),
        "category": cat_code, "category_share": cat_in, "category_share_rest": cat_rest,
        **{f"log_p_{e}": (float(logs[m]) if have[m] else np.nan) for m, e in enumerate(EVIDENCE)},
    }, dd.pos[lo:hi], fits)


FIT_RATIO = 2.0  # a questionnaire fits a shifted answer mix when its score is this much more common in the period


def _over_represented(inside: np.ndarray, rest: np.ndarray, higher: bool) -> np.ndarray:
    """Which questionnaires of a period fit its shifted answer mix: their mean score is on the
    shifted side of the rest's mean and at least FIT_RATIO times as common (as a share) in the
    period as in the rest of the unit (rows without a score never fit)."""
    ok = ~np.isnan(inside)
    rest = rest[~np.isnan(rest)]
    if not ok.any() or not len(rest):
        return np.zeros(len(inside), dtype=bool)
    values, codes = np.unique(np.round(inside[ok], 6), return_inverse=True)
    share_in = np.bincount(codes, minlength=len(values)) / ok.sum()
    r_codes = np.searchsorted(values, np.round(rest, 6))
    r_hit = (r_codes < len(values)) & (values[np.minimum(r_codes, len(values) - 1)] == np.round(rest, 6))
    share_rest = np.bincount(r_codes[r_hit], minlength=len(values)) / len(rest)
    side = values > rest.mean() if higher else values < rest.mean()
    fits = np.zeros(len(inside), dtype=bool)
    fits[ok] = (side & (share_in >= FIT_RATIO * share_rest))[codes]
    return fits


def _agreement(within: float, total: float, k: float, n: float) -> float:
    """How alike a set's answers are within questionnaires, 0-1: 1 - (within / total) scaled so
    that answers drawn each on its own give 0 and identical answers within each give 1."""
    if total <= 0 or k <= n or n < 2:
        return float("nan")
    return float(1 - (within / total) / ((k - n) / max(k - 1, 1)))
