"""Coverage of the 95% intervals of the questionnaire index, by simulation (issue 15).

    .venv/bin/python bench/sim_coverage.py [--surveys 2000] [--replicates 1000]

Draws ``--surveys`` surveys of each size from the latent-mood population of
``tests/test_stats_coverage.py`` (shift 0.6: truth about 66; shift 1.5: truth about 79,
a skewed population near the 80 line) and prints, per size and draw, how often the
interval covers the truth: the expanded percentile interval that pingyi publishes, the
plain percentile interval, and the analytic normal interval; and how often the truth
lies above the interval (``miss high``) or below it (``miss low``).
"""

import pingyi_lib  # noqa: I001, F401 - first: its one-thread BLAS default must precede numpy

import argparse
import sys
from pathlib import Path

import numpy as np

from pingyi_lib.stats import intervals
from pingyi_lib.stats.bootstrap import EXACT, NORMAL, resample_items

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_stats_coverage import RS, population, questionnaire_index, surveys  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--surveys", type=int, default=2000)
    ap.add_argument("--replicates", type=int, default=1000)
    a = ap.parse_args()
    print("| population | n | draw | expanded percentile | plain percentile | analytic normal | miss high | miss low |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for shift in (0.6, 1.5):
        codes, p, truth = population(shift)
        for n in (30, 50, 100, 200, 1000):
            pats = surveys(codes, p, n, a.surveys, seed=n)
            ids = [f"s{i:04d}" for i in range(a.surveys)]
            lin = intervals.linearised(pats, ids, RS)["units"]
            a_lo, a_hi = intervals.normal(lin["index"], np.sqrt(lin["index_var"]), 0.95)
            for draw in (EXACT, NORMAL):
                reps = resample_items(pats, ids, RS, replicates=a.replicates, method=draw)
                q = questionnaire_index(reps)
                lo, hi = intervals.percentile(q, 0.95, axis=1, n=reps.valid)
                p_lo, p_hi = intervals.percentile(q, 0.95, axis=1)
                print(f"| truth {truth:.2f} | {n} | {draw} | {np.mean((lo <= truth) & (truth <= hi)):.3f} | "
                      f"{np.mean((p_lo <= truth) & (truth <= p_hi)):.3f} | "
                      f"{np.mean((a_lo <= truth) & (truth <= a_hi)):.3f} | {np.mean(hi < truth):.3f} | "
                      f"{np.mean(lo > truth):.3f} |")


if __name__ == "__main__":
    main()
