"""Respondent mix and the post-stratified sensitivity analysis (stats.mix), and the funnel
plot's limits (stats.funnel)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import pingyi_lib as py
from pingyi_lib.common.errors import RulesetError
from pingyi_lib.scheme.ruleset import default_ruleset_path, load_ruleset, parse_ruleset
from pingyi_lib.sections import uncertainty
from pingyi_lib.stats import funnel, intervals, mix
from pingyi_lib.stats.patterns import answer_patterns

from .conftest import ITEMS, SAMPLE_2011, write_dataset

RS = load_ruleset()
HALF = {"district": {"群众": 0.5, "企业代表": 0.5}}


def dataset(tmp_path, targets=HALF, extra: str = ""):
    """Unit a: 3 群众 all 很满意 (index 100), 1 企业代表 all 不满意 (index 0), official index 75.
    Unit b: one 群众, 基本满意 (60)."""
    survey = ("response_id,unit_id,respondent_category,channel," + ITEMS + "\n"
              "1,a,群众,online,1,1,1,1,1\n2,a,群众,online,1,1,1,1,1\n3,a,群众,online,1,1,1,1,1\n"
              "4,a,企业代表,online,4,4,4,4,4\n5,b,群众,online,3,3,3,3,3\n" + extra)
    ds = py.load_dataset(write_dataset(tmp_path / "mix", units="unit_id,name,level\na,甲,district\nb,乙,district\n",
                                       survey=survey))
    return dataclasses.replace(ds, ruleset=dataclasses.replace(ds.ruleset, respondent_targets=targets))


def test_post_stratified_index_by_hand(tmp_path):
    # achieved 群众 3/4, 企业代表 1/4; targets 1/2 each: weights (1/2)/(3/4) = 2/3 and (1/2)/(1/4) = 2
    # weighted index = (3 · 2/3 · 100 + 1 · 2 · 0) / (3 · 2/3 + 1 · 2) = 200 / 4 = 50 (official: 75)
    res = py.score(dataset(tmp_path))
    m = mix.mix_table(res).set_index(["unit_id", "category"])
    assert m.loc[("a", "群众"), "weight"] == pytest.approx(2 / 3) and m.loc[("a", "企业代表"), "weight"] == 2
    p = mix.post_stratified(res).set_index("unit_id")
    assert p.loc["a", "survey_index"] == 75.0 and p.loc["a", "survey_index_weighted"] == 50.0
    # b has no 企业代表: its target cannot be met, the 群众 carry the whole weight
    assert p.loc["b", "survey_index_weighted"] == 60.0 and p.loc["b", "missing"] == "企业代表"
    # a falls from first to second under weighting (50 < 60): the ranking changes
    assert (p.loc["a", "rank"], p.loc["a", "rank_weighted"]) == (1, 2) and p.loc["a", "changed"]
    assert "甲（排名由第1名变为第2名" in uncertainty.weighting_summary(res)


def test_a_category_without_a_target_keeps_its_share(tmp_path):
    # one 人大代表 (not listed, 比较满意 = 80) added to a: it keeps 1/5; the listed targets share 4/5:
    # 群众 0.4 / (3/5) → 2/3, 企业代表 0.4 / (1/5) → 2, 人大代表 1
    # weighted = (3·2/3·100 + 2·0 + 1·80) / (2 + 2 + 1) = 280 / 5 = 56
    res = py.score(dataset(tmp_path, extra="6,a,人大代表,online,2,2,2,2,2\n"))
    assert mix.post_stratified(res).set_index("unit_id").loc["a", "survey_index_weighted"] == 56.0


def test_weighting_to_the_achieved_shares_changes_nothing(tmp_path):
    res = py.score(dataset(tmp_path, targets={"district": {"群众": 0.75, "企业代表": 0.25}}))
    p = mix.post_stratified(res)
    assert (p["survey_index"] == p["survey_index_weighted"]).all() and not p["changed"].any()


def test_without_targets_there_is_no_mix_analysis(tmp_path):
    res = py.score(dataset(tmp_path, targets={}))
    assert mix.mix_table(res).empty and not mix.post_stratified(res)["changed"].any()
    assert "未设定" in uncertainty.weighting_summary(res)


def test_targets_must_add_up_to_one_and_name_unit_levels():
    import tomllib

    raw = tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))
    raw["respondent_mix"]["targets"]["群众"] = 0.5
    with pytest.raises(RulesetError, match="respondent_mix.targets"):
        parse_ruleset(raw)
    raw = tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))
    raw["respondent_mix"]["by_level"]["kiosk"] = {"群众": 1.0}
    with pytest.raises(RulesetError, match="kiosk"):
        parse_ruleset(raw)


def test_the_sample_round_reports_which_units_change_under_weighting():
    res = py.score(py.load_dataset(SAMPLE_2011))
    p = mix.post_stratified(res).set_index("unit_id")
    # 武进区湖塘镇安监站: 79.87% unweighted (约谈), 80.48% weighted to the target mix
    assert p.loc["wj-hutang", "talk"] and not p.loc["wj-hutang", "talk_weighted"]
    assert "武进区湖塘镇安监站" in uncertainty.weighting_summary(res)
    assert (res.units["composite"].to_numpy() == py.score(py.load_dataset(SAMPLE_2011)).units["composite"]).all()


def test_funnel_limits_are_the_group_mean_plus_minus_z_sigma_over_root_n():
    res = py.score(py.load_dataset(SAMPLE_2011))
    points, limits, centre = funnel.funnel(res, "service")
    ranked = res.units[(res.units["rank_group"] == "service") & res.units["rank"].notna()]
    assert centre["mean"] == pytest.approx(ranked["satisfaction"].mean())
    row = limits.iloc[10]
    z = intervals.z_value(0.998)
    assert row["lo_0.998"] == pytest.approx(centre["mean"] - z * centre["sigma"] / np.sqrt(row["n"]))
    assert row["hi_0.95"] == pytest.approx(centre["mean"] + 1.959964 * centre["sigma"] / np.sqrt(row["n"]))
    p = points.set_index("unit_id")
    assert p.loc["wj-hutang", "outside_0.95"] == "below" and p.loc["xb-win", "outside_0.95"] == "above"
    assert p.loc["qsy-win", "n"] == 29  # valid questionnaires on the x axis
    # σ pools the units' own spread: between the smallest and largest unit's
    lin = intervals.linearised(answer_patterns(res.dataset.survey, RS), ranked["unit_id"], RS)["units"]
    one = np.sqrt(lin["valid"] * lin["index_var"])
    assert one.min() <= centre["sigma"] <= one.max()


def test_ruleset_stats_keys_are_checked():
    import tomllib

    raw = tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))
    raw["stats"]["likely"] = 0.99
    with pytest.raises(RulesetError, match="stats.likely"):
        parse_ruleset(raw)
    raw["stats"]["likely"] = 0.75
    raw["stats"]["replicates"] = 10
    with pytest.raises(RulesetError, match="stats.replicates"):
        parse_ruleset(raw)
    raw["stats"]["replicates"] = 2000
    raw["stats"]["replicate"] = 500  # a typo is refused, not ignored
    with pytest.raises(RulesetError, match="stats.replicate"):
        parse_ruleset(raw)
    assert RS.stats.level == 0.95 and RS.stats.replicates == 2000 and RS.stats.funnel_levels == (0.95, 0.998)


def test_one_units_mix_is_its_rows_of_the_whole_rounds_table():
    res = py.score(py.load_dataset(SAMPLE_2011))
    whole = mix.mix_table(res)
    assert len(whole) and set(whole["unit_id"]) <= set(res.units["unit_id"])
    for uid in res.units["unit_id"]:  # a unit's page computes its own rows only (issue 38: 2,000 units)
        own = mix.mix_table(res, [uid])
        assert own.equals(whole[whole["unit_id"] == uid].reset_index(drop=True)), uid
    pair = list(res.units["unit_id"])[2:4][::-1]  # in the round's order, whatever the order asked
    assert mix.mix_table(res, pair).equals(whole[whole["unit_id"].isin(pair)].reset_index(drop=True))
    assert uncertainty.mix_overview(res, "wj").equals(uncertainty.mix_overview(res).loc[
        lambda d: d.iloc[:, 0] == "wj"].iloc[:, 1:].reset_index(drop=True))
