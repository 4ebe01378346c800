"""Bootstrap replicates of every index, drawn on answer-pattern counts.

A replicate resamples each unit's valid questionnaires (or ballots) with replacement, as
if the survey had been run again with the same number of returns. With ``K`` distinct
answer patterns of counts ``c`` (``n = Σ c``), a resample is one multinomial draw
``Multinomial(n, c / n)`` on the patterns (exact conditional binomials, vectorised over the
replicates): its cost is ``K`` per replicate, whatever ``n``.

Where a unit has many patterns (more than ``stats.exact_max_patterns``) and every item has
many answers (at least ``stats.normal_min_answers``), the multinomial is replaced by its
normal limit: the resample's counts per item and level are drawn from the normal with the
multinomial's own mean ``n·μ`` and covariance ``n·Σ`` (``μ``, ``Σ`` the mean and covariance of
one questionnaire's level indicators). The first two moments are exact; what is lost is
the skew of a sum of more than a hundred bounded answers, which is negligible, and the
cost no longer grows with ``K`` either. ``method`` says which draw each unit got.

Every replicate's counts then go through :func:`pingyi_lib.scoring.indices.item_index_array`,
the function the published item indices come from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.scoring import indices

EXACT, NORMAL = "exact", "normal"
COMPONENT_STREAMS = {"survey": 1, "onsite": 2}


@dataclass
class ItemReplicates:
    """Replicates of the item indices of one component (``units × replicates × items``)."""

    unit_ids: pd.Index
    items: tuple[str, ...]
    n: np.ndarray  # scored answers per item
    index: np.ndarray  # item index, 0-100 (NaN where an item has no scored answer in a replicate)
    share: np.ndarray  # satisfied share, 0-1
    valid: np.ndarray  # questionnaires resampled per unit (units,)
    patterns: np.ndarray  # distinct answer patterns per unit (units,)
    method: np.ndarray  # EXACT, NORMAL or "" (no valid questionnaire) per unit


def unit_stream(seed: int, component: str, unit_id: str) -> np.random.Generator:
    """The random stream of one unit and component: fixed by the seed and the unit id alone,
    so adding or removing another unit changes nothing here."""
    digest = hashlib.sha256(str(unit_id).encode("utf-8")).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([seed, COMPONENT_STREAMS.get(component, 0), *words]))


def multinomial(counts: np.ndarray, replicates: int, rng: np.random.Generator, visit) -> None:
    """Draw ``replicates`` resamples ``Multinomial(n, counts / n)`` pattern by pattern.

    Exact conditional-binomial sampling: pattern ``k`` gets ``Binomial(left, c_k / (n − Σ_{j<k} c_j))``
    of the ``left`` questionnaires not yet drawn (integer arithmetic, no drift).
    ``visit(k, x)`` receives each pattern's draws ``x`` (one per replicate), so counts per
    item and level are summed as they come; no ``replicates × patterns`` array is built.
    """
    left = np.full(replicates, int(counts.sum()), dtype=np.int64)
    remaining = int(counts.sum())
    for k, c in enumerate(counts[:-1]):
        x = rng.binomial(left, c / remaining) if remaining > c else left.copy()
        left -= x
        remaining -= int(c)
        visit(k, x)
    visit(len(counts) - 1, left)


def moments(codes: np.ndarray, weights: np.ndarray, n_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``μ`` and covariance ``Σ`` of one questionnaire's level indicators (``items × levels``,
    flattened) when patterns ``codes`` occur with probabilities ``weights``. From pairwise
    counts (one ``bincount`` per pair of items), so the cost is ``items² × patterns``."""
    n_items = codes.shape[1]
    mu = np.stack([np.bincount(codes[:, i], weights=weights, minlength=n_levels) for i in range(n_items)])
    cov = np.empty((n_items * n_levels, n_items * n_levels))
    for i in range(n_items):
        for j in range(i, n_items):
            joint = np.bincount(codes[:, i] * n_levels + codes[:, j], weights=weights,
                                minlength=n_levels * n_levels).reshape(n_levels, n_levels)
            block = joint - np.outer(mu[i], mu[j])
            cov[i * n_levels:(i + 1) * n_levels, j * n_levels:(j + 1) * n_levels] = block
            cov[j * n_levels:(j + 1) * n_levels, i * n_levels:(i + 1) * n_levels] = block.T
    return mu.ravel(), cov


def resample_counts(codes: np.ndarray, counts: np.ndarray, n_levels: int, replicates: int,
                    rng: np.random.Generator, method: str) -> np.ndarray:
    """Counts per item and level of ``replicates`` resamples: ``[replicate, item, level]``.

    ``codes``: ``[pattern, item]`` level codes (0 = no scored answer); ``counts``: how often
    each pattern was seen.
    """
    n_items = codes.shape[1]
    n = int(counts.sum())
    out = np.zeros((replicates, n_items, n_levels))
    if method == EXACT:
        items = np.arange(n_items)

        def visit(k: int, x: np.ndarray) -> None:
            out[:, items, codes[k]] += x[:, None]

        multinomial(counts, replicates, rng, visit)
        return out
    mu, cov = moments(codes, counts / n, n_levels)
    keep = mu > 0  # a level nobody chose cannot appear in a resample
    vals, vecs = np.linalg.eigh(cov[np.ix_(keep, keep)])
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    flat = out.reshape(replicates, -1)
    flat[:, keep] = n * mu[keep] + np.sqrt(n) * (rng.standard_normal((replicates, int(keep.sum()))) @ root.T)
    return out


def choose_method(patterns: int, item_answers: np.ndarray, ruleset: Ruleset) -> str:
    """EXACT unless the unit has many patterns and every answered item many answers."""
    st = ruleset.stats
    answered = item_answers[item_answers > 0]
    if patterns > st.exact_max_patterns and len(answered) and answered.min() >= st.normal_min_answers:
        return NORMAL
    return EXACT


def resample_items(patterns: pd.DataFrame, unit_ids, ruleset: Ruleset, component: str = "survey",
                   replicates: int | None = None, seed: int | None = None,
                   method: str | None = None) -> ItemReplicates:
    """Bootstrap replicates of the item indices of every unit in ``unit_ids``.

    ``patterns`` from :func:`pingyi_lib.stats.patterns.answer_patterns`. ``replicates`` and
    ``seed`` default to the ruleset's; ``method`` forces EXACT or NORMAL for every unit (tests).
    Units without a valid questionnaire get NaN throughout.
    """
    st = ruleset.stats
    r = replicates or st.replicates
    seed = st.seed if seed is None else seed
    ids = pd.Index(list(unit_ids), name="unit_id")
    items = tuple(c for c in patterns.columns if c not in ("unit_id", "count"))
    shape = (len(ids), r, len(items))
    n_out, idx_out, share_out = np.zeros(shape), np.full(shape, np.nan), np.full(shape, np.nan)
    valid = np.zeros(len(ids), dtype=np.int64)
    n_patterns = np.zeros(len(ids), dtype=np.int64)
    methods = np.full(len(ids), "", dtype=object)
    if not len(patterns):
        return ItemReplicates(ids, items, n_out, idx_out, share_out, valid, n_patterns, methods)
    n_levels = len(ruleset.levels) + 1
    codes = patterns[list(items)].to_numpy(dtype=np.int64)
    pos = ids.get_indexer(patterns["unit_id"])
    counts = patterns["count"].to_numpy(dtype=np.int64)
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(len(ids) + 1))
    for u in range(len(ids)):  # one small block of patterns per unit
        rows = order[bounds[u]:bounds[u + 1]]
        if not len(rows):
            continue
        c, k = counts[rows], codes[rows]
        answers = ((k > 0) * c[:, None]).sum(axis=0)  # scored answers per item
        m = method or choose_method(len(rows), answers, ruleset)
        lc = resample_counts(k, c, n_levels, r, unit_stream(seed, component, ids[u]), m)
        n_out[u], idx_out[u], share_out[u] = indices.item_index_array(lc, ruleset)
        valid[u], n_patterns[u], methods[u] = c.sum(), len(rows), m
    return ItemReplicates(ids, items, n_out, idx_out, share_out, valid, n_patterns, methods)
