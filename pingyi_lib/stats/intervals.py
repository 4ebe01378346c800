"""Interval arithmetic: bootstrap percentiles and the analytic cross-checks.

* :func:`percentile` — the bootstrap interval: the ``(1 − level)/2`` and ``(1 + level)/2``
  quantiles of the replicates; given the sample size ``n``, the *expanded* percentile
  interval of Hesterberg (2015, "What teachers should know about the bootstrap", The
  American Statistician 69:371-386): the quantiles at ``α'/2`` and ``1 − α'/2`` with
  ``α'/2 = Φ(−√(n/(n−1)) · t_{n−1, 1−α/2})``. The plain percentile interval is too narrow
  for small samples (a resample's variance is ``(n−1)/n`` of the unbiased one, and ``z`` is
  used where ``t`` belongs); at ``n = 30`` it covers about 93.5% instead of 95%. The
  expansion vanishes as ``n`` grows.
* :func:`normal` — ``estimate ± z·se`` for a mean of bounded scores, with ``se`` from
  :func:`linearised` (Taylor linearisation of a ratio of totals, as R's ``survey`` package
  does for ``svymean``/``svyratio`` under simple random sampling with replacement).
* :func:`wilson` — the Wilson (1927) score interval for a proportion; for the satisfied
  share, which pools several answers per questionnaire, with the effective number of
  answers ``p(1 − p) / var`` in place of ``n`` (the design-effect form of Korn & Graubard 1998).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from pingyi_lib.scheme.ruleset import Ruleset


def z_value(level: float) -> float:
    """The two-sided standard normal quantile: 1.959964 for 0.95, 3.090232 for 0.998."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def t_quantile(p: float, df) -> np.ndarray:
    """Student's t quantile: exact for 1 and 2 degrees of freedom, else the Cornish-Fisher
    expansion of Abramowitz & Stegun 26.7.5. At the 0.975 quantile it gives 3.1786 for df = 3
    (exact 3.1824), 2.7756 for df = 4 (2.7764) and 2.0452 for df = 29 (2.0452)."""
    df = np.asarray(df, dtype=float)
    z = NormalDist().inv_cdf(p)
    g1 = (z ** 3 + z) / 4
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
    g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384
    g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160
    with np.errstate(invalid="ignore", divide="ignore"):
        t = z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4
        t = np.where(df == 1, np.tan(np.pi * (p - 0.5)), t)
        t = np.where(df == 2, (2 * p - 1) / np.sqrt(2 * p * (1 - p)), t)
    return np.where(df >= 1, t, np.nan)


def expanded_tail(level: float, n) -> np.ndarray:
    """``α'/2`` of the expanded percentile interval for samples of size ``n`` (``(1 − level)/2``
    where ``n`` is missing or below 2)."""
    n = np.asarray(n, dtype=float)
    df = np.where(n >= 2, n - 1, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = t_quantile(0.5 + level / 2, df) * np.sqrt(n / df)
    tail = np.array([NormalDist().cdf(-x) if np.isfinite(x) else np.nan for x in np.atleast_1d(t)]).reshape(t.shape)
    return np.where(np.isnan(tail), (1 - level) / 2, tail)


def percentile(replicates, level: float, axis: int = -1, n=None) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ``level`` percentile bounds along ``axis`` (NaN replicates ignored).

    With ``n`` (one sample size per slice of a 2-d ``replicates``, ``axis=1``): the expanded
    percentile interval (module doc)."""
    a = np.asarray(replicates, dtype=float)
    if n is None:
        with np.errstate(invalid="ignore"), _quiet():
            q = np.nanquantile(a, [(1 - level) / 2, (1 + level) / 2], axis=axis)
        return q[0], q[1]
    if a.ndim != 2 or axis not in (1, -1):
        raise ValueError("per-row sample sizes need 2-d replicates and axis=1")
    tail = np.broadcast_to(expanded_tail(level, n), (a.shape[0],))
    return _row_quantile(a, tail), _row_quantile(a, 1 - tail)


def _row_quantile(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Linear-interpolation quantile of each row at its own ``q`` (NaNs ignored)."""
    s = np.sort(a, axis=1)  # NaNs last
    m = (~np.isnan(a)).sum(axis=1)
    pos = q * np.maximum(m - 1, 0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(m - 1, 0))
    frac = pos - lo
    rows = np.arange(len(a))
    with np.errstate(invalid="ignore"):
        out = s[rows, lo] * (1 - frac) + s[rows, hi] * frac
    return np.where(m > 0, out, np.nan)


def rank_bounds(ranks, level: float, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Rank interval: the ``(1 − level)/2`` and ``(1 + level)/2`` quantiles of the replicate ranks,
    taken as ranks that occurred (inverted CDF), so both ends are whole ranks."""
    a = np.asarray(ranks, dtype=float)
    with _quiet():
        q = np.nanquantile(a, [(1 - level) / 2, (1 + level) / 2], axis=axis, method="inverted_cdf")
    return q[0], q[1]


def normal(estimate, se, level: float) -> tuple[np.ndarray, np.ndarray]:
    """``estimate ± z·se``."""
    z = z_value(level)
    est, se = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    return est - z * se, est + z * se


def wilson(p, n, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion ``p`` observed on ``n`` trials (``n`` may be an
    effective, non-integer size). Wilson (1927); Newcombe (1998) method 3.

    ``(p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)``
    """
    z = z_value(level)
    p, n = np.asarray(p, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


class _quiet:
    """Silence numpy's warnings for all-NaN slices (a unit without a component)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def linearised(patterns: pd.DataFrame, unit_ids, ruleset: Ruleset) -> dict[str, pd.DataFrame]:
    """Analytic variances from answer-pattern counts, per unit.

    Each index is a ratio of totals over questionnaires; its linearised variance under
    simple random sampling with replacement is ``n/(n−1) · Σ_r z_r²`` with ``z_r`` a
    questionnaire's influence on the estimate. Returns two frames:

    * ``"units"`` (index ``unit_id``): ``valid`` questionnaires, ``index`` and ``index_var``
      (the component index, 0-100), ``share``, ``share_var`` and ``answers`` (the satisfied
      share and the answers with an opinion behind it);
    * ``"items"`` (index ``unit_id``, ``item``): ``n``, ``index``, ``index_var``.

    For one item that every questionnaire answered, ``index_var`` is ``100² · s²/n`` with
    ``s`` the sample standard deviation of the scores: the textbook normal interval.
    """
    ids = pd.Index(list(unit_ids), name="unit_id")
    items = [c for c in patterns.columns if c not in ("unit_id", "count")]
    patterns = patterns[patterns["unit_id"].isin(ids)]  # units asked for only
    u = len(ids)
    score = np.zeros(len(ruleset.levels) + 1)
    has = np.zeros(len(ruleset.levels) + 1, dtype=bool)
    sat = np.zeros(len(ruleset.levels) + 1, dtype=bool)
    for lv in ruleset.levels:
        if lv.score is not None:
            score[lv.code], has[lv.code], sat[lv.code] = lv.score, True, lv.satisfied
    codes = patterns[items].to_numpy(dtype=np.int64) if items else np.zeros((len(patterns), 0), dtype=np.int64)
    c = patterns["count"].to_numpy(dtype=float)
    pos = ids.get_indexer(patterns["unit_id"])
    s, h, t = score[codes], has[codes].astype(float), sat[codes].astype(float)

    def per_unit(x: np.ndarray) -> np.ndarray:  # Σ over a unit's patterns of count · x, columnwise
        x = x[:, None] if x.ndim == 1 else x
        return np.stack([np.bincount(pos, weights=c * x[:, j], minlength=u) for j in range(x.shape[1])], axis=1)

    n = np.bincount(pos, weights=c, minlength=u)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(n > 1, n / (n - 1), np.nan)
        n_item = per_unit(h) if items else np.zeros((u, 0))
        mean = per_unit(h * s) / n_item
        resid = np.where(h > 0, (s - mean[pos]) / n_item[pos], 0.0)  # per pattern and item
        item_var = 1e4 * factor[:, None] * per_unit(resid ** 2)
        scored = np.array([it in ruleset.scored_items for it in items], dtype=bool)
        w = np.array([ruleset.item_weights.get(it, 0.0) for it in items]) * scored
        used = np.where(n_item > 0, w, 0.0)  # (units, items)
        wsum = used.sum(axis=1)
        index = (used * np.nan_to_num(mean)).sum(axis=1) / wsum * 100
        z_index = 100 * (resid * (used / wsum[:, None])[pos]).sum(axis=1)
        index_var = factor * per_unit(z_index ** 2)[:, 0]
        y, x = (t * scored).sum(axis=1), (h * scored).sum(axis=1)
        answers = per_unit(x)[:, 0]
        share = per_unit(y)[:, 0] / answers
        z_share = (y - share[pos] * x) / answers[pos]
        share_var = factor * per_unit(z_share ** 2)[:, 0]
    units = pd.DataFrame({"valid": n.astype(np.int64), "index": np.where(wsum > 0, index, np.nan),
                          "index_var": np.where(wsum > 0, index_var, np.nan), "share": share,
                          "share_var": share_var, "answers": answers}, index=ids)
    item_frame = pd.DataFrame({"n": n_item.ravel().astype(np.int64), "index": (100 * mean).ravel(),
                               "index_var": item_var.ravel()},
                              index=pd.MultiIndex.from_product([ids, items], names=["unit_id", "item"]))
    return {"units": units, "items": item_frame}
