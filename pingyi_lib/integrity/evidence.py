"""The evidence a period of a unit's questionnaires is judged on, and the tails of the tests.

Per questionnaire (vectorised over a round): its mean answer score, its halo terms (how
alike its own answers are), whether the gaps before and after it are regular, whether it
came in the quiet hours. Per set of questionnaires, every figure is a sum of these, so a
period's evidence comes from running sums over a unit's days (periods.py).

Every p-value here is an upper bound or a normal approximation of a sum of exchangeable
bounded terms, so a test errs towards *not* alerting (docs/integrity.md, 可疑时段).
"""

from __future__ import annotations

import copy
import math

import numpy as np

_LOG_HALF = math.log(0.5)
NO_TIME = np.iinfo(np.int64).max  # sorts rows without a submission time last
_SPAN_BITS = 34  # seconds between a round's first and last submission fit in 2**34 (544 years)
_SPAN = 1 << _SPAN_BITS


def sort_order(major: np.ndarray, sec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions sorted by ``major``, then ``sec`` (NO_TIME last), ties in their positions:
    ``np.lexsort((sec, major))``, as one stable sort of one packed key where it fits (three
    times faster on millions of rows); and, per sorted row after the first, whether it has the
    ``major`` and ``sec`` of the row before it.

    >>> sort_order(np.array([1, 0, 1, 0]), np.array([5, NO_TIME, 3, 2]))[0]
    array([3, 1, 2, 0])
    """
    has = sec != NO_TIME
    key = None
    if len(major) > 1 and 0 <= major.min() and major.max() < 1 << 29:
        base = sec[has].min() if has.any() else 0
        if not has.any() or sec[has].max() - base < _SPAN - 1:
            rel = np.where(has, sec - base, _SPAN - 1)  # no time: last, as NO_TIME sorts
            key = (major.astype(np.int64) << _SPAN_BITS) | rel
            del rel
    if key is not None:
        order = np.argsort(key, kind="stable")
        ks = key[order]
        return order, ks[1:] == ks[:-1]
    order = np.lexsort((sec, major))
    return order, (major[order][1:] == major[order][:-1]) & (sec[order][1:] == sec[order][:-1])


TERMS = ("k", "mean", "sum", "sq", "within")


def row_terms(answers: np.ndarray, scores: np.ndarray, names=TERMS) -> dict[str, np.ndarray]:
    """Per questionnaire, from its answer codes (rows × scored items) and each code's score
    (NaN: abstain, blank or unknown): ``k`` the scored answers, ``mean`` their mean score
    (NaN when none), ``sum``/``sq`` their sum and sum of squares, ``within`` the sum of
    squares about the questionnaire's own mean (its answers unlike each other). Only the
    terms in ``names`` are made (each an array of the rows: a round of millions keeps few).

    >>> t = row_terms(np.array([[1, 1, 2], [4, 0, 5]]), np.array([np.nan, 1.0, .8, .6, 0.0, np.nan]))
    >>> t["k"].tolist(), t["mean"].round(2).tolist(), t["within"].round(2).tolist()
    ([3, 1], [0.93, 0.0], [0.03, 0.0])
    """
    return _terms([answers[:, j] for j in range(answers.shape[1])], answers.shape[0], scores, names)


def _terms(items: list[np.ndarray], n: int, scores: np.ndarray, names) -> dict[str, np.ndarray]:
    """:func:`row_terms` of ``n`` rows given as one array of answer codes per item."""
    # one item at a time, through tables indexed by answer code: no rows × items array of floats
    has_tab = ~np.isnan(scores)
    s_tab = np.where(has_tab, scores, 0.0)
    sq_tab = s_tab * s_tab
    want_sq = "sq" in names or "within" in names
    k, s = np.zeros(n, dtype=np.int16), np.zeros(n)  # k: at most the items asked
    sq = np.zeros(n) if want_sq else None
    for item in items:
        code = item  # the codes index the tables as they are (one byte each), not widened to 8 bytes first
        if len(code) and (code.min() < 0 or code.max() >= len(scores)):
            code = np.clip(code.astype(np.intp), 0, len(scores) - 1)
        k += has_tab[code]
        s += s_tab[code]
        if want_sq:
            sq += sq_tab[code]
    terms = {"k": k, "sum": s, "sq": sq}
    if "mean" in names:
        with np.errstate(invalid="ignore", divide="ignore"):
            terms["mean"] = np.where(k > 0, s / np.maximum(k, 1), np.nan)
    if "within" in names:
        terms["within"] = np.maximum(sq - s * s / np.maximum(k, 1), 0.0)
    return {c: terms[c] for c in TERMS if c in names}


class RowTerms:
    """:func:`row_terms` of a round, made for the rows and terms asked when they are asked:
    the round keeps its answer codes (one byte an item), not five arrays of floats a row.

    >>> t = RowTerms(np.array([[1, 1, 2], [4, 0, 5]]), np.array([np.nan, 1.0, .8, .6, 0.0, np.nan]))
    >>> t.at(np.array([1]), ("k", "mean"))["k"].tolist(), t["mean"].round(2).tolist()
    ([1], [0.93, 0.0])
    """

    def __init__(self, answers: np.ndarray, scores: np.ndarray):
        # one array an item: taking rows from each is a gather of bytes, not of rows of a matrix
        self.items = [np.ascontiguousarray(answers[:, j]) for j in range(answers.shape[1])]
        self.n, self.scores = answers.shape[0], scores

    def at(self, pos: np.ndarray, names=TERMS) -> dict[str, np.ndarray]:
        """The terms ``names`` of the rows ``pos``, in that order."""
        return _terms([item[pos] for item in self.items], len(pos), self.scores, names)

    def __getitem__(self, name: str) -> np.ndarray:
        """One term of every row."""
        return _terms(self.items, self.n, self.scores, (name,))[name]

    def take(self, pos: np.ndarray) -> RowTerms:
        """The terms of the rows ``pos`` only, as rows of their own."""
        taken = copy.copy(self)
        taken.items, taken.n = [item[pos] for item in self.items], len(pos)
        return taken


def spread_seconds(group: np.ndarray, sec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by group and whole second: the order that sorts them by their time within
    the second, and that time (``sec`` plus a fraction in [0, 1)), for :func:`regular_gaps`.

    A time recorded to the second is a time somewhere within that second. Given how many
    arrivals at random fall in one second, they lie in it independently and uniformly (a
    Poisson process), so each row gets a uniform fraction of its second: the gaps of a busy
    unit are then as arrivals at random make them, and half their pairs are alike. Read to
    the whole second they are not: many gaps of 0 (not compared) and of 1 to 3 seconds, whose
    pairs are alike far more often (0.69 of them at 900,000 questionnaires in 37 days), so an
    honest busy unit looked like a tool. The fractions are a hash of the group, the second and
    the row's place among that second's rows: the same round gives the same times whatever
    the order of its file, and no random state is kept.

    >>> order, t = spread_seconds(np.array([0, 0, 0, 1]), np.array([5, 5, 9, 5]))
    >>> sorted(order.tolist()), bool((np.floor(t) == np.array([5, 5, 9, 5])[order]).all())
    ([0, 1, 2, 3], True)
    """
    n = len(sec)
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    new = np.ones(n, dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (sec[1:] != sec[:-1])
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    del new
    frac = _uniform_hash(group, sec, np.arange(n) - starts[run])  # the place among the second's rows
    order = np.arange(n)
    tied = np.flatnonzero(np.diff(np.append(starts, n))[run] > 1)
    if len(tied):  # rows sharing a second, sorted by their fractions
        order[tied] = tied[np.argsort(run[tied] + frac[tied], kind="stable")]
    del run, tied
    return order, sec[order] + frac[order]


def in_time_order(group: np.ndarray, sec: np.ndarray, pos: np.ndarray,
                  presorted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``pos`` sorted by group, then time within the second (:func:`sort_order`, then
    :func:`spread_seconds`), and those times, for :func:`regular_gaps`. ``presorted``: ``pos``
    is sorted by group and whole second already (ties in their positions), as :func:`sort_order` sorts."""
    if not presorted:
        pos = pos[sort_order(group[pos], sec[pos])[0]]
    order, fine = spread_seconds(group[pos], sec[pos])
    return pos[order], fine


def _uniform_hash(*keys: np.ndarray) -> np.ndarray:
    """A number in [0, 1) per row, a fixed function of the keys (their mix through splitmix64's finaliser)."""
    with np.errstate(over="ignore"):
        x = np.zeros(len(keys[0]), dtype=np.uint64)
        for key, mult in zip(keys, (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)):
            k = key.astype(np.uint64)
            k *= np.uint64(mult)
            x += k
            del k
        for shift, mult in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
            x ^= x >> np.uint64(shift)
            x *= np.uint64(mult)
        x ^= x >> np.uint64(31)
        x >>= np.uint64(11)
    return x.astype(np.float64) * 2.0 ** -53


def regular_gaps(group: np.ndarray, sec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by group and time (spread within the second, :func:`spread_seconds`):
    whether the gap before and the gap after a row can
    be compared (both > 0, within its group), and whether they are alike: the earlier gap's
    share of the two between 1/4 and 3/4.

    Under arrivals at random (a Poisson process, its rate changing slowly over the day) the
    share is uniform, so half the rows are regular; a tool that waits 70-180 s between
    submissions makes nearly all of them regular. Honest traffic clusters (friends pass the
    link on), which makes the share extreme, not regular: the test errs towards not alerting.

    >>> regular_gaps(np.zeros(5, dtype=int), np.array([0, 100, 190, 200, 900]))
    (array([False,  True,  True,  True, False]), array([False,  True, False, False, False]))
    """
    n = len(sec)
    valid = np.zeros(n, dtype=bool)
    regular = np.zeros(n, dtype=bool)
    if n < 3:
        return valid, regular
    before = (sec[1:-1] - sec[:-2]).astype(float)
    after = (sec[2:] - sec[1:-1]).astype(float)
    same = (group[1:-1] == group[:-2]) & (group[2:] == group[1:-1])
    ok = same & (before > 0) & (after > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = before / (before + after)
    valid[1:-1] = ok
    regular[1:-1] = ok & (share >= 0.25) & (share <= 0.75)
    return valid, regular


def binomial_tail_log(x: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """An upper bound of log P(X >= x) for X ~ Binomial(n, p) (Chernoff: ``-n KL(x/n || p)``
    where x/n > p, else 0). It also bounds the hypergeometric tail (drawing without
    replacement from a unit's questionnaires), so it is conservative for both.

    >>> round(float(binomial_tail_log(np.array([10]), np.array([10]), np.array([0.5]))[0]), 3)  # 0.5**10
    -6.931
    """
    x, n, p = (np.asarray(v, dtype=float) for v in (x, n, p))
    with np.errstate(invalid="ignore", divide="ignore"):
        q = x / n
        kl = np.where(q > 0, q * np.log(q / p), 0.0) + np.where(q < 1, (1 - q) * np.log((1 - q) / (1 - p)), 0.0)
        out = -n * kl
    return np.where((n > 0) & (q > p) & (p > 0), out, np.where((p <= 0) & (x > 0), -np.inf, 0.0))


def normal_tail_log(z: np.ndarray, two_sided: bool = False) -> np.ndarray:
    """log P(Z >= z) for a standard normal Z (log P(|Z| >= |z|) when ``two_sided``),
    accurate far into the tail (an asymptotic series past z = 8, where erfc underflows).

    >>> round(float(np.exp(normal_tail_log(np.array([1.96]), two_sided=True))[0]), 3)
    0.05
    """
    z = np.asarray(z, dtype=float)
    if two_sided:
        z = np.abs(z)
    z = np.nan_to_num(z, nan=0.0)
    out = np.empty_like(z)
    far = z > 8
    near = ~far
    out[near] = np.log(np.maximum(np.vectorize(math.erfc, otypes=[float])(z[near] / math.sqrt(2)) / 2, 1e-300)) \
        if near.any() else 0.0
    zf = z[far]
    out[far] = -zf * zf / 2 - np.log(zf * math.sqrt(2 * math.pi)) + np.log1p(-1 / (zf * zf))
    return out + (math.log(2) if two_sided else 0.0)


def fisher_log(logs: np.ndarray, have: np.ndarray) -> np.ndarray:
    """Fisher's combination of independent p-values: log P(χ²(2k) >= -2 Σ log p) for each row
    of ``logs`` (log p-values, columns = evidence), over the columns in ``have``. The χ²
    tail of even degrees of freedom is exact: ``e^(-x/2) Σ_{i<k} (x/2)^i / i!``.

    >>> round(float(np.exp(fisher_log(np.log(np.array([[0.05, 0.05]])), np.array([[True, True]])))[0]), 4)
    0.0175
    """
    logs = np.minimum(np.where(have, logs, 0.0), 0.0)
    k = have.sum(axis=1)
    half = -logs.sum(axis=1)  # x / 2
    kmax = int(k.max(initial=0))
    if kmax == 0:
        return np.zeros(len(logs))
    i = np.arange(kmax)
    with np.errstate(divide="ignore"):
        terms = i[None, :] * np.log(np.maximum(half, 1e-300))[:, None] - np.array([math.lgamma(j + 1) for j in i])
    terms = np.where(i[None, :] < k[:, None], terms, -np.inf)
    top = terms.max(axis=1)
    lse = top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
    return np.where(k > 0, np.minimum(-half + lse, 0.0), 0.0)
