"""Main problems: themes of comments whose dimension is known, negation, masking of
personal data in published quotes, the workbook column and `pingyi problems`."""

from __future__ import annotations

import json

import pytest

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.common import masking
from pingyi_lib.sections.followup import main_problems_text
from pingyi_lib.text import keywords, themes

from .conftest import ITEMS, write_dataset

RS = py.load_ruleset()


@pytest.mark.parametrize("text, theme, dimension", [
    ("执法人员态度粗暴，动不动就训斥企业", "粗暴执法", "integrity"),
    ("检查时吃拿卡要，还暗示要红包", "吃拿卡要", "integrity"),
    ("科室之间互相推诿扯皮，让我们来回跑", "推诿扯皮", "service"),
    ("窗口工作人员态度冷淡，爱理不理", "服务态度差", "service"),
    ("办事程序和收费标准都未公示", "办事程序和结果不公开", "open"),
    ("同样的隐患别家罚五千我们罚两万，乱罚款", "乱罚款、自由裁量随意", "fair"),
    ("来检查的人不亮证，也说不清依据", "执法不亮证、无证执法", "lawful"),
])
def test_theme_and_dimension_of_comments(text, theme, dimension):
    assert theme in themes.themes_of(text, RS)
    assert {t.name: t.dimension for t in RS.problems.themes}[theme] == dimension


@pytest.mark.parametrize("text", ["今年没有推诿扯皮的现象了", "乱罚款少了，下企业指导多了", "服务热情，办事高效"])
def test_negated_or_praising_comments_raise_no_theme(text):
    assert themes.themes_of(text, RS) == []


@pytest.mark.parametrize("text, kind, secret, shown", [
    ("我的电话13912345678请回电", "mobile", "13912345678", "139****5678"),
    ("联系电话 +86 139-1234-5678", "mobile", "1234", "****"),
    ("办公室座机0519-86661234", "landline", "86661234", "0519-8666****"),
    ("身份证号320402198001011234", "id_card", "320402198001011234", "3204**********1234"),
    ("身份证32040219800101123X", "id_card", "32040219800101123X", "3204**********123X"),
    ("邮箱 zhang.san@example.com", "email", "zhang.san@", "z***@example.com"),
    ("车牌苏D12345的执法车", "plate", "苏D12345", "苏D***45"),
    ("新能源车苏DF12345", "plate", "苏DF12345", "苏D****45"),
])
def test_personal_data_is_masked(text, kind, secret, shown):
    assert kind in masking.find_personal_data(text)
    masked = masking.mask_personal_data(text)
    assert secret not in masked and shown in masked
    assert masking.find_personal_data(masked) == [] or kind not in masking.find_personal_data(masked)


def test_masking_leaves_ordinary_numbers():
    text = "等了5个工作日，罚款20000元，2011年8月"
    assert masking.mask_personal_data(text) == text


def dataset(tmp_path):
    comments = ["窗口推诿扯皮，电话13912345678", "推诿扯皮严重，跑了三趟", "办事推诿", "态度冷淡", "", "服务热情"]
    rows = "".join(f"r{i},a,online,1,1,1,1,1,{c}\n" for i, c in enumerate(comments))
    rows += "s1,b,online,1,1,1,1,1,不亮证就检查\n"
    return write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲,district\nb,乙,district\n",
                         survey="response_id,unit_id,channel," + ITEMS + ",comment\n" + rows,
                         cases="case_id,unit_id,source,summary,substantiated,deduction\n"
                               "k1,a,投诉,窗口人员推诿，邮箱a.b@c.com,是,1\n")


def test_main_problems_counts_shares_and_masked_quotes(tmp_path):
    mp = themes.main_problems(py.load_dataset(dataset(tmp_path)))
    a = mp[mp["unit_id"] == "a"].set_index("theme")
    # unit a has 5 comments + 1 case summary = 6 texts; 4 of them raise 推诿扯皮
    assert a.loc["推诿扯皮", "count"] == 4 and a.loc["推诿扯皮", "share"] == pytest.approx(4 / 6)
    assert a.loc["推诿扯皮", "rank"] == 1 and a.loc["推诿扯皮", "dimension_label"] == "政务服务"
    quotes = a.loc["推诿扯皮", "quotes"]
    assert len(quotes) == 2
    assert all("13912345678" not in q and "a.b@c.com" not in q for q in quotes)
    city = mp[mp["unit_id"] == ""].set_index("theme")
    assert city.loc["推诿扯皮", "count"] == 4 and city.loc["执法不亮证、无证执法", "count"] == 1


def test_main_problems_text_lists_top_themes_per_unit(tmp_path):
    ds = py.load_dataset(dataset(tmp_path))
    col = main_problems_text(themes.main_problems(ds), ["a", "b", "zz"], ds.ruleset)
    assert col[0].startswith("推诿扯皮（4条）") and col[1] == "执法不亮证、无证执法（1条）" and col[2] == ""


def test_keywords_use_jieba_and_drop_stop_words(tmp_path):
    kw = keywords.keywords(py.load_dataset(dataset(tmp_path)), "a")
    words = list(kw["keyword"])
    assert "态度冷淡" in words  # theme keywords stay whole (jieba alone splits them)
    assert not set(words) & keywords.stopwords()
    assert kw["count"].is_monotonic_decreasing


def test_problems_command_json_shape(tmp_path, capsys):
    assert main(["problems", str(dataset(tmp_path)), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    a = next(u for u in doc["units"] if u["unit_id"] == "a")
    assert {"theme", "dimension", "count", "quotes"} <= set(a["themes"][0])
    assert a["themes"][0]["theme"] == "推诿扯皮" and a["themes"][0]["dimension"] == "service"
    assert doc["city"]["themes"][0]["count"] == 4


def test_problems_command_table(tmp_path, capsys):
    assert main(["problems", str(dataset(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "群众反映主要问题" in out and "推诿扯皮" in out and "13912345678" not in out
