"""Where a questionnaire came from and how it was answered: a device's or an IP address's
questionnaires for one unit beyond what the ruleset allows, a unit's beyond what its
population or quota makes plausible, answers too fast to have read the questions. Each
detector is vectorised over a block of whole units (detect.py runs them) and returns arrays
aligned with its input; the thresholds are the ruleset's ``[integrity.*]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.scheme.ruleset import IntegrityRules


def occurrence(keys: np.ndarray, counts: bool = False) -> tuple[np.ndarray, ...]:
    """For a sequence of keys: how many equal keys came before each one (0 for the first)
    and the position of the first of them; with ``counts``, also how many equal keys there are.

    >>> occurrence(np.array([7, 3, 7, 7, 3]))
    (array([0, 0, 1, 2, 1]), array([0, 1, 0, 0, 1]))
    >>> occurrence(np.array([7, 3, 7, 7, 3]), counts=True)[2]
    array([3, 2, 3, 3, 2])
    """
    n = len(keys)
    idx = np.argsort(keys, kind="stable")
    k = keys[idx]
    start = np.ones(n, dtype=bool)
    start[1:] = k[1:] != k[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    seq = np.empty(n, dtype=np.int64)
    seq[idx] = np.arange(n) - first
    first_pos = np.empty(n, dtype=np.int64)
    first_pos[idx] = idx[first]
    if not counts:
        return seq, first_pos
    group = np.cumsum(start) - 1  # the sorted keys' runs of equal keys
    total = np.empty(n, dtype=np.int64)
    total[idx] = np.bincount(group)[group] if n else group
    return seq, first_pos, total


def _blank(values: pd.Index) -> int:
    """The position of '' among distinct values, or -1."""
    at = np.flatnonzero(np.asarray(values == ""))
    return int(at[0]) if len(at) else -1


def poisson_tail_log(x: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """An upper bound of log P(X >= x) for X ~ Poisson(lam): the Chernoff bound
    ``-lam + x (1 + ln lam - ln x)`` where x > lam, else 0. An upper bound of the p-value,
    so a test with it is conservative: it never calls a burst what the exact tail would not.

    >>> round(float(poisson_tail_log(np.array([10.0]), np.array([1.0]))[0]), 3)  # e^-1 (e/10)^10
    -14.026
    """
    x = np.asarray(x, dtype=float)
    lam = np.asarray(lam, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -lam + x * (1 + np.log(lam) - np.log(x))
    return np.where(x > lam, out, 0.0)


def fingerprint_repeat(unit: np.ndarray, fp: np.ndarray, fp_values: pd.Index, order: np.ndarray, limit: int):
    """A device's questionnaires for a unit beyond the first ``limit``, in time order.

    ``fp``: fingerprint codes into ``fp_values`` (the code of '' is no fingerprint).
    Returns (flag, seq, first): seq = how many of the device's questionnaires for the
    unit came before (0 for the first), first = the position of its first.
    """
    has = fp != _blank(fp_values)
    key = unit * (len(fp_values) + 1) + fp
    seq_o, first_o = occurrence(key[order])
    seq = np.empty(len(order), dtype=np.int64)
    first = np.empty(len(order), dtype=np.int64)
    seq[order] = seq_o
    first[order] = order[first_o]
    return has & (seq >= limit), seq, first


def ip_repeat(unit: np.ndarray, ip: np.ndarray, ip_values: pd.Index, order: np.ndarray, ip_total: np.ndarray,
              unit_share: np.ndarray, limit: int, p: float):
    """An IP address's questionnaires for a unit beyond the first ``limit`` (in time order), when
    so many from it for this unit are unlikely given its questionnaires for every unit.

    An address is not a device: a mobile carrier's gateway or an office router sends many
    honest questionnaires, spread over units as everyone's are. Expected for the unit:
    ``λ = (the address's questionnaires in the round) × (the unit's share of the round)``;
    flagged when ``P(Poisson(λ) ≥ n) < p`` (Chernoff bound, :func:`poisson_tail_log`), where
    ``n`` is the address's questionnaires for the unit. ``limit`` 0: not judged; ``ip`` None:
    the round records no address (nothing to judge, and no sort for it).

    Returns (flag, seq from 1, n, λ) aligned with the input (zeros where not judged).
    """
    if not limit or not len(unit) or ip is None:
        z = np.zeros(len(unit), dtype=np.int64)
        return z.astype(bool), z, z, z.astype(float)
    has = ip != _blank(ip_values)
    key = unit * (len(ip_values) + 1) + ip
    seq_o, _, n_o = occurrence(key[order], counts=True)  # the counts from the same sort
    seq, n = np.empty(len(order), dtype=np.int64), np.empty(len(order), dtype=np.int64)
    seq[order], n[order] = seq_o, n_o
    lam = ip_total * unit_share[unit]
    flag = has & (seq >= limit) & (poisson_tail_log(n.astype(float), lam) < np.log(p))
    return flag, seq + 1, n, lam


def too_fast(duration: np.ndarray, min_seconds: float) -> np.ndarray:
    """Answered in fewer than ``min_seconds`` (a missing time taken is not judged; 0: not judged)."""
    if not min_seconds:
        return np.zeros(len(duration), dtype=bool)
    with np.errstate(invalid="ignore"):
        return duration < min_seconds


def volume_caps(units: pd.DataFrame, rules: IntegrityRules) -> pd.Series:
    """unit_id -> the most questionnaires a unit can plausibly return: ``population ×
    population_share`` and ``quota × quota_ratio`` where given (blank or 0: not given)."""
    caps = pd.Series(np.inf, index=units["unit_id"].to_numpy())
    for column, factor in (("population", rules.population_share), ("quota", rules.quota_ratio)):
        if column in units:
            v = units[column].to_numpy(dtype=float)
            caps = caps.where(~(v > 0), np.minimum(caps.to_numpy(), np.floor(v * factor)))
    return caps


def implausible_volume(unit: np.ndarray, order: np.ndarray, caps: np.ndarray):
    """A unit's questionnaires beyond its plausible number, the latest ones flagged.
    ``caps``: the cap of each unit code (:func:`volume_caps`; inf: none).

    Returns (flag, seq from 1, cap) aligned with the input."""
    seq_o, _ = occurrence(unit[order])
    seq = np.empty(len(order), dtype=np.int64)
    seq[order] = seq_o + 1
    cap = caps[unit] if len(caps) else np.full(len(unit), np.inf)
    return seq > cap, seq, cap
