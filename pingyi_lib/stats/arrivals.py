"""When will a unit reach its minimum? Questionnaires arrive as a Poisson process whose daily
rate is not known, only estimated from the last days (docs/progress.md).

A unit received ``k`` valid questionnaires in the last ``T`` days. With Jeffreys' prior the
posterior of its daily rate is Gamma(k + ½, T), and the number ``N_d`` of questionnaires in the
next ``d`` days is then negative binomial:

    P(N_d = n) = Γ(n + r) / (Γ(r) · n!) · p^r · (1 − p)^n,   r = k + ½,  p = T / (T + d).

It holds both the chance of arrivals and the uncertainty of the rate itself: a plug-in rate
(``k / T`` taken as known) gives ranges that are too narrow when ``k`` is small. With ``k = 0``
the rate is not zero but poorly known, and the projected days are late and wide, as they
should be. Everything is vectorised over units.
"""

from __future__ import annotations

import numpy as np

HORIZON_DAYS = 366  # a projected day later than this is "not within a year" (None)


def reach_chance(k, days, short, ahead) -> np.ndarray:
    """P(N_ahead ≥ short): the chance that ``short`` more questionnaires arrive within ``ahead``
    days, for a unit that had ``k`` in the last ``days`` days (arrays broadcast together).
    1 where ``short`` ≤ 0; 0 where ``ahead`` is 0 and ``short`` > 0."""
    k, days, short, ahead = np.broadcast_arrays(np.asarray(k, float), np.asarray(days, float),
                                                np.asarray(short, np.int64), np.asarray(ahead, float))
    r = k + 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        p = days / (days + ahead)
        log_q = np.log1p(-p)  # -inf where ahead is 0: nothing more arrives
        log_pmf = r * np.log(p)
    below = np.zeros(k.shape)
    for n in range(int(short.max(initial=0))):
        below += np.where(n < short, np.exp(log_pmf), 0.0)
        with np.errstate(invalid="ignore"):
            log_pmf = log_pmf + np.log((n + r) / (n + 1)) + log_q
    return np.where(short <= 0, 1.0, np.clip(1.0 - below, 0.0, 1.0))


def reach_day(k, days, short, q: float) -> np.ndarray:
    """The smallest whole number of days ``d`` (0 ≤ d ≤ :data:`HORIZON_DAYS`) with
    P(N_d ≥ short) ≥ ``q``: the ``q`` quantile of the wait for ``short`` more questionnaires,
    in days; -1 where it is beyond the horizon. 0 where ``short`` ≤ 0."""
    k, days, short = np.broadcast_arrays(np.asarray(k, float), np.asarray(days, float),
                                         np.asarray(short, np.int64))
    lo = np.zeros(k.shape, dtype=np.int64)  # chance(lo) < q unless short <= 0
    hi = np.full(k.shape, HORIZON_DAYS, dtype=np.int64)
    beyond = reach_chance(k, days, short, hi) < q
    done = short <= 0
    while True:
        open_ = (hi - lo > 1) & ~beyond & ~done
        if not open_.any():
            break
        mid = (lo + hi) // 2
        ok = reach_chance(k, days, short, mid) >= q
        hi = np.where(open_ & ok, mid, hi)
        lo = np.where(open_ & ~ok, mid, lo)
    return np.where(done, 0, np.where(beyond, -1, hi))
