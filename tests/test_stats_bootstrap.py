"""Answer patterns and the bootstrap on their counts (stats.patterns, stats.bootstrap), and the
promise that a replicate is scored exactly like the round (stats.uncertainty)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.scheme.ruleset import load_ruleset
from pingyi_lib.scoring import counts
from pingyi_lib.stats import bootstrap
from pingyi_lib.stats.bootstrap import EXACT, NORMAL, resample_counts, resample_items
from pingyi_lib.stats.patterns import answer_patterns
from pingyi_lib.stats.uncertainty import add_intervals, fixed_points, observed_items, replicate_scores

from .conftest import ITEMS, SAMPLE_2011, SAMPLE_2012, survey_rows, write_dataset

RS = load_ruleset()


def answers(rows: list[tuple[str, tuple[int, ...]]]) -> pd.DataFrame:
    return pd.DataFrame([(u, *codes) for u, codes in rows], columns=["unit_id", *RS.scored_items])


def test_patterns_count_distinct_answer_vectors_fold_abstain_and_drop_invalid_questionnaires():
    p = answer_patterns(answers([("a", (1, 1, 1, 1, 1)), ("a", (1, 1, 1, 1, 1)), ("a", (5, 5, 0, 1, 2)),
                                 ("a", (5, 0, 5, 0, 0)),  # no scored answer: not valid, left out
                                 ("b", (4, 4, 4, 4, 4))]), RS)
    assert p.values.tolist() == [["a", 0, 0, 0, 1, 2, 1],  # 不了解 (5) and blank (0) are one state
                                 ["a", 1, 1, 1, 1, 1, 2],
                                 ["b", 4, 4, 4, 4, 4, 1]]


@pytest.mark.parametrize("folder", [SAMPLE_2011, SAMPLE_2012])
def test_patterns_add_up_to_the_answer_counts(folder):
    ds = py.load_dataset(folder)
    for comp in ("survey", "onsite"):
        p = answer_patterns(ds.tables[comp], RS)
        tally = counts.answer_counts(ds.tables[comp], RS)
        assert p["count"].sum() == counts.valid_counts(ds.tables[comp], RS).sum()
        for item in RS.scored_items:
            for code in (1, 2, 3, 4):
                from_patterns = p[p[item] == code].groupby("unit_id")["count"].sum()
                direct = tally.xs(item, level="item")[code]
                assert from_patterns.reindex(direct.index, fill_value=0).tolist() == direct.tolist()


def test_multinomial_draws_keep_the_total_and_have_the_multinomial_moments():
    # Multinomial(n = 40, p = (0.5, 0.3, 0.2)): mean n·p = (20, 12, 8), var n·p·(1 − p) = (10, 8.4, 6.4)
    draws = np.zeros((20_000, 3))

    def visit(k, x):
        draws[:, k] = x

    bootstrap.multinomial(np.array([20, 12, 8]), 20_000, np.random.default_rng(1), visit)
    assert (draws.sum(axis=1) == 40).all()
    assert draws.mean(axis=0) == pytest.approx([20, 12, 8], abs=0.1)
    assert draws.var(axis=0) == pytest.approx([10, 8.4, 6.4], rel=0.05)


def test_normal_limit_has_the_mean_and_covariance_of_the_exact_resample():
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 5, size=(60, 5))
    codes[(codes == 0).all(axis=1), 0] = 1
    c = rng.integers(1, 40, size=60)
    exact = resample_counts(codes, c, 6, 20_000, np.random.default_rng(1), EXACT).reshape(20_000, -1)
    normal = resample_counts(codes, c, 6, 20_000, np.random.default_rng(2), NORMAL).reshape(20_000, -1)
    mu, cov = bootstrap.moments(codes, c / c.sum(), 6)
    n = c.sum()
    assert normal.mean(axis=0) == pytest.approx(n * mu, abs=0.5)
    assert exact.mean(axis=0) == pytest.approx(n * mu, abs=0.5)
    assert np.cov(normal.T) == pytest.approx(n * cov, abs=0.05 * n * cov.max())
    assert np.cov(exact.T) == pytest.approx(n * cov, abs=0.05 * n * cov.max())
    assert (normal.reshape(20_000, 5, 6).sum(axis=2) == pytest.approx(n))  # every item still sums to n


def patterns_of(rows):
    return pd.DataFrame([(u, *codes, k) for u, codes, k in rows], columns=["unit_id", *RS.scored_items, "count"])


def test_same_seed_same_replicates_and_a_unit_does_not_depend_on_the_others():
    p = patterns_of([("a", (1, 2, 3, 4, 1), 5), ("a", (2, 2, 2, 2, 2), 7), ("b", (1, 1, 1, 1, 1), 3),
                     ("b", (4, 4, 4, 4, 4), 2)])
    r1 = resample_items(p, ["a", "b"], RS, replicates=200, seed=9)
    r2 = resample_items(p, ["a", "b"], RS, replicates=200, seed=9)
    only_a = resample_items(p[p["unit_id"] == "a"], ["a"], RS, replicates=200, seed=9)
    other = resample_items(p, ["a", "b"], RS, replicates=200, seed=10)
    assert np.array_equal(r1.index, r2.index, equal_nan=True)
    assert np.array_equal(r1.index[0], only_a.index[0], equal_nan=True)
    assert not np.array_equal(r1.index, other.index, equal_nan=True)


def test_a_unit_with_one_answer_pattern_has_no_sampling_spread():
    r = resample_items(patterns_of([("a", (2, 2, 2, 2, 2), 50)]), ["a"], RS, replicates=300)
    assert np.all(r.index == 80.0)


def test_many_patterns_and_answers_switch_to_the_normal_limit():
    rng = np.random.default_rng(2)
    codes = rng.integers(1, 5, size=(400, 5))
    p = patterns_of([("a", tuple(c), 1) for c in codes] + [("b", (1, 1, 1, 1, 1), 500)])
    r = resample_items(p.groupby(["unit_id", *RS.scored_items], as_index=False)["count"].sum(), ["a", "b"], RS,
                       replicates=100)
    assert r.method.tolist() == [NORMAL, EXACT] and r.patterns[1] == 1


@pytest.mark.parametrize("folder", [SAMPLE_2011, SAMPLE_2012])
def test_replicate_of_the_observed_counts_reproduces_the_published_scores(folder):
    res = py.score(py.load_dataset(folder))
    r = replicate_scores(res.units, {c: observed_items(res, c) for c in ("onsite", "survey")}, res.ruleset,
                         *fixed_points(res))
    u = res.units
    assert np.array_equal(r.composite[:, 0], u["composite"].to_numpy(), equal_nan=True)
    assert np.array_equal(r.satisfaction[:, 0], u["satisfaction"].to_numpy(), equal_nan=True)
    assert np.array_equal(r.rank[:, 0], u["rank"].astype(float).to_numpy(), equal_nan=True)
    for col in ("in_bottom", "talk", "no_excellence"):
        assert r.__dict__[col][:, 0].tolist() == u[col].tolist(), col


def test_intervals_on_the_sample_round_hold_together():
    res = py.score(py.load_dataset(SAMPLE_2011), intervals=True)
    u = res.units.set_index("unit_id")
    ranked = u[u["rank"].notna()]
    assert (ranked["composite_lo"] <= ranked["composite"]).all()
    assert (ranked["composite"] <= ranked["composite_hi"]).all()
    assert (ranked["rank_lo"] <= ranked["rank"]).all() and (ranked["rank"] <= ranked["rank_hi"]).all()
    assert ranked[["p_bottom", "p_talk", "p_no_excellence"]].stack().between(0, 1).all()
    assert u.loc["czsaj", ["rank_lo", "p_bottom"]].isna().all()  # the city bureau is not ranked
    assert (u["satisfaction_lo"] == u["survey_index_lo"]).all()
    # a consequence that fires has a label, one that does not has none
    assert ((u["talk_robustness"] != "") == u["talk"]).all()
    assert u.loc["wj", "talk_robustness"] == "稳健"
    assert u.loc["wj-hutang", "talk_robustness"] == "可能是抽样波动"  # 79.87%, 0.13 under the line
    # every published index has a row; same input, same output
    again = add_intervals(py.score(py.load_dataset(SAMPLE_2011)))
    pd.testing.assert_frame_equal(res.units, again.units)
    pd.testing.assert_frame_equal(res.intervals, again.intervals)
    t = res.intervals
    assert set(t["measure"]) == {"composite", "onsite_index", "survey_index", "satisfied_share", "item_index"}
    assert len(t[(t["measure"] == "item_index") & (t["component"] == "survey")]) == 19 * len(RS.items)


def test_units_without_an_on_site_panel_have_no_on_site_interval(tmp_path):
    ds = write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲,district\nb,乙,district\n",
                       survey="response_id,unit_id,channel," + ITEMS + "\n"
                       + survey_rows("a", ["1,2,3,1,2", "2,2,2,2,2", "1,1,1,1,4"])
                       + survey_rows("b", ["3,3,3,3,3", "2,3,4,2,1"], start=10))
    res = py.score(py.load_dataset(ds), intervals=True)
    assert res.units["onsite_index_lo"].isna().all()
    assert not (res.intervals["component"] == "onsite").any()
