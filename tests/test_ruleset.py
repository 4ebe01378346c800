"""The ruleset holds every number of SPEC §3 and refuses bad values with the key named."""

from __future__ import annotations

import tomllib

import pytest

import pingyi_lib as py
from pingyi_lib.common.errors import RulesetError
from pingyi_lib.scheme.ruleset import default_ruleset_path, parse_ruleset


def raw():
    return tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))


def test_default_ruleset_has_the_numbers_of_spec_section_3():
    rs = py.load_ruleset()
    assert [(lv.label, lv.score) for lv in rs.levels] == [
        ("很满意", 1.0), ("比较满意", 0.8), ("基本满意", 0.6), ("不满意", 0.0), ("不了解", None)]
    assert rs.scored_items == ("lawful", "fair", "open", "service", "integrity")
    assert set(rs.item_weights.values()) == {1.0}
    assert (rs.weights.onsite, rs.weights.survey, rs.weights.cases) == (0.3, 0.5, 0.2)
    assert rs.case_cap == 20 and rs.bonus_cap == 3 and rs.talk_threshold == 80
    assert rs.bottom_max == 3 and rs.bottom_max_share == 0.5
    assert rs.public_categories == ("群众代表", "企业代表") and rs.panel_min_share == 0.5
    assert rs.rank_groups == {"district": "district", "window": "service", "station": "service"}
    assert rs.minimum == {"survey": 30, "onsite": 10}


@pytest.mark.parametrize("mutate, key, words", [
    (lambda r: r["weights"].update(survey=0.6), "weights", "之和必须为 1"),
    (lambda r: r["bonus"].update(cap="three"), "bonus.cap", "必须是有限的数值"),
    (lambda r: r["levels"][1].update(score=1.5), "levels[1].score", "不能大于 1"),
    (lambda r: r["items"].update(scored=["lawful", "speed"]), "items.scored", "不在 items.all 中"),
    (lambda r: r["rules"].pop("talk_threshold"), "rules.talk_threshold", "缺失"),
    (lambda r: r["cases"].update(cap=25.0), "cases.cap", "100 x weights.cases"),
    (lambda r: r["rank_groups"].update(province="x"), "rank_groups.province", "不是单位层级"),
    (lambda r: r["flags"]["talk"].update(kind="penalty"), "flags.talk.kind", "之一"),
    (lambda r: r["labels"]["glossary"].update(composite="{weight}"), "labels.glossary.composite", "占位符"),
    (lambda r: r["labels"]["units"].update(speed="分"), "labels.units.speed", "没有名称"),
])
def test_bad_ruleset_error_names_key_and_problem(mutate, key, words):
    r = raw()
    mutate(r)
    with pytest.raises(py.RulesetError) as exc:
        parse_ruleset(r, "bad.toml")
    assert exc.value.key == key
    assert f"'{key}'" in str(exc.value) and words in str(exc.value)


def test_unreadable_ruleset_files(tmp_path):
    with pytest.raises(py.RulesetError, match="不存在"):
        py.load_ruleset(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("weights = [", encoding="utf-8")
    with pytest.raises(py.RulesetError, match="不是有效的 TOML"):
        py.load_ruleset(tmp_path / "bad.toml")


def test_changed_weights_change_the_composite(tiny, tmp_path):
    text = default_ruleset_path().read_text(encoding="utf-8")
    text = text.replace("onsite = 0.30", "onsite = 0.40").replace("survey = 0.50", "survey = 0.40")
    p = tmp_path / "r.toml"
    p.write_text(text, encoding="utf-8")
    u = py.score(py.load_dataset(tiny, ruleset=p)).units.set_index("unit_id")
    # a: 0.4 × 90 + 0.4 × 82 + 15 = 36 + 32.8 + 15 = 83.8
    assert u.loc["a", "composite"] == 83.8


def test_glossary_takes_its_numbers_from_the_rules(tmp_path):
    text = default_ruleset_path().read_text(encoding="utf-8").replace("talk_threshold = 80.0", "talk_threshold = 85.0")
    p = tmp_path / "r.toml"
    p.write_text(text, encoding="utf-8")
    rs = py.load_ruleset(p)
    assert "低于85%" in rs.glossary["satisfaction"] and "{" not in "".join(rs.glossary.values())


def test_only_low_sample_is_a_data_quality_flag_and_every_consequence_cites_a_clause():
    rs = py.load_ruleset()
    assert rs.note_flags == ("low_sample",)
    assert rs.consequence_flags == ("no_excellence", "talk", "worst", "panel_noncompliant")
    assert all(rs.flags[f].clause for f in rs.consequence_flags)
    assert rs.header("composite") == "综合得分（分）" and rs.header("onsite_index") == "现场评议指数"


def test_respondent_mix_targets_must_name_known_respondent_categories():
    raw = tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))
    raw["respondent_mix"]["targets"] = {"外星访客": 1.0}
    raw["respondent_mix"].pop("by_level", None)
    with pytest.raises(RulesetError, match="外星访客"):
        parse_ruleset(raw, "t")
