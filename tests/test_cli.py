"""The `pingyi` command: exit codes and output formats of SPEC §6."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from pingyi_lib.cli import SCORE_COLUMNS, main

from .conftest import SAMPLE_2011
from .test_validate import bad_dataset


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_csv_has_spec_columns_and_true_false(capsys, tiny):
    code, out, _ = run(capsys, "score", str(tiny), "--format", "csv", "--allow-incomplete")  # w: no questionnaire
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == SCORE_COLUMNS
    by = {r["unit_id"]: r for r in rows}
    assert by["a"]["composite"] == "83.00" and by["a"]["rank"] == "1"
    assert by["b"]["in_bottom"] == "true" and by["a"]["in_bottom"] == "false"
    assert by["w"]["composite"] == "" and by["c"]["rank"] == ""  # missing values are empty


def test_score_json_uses_null_for_missing(capsys, tiny):
    code, out, _ = run(capsys, "score", str(tiny), "--format", "json", "--allow-incomplete")
    by = {u["unit_id"]: u for u in json.loads(out)["units"]}
    assert by["w"]["composite"] is None and by["c"]["rank"] is None
    assert by["b"]["talk"] is True and by["a"]["composite"] == 83.0


def test_score_table_prints_chinese_league_tables_per_group(capsys, tiny):
    code, out, err = run(capsys, "score", str(tiny), "--allow-incomplete")
    assert code == 0
    assert "辖市(区)安监局" in out and "甲区安监局" in out and "约谈" in out
    assert "不参加排名" in out and "未认定属实" in err
    # b: 0.3·60 + 0.5·0 + 20 = 38, last of 2 (bottom), 38 < mean (83 + 38)/2 = 60.5 and satisfaction 0 < 80
    line = next(x for x in out.splitlines() if "乙区安监局" in x and "│" in x)
    assert "38.00" in line and "不评优、约谈" in line
    assert "平均分 60.50" in out


def test_validate_exits_1_and_lists_every_rejected_row(capsys, tmp_path):
    code, out, _ = run(capsys, "validate", str(bad_dataset(tmp_path)), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["tables"]["survey"] == {"accepted": 2, "rejected": 6}
    rows = [(r["table"], r["row"]) for r in doc["rejected"]]
    assert ("survey", 3) in rows and ("cases", 4) in rows and ("units", 5) in rows
    assert len(rows) == sum(t["rejected"] for t in doc["tables"].values())
    assert all(r["reason"] for r in doc["rejected"])


def test_validate_table_format(capsys, tmp_path):
    code, out, _ = run(capsys, "validate", str(bad_dataset(tmp_path)))
    assert code == 1 and "被拒绝的行：共 11 行" in out and "“response_id”重复" in out
    assert "survey.csv 第 4 行" in out and "问卷调查" in out


def test_validate_clean_dataset_exits_0_and_counts_every_row(capsys, tiny):
    code, out, _ = run(capsys, "validate", str(tiny), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["rejected"] == []
    assert {t: v["accepted"] for t, v in doc["tables"].items() if v["accepted"]} == \
        {"units": 4, "onsite": 3, "survey": 4, "cases": 2}
    assert all(v["rejected"] == 0 for v in doc["tables"].values())


def test_missing_table_is_one_line_exit_1_no_traceback(capsys, tmp_path):
    (tmp_path / "units.csv").write_text("unit_id,name,level\na,甲,district\n", encoding="utf-8")
    code, out, err = run(capsys, "score", str(tmp_path))
    assert code == 1 and "survey" in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_bad_ruleset_is_usage_error(capsys, tiny, tmp_path):
    p = tmp_path / "r.toml"
    p.write_text("name = 1", encoding="utf-8")
    code, _, err = run(capsys, "score", str(tiny), "--ruleset", str(p))
    assert code == 2 and "规则文件" in err and err.count("\n") == 1


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["score"])
    assert exc.value.code == 2


def test_console_script_scores_the_bundled_sample():
    if not SAMPLE_2011.is_dir():
        pytest.skip("sample round not generated")
    p = subprocess.run([sys.executable, "-m", "pingyi_lib", "score", str(SAMPLE_2011)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "溧阳市" in p.stdout and "戚墅堰区" in p.stdout and "政务服务窗口和基层站所" in p.stdout


def test_missing_dataset_folder_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "score", str(tmp_path / "nope"))
    assert code == 2 and "找不到数据目录" in err


def test_sample_command_writes_the_committed_round(capsys, tmp_path):
    code, _, err = run(capsys, "sample", "--year", "2012", "--out", str(tmp_path / "s"))
    assert code == 0 and "8 张表和 round.toml" in err
    committed = SAMPLE_2011.parent / "2012"
    for f in [*committed.glob("*.csv"), committed / "round.toml"]:
        assert (tmp_path / "s" / f.name).read_bytes() == f.read_bytes(), f.name


def test_report_with_a_notebooks_folder_that_does_not_exist_is_a_usage_error(capsys, tiny, tmp_path):
    code, _, err = run(capsys, "report", str(tiny), "--out", str(tmp_path / "out"), "--notebooks",
                       str(tmp_path / "nonexistent"))
    assert code == 2 and "nonexistent" in err and "Traceback" not in err


def test_score_with_intervals_adds_the_columns_to_csv_and_json(capsys):
    from pingyi_lib.cli import INTERVAL_COLUMNS

    code, out, _ = run(capsys, "score", str(SAMPLE_2011), "--intervals", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(rows[0]) == SCORE_COLUMNS + INTERVAL_COLUMNS
    by = {r["unit_id"]: r for r in rows}
    assert float(by["wj-hutang"]["satisfaction_lo"]) < 80 < float(by["wj-hutang"]["satisfaction_hi"])
    assert by["czsaj"]["rank_lo"] == "" and by["wj"]["p_talk"] == "1.0000"
    code, out, _ = run(capsys, "score", str(SAMPLE_2011), "--intervals", "--format", "json")
    units = {u["unit_id"]: u for u in json.loads(out)["units"]}
    assert all(c in units["ly"] for c in INTERVAL_COLUMNS) and units["czsaj"]["p_bottom"] is None
    assert units["ly"]["rank_lo"] <= units["ly"]["rank"] <= units["ly"]["rank_hi"]


def test_score_table_with_intervals_prints_the_uncertainty_and_the_robustness(capsys):
    code, out, _ = run(capsys, "score", str(SAMPLE_2011), "--intervals")
    assert code == 0 and "抽样误差" in out and "排名95%区间" in out
    assert "稳健性：可能是抽样波动" in out  # 武进区湖塘镇安监站's 约谈 at 79.87%
    code, out, _ = run(capsys, "score", str(SAMPLE_2011))
    assert "抽样误差" not in out  # only when asked


def test_usage_errors_are_in_chinese_and_exit_2(capsys):
    for argv, words in ((["score"], "缺少必需的参数：DATASET"),
                        (["score", "x", "--format", "xml"], "参数 --format 的值 'xml' 无效"),
                        (["bogus"], "参数 COMMAND 的值 'bogus' 无效")):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        assert words in capsys.readouterr().err
