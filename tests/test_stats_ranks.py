"""Rank uncertainty (stats.ranks): SPEC §4's ranking inside every replicate, the probability
of the bottom group and of each consequence, and the robustness labels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pingyi_lib as py
from pingyi_lib.scheme.ruleset import load_ruleset
from pingyi_lib.scoring import indices
from pingyi_lib.stats import ranks

from .conftest import ITEMS, survey_rows, write_dataset

RS = load_ruleset()


def league(tmp_path):
    """Seven districts (bottom group: the last 3 ranks). A, B, C answer alike and well; D and E
    have the very same 60 questionnaires, middling; F and G answer badly. D and E tie at
    rank 4, so neither is in the published bottom group (ranks 6 and 7 only), and in each
    replicate one of them drops to rank 5."""
    good = ["1,1,1,1,1"] * 40 + ["2,2,2,2,2"] * 20
    middle = ["1,1,1,1,1"] * 20 + ["2,2,2,2,2"] * 20 + ["3,3,3,3,3"] * 15 + ["4,4,4,4,4"] * 5
    bad = ["3,3,3,3,3"] * 20 + ["4,4,4,4,4"] * 40
    units = "unit_id,name,level\n" + "".join(f"{u},{u}区安监局,district\n" for u in "ABCDEFG")
    survey = "response_id,unit_id,channel," + ITEMS + "\n" + "".join(
        survey_rows(u, rows, start=100 * i) for i, (u, rows) in
        enumerate(zip("ABCDEFG", [good, good, good, middle, middle, bad, bad])))
    return py.load_dataset(write_dataset(tmp_path / "league", units=units, survey=survey))


def test_clear_cut_units_are_certain_and_a_tied_pair_shares_the_bottom_place(tmp_path):
    res = py.score(league(tmp_path), intervals=True)
    u = res.units.set_index("unit_id")
    assert u.loc["D", "rank"] == u.loc["E", "rank"] == 4 and not u.loc["D", "in_bottom"]
    assert u.loc["A", "p_bottom"] == 0.0 and u.loc["G", "p_bottom"] == 1.0  # clear-cut
    assert 0.3 < u.loc["D", "p_bottom"] < 0.7 and 0.3 < u.loc["E", "p_bottom"] < 0.7  # a coin toss
    # every replicate has exactly k = 3 units in the bottom group unless D and E tie again
    assert u.loc["D", "p_bottom"] + u.loc["E", "p_bottom"] == pytest.approx(1.0, abs=0.1)
    assert (u.loc["D", "rank_lo"], u.loc["D", "rank_hi"]) == (4, 5)
    assert u.loc["G", "talk"] and u.loc["G", "talk_robustness"] == "稳健"


def test_violator_stays_last_in_every_replicate(tmp_path):
    ds = league(tmp_path)
    ds.tables["violations"] = pd.DataFrame({"unit_id": ["A"], "kind": ["刷票"], "summary": [""],
                                            "confirmed": [True], "row": [2]})
    res = py.score(ds, intervals=True)
    a = res.units.set_index("unit_id").loc["A"]
    assert a["rank"] == a["rank_lo"] == a["rank_hi"] == 7 and a["p_bottom"] == 1.0


@pytest.mark.parametrize(("p", "label"), [(1.0, "稳健"), (0.95, "稳健"), (0.9499, "较可能"), (0.75, "较可能"),
                                          (0.7499, "可能是抽样波动"), (0.0, "可能是抽样波动")])
def test_robustness_label_follows_the_ruleset_thresholds(p, label):
    assert ranks.robustness(p, RS) == label


def test_robustness_thresholds_and_words_come_from_the_ruleset():
    rs = dataclasses.replace(RS, stats=dataclasses.replace(RS.stats, robust=0.99, labels={
        "robust": "确定", "likely": "大概", "noise": "不确定"}))
    assert ranks.robustness(0.97, rs) == "大概" and ranks.robustness(0.995, rs) == "确定"


composites = st.lists(st.one_of(st.none(), st.integers(0, 12).map(lambda x: 80 + x / 4)), min_size=1, max_size=9)


@settings(max_examples=60, deadline=None)
@given(composites, st.data())
def test_array_ranking_equals_the_published_ranking_column_by_column(values, data):
    n = len(values)
    viol = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    cols = [values, data.draw(st.permutations(values))]
    arr = np.array([[np.nan if v is None else v for v in c] for c in cols]).T
    rank, group_n, mean, bottom = indices.rank_array(arr, np.array(viol), RS)
    for j in range(2):
        frame = pd.DataFrame({"composite": arr[:, j], "violation": viol})
        one = indices.rank_group(frame, RS)
        assert np.array_equal(rank[:, j], one["rank"].astype(float).to_numpy(), equal_nan=True)
        assert bottom[:, j].tolist() == one["in_bottom"].tolist()
        assert group_n[j] == one["group_n"].iloc[0]
        assert (np.isnan(mean[j]) and one["group_mean"].isna().all()) or mean[j] == one["group_mean"].iloc[0]
    ref = pd.Series(arr[:, 0]).rank(method="min", ascending=False)
    assert np.array_equal(indices.competition_rank_array(arr[:, 0]), ref.to_numpy(), equal_nan=True)
