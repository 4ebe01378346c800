"""Bootstrap replicates of every index, drawn on answer-pattern counts.

A replicate resamples each unit's valid questionnaires (or ballots) with replacement, as
if the survey had been run again with the same number of returns. With ``K`` distinct
answer patterns of counts ``c`` (``n = Σ c``), a resample is one multinomial draw
``Multinomial(n, c / n)`` on the patterns: its cost is ``K`` per replicate, whatever ``n``.

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
from pingyi_lib.stats.patterns import level_onehot

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


def resample_counts(onehot: np.ndarray, counts: np.ndarray, replicates: int, rng: np.random.Generator,
                    method: str) -> np.ndarray:
    """Counts per item and level of ``replicates`` resamples: ``[replicate, item, level]``.

    ``onehot``: ``[pattern, item, level]`` indicators; ``counts``: how often each pattern was seen.
    """
    k, n_items, n_levels = onehot.shape
    x = onehot.reshape(k, n_items * n_levels)
    n = int(counts.sum())
    p = counts / n
    if method == EXACT:
        draws = rng.multinomial(n, p, size=replicates).astype(float)
        out = draws @ x
    else:
        mu = p @ x
        cov = (x * p[:, None]).T @ x - np.outer(mu, mu)
        vals, vecs = np.linalg.eigh(cov)
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))
        out = n * mu + np.sqrt(n) * (rng.standard_normal((replicates, len(mu))) @ root.T)
        out[:, mu == 0] = 0.0  # a level nobody chose cannot appear in a resample
    return out.reshape(replicates, n_items, n_levels)


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
    onehot = level_onehot(patterns, ruleset, items)
    pos = ids.get_indexer(patterns["unit_id"])
    counts = patterns["count"].to_numpy(dtype=np.int64)
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(len(ids) + 1))
    for u in range(len(ids)):  # one small block of patterns per unit
        rows = order[bounds[u]:bounds[u + 1]]
        if not len(rows):
            continue
        c = counts[rows]
        observed = (onehot[rows] * c[:, None, None]).sum(axis=0)
        m = method or choose_method(len(rows), observed[:, 1:].sum(axis=1), ruleset)
        lc = resample_counts(onehot[rows], c, r, unit_stream(seed, component, ids[u]), m)
        n_out[u], idx_out[u], share_out[u] = indices.item_index_array(lc, ruleset)
        valid[u], n_patterns[u], methods[u] = c.sum(), len(rows), m
    return ItemReplicates(ids, items, n_out, idx_out, share_out, valid, n_patterns, methods)
