"""A strict ruleset (issue 19): a value of the wrong type, in two exclusive lists, out of
bounds, or under a key nobody reads is refused in one line naming the key, exit 2."""

from __future__ import annotations

import tomllib

import pytest

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.scheme.ruleset import default_ruleset_path, parse_ruleset

TEXT = default_ruleset_path().read_text(encoding="utf-8")


def edited(tmp_path, old: str, new: str):
    assert old in TEXT, old
    p = tmp_path / "r.toml"
    p.write_text(TEXT.replace(old, new, 1), encoding="utf-8")
    return p


@pytest.mark.parametrize("old, new, key, words", [
    # a string is not a boolean: "false" used to count as true
    ("substantiated_only = true", 'substantiated_only = "false"', "cases.substantiated_only", "true 或 false"),
    ('label = "很满意"\nscore = 1.0\nsatisfied = true', 'label = "很满意"\nscore = 1.0\nsatisfied = "false"',
     "levels[0].satisfied", "true 或 false"),
    ("decimals = 2", "decimals = 2.0", "decimals", "必须是整数"),
    ('title = "常州', 'title = 7\n# "常州', "title", "必须是非空字符串"),
    # one value in two exclusive lists: 是 in yes and no changed every case
    ('no = ["否",', 'no = ["是", "否",', "vocab.no", "'是'"),
    ('public_categories = ["群众代表", "企业代表"]', 'public_categories = ["群众代表", "商会代表"]',
     "panel.public_categories", "不在 panel.categories 中"),
    # bounded numbers: decimals = 400 ended in a traceback
    ("decimals = 2", "decimals = 400", "decimals", "不能大于 6"),
    ("cap = 3.0", "cap = inf", "bonus.cap", "有限的数值"),
    ("year = 2011", "year = 20111", "year", "不能大于 2100"),
    ("top = 5 ", "top = 100000 ", "problems.top", "不能大于 100"),
    # unknown keys and tables were ignored
    ("talk_threshold = 80.0", "talk_threshold = 80.0\ntalk_treshold = 70.0", "rules.talk_treshold",
     "是否想写 'rules.talk_threshold'"),
    ("[weights]", "[weightz]", "weights.onsite", "'weightz'"),
    ("[bonus]", "[weightz]\nonsite = 1\n[bonus]", "weightz", "是否想写 'weights'"),
    ('"整改" = "09-15"', '"整改" = "09-15"\nsurvey_strat = "07-25"', "timeline.survey_strat",
     "是否想写 'timeline.survey_start'"),
    ("code = 5\n", "code = 5\nscroe = 0.1\n", "levels[4].scroe", "是否想写 'levels[4].score'"),
    ('name = "越权执法、乱检查"\n', 'name = "越权执法、乱检查"\nkeyword = ["x"]\n', "problems.themes[0].keyword",
     "是否想写 'problems.themes[0].keywords'"),
    ('[flags.low_sample]', '[flags.stuffing]\nlabel = "x"\nconsequence = "y"\n[flags.low_sample]', "flags.stuffing",
     "未知的键"),
    ('"整改" = "09-15"', '"整改" = "9/15"', "timeline.整改", "月-日"),
])
def test_a_bad_ruleset_is_one_line_exit_2_naming_the_key(tmp_path, tiny, capsys, old, new, key, words):
    p = edited(tmp_path, old, new)
    with pytest.raises(py.RulesetError) as exc:
        py.load_ruleset(p)
    assert exc.value.key == key and f"'{key}'" in str(exc.value) and words in str(exc.value), str(exc.value)
    assert main(["score", str(tiny), "--ruleset", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 规则文件") and err.count("\n") == 1 and "Traceback" not in err


def test_a_ruleset_saved_with_a_bom_is_read(tmp_path):
    # before: "not valid TOML" for a file Windows Notepad saved
    p = tmp_path / "bom.toml"
    p.write_bytes(b"\xef\xbb\xbf" + TEXT.encode("utf-8"))
    assert py.load_ruleset(p) == py.load_ruleset()


@pytest.mark.parametrize("target, words", [("folder", "是一个文件夹"), ("missing.toml", "不存在"),
                                           ("bad.toml", "不是有效的 TOML"), ("gbk.toml", "不是 UTF-8")])
def test_a_folder_a_missing_file_or_unreadable_text_is_one_line_exit_2(tmp_path, tiny, capsys, target, words):
    (tmp_path / "folder").mkdir()
    (tmp_path / "bad.toml").write_text("weights = [", encoding="utf-8")
    (tmp_path / "gbk.toml").write_bytes("name = '常州'".encode("gbk"))
    assert main(["score", str(tiny), "--ruleset", str(tmp_path / target)]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_every_key_of_the_bundled_ruleset_is_read():
    # the strictness holds for the default file: nothing in it is silently ignored
    parse_ruleset(tomllib.loads(TEXT), "default")


def test_weights_of_items_asked_but_not_scored_are_allowed_and_checked():
    raw = tomllib.loads(TEXT)
    raw["items"]["weights"]["overall"] = 1.0
    parse_ruleset(raw, "t")
    raw["items"]["weights"]["overall"] = "heavy"
    with pytest.raises(py.RulesetError, match="items.weights.overall"):
        parse_ruleset(raw, "t")
