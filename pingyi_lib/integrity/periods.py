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

import numpy as np
import pandas as pd

from pingyi_lib.integrity.evidence import binomial_tail_log, fisher_log, normal_tail_log, regular_gaps
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
    """Mid-ranks of ``value`` within each unit and each unit's tie term Σ(t³ - t)."""
    ranks = pd.Series(value).groupby(unit).rank(method="average").to_numpy()
    ties = pd.DataFrame({"u": unit, "v": value}).value_counts().reset_index(name="t")
    t = ties["t"].to_numpy(dtype=float)
    tie = np.bincount(ties["u"].to_numpy(), weights=t ** 3 - t, minlength=int(unit.max(initial=-1)) + 1)
    return ranks, tie


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
    timed = timed[np.lexsort((sec[timed], unit[timed]))]
    valid, regular = np.zeros(len(unit), dtype=bool), np.zeros(len(unit), dtype=bool)
    valid[timed], regular[timed] = regular_gaps(unit[timed], sec[timed])
    gaps = np.bincount(episode, weights=valid[pos], minlength=n_ep)
    alike = np.bincount(episode, weights=regular[pos], minlength=n_ep)
    rhythm = binomial_tail_log(alike, gaps, np.full(n_ep, 0.5))
    return (n_in > 0) & (n_in < n_unit[ep_unit]) & (log_p >= math.log(p)) & (rhythm >= math.log(p))


def suspicious_periods(unit: np.ndarray, sec: np.ndarray, judged: np.ndarray, terms: dict[str, np.ndarray],
                       category: np.ndarray | None, rules: PeriodRules) -> Periods:
    """The suspicious periods of a round (module doc). ``unit``: unit codes; ``sec``: submission
    seconds; ``judged``: rows judged (a time, a channel of ``rules.channels``); ``terms``: from
    :func:`~pingyi_lib.integrity.evidence.row_terms`; ``category``: respondent category codes
    (-1: not stated) or None.

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
        found, tested = _scan(unit, sec, judged, terms, category, rules, n_tested, taken)
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


def _scan(unit, sec, judged, terms, category, rules: PeriodRules, n_tested: int,
          taken: list[tuple[int, int, int]]):
    """One pass: per unit, its most significant candidate period below the threshold
    (``false_alarm / n_tested``; ``n_tested`` 0: this pass's own count), not overlapping the
    ``taken`` (unit, first day, last day). Returns ([(alert, rows, rows fitting)], candidates tested)."""
    pos = np.flatnonzero(judged)
    if not len(pos):
        return [], 0
    by = np.lexsort((sec[pos], unit[pos]))
    pos = pos[by]
    u, t = unit[pos].astype(np.int64), sec[pos]
    day = (t - rules.day_starts * 3600) // 86400
    hour = (t % 86400) // 3600
    quiet = np.isin(hour, np.array(rules.quiet_hours))
    k, mean = terms["k"][pos], terms["mean"][pos]
    scored = k > 0
    two = k >= 2
    n_units = int(u.max()) + 1

    # per-row statistics, in the sorted order
    ranks = np.zeros(len(pos))
    tie = np.zeros(n_units)
    if scored.any():
        r, tie_s = _unit_rank(u[scored], mean[scored])
        ranks[scored] = r
        tie[:len(tie_s)] = tie_s
    s2, sq2, w2, k2 = (np.where(two, terms[c][pos], 0.0) for c in ("sum", "sq", "within", "k"))
    unit_sum = np.bincount(u, weights=s2, minlength=n_units)
    unit_k = np.bincount(u, weights=k2, minlength=n_units)
    unit_sq = np.bincount(u, weights=sq2, minlength=n_units)
    unit_w = np.bincount(u, weights=w2, minlength=n_units)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(unit_k > 0, unit_sum / unit_k, 0.0)
        total_ss = unit_sq - unit_sum ** 2 / np.maximum(unit_k, 1)
        rho = np.where(total_ss > 0, unit_w / total_ss, 0.0)
    dev = sq2 - 2 * mu[u] * s2 + mu[u] ** 2 * k2  # Σ (x - μ_unit)² of each questionnaire
    d = np.where(two, w2 - rho[u] * dev, 0.0)
    n2_unit = np.bincount(u, weights=two, minlength=n_units)
    d_mean = np.bincount(u, weights=d, minlength=n_units) / np.maximum(n2_unit, 1)
    d_var = np.bincount(u, weights=np.where(two, (d - d_mean[u]) ** 2, 0.0), minlength=n_units) \
        / np.maximum(n2_unit - 1, 1)
    gap_ok, regular = regular_gaps(u, t)
    cat = category[pos] if category is not None else None

    # running sums over each unit's days
    new = np.ones(len(pos), dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | (day[1:] != day[:-1])
    starts = np.flatnonzero(new)
    ud_unit, ud_day = u[starts], day[starts]
    columns = {"n": np.ones(len(pos)), "ns": scored.astype(float), "rank": ranks, "n2": two.astype(float),
               "w": w2, "sum": s2, "sq": sq2, "k": k2, "d": d, "mean": np.where(scored, mean, 0.0),
               "gap": gap_ok.astype(float), "regular": regular.astype(float), "quiet": quiet.astype(float)}
    cum = {c: np.concatenate([[0.0], np.cumsum(np.add.reduceat(v, starts))]) for c, v in columns.items()}
    n_cat = 0
    if cat is not None and (cat >= 0).any():
        n_cat = int(cat.max()) + 1
        ud_of_row = np.cumsum(new) - 1
        stated = cat >= 0
        cat_ud = np.bincount(ud_of_row[stated] * n_cat + cat[stated], minlength=len(starts) * n_cat) \
            .reshape(len(starts), n_cat)
        cum_cat = np.vstack([np.zeros((1, n_cat)), np.cumsum(cat_ud, axis=0)])
    unit_first_row = np.searchsorted(u, np.arange(n_units), side="left")
    unit_end_row = np.searchsorted(u, np.arange(n_units), side="right")
    unit_first = np.searchsorted(ud_unit, np.arange(n_units), side="left")
    unit_last = np.searchsorted(ud_unit, np.arange(n_units), side="right")  # one past

    # candidates: runs of a unit's days within max_days
    ii, jj = [], []
    for span in range(rules.max_days):
        i = np.arange(len(starts) - span)
        j = i + span
        ok = (ud_unit[i] == ud_unit[j]) & (ud_day[j] - ud_day[i] < rules.max_days)
        if not ok.any():
            break
        ii.append(i[ok])
        jj.append(j[ok])
    i, j = np.concatenate(ii), np.concatenate(jj)
    cu = ud_unit[i]

    def total(c):
        return cum[c][unit_last[cu]] - cum[c][unit_first[cu]]

    P = {c: cum[c][j + 1] - cum[c][i] for c in columns}
    T = {c: total(c) for c in columns}
    n_in, n_all = P["n"], T["n"]
    tested = (n_in >= rules.min_responses) & (n_all - n_in >= rules.min_responses)
    for tu, ta, tb in taken:
        tested &= ~((cu == tu) & (ud_day[i] <= tb) & (ud_day[j] >= ta))
    i, j, cu = i[tested], j[tested], cu[tested]
    P = {c: v[tested] for c, v in P.items()}
    T = {c: v[tested] for c, v in T.items()}
    count = len(i)
    if not count:
        return [], 0
    frac = P["n"] / T["n"]

    logs = np.zeros((count, len(EVIDENCE)))
    have = np.zeros((count, len(EVIDENCE)), dtype=bool)
    logs[:, 0], z_mix = _rank_sum_log_p(P["rank"], P["ns"], T["ns"], tie[cu])
    have[:, 0] = (P["ns"] > 0) & (P["ns"] < T["ns"])
    with np.errstate(invalid="ignore", divide="ignore"):
        ss_in = P["sq"] - P["sum"] ** 2 / np.maximum(P["k"], 1)
        f2 = P["n2"] / np.maximum(T["n2"], 1)
        sd = np.sqrt(d_var[cu] * P["n2"] * np.maximum(1 - f2, 0))
        z_halo = np.where(sd > 0, (P["w"] - rho[cu] * ss_in) / np.maximum(sd, 1e-300), 0.0)
    logs[:, 1] = normal_tail_log(z_halo)
    have[:, 1] = (P["n2"] >= 2) & (T["n2"] > P["n2"]) & (d_var[cu] > 0)
    logs[:, 2] = binomial_tail_log(P["regular"], P["gap"], np.full(count, 0.5))
    have[:, 2] = P["gap"] > 0
    logs[:, 3] = binomial_tail_log(P["quiet"], T["quiet"], frac)
    have[:, 3] = T["quiet"] > 0
    top_cat = np.full(count, -1)
    if n_cat:
        x = cum_cat[j + 1] - cum_cat[i]
        tot = cum_cat[unit_last[cu]] - cum_cat[unit_first[cu]]
        per = binomial_tail_log(x, tot, np.repeat(frac[:, None], n_cat, axis=1))
        present = (tot > 0).sum(axis=1)
        top_cat = per.argmin(axis=1)
        logs[:, 4] = np.minimum(per.min(axis=1) + np.log(np.maximum(present, 1)), 0.0)
        have[:, 4] = present >= 2
    log_p = fisher_log(logs, have)
    alert = log_p < math.log(rules.false_alarm / (n_tested or count))
    # each unit's most significant: sorted by unit, then log p; the first of each unit
    picked = np.flatnonzero(alert)
    picked = picked[np.lexsort((log_p[picked], cu[picked]))]
    picked = picked[np.r_[True, cu[picked][1:] != cu[picked][:-1]]] if len(picked) else picked

    found = []
    sig = math.log(rules.evidence_p)
    for c in picked:
        lo, hi = starts[i[c]], (starts[j[c] + 1] if j[c] + 1 < len(starts) else len(pos))
        at = pos[lo:hi]
        rest_n = T["n"][c] - P["n"][c]
        rest_ns = T["ns"][c] - P["ns"][c]
        mean_in = P["mean"][c] / max(P["ns"][c], 1)
        mean_rest = (T["mean"][c] - P["mean"][c]) / max(rest_ns, 1)
        fits = np.ones(hi - lo, dtype=bool)
        if have[c, 0] and logs[c, 0] < sig:
            fits &= _over_represented(mean[lo:hi], np.delete(mean[unit_first_row[cu[c]]:unit_end_row[cu[c]]],
                                                             np.arange(lo, hi) - unit_first_row[cu[c]]),
                                      z_mix[c] > 0)
        if have[c, 3] and logs[c, 3] < sig:
            fits &= quiet[lo:hi]
        cat_code = int(top_cat[c]) if n_cat and have[c, 4] else -1
        cat_in = cat_rest = np.nan
        if cat_code >= 0:
            x_c = cum_cat[j[c] + 1, cat_code] - cum_cat[i[c], cat_code]
            t_c = cum_cat[unit_last[cu[c]], cat_code] - cum_cat[unit_first[cu[c]], cat_code]
            cat_in, cat_rest = x_c / P["n"][c], (t_c - x_c) / max(rest_n, 1)
            if logs[c, 4] < sig:
                fits &= cat[lo:hi] == cat_code
        found.append(({
            "unit": int(cu[c]), "first_day": int(ud_day[i[c]]), "last_day": int(ud_day[j[c]]),
            "start": int(t[lo]), "end": int(t[hi - 1]), "responses": int(P["n"][c]), "log_p": float(log_p[c]),
            "tested": 0, "mean": mean_in, "mean_rest": mean_rest,
            "halo": _agreement(P["w"][c], ss_in[c], P["k"][c], P["n2"][c]),
            "halo_rest": _agreement(T["w"][c] - P["w"][c],
                                    (T["sq"][c] - P["sq"][c]) - (T["sum"][c] - P["sum"][c]) ** 2
                                    / max(T["k"][c] - P["k"][c], 1), T["k"][c] - P["k"][c], T["n2"][c] - P["n2"][c]),
            "regular": P["regular"][c], "gaps": P["gap"][c],
            "quiet": P["quiet"][c] / P["n"][c], "quiet_rest": (T["quiet"][c] - P["quiet"][c]) / max(rest_n, 1),
            "category": cat_code, "category_share": cat_in, "category_share_rest": cat_rest,
            **{f"log_p_{e}": (float(logs[c, m]) if have[c, m] else np.nan) for m, e in enumerate(EVIDENCE)},
        }, at, fits))
    return found, count


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
