"""The consequences of SPEC §5 (seed §六) fire exactly when they should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.scoring import consequences

from .conftest import ITEMS, survey_rows, write_dataset

RS = py.load_ruleset()


def units(**cols) -> pd.DataFrame:
    base = {"unit_id": ["x"], "name": ["某局"], "composite": [70.0], "group_mean": [75.0], "in_bottom": [True],
            "satisfaction": [79.99], "violation": [False], "panel_share": [0.6], "survey_valid": [100],
            "onsite_valid": [30], "rank": [7], "group_n": [7], "violation_kinds": [""],
            "panel_ballots": [30], "panel_public": [18]}
    base.update({k: [v] for k, v in cols.items()})
    return pd.DataFrame(base)


def test_no_excellence_needs_bottom_and_below_mean():
    assert consequences.flags(units(), RS)["no_excellence"].item()
    assert not consequences.flags(units(in_bottom=False), RS)["no_excellence"].item()
    assert not consequences.flags(units(composite=75.0), RS)["no_excellence"].item()  # equal to the mean is not below


def test_talk_needs_bottom_and_satisfaction_below_80():
    assert consequences.flags(units(), RS)["talk"].item()
    assert not consequences.flags(units(satisfaction=80.0), RS)["talk"].item()
    assert not consequences.flags(units(in_bottom=False, satisfaction=50.0), RS)["talk"].item()


def test_worst_fires_on_confirmed_violation_only():
    assert consequences.flags(units(violation=True), RS)["worst"].item()
    assert not consequences.flags(units(), RS)["worst"].item()


def test_panel_share_below_half_is_noncompliant():
    assert consequences.flags(units(panel_share=0.49), RS)["panel_noncompliant"].item()
    assert not consequences.flags(units(panel_share=0.5), RS)["panel_noncompliant"].item()
    assert not consequences.flags(units(panel_share=np.nan), RS)["panel_noncompliant"].item()  # no panel


def test_low_sample_below_minimum_of_either_component():
    assert consequences.flags(units(survey_valid=29), RS)["low_sample"].item()
    assert consequences.flags(units(onsite_valid=9), RS)["low_sample"].item()
    assert not consequences.flags(units(survey_valid=30, onsite_valid=10), RS)["low_sample"].item()
    assert not consequences.flags(units(onsite_valid=0), RS)["low_sample"].item()  # no panel is not a small panel


def test_consequences_say_why_in_chinese_with_the_numbers():
    u = pd.concat([units(), consequences.flags(units(), RS)], axis=1)
    c = consequences.consequences(u, RS).set_index("flag")
    assert "79.99%低于80%" in c.loc["talk", "reason"]
    assert "第7名/共7名" in c.loc["no_excellence", "reason"]
    assert c.loc["talk", "consequence"] == RS.flags["talk"].consequence


def test_rules_compare_rounded_values(tmp_path):
    # Unit a, 1000 questionnaires: 799 all 很满意, 1 all 很满意 but integrity 比较满意, 200 all 不满意.
    # lawful … service: 100 × 800 / 1000 = 80 ; integrity: 100 × (799 + 0.8) / 1000 = 79.98
    # Q = (4 × 80 + 79.98) / 5 = 79.996 → published 80.00, which is not below 80: no talk.
    rows = ["1,1,1,1,1"] * 799 + ["1,1,1,1,2"] + ["4,4,4,4,4"] * 200
    ds = write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲,district\nb,乙,district\n",
                       survey="response_id,unit_id,channel," + ITEMS + "\n" + survey_rows("a", rows)
                       + survey_rows("b", ["1,1,1,1,1"] * 40))
    u = py.score(py.load_dataset(ds)).units.set_index("unit_id")
    assert u.loc["a", "survey_index_raw"] == pytest.approx(79.996)
    assert u.loc["a", "satisfaction"] == 80.0
    assert u.loc["a", "in_bottom"]
    assert not u.loc["a", "talk"]
    # composite 0.8 × 79.996 + 20 = 83.9968 → 84.00 < mean (84.00 + 100.00) / 2 = 92
    assert u.loc["a", "composite"] == 84.0
    assert u.loc["a", "no_excellence"]


def test_violator_is_worst_ranked_last_and_flagged(tmp_path):
    ds = write_dataset(
        tmp_path / "v", units="unit_id,name,level\na,甲,district\nb,乙,district\nc,丙,district\n",
        survey="response_id,unit_id,channel," + ITEMS + "\n" + survey_rows("a", ["1,1,1,1,1"] * 40)
        + survey_rows("b", ["2,2,2,2,2"] * 40) + survey_rows("c", ["3,3,3,3,3"] * 40),
        violations="unit_id,kind,summary,confirmed\na,刷票,网上集中刷票,是\nb,拉票,未查实,否\n")
    u = py.score(py.load_dataset(ds)).units.set_index("unit_id")
    assert u.loc["a", "rank"] == 3 and u.loc["a", "worst"]
    assert u.loc["b", "rank"] == 1 and not u.loc["b", "worst"]
    assert u.loc["c", "rank"] == 2


def test_panel_share_is_counted_from_the_ballots(tiny):
    # tiny a: ballots 群众代表 + 人大代表 → 1 public of 2 = 0.5, exactly the minimum: compliant
    # tiny b: one 企业代表 ballot → 1 of 1
    u = py.score(py.load_dataset(tiny)).units.set_index("unit_id")
    assert (u.loc["a", "panel_ballots"], u.loc["a", "panel_public"], u.loc["a", "panel_share"]) == (2, 1, 0.5)
    assert not u.loc["a", "panel_noncompliant"] and u.loc["b", "panel_share"] == 1.0
    assert u.loc["a", "satisfied_share"] == 0.8571  # 6 satisfied of 7 answers with an opinion


def test_a_panel_of_one_public_member_in_three_is_noncompliant(tmp_path):
    d = write_dataset(tmp_path / "p", units="unit_id,name,level\na,甲,district\n",
                      survey="response_id,unit_id,channel," + ITEMS + "\n" + survey_rows("a", ["1,1,1,1,1"]),
                      onsite="ballot_id,unit_id,member_category," + ITEMS + "\n"
                             "o1,a,群众代表,1,1,1,1,1\no2,a,人大代表,1,1,1,1,1\no3,a,政协委员,1,1,1,1,1\n")
    u = py.score(py.load_dataset(d)).units.iloc[0]
    assert round(u["panel_share"], 3) == 0.333 and u["panel_noncompliant"]  # 1/3 < 0.5
