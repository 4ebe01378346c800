"""Does the bootstrap cost depend on the number of respondents? (issue 15)

    .venv/bin/python bench/bench_intervals.py [--respondents 10000 10000000] [--units 200] [--replicates 2000]

For each size, draws the answer-pattern counts of a synthetic round directly (no rows):
``units`` units, respondents split evenly, six items (five scored) from a latent-mood
answer model with a unit effect, so answers on one questionnaire are correlated as in real
surveys. Then times, median of ``--runs``: the bootstrap on pattern counts
(stats.bootstrap.resample_items) and the replicate scoring and ranking (component indices,
composite, rounding, ranks, bottom group, rules; stats.uncertainty.replicate_scores and
stats.ranks.rank_summary), for ``--replicates`` replicates. Prints one line per size.
"""

import pingyi_lib  # noqa: I001, F401 - first: its one-thread BLAS default must precede numpy

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from pingyi_lib.scheme.ruleset import load_ruleset
from pingyi_lib.stats import ranks
from pingyi_lib.stats.bootstrap import resample_items
from pingyi_lib.stats.uncertainty import replicate_scores


def population(rs, n_units: int, seed: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """Every possible pattern (level code 0..4 per item; 0 = no scored answer) and, per unit,
    its probability under a latent-mood model: ``codes`` (patterns × items), ``p`` (units × patterns)."""
    rng = np.random.default_rng(seed)
    items = len(rs.items)
    grid = np.stack(np.meshgrid(*[np.arange(5)] * items, indexing="ij"), axis=-1).reshape(-1, items)
    grid = grid[(grid[:, :5] > 0).any(axis=1)]  # valid questionnaires only
    mood = np.linspace(-3, 3, 31)
    w_mood = np.exp(-mood ** 2 / 2)
    w_mood /= w_mood.sum()
    cut = np.array([-1.2, -0.2, 0.9])  # thresholds between 很满意|比较满意|基本满意|不满意 on a latent scale
    abstain = np.array([0.03, 0.04, 0.09, 0.015, 0.06, 0.01])
    p = np.empty((n_units, len(grid)))
    for u in range(n_units):
        shift = rng.normal(0, 0.35)
        lat = mood - shift  # higher = less satisfied
        cdf = 1 / (1 + np.exp(-(cut[None, :] - lat[:, None])))  # P(code <= j | mood), (mood, 3)
        probs = np.diff(np.concatenate([np.zeros((len(mood), 1)), cdf, np.ones((len(mood), 1))], axis=1), axis=1)
        per_item = np.concatenate([abstain[None, :, None] * np.ones((len(mood), items, 1)),
                                   (1 - abstain)[None, :, None] * probs[:, None, :]], axis=2)  # (mood, item, 5)
        like = np.ones((len(mood), len(grid)))
        for i in range(items):
            like *= per_item[:, i, grid[:, i]]
        p[u] = w_mood @ like
        p[u] /= p[u].sum()
    return grid, p


def pattern_counts(rs, n_units: int, respondents: int, seed: int = 15) -> pd.DataFrame:
    grid, p = population(rs, n_units, seed)
    rng = np.random.default_rng(seed + respondents)
    per_unit = np.full(n_units, respondents // n_units)
    per_unit[: respondents % n_units] += 1
    frames = []
    for u in range(n_units):
        c = rng.multinomial(per_unit[u], p[u])
        keep = np.flatnonzero(c)
        f = pd.DataFrame(grid[keep], columns=list(rs.items))
        f.insert(0, "unit_id", f"u{u:03d}")
        f["count"] = c[keep]
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--respondents", type=int, nargs="+", default=[10_000, 10_000_000])
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--replicates", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    rs = load_ruleset()
    units = pd.DataFrame({"unit_id": [f"u{u:03d}" for u in range(a.units)],
                          "rank_group": ["district" if u < a.units // 3 else "service" for u in range(a.units)],
                          "violation": False})
    for n in a.respondents:
        pats = pattern_counts(rs, a.units, n)
        k = pats.groupby("unit_id").size()
        boot, rest, cpu = [], [], []
        for _ in range(a.runs):
            c0 = time.process_time()
            t0 = time.perf_counter()
            items = resample_items(pats, units["unit_id"], rs, "survey", replicates=a.replicates)
            t1 = time.perf_counter()
            reps = replicate_scores(units, {"survey": items}, rs, cases=rs.case_cap)
            u = units.assign(rank=pd.Series(reps.rank[:, 0]).astype("Int64"), talk=False, no_excellence=False)
            ranks.rank_summary({"rank": reps.rank, "in_bottom": reps.in_bottom,
                                "no_excellence": reps.no_excellence, "talk": reps.talk}, u, rs)
            t2 = time.perf_counter()
            cpu.append(time.process_time() - c0)
            boot.append(t1 - t0)
            rest.append(t2 - t1)
        methods = pd.Series(items.method).value_counts().to_dict()
        print(f"{n:>11,} respondents, {a.units} units, {a.replicates} replicates: "
              f"patterns per unit median {int(k.median())} (max {k.max()}), draws {methods}; "
              f"bootstrap {statistics.median(boot):.2f} s, scoring+ranking {statistics.median(rest):.2f} s, "
              f"total {statistics.median(boot) + statistics.median(rest):.2f} s wall, "
              f"{statistics.median(cpu):.2f} s CPU (medians of {a.runs})")


if __name__ == "__main__":
    main()
