"""A league table never changes silently (SPEC §2): a rejected units row or a ranked unit with
no valid questionnaire stops `score` and `report`; --allow-incomplete runs with a banner."""

from __future__ import annotations

import pytest

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.scoring.completeness import require_complete

from .conftest import survey_rows, write_dataset

ZH_ITEMS = "依法履职,公正执法,政务公开,政务服务,清正廉洁"


def clerk_round(tmp_path, level_of_c: str = "辖市区局"):
    """A fictional city of three districts, GB18030 CSVs with Chinese headers, as a clerk
    gives them; ``level_of_c`` is what the clerk typed in 层级 for district c."""
    units = ("单位编码,单位名称,层级\n"
             "lj,临江市安全生产监督管理局,市局\n"
             "a,东区安监局,辖市区局\nb,西区安监局,辖市区局\n"
             f"c,南区安监局,{level_of_c}\n")
    survey = "问卷编号,单位编码,渠道," + ZH_ITEMS + "\n" + "".join(
        survey_rows(u, [ans] * 40, start=100 * i, channel="网上")
        for i, (u, ans) in enumerate([("lj", "1,1,1,1,1"), ("a", "1,2,1,2,1"), ("b", "2,2,3,2,2"),
                                      ("c", "4,4,3,4,4")]))
    onsite = "票号,单位编码,代表类别," + ZH_ITEMS + "\n" + "".join(
        f"o{u}{i},{u},群众代表,1,1,1,1,1\n" for u in ("a", "b", "c") for i in range(12))
    return write_dataset(tmp_path / "linjiang", encoding="gb18030", units=units, survey=survey, onsite=onsite)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_typo_in_a_districts_level_stops_score_and_names_unit_file_row_and_dependents(tmp_path, capsys):
    d = clerk_round(tmp_path, "辖区市局")
    code, out, err = run(capsys, "score", str(d))
    assert code == 1 and out == ""
    # unit, file, row, what is wrong, and the 40 questionnaires + 12 ballots that went with it
    assert "单位“c”（南区安监局）不在排名中" in err
    assert "units.csv 第 5 行被拒绝" in err and "“层级”的“辖区市局”不是允许的层级" in err
    assert "随之被拒绝的还有 52 行（现场评议 12 行、问卷调查 40 行）" in err
    assert "--allow-incomplete" in err and "Traceback" not in err


def test_allow_incomplete_scores_the_rest_and_says_what_is_missing(tmp_path, capsys):
    d = clerk_round(tmp_path, "辖区市局")
    code, out, err = run(capsys, "score", str(d), "--allow-incomplete")
    assert code == 0 and "东区安监局" in out and "南区安监局" not in out
    assert "本次排名不完整：缺少 南区安监局（c）（评议单位表 units.csv 第 5 行被拒绝" in err


def test_the_same_round_without_the_typo_scores(tmp_path, capsys):
    code, out, _ = run(capsys, "score", str(clerk_round(tmp_path)))
    assert code == 0 and "南区安监局" in out


def test_a_ranked_unit_whose_questionnaires_were_all_rejected_stops_the_run(tmp_path, capsys):
    d = clerk_round(tmp_path)
    text = (d / "survey.csv").read_bytes().decode("gb18030").replace(",c,网上,4,4,3,4,4", ",c,网上,4,4,3,4,9")
    (d / "survey.csv").write_bytes(text.encode("gb18030"))
    res = py.score(py.load_dataset(d))
    gaps = res.gaps.set_index("unit_id")
    assert gaps.loc["c", "kind"] == "no_valid_survey" and gaps.loc["c", "dependents"] == 40
    assert "问卷调查表中本单位的 40 行全部被拒绝" in gaps.loc["c", "cause"]
    assert "“清正廉洁”的答案“9”无法识别" in gaps.loc["c", "cause"]
    with pytest.raises(py.DatasetError, match="南区安监局"):
        require_complete(res.gaps)
    assert run(capsys, "score", str(d))[0] == 1


def test_a_ranked_unit_with_no_questionnaire_at_all_stops_the_run(tiny, capsys):
    code, _, err = run(capsys, "score", str(tiny))  # window w has no questionnaire
    assert code == 1 and "单位“w”（甲区服务窗口）没有有效问卷" in err and "问卷调查表中没有本单位的问卷" in err


def test_the_city_bureau_is_not_ranked_and_needs_no_questionnaire(tmp_path):
    d = clerk_round(tmp_path)
    text = (d / "survey.csv").read_bytes().decode("gb18030")
    (d / "survey.csv").write_bytes("\n".join(x for x in text.split("\n") if ",lj," not in x).encode("gb18030"))
    assert py.score(py.load_dataset(d)).gaps.empty


def test_report_stops_before_writing_anything(tmp_path, capsys):
    d = clerk_round(tmp_path, "辖区市局")
    code, _, err = run(capsys, "report", str(d), "--out", str(tmp_path / "out"))
    assert code == 1 and "南区安监局" in err
    assert not (tmp_path / "out").exists()


def test_validate_says_the_league_would_be_incomplete(tmp_path, capsys):
    code, out, _ = run(capsys, "validate", str(clerk_round(tmp_path, "辖区市局")))
    assert code == 1 and "排名不完整：1 个单位不能参加排名" in out
    assert "问卷调查" in out and "评议单位" in out  # Chinese table names


def test_the_notice_of_an_incomplete_league_says_so_under_the_rounds_own_title(tmp_path):
    docx = pytest.importorskip("docx")
    from pingyi_lib.output.runner import write_round_notice

    d = clerk_round(tmp_path, "辖区市局")
    (d / "round.toml").write_text('city = "临江市"\nyear = 2013\nreport_date = 2013-09-20\n', encoding="utf-8")
    path = write_round_notice(py.score(py.load_dataset(d)), tmp_path / "notice.docx")
    lines = [p.text for p in docx.Document(str(path)).paragraphs]
    assert lines[0] == "关于临江市2013年民主评议政风行风结果的通报"  # round.toml's, not the ruleset's 2011
    assert any(x.startswith("本次排名不完整：缺少 南区安监局（c）") for x in lines)
    assert lines[-1] == "2013年9月20日"  # the round's report day
