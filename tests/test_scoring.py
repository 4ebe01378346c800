"""Every formula of SPEC §4 against small cases computed by hand (arithmetic in comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.scheme.ruleset import default_ruleset_path, parse_ruleset
from pingyi_lib.scoring import counts, indices

RS = py.load_ruleset()


def answers(rows: list[list[int]], unit: str = "u") -> pd.DataFrame:
    """Answer rows as level codes (0 blank, 1 很满意 … 5 不了解) for the five scored items."""
    df = pd.DataFrame(rows, columns=list(RS.scored_items), dtype=np.int8)
    df.insert(0, "unit_id", unit)
    return df


def item_table(rows, unit="u"):
    return indices.item_indices(counts.answer_counts(answers(rows, unit), RS), RS)


def test_item_index_is_mean_score_times_100_excluding_abstain_and_blank():
    # lawful answers: 很满意 1, 比较满意 0.8, 基本满意 0.6, 不满意 0, 不了解 (abstain), blank
    # index = 100 × (1 + 0.8 + 0.6 + 0) / 4 = 60.0 ; abstain 1, blank 1
    rows = [[c, 1, 1, 1, 1] for c in (1, 2, 3, 4, 5, 0)]
    it = item_table(rows).loc[("u", "lawful")]
    assert it["n"] == 4
    assert it["abstain"] == 1
    assert it["blank"] == 1
    assert it["index"] == pytest.approx(60.0)
    # satisfied share: 3 satisfied (很/比较/基本) of 4 with an opinion
    assert it["satisfied_share"] == pytest.approx(0.75)


def test_item_with_only_abstentions_has_no_index_and_drops_out_of_the_mean():
    # open: 不了解 twice → n = 0 → NaN; the others: 很满意 and 不满意 → 50 each
    rows = [[1, 1, 5, 1, 1], [4, 4, 5, 4, 4]]
    it = item_table(rows)
    assert math.isnan(it.loc[("u", "open"), "index"])
    comp = indices.component_index(it, RS)
    # mean over the 4 items that have answers = (50 × 4) / 4 = 50
    assert comp.loc["u", "index"] == pytest.approx(50.0)


def test_component_index_is_weighted_mean_of_items():
    # items: lawful 100, fair 80, open 60, service 0, integrity 100
    rows = [[1, 2, 3, 4, 1]]
    it = item_table(rows)
    rs = parse_ruleset(_with(weights={"lawful": 2.0}), "t")
    # weights 2,1,1,1,1: (2×100 + 80 + 60 + 0 + 100) / 6 = 440 / 6 = 73.333…
    assert indices.component_index(it, rs).loc["u", "index"] == pytest.approx(440 / 6)
    # equal weights: 340 / 5 = 68
    assert indices.component_index(it, RS).loc["u", "index"] == pytest.approx(68.0)


def _with(weights=None, **top):
    import tomllib

    raw = tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))
    if weights:
        raw["items"]["weights"].update(weights)
    for k, v in top.items():
        sect, key = k.split("__")
        raw[sect][key] = v
    return raw


def test_component_with_no_scored_answers_is_missing():
    it = item_table([[5, 5, 5, 5, 5], [0, 0, 0, 0, 0]])
    assert indices.component_index(it, RS).reindex(["u"])["index"].isna().all()


def test_case_points_subtract_substantiated_deductions_and_floor_at_zero():
    cases = pd.DataFrame({"unit_id": ["a", "a", "b", "b", "c"], "substantiated": [True, True, True, False, True],
                          "deduction": [5.0, 2.5, 3.0, 4.0, 25.0]})
    cp = indices.case_points(cases, ["a", "b", "c", "d"], RS)
    # a: 20 − (5 + 2.5) = 12.5 ; b: 20 − 3 (the 4 on an unsubstantiated case counts 0) = 17
    # c: max(0, 20 − 25) = 0 ; d: no case → 20
    assert cp["case_points"].tolist() == [12.5, 17.0, 0.0, 20.0]
    assert cp.loc["b", "ignored_deductions"] == 4.0


def test_bonus_is_capped():
    b = pd.DataFrame({"unit_id": ["a", "a", "b"], "points": [2.0, 2.0, 1.5]})
    bp = indices.bonus_points(b, ["a", "b", "c"], RS)
    # a: min(3, 4) = 3 ; b: 1.5 ; c: 0
    assert bp["bonus_points"].tolist() == [3.0, 1.5, 0.0]
    assert bp.loc["a", "bonus_claimed"] == 4.0


def test_composite_weights_and_missing_component_rule():
    o = pd.Series([90.0, np.nan, np.nan])
    q = pd.Series([82.0, 75.0, np.nan])
    c = pd.Series([15.0, 20.0, 20.0])
    b = pd.Series([1.0, 0.0, 0.0])
    comp = indices.composite(o, q, c, b, RS)
    # 0.30 × 90 + 0.50 × 82 + 15 + 1 = 27 + 41 + 16 = 84
    assert comp[0] == pytest.approx(84.0)
    # no on-site: its 0.30 spread onto Q: 0.80 × 75 + 20 = 80
    assert comp[1] == pytest.approx(80.0)
    # no index component at all: no composite
    assert math.isnan(comp[2])


def test_publish_rounds_half_up_not_to_even():
    assert round_half_up(2.675, 2) == 2.68  # float 2.67499999… in binary
    assert round_half_up(0.125, 2) == 0.13  # banker's rounding would give 0.12
    assert round_half_up(79.994999, 2) == 79.99
    assert round_half_up(pd.Series([1.005, 2.5]), 2).tolist() == [1.01, 2.5]


def frame(composites, violations=None):
    return pd.DataFrame({"composite": composites,
                         "violation": violations or [False] * len(composites)})


def test_competition_ranking_with_ties():
    r = indices.rank_group(frame([90.0, 85.0, 85.0, 70.0]), RS)
    assert r["rank"].tolist() == [1, 2, 2, 4]


def test_violator_ranks_after_every_clean_unit():
    # clean: 80 (1), 60 (2); violators 95 and 50: m = 2, so 2 + 1 = 3 and 2 + 2 = 4
    r = indices.rank_group(frame([95.0, 80.0, 60.0, 50.0], [True, False, False, True]), RS)
    assert r["rank"].tolist() == [3, 1, 2, 4]
    assert r["in_bottom"].tolist() == [True, False, False, True]  # n = 4, k = 2: ranks 3, 4


def test_unit_without_composite_is_listed_not_ranked_nor_counted():
    r = indices.rank_group(frame([80.0, np.nan, 70.0]), RS)
    assert r["rank"].isna().tolist() == [False, True, False]
    assert r["group_n"].iloc[0] == 2
    assert r["group_mean"].iloc[0] == 75.0  # (80 + 70) / 2


@pytest.mark.parametrize("n, expected_bottom", [
    (1, []),               # k = min(3, 0) = 0: a group of one has no bottom
    (2, [2]),              # k = min(3, 1) = 1: rank > 1
    (4, [3, 4]),           # k = min(3, 2) = 2: rank > 2
    (7, [5, 6, 7]),        # k = min(3, 3) = 3: rank > 4
])
def test_bottom_group_is_last_three_but_never_more_than_half(n, expected_bottom):
    r = indices.rank_group(frame([100.0 - i for i in range(n)]), RS)
    assert r.loc[r["in_bottom"], "rank"].tolist() == expected_bottom


def test_group_mean_is_rounded_mean_of_ranked_composites():
    r = indices.rank_group(frame([80.0, 70.0, 70.01]), RS)
    # (80 + 70 + 70.01) / 3 = 73.3366… → 73.34
    assert r["group_mean"].iloc[0] == 73.34


def test_answer_counts_are_one_bincount_over_units_items_levels():
    df = pd.concat([answers([[1, 2, 3, 4, 5], [1, 0, 0, 0, 0]], "a"), answers([[4, 4, 4, 4, 4]], "b")])
    c = counts.answer_counts(df, RS)
    assert c.loc[("a", "lawful")].tolist() == [0, 2, 0, 0, 0, 0]
    assert c.loc[("a", "integrity")].tolist() == [1, 0, 0, 0, 0, 1]
    assert c.loc[("b", "service")].tolist() == [0, 0, 0, 0, 1, 0]
    assert int(c.to_numpy().sum()) == 3 * 5


def test_valid_counts_need_one_scored_answer():
    df = answers([[5, 5, 5, 5, 5], [0, 0, 0, 0, 0], [5, 0, 0, 0, 4]])
    assert counts.valid_counts(df, RS).loc["u"] == 1


def test_score_end_to_end_on_tiny_dataset(tiny):
    res = py.score(py.load_dataset(tiny))
    u = res.units.set_index("unit_id")
    # unit a, survey: lawful (1 + abstain) → 100; fair (1, abstain) → 100; open (0.8, blank) → 80;
    #   service (0.6, 1) → 80; integrity (0, 1) → 50. Q = 410 / 5 = 82
    assert u.loc["a", "survey_index"] == 82.0
    # on-site a: (1 + 0.8) / 2 → 90 on every item
    assert u.loc["a", "onsite_index"] == 90.0
    # composite a = 0.3 × 90 + 0.5 × 82 + (20 − 5) = 27 + 41 + 15 = 83
    assert u.loc["a", "composite"] == 83.0
    # b: O = 60, Q = 0, C = 20 (unsubstantiated deduction ignored): 18 + 0 + 20 = 38
    assert u.loc["b", "composite"] == 38.0
    # city: no on-site → 0.8 × 100 + 20 = 100; scored, not ranked
    assert u.loc["c", "composite"] == 100.0
    assert pd.isna(u.loc["c", "rank"])
    # window: no answers at all → listed, no composite, no rank
    assert pd.isna(u.loc["w", "composite"]) and pd.isna(u.loc["w", "rank"])
    assert u.loc["a", "rank"] == 1 and u.loc["b", "rank"] == 2
    assert u.loc["a", "group_mean"] == 60.5  # (83 + 38) / 2
    assert res.warnings["message"].str.contains("c2").any()


def test_missing_questionnaire_gives_its_weight_to_the_onsite_index():
    # O = 90, Q missing: O carries 0.3 + 0.5 = 0.8 → 0.8·90 + 20 = 92
    c = indices.composite(pd.Series([90.0]), pd.Series([np.nan]), pd.Series([20.0]), pd.Series([0.0]), RS)
    assert c.iloc[0] == pytest.approx(92.0)


def test_group_mean_counts_violators():
    r = indices.rank_group(frame([95.0, 80.0, 60.0, 50.0], [True, False, False, True]), RS)
    assert r["group_mean"].iloc[0] == 71.25  # (95 + 80 + 60 + 50) / 4


def test_tie_at_the_bottom_boundary_puts_nobody_in_the_bottom_group():
    # ranks 1, 2, 2; n = 3, k = min(3, 3 // 2) = 1: bottom is rank > 2, which nobody has
    r = indices.rank_group(frame([90.0, 80.0, 80.0]), RS)
    assert r["rank"].tolist() == [1, 2, 2] and not r["in_bottom"].any()


def test_scores_tie_when_their_published_values_are_equal(tmp_path):
    from .conftest import ITEMS, survey_rows, write_dataset

    # a: 999 × all 比较满意 and one row whose integrity answer is 基本满意:
    #    integrity = 100·(0.8·999 + 0.6)/1000 = 79.98, Q = (4·80 + 79.98)/5 = 79.996,
    #    composite = 0.8·79.996 + 20 = 83.9968 → published 84.00
    # b: all 比较满意: 0.8·80 + 20 = 84.00 exactly;  c: all 基本满意: 0.8·60 + 20 = 68
    units = "unit_id,name,level\na,甲,district\nb,乙,district\nc,丙,district\n"
    survey = "response_id,unit_id,channel," + ITEMS + "\n" \
        + survey_rows("a", ["2,2,2,2,2"] * 999 + ["2,2,2,2,3"]) \
        + survey_rows("b", ["2,2,2,2,2"] * 40, start=5000) + survey_rows("c", ["3,3,3,3,3"] * 40, start=9000)
    u = py.score(py.load_dataset(write_dataset(tmp_path / "tie", units=units, survey=survey))).units
    u = u.set_index("unit_id")
    assert u.loc["a", "composite"] == 84.0 and u.loc["b", "composite"] == 84.0
    assert u.loc["a", "rank"] == 1 and u.loc["b", "rank"] == 1 and u.loc["c", "rank"] == 3  # ties on 84.00
    assert u.loc["c", "group_mean"] == 78.67  # (84 + 84 + 68) / 3 = 78.666… half up
    assert list(u.index[u["in_bottom"]]) == ["c"]  # n = 3, k = 1
