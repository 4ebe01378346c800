"""Reading comments: themes beyond exact keywords, negation that knows keywords which say
no themselves, praise and empty comments kept apart, and every match explained."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pingyi_lib as py
from pingyi_lib.common.errors import RulesetError
from pingyi_lib.scheme.ruleset import Theme, parse_ruleset
from pingyi_lib.text import matching, themes
from pingyi_lib.text.matching import BLANK, EXAMPLE, KEYWORD, PRAISE, PROBLEM, UNTHEMED, matcher

RS = py.load_ruleset()
M = matcher(RS.problems)
DIMENSION = {t.name: t.dimension for t in RS.problems.themes}


def read(text: str) -> matching.Reading:
    return M.read(text)


# --- the comments the issue quotes ----------------------------------------------------
@pytest.mark.parametrize("text, theme", [
    ("处罚标准不公示，自由裁量太随意", "办事程序和结果不公开"),
    ("处罚标准不公示，自由裁量太随意", "乱罚款、自由裁量随意"),
    ("来回跑了三趟", "办事效率低、超时限"),
    ("执法看关系，对熟人网开一面", "执法看关系、厚此薄彼"),
    ("处罚标准不一", "执法标准不一"),
    ("超出职权范围乱检查", "越权执法、乱检查"),
    ("执法程序不合法，没告知权利", "执法程序不合法"),
    ("检查人员不是执法人员却开罚单", "执法不亮证、无证执法"),
    ("执法时没有出示执法证件", "执法不亮证、无证执法"),
])
def test_comments_nobody_wrote_the_keywords_for_find_their_theme(text, theme):
    assert theme in read(text).themes


@pytest.mark.parametrize("text, dimension", [
    ("执法看关系，对熟人网开一面", "fair"),
    ("处罚标准不一", "fair"),
    ("超出职权范围乱检查", "lawful"),
])
def test_fair_and_lawful_complaints_land_in_their_own_dimension_only(text, dimension):
    assert {DIMENSION[t] for t in read(text).themes} == {dimension}


def test_every_dimension_has_several_themes_with_keywords_and_examples():
    by_dim: dict[str, list[Theme]] = {}
    for t in RS.problems.themes:
        by_dim.setdefault(t.dimension, []).append(t)
    assert set(by_dim) == set(RS.scored_items)
    for dim, ts in by_dim.items():
        assert len(ts) >= 3, dim
        assert all(len(t.keywords) >= 5 and len(t.examples) >= 3 for t in ts), dim


# --- negation ----------------------------------------------------------------------------
def test_a_keyword_that_says_no_itself_is_not_cancelled_by_its_own_negative():
    r = read("执法时没有出示执法证件")
    assert r.kind == PROBLEM and r.matches[0].via == KEYWORD
    assert r.matches[0].found == "没有出示执法证"  # 没有 belongs to the keyword, not a negation of it


def test_a_negative_before_a_keyword_that_says_no_is_a_separate_thought():
    # "整改了没有" asks a question; "没人过问" is the complaint
    assert "履职不到位" in read("发现的隐患让企业自己整改，整改了没有也没人过问。").themes


@pytest.mark.parametrize("text", ["今年没有推诿扯皮的现象了", "乱罚款少了，下企业指导多了", "没遇到刁难，一切顺利",
                                  "推诿扯皮的少多了", "执法规范多了，没看到乱罚款。"])
def test_a_problem_said_to_be_gone_reads_as_praise(text):
    r = read(text)
    assert r.kind == PRAISE and r.themes == []
    assert r.matches and r.matches[0].negated and "已否定" in r.matches[0].explain()


def test_a_negation_with_other_words_between_does_not_reach_the_keyword():
    # 没有 negates 依据, not 乱罚款: a complaint
    assert "乱罚款、自由裁量随意" in read("没有依据乱罚款").themes


def test_a_wish_that_a_problem_stop_still_raises_it():
    assert "乱罚款、自由裁量随意" in read("希望杜绝乱罚款").themes


def test_a_negation_never_reaches_across_a_clause():
    assert "推诿扯皮" in read("没有。窗口推诿扯皮").themes


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="没有不再少了减改善的，好是乱罚款推诿扯皮无未杜绝", max_size=12),
       st.text(alphabet="没有不再少了减改善的，好是无未杜绝", max_size=12))
def test_a_complaint_in_its_own_sentence_is_found_whatever_surrounds_it(before, after):
    assert "推诿扯皮" in themes_of(f"{before}。窗口推诿扯皮。{after}")


def themes_of(text: str) -> list[str]:
    return themes.themes_of(text, RS)


# --- praise and empty comments -----------------------------------------------------------
@pytest.mark.parametrize("text", ["服务热情，点赞", "服务态度比去年好了很多。", "工作人员很耐心，谢谢！"])
def test_praise_is_kept_apart_from_complaints(text):
    r = read(text)
    assert r.kind == PRAISE and r.themes == [] and not r.substantive


def test_praise_before_but_is_not_read_as_praise():
    r = read("总体不错，但是网站信息太旧了")
    assert r.kind == PROBLEM and r.themes == ["网站信息陈旧"]


def test_a_complaint_with_thanks_is_a_complaint():
    assert read("建议在窗口公示办事流程、时限和收费标准。谢谢。").themes == ["办事程序和结果不公开"]


@pytest.mark.parametrize("text", ["无", "没有意见", "……", "没接触过，不好评价", "好"])
def test_comments_that_say_nothing_are_not_substantive(text):
    r = read(text)
    assert r.kind == BLANK and not r.substantive


def test_a_substantive_comment_no_theme_fits_is_unthemed():
    r = read("希望多组织安全生产培训，讲讲新出台的规定。")
    assert r.kind == UNTHEMED and r.substantive and r.themes == []


# --- tolerant matching, explained --------------------------------------------------------
def test_synonyms_stand_for_each_other_and_the_explanation_names_both():
    m = read("收费依据从来没有公开").matches[0]
    assert (m.theme, m.rule, m.found) == ("办事程序和结果不公开", "未公示", "没有公开")
    assert m.explain() == "关键词“未公示”（原文“没有公开”）"


def test_a_gap_in_a_keyword_takes_a_few_characters_of_the_same_clause_only():
    rs = dataclasses.replace(RS.problems, themes=(Theme("跑趟", "service", ("跑了*趟",)),), synonyms=(), gap=4)
    m = matching.Matcher(rs)
    assert m.read("跑了好几趟").themes == ["跑趟"]
    assert m.read("跑了，三趟").themes == []  # a comma ends the clause
    assert m.read("跑了很多很多次才一趟").themes == []  # more than 4 characters between


def test_a_comment_close_to_an_example_takes_its_theme_and_says_which_example():
    theme = RS.problems.themes[0]
    r = read(theme.examples[0] + "。")
    m = r.matches[0]
    assert r.kind == PROBLEM and r.themes[0] == theme.name
    if m.via == EXAMPLE:  # the example may also hold a keyword; either way the reason is given
        assert m.rule == theme.examples[0] and m.score > 0.9 and "相似例句" in m.explain()


def test_similarity_alone_finds_a_paraphrase_with_no_keyword():
    rs = dataclasses.replace(RS.problems, themes=(
        Theme("培训不足", "service", ("培训太少",), ("希望多组织安全培训，讲解新规定",)),), similarity=0.3)
    r = matching.Matcher(rs).read("能不能多组织一些安全培训，讲讲新出台的规定")
    assert r.themes == ["培训不足"] and r.matches[0].via == EXAMPLE and 0.3 <= r.matches[0].score < 1


def test_main_problems_say_which_keywords_found_a_theme(tmp_path):
    from .test_problems import dataset

    mp = themes.main_problems(py.load_dataset(dataset(tmp_path)))
    row = mp[(mp["unit_id"] == "a") & (mp["theme"] == "推诿扯皮")].iloc[0]
    assert row["basis"] == "关键词“推诿”×4"  # 推诿扯皮 ×2, 办事推诿, 窗口人员推诿: the first keyword found each


# --- the ruleset keys --------------------------------------------------------------------
def raw_ruleset() -> dict:
    import tomllib

    from pingyi_lib.scheme.ruleset import default_ruleset_path

    return tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))


@pytest.mark.parametrize("change, key", [
    (lambda r: r["problems"].update(similarty=0.3), "problems.similarty"),
    (lambda r: r["problems"]["themes"][0].update(exampels=["x"]), "problems.themes[0].exampels"),
    (lambda r: r["problems"]["themes"][0].update(keywords=["*推诿"]), "problems.themes[0].keywords"),
    (lambda r: r["problems"].update(synonyms=[["公示", "公开"], ["公开", "公布"]]), "problems.synonyms[1]"),
    (lambda r: r["problems"].update(similarity=1.5), "problems.similarity"),
    (lambda r: r["problems"]["themes"].append(dict(r["problems"]["themes"][0])), "problems.themes"),
])
def test_a_bad_problems_key_is_refused_with_its_name(change, key):
    raw = raw_ruleset()
    change(raw)
    with pytest.raises(RulesetError) as exc:
        parse_ruleset(raw)
    assert exc.value.key == key
