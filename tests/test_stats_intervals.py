"""Analytic intervals and interval arithmetic (stats.intervals), with hand arithmetic and
published reference values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pingyi_lib.scheme.ruleset import load_ruleset
from pingyi_lib.stats import intervals

RS = load_ruleset()
ITEMS = list(RS.scored_items)


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)])
def test_wilson_interval_matches_newcombe_1998_table_i(k, n, lo, hi):
    # Newcombe RG (1998), Two-sided confidence intervals for the single proportion: comparison
    # of seven methods, Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score
    # interval without continuity correction), 95%.
    w_lo, w_hi = intervals.wilson(k / n, n, 0.95)
    assert (round(float(w_lo), 4), round(float(w_hi), 4)) == (lo, hi)


def test_wilson_interval_by_hand():
    # p = 8/10, z = 1.959964: centre = (0.8 + z²/20) / (1 + z²/10) = 0.992073 / 1.384146 = 0.716740
    # half = z · √(0.8·0.2/10 + z²/400) / 1.384146 = 1.959964 · √(0.016 + 0.009604) / 1.384146 = 0.226578
    lo, hi = intervals.wilson(0.8, 10, 0.95)
    assert float(lo) == pytest.approx(0.716740 - 0.226578, abs=2e-6)
    assert float(hi) == pytest.approx(0.716740 + 0.226578, abs=2e-6)


def test_z_values_of_the_interval_and_funnel_levels():
    assert intervals.z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert intervals.z_value(0.998) == pytest.approx(3.090232, abs=1e-6)


@pytest.mark.parametrize(("df", "t"), [(1, 12.7062), (2, 4.3027), (4, 2.7764), (10, 2.2281), (29, 2.0452),
                                       (120, 1.9799)])
def test_t_quantile_matches_the_table(df, t):
    # two-sided 95% critical values of Student's t (any statistics table)
    assert float(intervals.t_quantile(0.975, df)) == pytest.approx(t, abs=2e-3)


def test_expanded_percentile_is_wider_for_small_samples_and_plain_for_large():
    # α'/2 = Φ(−√(30/29) · t₂₉) = Φ(−1.01709 · 2.04523) = Φ(−2.08018) = 0.018754
    assert float(intervals.expanded_tail(0.95, 30)) == pytest.approx(0.018754, abs=2e-5)
    assert float(intervals.expanded_tail(0.95, 1e6)) == pytest.approx(0.025, abs=1e-5)
    reps = np.random.default_rng(3).normal(size=(2, 4001))
    plain = intervals.percentile(reps, 0.95, axis=1)
    lo, hi = intervals.percentile(reps, 0.95, axis=1, n=[30, 1e9])
    assert lo[0] < plain[0][0] and hi[0] > plain[1][0]
    assert lo[1] == pytest.approx(plain[0][1]) and hi[1] == pytest.approx(plain[1][1])


def patterns(rows: list[tuple[str, tuple[int, ...], int]]) -> pd.DataFrame:
    out = pd.DataFrame([(u, *codes, c) for u, codes, c in rows], columns=["unit_id", *ITEMS, "count"])
    return out


def test_normal_interval_of_one_item_is_the_textbook_mean_interval():
    # five questionnaires answering every item the same: scores 1, 0.8, 0.6, 0, 1 (codes 1, 2, 3, 4, 1)
    # mean 0.68 → index 68; s² = (0.32² + 0.12² + 0.08² + 0.68² + 0.32²) / 4 = 0.688 / 4 = 0.172
    # se = 100 · √(0.172 / 5) = 18.5472; 95%: 68 ± 1.959964 · 18.5472 = [31.648, 104.352]
    p = patterns([("u", (c,) * 5, 1) for c in (1, 2, 3, 4, 1)])
    lin = intervals.linearised(p, ["u"], RS)
    item = lin["items"].loc[("u", "lawful")]
    assert item["index"] == pytest.approx(68.0) and item["index_var"] == pytest.approx(344.0)
    lo, hi = intervals.normal(item["index"], np.sqrt(item["index_var"]), 0.95)
    assert (float(lo), float(hi)) == pytest.approx((31.648, 104.352), abs=1e-3)
    # the component index of five identical items has the same variance
    assert lin["units"].loc["u", "index_var"] == pytest.approx(344.0)


def test_linearised_variance_of_a_ratio_with_item_nonresponse():
    # item lawful: answered by 2 of 3 questionnaires (scores 1 and 0.6, mean 0.8); the third
    # abstained. z_r = h_r (s_r − 0.8) / 2: 0.1, −0.1, 0; var = 3/2 · (0.01 + 0.01) = 0.03 → ×100²
    p = patterns([("u", (1, 1, 1, 1, 1), 1), ("u", (3, 1, 1, 1, 1), 1), ("u", (0, 1, 1, 1, 1), 1)])
    item = intervals.linearised(p, ["u"], RS)["items"].loc[("u", "lawful")]
    assert item["n"] == 2 and item["index_var"] == pytest.approx(300.0)


def test_linearised_satisfied_share_pools_the_answers_of_each_questionnaire():
    # two questionnaires: all five 很满意 (5 satisfied of 5), all five 不满意 (0 of 5): p = 0.5,
    # answers 10; z = (5 − 0.5·5)/10 = 0.25 and −0.25; var = 2/1 · 0.125 = 0.25 (not 0.025:
    # answers on one questionnaire are not independent)
    p = patterns([("u", (1,) * 5, 1), ("u", (4,) * 5, 1)])
    u = intervals.linearised(p, ["u"], RS)["units"].loc["u"]
    assert u["share"] == 0.5 and u["answers"] == 10 and u["share_var"] == pytest.approx(0.25)
