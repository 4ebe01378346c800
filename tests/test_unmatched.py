"""The comments no theme took: grouped by similarity with counts and masked examples, in
`pingyi problems --unmatched`; a keyword added to the ruleset moves its group into a theme;
coverage per unit."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.scheme.ruleset import default_ruleset_path
from pingyi_lib.text import themes, unmatched

from .conftest import ITEMS, write_dataset

TRAINING = ["希望多组织安全生产培训，讲讲新出台的规定。", "说句实话，希望多组织安全生产培训，讲讲新规定。",
            "希望多组织安全生产培训，讲讲新出台的规定。我的电话13912345678"]


def dataset(tmp_path):
    """Unit a: 3 comments on training (no theme has them), 2 on buck-passing, 1 praise,
    1 empty; unit b: 1 on training, 1 on a car park."""
    a = [*TRAINING, "科室之间推诿扯皮", "办事推诿", "服务热情，点赞", "无"]
    b = [TRAINING[0], "建议办事大厅多设几个停车位"]
    rows = "".join(f"a{i},a,online,1,1,1,1,1,{c}\n" for i, c in enumerate(a))
    rows += "".join(f"b{i},b,online,1,1,1,1,1,{c}\n" for i, c in enumerate(b))
    return write_dataset(tmp_path / "d", units="unit_id,name,level\na,甲,district\nb,乙,district\n",
                         survey="response_id,unit_id,channel," + ITEMS + ",comment\n" + rows)


def test_unthemed_comments_are_grouped_by_similarity_largest_first(tmp_path):
    g = unmatched.unmatched_groups(py.load_dataset(dataset(tmp_path)))
    assert list(g["count"]) == [4, 1]  # the four training comments; the car park alone
    first = g.iloc[0]
    assert first["group"] == 1 and first["units"] == 2 and first["unit_ids"] == ["a", "b"]
    assert first["examples"][0] == TRAINING[0]  # the most frequent text first (it appears twice)
    assert "培训" in first["words"] and "安全" not in first["words"]  # domain words left out


def test_examples_and_words_of_unthemed_groups_are_masked(tmp_path):
    g = unmatched.unmatched_groups(py.load_dataset(dataset(tmp_path)))
    shown = json.dumps(g[["examples", "words"]].to_dict("records"), ensure_ascii=False)
    assert "13912345678" not in shown and "139****5678" in shown


def test_one_units_unthemed_comments(tmp_path):
    g = unmatched.unmatched_groups(py.load_dataset(dataset(tmp_path)), unit_id="b")
    assert sorted(g["count"]) == [1, 1] and set(g["unit_ids"].sum()) == {"b"}


def test_no_unthemed_comments_gives_an_empty_frame_with_the_columns(tmp_path):
    d = write_dataset(tmp_path / "e", units="unit_id,name,level\na,甲,district\n",
                      survey="response_id,unit_id,channel," + ITEMS + ",comment\nr1,a,online,1,1,1,1,1,办事推诿\n")
    g = unmatched.unmatched_groups(py.load_dataset(d))
    assert g.empty and list(g.columns) == unmatched.COLUMNS


def test_grouping_keeps_identical_texts_together_and_unrelated_texts_apart():
    counts = pd.Series([3, 1, 2], index=["窗口太远停车难", "窗口太远，停车难", "希望多组织培训"])
    groups = unmatched.group_texts(counts, 0.5)
    assert groups[0] == groups[1] != groups[2]
    assert groups[0] == 0  # the most frequent text leads the first group


def test_coverage_counts_themed_among_substantive_comments_per_unit(tmp_path):
    cov = themes.coverage(py.load_dataset(dataset(tmp_path))).set_index("unit_id")
    # a: 7 comments = 3 training (unthemed) + 2 推诿 (themed) + 1 praise + 1 empty
    #    substantive = 3 + 2 = 5, coverage = 2 / 5 = 0.4
    columns = ["texts", "substantive", "themed", "unthemed", "praise", "blank"]
    assert cov.loc["a", columns].tolist() == [7, 5, 2, 3, 1, 1]
    assert cov.loc["a", "coverage"] == pytest.approx(0.4)
    # b: 2 substantive, none themed; the city: 2 of 7
    assert cov.loc["b", "coverage"] == 0 and cov.loc["", "coverage"] == pytest.approx(2 / 7)
    assert list(cov.index) == ["", "a", "b"]


def test_unmatched_command_lists_groups_as_json(tmp_path, capsys):
    assert main(["problems", str(dataset(tmp_path)), "--unmatched", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["substantive"] == 7 and doc["unthemed"] == 5
    assert [g["count"] for g in doc["groups"]] == [4, 1] and doc["groups"][0]["units"] == ["a", "b"]


def test_unmatched_command_table_is_chinese_and_masked(tmp_path, capsys):
    assert main(["problems", str(dataset(tmp_path)), "--unmatched"]) == 0
    out = capsys.readouterr().out
    assert "未归入主题的意见" in out and "培训" in out and "13912345678" not in out


def test_a_theme_added_to_the_ruleset_takes_the_group_in(tmp_path, capsys):
    d = dataset(tmp_path)
    mine = tmp_path / "mine.toml"
    mine.write_text(default_ruleset_path().read_text(encoding="utf-8") + '''
[[problems.themes]]
name = "培训不足"
dimension = "service"
keywords = ["培训"]
''', encoding="utf-8")
    assert main(["problems", str(d), "--unmatched", "--format", "json", "--ruleset", str(mine)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [g["count"] for g in doc["groups"]] == [1]  # only the car park is left
    assert main(["problems", str(d), "--format", "json", "--ruleset", str(mine)]) == 0
    city = json.loads(capsys.readouterr().out)["city"]
    assert city["themes"][0] == {**city["themes"][0], "theme": "培训不足", "count": 4, "basis": "关键词“培训”×4"}
    assert city["coverage"]["themed"] == 6 and city["coverage"]["substantive"] == 7


def test_unknown_unit_is_a_usage_error(tmp_path, capsys):
    assert main(["problems", str(dataset(tmp_path)), "--unit", "zz"]) == 2
    assert "zz" in capsys.readouterr().err
