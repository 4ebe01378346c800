"""Follow-up figures as of the report day (issue 34): nothing dated after it counts, steps and
items not yet due say so, data problems are named with file and row, and the look-back
closes what it should. Every expected state is worked out by hand in the test."""

from __future__ import annotations

import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.followup import ledger, lookback
from pingyi_lib.sections import followup
from pingyi_lib.sections.notice import notice_blocks

from .conftest import ITEMS, SAMPLE_2011, survey_rows, write_dataset

UNITS = "unit_id,name,level\na,甲区安监局,district\nb,乙区安监局,district\n"
HEAD = "item_id,unit_id,problem,measure,owner,deadline,status,completed_on\n"


def ds_with(tmp_path, name="d", units=UNITS, **tables):
    survey = "response_id,unit_id,channel," + ITEMS + "\n" + survey_rows("a", ["1,1,1,1,1"] * 3) \
        + survey_rows("b", ["2,2,2,2,2"] * 3, start=10)
    return py.load_dataset(write_dataset(tmp_path / name, units=units, survey=survey, **tables))


LEDGER = HEAD + (
    "X1,a,推诿扯皮,明确职责,局办公室,2011-09-10,已完成,2011-09-18\n"   # done 8 days late, on 09-18
    "X2,a,收费不公示,公示,局办公室,2011-09-20,未开始,\n"              # due 09-20
    "X3,b,态度冷淡,培训,行政服务处,2011-09-16,整改中,2011-09-12\n"     # not done, yet a completion date
    "X4,b,乱罚款,修订基准,政策法规处,2010-08-31,整改中,\n"            # a deadline a year early
    "X5,b,检查走过场,规范,监察支队,2011-09-01,已完成,2011-08-30\n")    # done on time


# (report day, item) → (state, days): worked out from the rows above
LEDGER_STATES = {
    ("2011-09-10", "X1"): ("due_today", 0), ("2011-09-16", "X1"): ("overdue", 6),
    ("2011-09-18", "X1"): ("done_late", 8), ("2011-09-20", "X1"): ("done_late", 8),
    ("2011-09-10", "X2"): ("not_due", 10), ("2011-09-16", "X2"): ("not_due", 4),
    ("2011-09-18", "X2"): ("not_due", 2), ("2011-09-20", "X2"): ("due_today", 0),
    ("2011-09-10", "X3"): ("not_due", 6), ("2011-09-16", "X3"): ("due_today", 0),
    ("2011-09-18", "X3"): ("overdue", 2), ("2011-09-20", "X3"): ("overdue", 4),
    ("2011-09-10", "X4"): ("open", 0), ("2011-09-20", "X4"): ("open", 0),
    ("2011-08-31", "X5"): ("done", 0), ("2011-08-29", "X5"): ("not_due", 3),
}


@pytest.mark.parametrize("day,item", sorted(LEDGER_STATES))
def test_ledger_state_on_each_report_day(tmp_path, day, item):
    led = ledger.ledger(ds_with(tmp_path, rectifications=LEDGER), day).set_index("item_id")
    assert (led.loc[item, "state"], led.loc[item, "days"]) == LEDGER_STATES[(day, item)]


def test_a_completion_after_the_report_day_does_not_count(tmp_path):
    led = ledger.ledger(ds_with(tmp_path, rectifications=LEDGER), "2011-09-16")
    x1 = led.set_index("item_id").loc["X1"]
    assert not x1["done"] and "2011-09-18晚于报告日" in x1["note"]
    s = ledger.ledger_summary(led).set_index("unit_id")
    # a on 09-16: X1 due and not done (its 09-18 completion is still to come), X2 not due: 0 of 1
    assert (s.loc["a", "due"], s.loc["a", "completed"], s.loc["a", "completion_rate"]) == (1, 0, 0.0)
    # b: X3 due today, X4 open (deadline to check), X5 done: 1 of 3
    assert s.loc["b", "due"] == 3 and s.loc["b", "completion_rate"] == pytest.approx(1 / 3)
    # a day before anything is due, the rate is unknown, not 0% or 100%
    early = ledger.ledger_summary(ledger.ledger(ds_with(tmp_path, "e", rectifications=LEDGER), "2011-08-01"))
    assert early.set_index("unit_id").loc["a", "completion_rate"] is pd.NA


def test_ledger_data_problems_name_file_row_and_reason(tmp_path):
    ds = ds_with(tmp_path, rectifications=LEDGER)
    p = ledger.data_problems(ds)
    got = sorted(zip(p["item"], p["reason_code"], p["row"]))
    assert got == [("X3", "completed_not_done", 4), ("X4", "date_before_round", 5)]
    assert all(f.endswith("rectifications.csv") for f in p["file"])
    why = p.set_index("item")["reason"]
    assert "整改中" in why["X3"] and "2010-08-31" in why["X4"]
    led = ledger.ledger(ds, "2011-09-20").set_index("item_id")
    assert "按未完成计" in led.loc["X3", "note"] and "无法判断是否逾期" in led.loc["X4", "note"]


def test_ledger_table_words_and_due_today_everywhere(tmp_path):
    ds = ds_with(tmp_path, rectifications=LEDGER)
    led = ledger.ledger(ds, "2011-09-16")
    t = followup.ledger_table(led, ruleset=ds.ruleset).set_index("编号")
    assert t.loc["X1", "截至报告日"] == "逾期6天" and t.loc["X1", "台账状态"] == "已完成"
    assert t.loc["X2", "截至报告日"] == "未到期（09-20到期）" and t.loc["X3", "截至报告日"] == "今日到期"
    assert set(followup.attention_items(led)["item_id"]) == {"X1", "X3", "X4"}
    ov = followup.overdue_overview(py.score(ds), led).set_index("单位编码")
    assert ov.loc["b", "今日到期（项）"] == 1 and ov.loc["a", "未到期（项）"] == 1
    text = followup.ledger_totals_text(led, "2011年9月16日")
    assert "今日到期1项" in text and "已完成1项" in text and "已到期4项" in text


def test_the_notice_counts_only_what_was_done_by_its_day(tmp_path):
    res = py.score(ds_with(tmp_path, rectifications=LEDGER))
    fu = followup.FollowUp(res, None, "2011-09-16")
    paras = [v for k, v in notice_blocks(res, fu, "t") if k == "para"]
    line = next(p for p in paras if p.startswith("截至2011年9月16日，共有整改事项"))
    assert "已完成1项" in line and "今日到期1项" in line and "晚于报告日" in line


MILESTONES = ("unit_id,step,submitted_on\n"
              "a,动员部署,2011-07-08\n"
              "a,自查自纠,2011-07-25\n"
              "a,整改,2011-09-18\n"      # 3 days late, but only from 09-18 on
              "b,动员部署,2010-07-08\n")  # a year early: a typo, not an on-time report


# (report day, unit, step) → (state, days)
TIMELINE_STATES = {
    ("2011-09-10", "a", "整改"): ("not_due", 5), ("2011-09-15", "a", "整改"): ("not_due", 0),
    ("2011-09-16", "a", "整改"): ("missing", 1), ("2011-09-18", "a", "整改"): ("late", 3),
    ("2011-09-20", "a", "整改"): ("late", 3), ("2011-07-09", "a", "动员部署"): ("on_time", 0),
    ("2011-07-01", "a", "动员部署"): ("not_due", 9), ("2011-07-20", "b", "动员部署"): ("missing", 10),
    ("2011-07-20", "b", "自查自纠"): ("not_due", 5),
}


@pytest.mark.parametrize("day,unit,step", sorted(TIMELINE_STATES))
def test_timeline_state_on_each_report_day(tmp_path, day, unit, step):
    tl = ledger.timeline(ds_with(tmp_path, milestones=MILESTONES), day).set_index(["unit_id", "step"])
    assert (tl.loc[(unit, step), "state"], tl.loc[(unit, step), "days"]) == TIMELINE_STATES[(day, unit, step)]


def test_timeline_words_name_later_and_wrong_year_dates(tmp_path):
    ds = ds_with(tmp_path, milestones=MILESTONES)
    t = followup.timeline_table(ledger.timeline(ds, "2011-09-16"), ruleset=ds.ruleset).set_index("单位编码")
    assert t.loc["a", "整改（09-15前）"].startswith("未报送；文件中的报送日期2011-09-18晚于报告日")
    assert t.loc["b", "动员部署（07-10前）"].startswith("未报送；文件中的报送日期2010-07-08不在本轮年度")
    early = followup.timeline_table(ledger.timeline(ds, "2011-09-10"), ruleset=ds.ruleset).set_index("单位编码")
    assert early.loc["b", "整改（09-15前）"] == "未到期（09-15到期）"
    p = ledger.data_problems(ds)
    assert p[["table", "row", "reason_code"]].values.tolist() == [["milestones", 5, "date_before_round"]]


def test_the_sample_ledger_is_read_on_its_report_day():
    ds = py.load_dataset(SAMPLE_2011)
    led = ledger.ledger(ds).set_index("item_id")  # round.toml: 2011-09-20
    # R2011-018: deadline 09-16, 已完成 on 09-23 in the file: on 09-20 it is four days overdue
    assert led.loc["R2011-018", "state"] == "overdue" and led.loc["R2011-018", "days"] == 4
    assert not led.loc["R2011-018", "done"]


PREV = HEAD + (
    "R1,a,推诿扯皮,明确职责,局办公室,2011-09-01,整改中,\n"
    "R2,a,收费不公示,公示,局办公室,2011-09-10,未开始,\n"
    "R3,b,态度冷淡,培训,行政服务处,2011-08-20,整改中,\n"
    "R4,g,乱罚款,修订基准,政策法规处,2011-08-31,整改中,\n")
NOW = HEAD + (
    "N1,a,回头看(R1): 推诿扯皮仍有,复查,局办公室,2012-07-01,整改中,\n"        # the first row naming R1: open
    "N2,a,回头看(R1)：再次复查,复查,局办公室,2012-08-01,已完成,2012-07-28\n"  # a later one: done → R1 closed
    "N3,a,回头看（R2）：全角括号,公示,局办公室,2012-08-10,已完成,2012-08-05\n"  # full-width brackets
    "N4,a,回头看(R2011-999): 没有的编号,复查,局办公室,2012-08-01,已完成,2012-07-20\n"
    "N5,a,回头看(R3): 别的单位,复查,局办公室,2012-08-01,已完成,2012-07-20\n"  # b's item: closes nothing
    "N6,b,回头看(R3): 完成在报告日之后,复查,行政服务处,2012-08-01,已完成,2012-08-25\n")


def test_lookback_closes_what_it_should(tmp_path):
    units_prev = UNITS + "g,离开的区,district\n"
    prev = py.score(ds_with(tmp_path, "p", units=units_prev, rectifications=PREV))
    now = py.score(ds_with(tmp_path, "n", rectifications=NOW))
    cl = lookback.closure(now, prev, "2012-08-20").set_index("item_id")
    assert cl.loc["R1", "closed"] and cl.loc["R1", "by"] == "N2" and cl.loc["R1", "followup_item"] == "N1、N2"
    assert cl.loc["R2", "closed"] and cl.loc["R2", "by"] == "N3"
    # R3: a's N5 names it (not a's item) and b's N6 is done only on 08-25, after the day
    assert not cl.loc["R3", "closed"] and cl.loc["R3", "followup_item"] == "N6"
    assert lookback.closure(now, prev, "2012-08-25").set_index("item_id").loc["R3", "by"] == "N6"
    # g left the round: its item keeps the unit's name
    assert cl.loc["R4", "name"] == "离开的区" and not cl.loc["R4", "closed"]
    ov = followup.closure_overview(now, lookback.closure(now, prev, "2012-08-20")).set_index("单位编码")
    assert ov.loc["g", "单位名称"] == "离开的区"
    p = lookback.reference_problems(now, prev)
    assert sorted(zip(p["item"], p["reason_code"], p["row"])) == [
        ("N4", "unknown_reference", 5), ("N5", "other_unit_reference", 6)]
    fu = followup.FollowUp(now, prev, "2012-08-20")
    assert {"unknown_reference", "other_unit_reference"} <= set(fu.data_problems["reason_code"])


def test_references_read_after_nfkc():
    assert lookback.references("回头看（R2011-010）：推诿") == ["R2011-010"]
    assert lookback.references("回头看 ( R1、R2 ) 两项") == ["R1", "R2"]
    assert lookback.references("窗口(大厅)办事慢") == []  # a bracket without 回头看 names nothing


def test_followup_command_json_on_a_crafted_round(tmp_path, capsys):
    import json

    from pingyi_lib.cli import main

    folder = write_dataset(tmp_path / "n", units=UNITS, survey="response_id,unit_id,channel," + ITEMS + "\n"
                           + survey_rows("a", ["1,1,1,1,1"] * 3), rectifications=LEDGER, milestones=MILESTONES)
    assert main(["followup", str(folder), "--report-date", "2011-09-16", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["as_of"] == "2011-09-16" and doc["interim"] is False
    assert {r["item_id"]: (r["state"], r["days"]) for r in doc["ledger"]} == {
        "X1": ("overdue", 6), "X2": ("not_due", 4), "X3": ("due_today", 0), "X4": ("open", 0), "X5": ("done", 0)}
    units = {u["unit_id"]: u for u in doc["units"]}
    assert (units["a"]["due"], units["a"]["done"], units["a"]["overdue"], units["a"]["rate"]) == (1, 0, 1, 0.0)
    tl = {(r["unit_id"], r["step"]): r for r in doc["timeline"]}
    assert tl[("a", "整改")]["state"] == "missing" and tl[("a", "整改")]["submitted_on"] is None
    assert tl[("a", "动员部署")]["submitted_on"] == "2011-07-08" and tl[("a", "动员部署")]["state"] == "on_time"
    assert doc["lookback"] is None
    assert sorted(p["reason_code"] for p in doc["problems"]) == ["completed_not_done", "date_before_round",
                                                               "date_before_round"]
    assert "3 处数据问题" in err


def test_followup_command_says_an_open_round_is_interim(capsys):
    from pingyi_lib.cli import main

    assert main(["followup", str(SAMPLE_2011), "--report-date", "2011-08-10"]) == 0
    out = capsys.readouterr().out
    assert "阶段性结果：问卷调查至 2011-08-31 结束" in out and "未到期（2011-08-13到期）" in out


def interim_round(tmp_path, report_date="2011-07-28"):
    """Two districts; b's on-site panel not yet held (no ballots); read on ``report_date``."""
    folder = write_dataset(
        tmp_path / "open", units=UNITS,
        survey="response_id,unit_id,channel," + ITEMS + "\n" + survey_rows("a", ["1,1,1,1,1"] * 3)
        + survey_rows("b", ["4,4,4,4,4"] * 4, start=10),
        onsite="ballot_id,unit_id,member_category," + ITEMS + "\no1,a,群众代表,1,1,1,1,1\no2,a,企业代表,2,2,2,2,2\n")
    (folder / "round.toml").write_text(f"city = \"甲市\"\nyear = 2011\nreport_date = {report_date}\n", encoding="utf-8")
    return folder


def test_an_open_round_says_it_is_interim_and_warns_instead_of_deciding(tmp_path):
    from pingyi_lib.sections import headline, scores

    res = py.score(py.load_dataset(interim_round(tmp_path)))
    # the ruleset's survey closes 08-31: on 07-28 the round is open
    assert res.interim and res.as_of.collection_end.isoformat() == "2011-08-31"
    city = headline.city_headline(res)
    assert city["code"].iloc[0] == "interim"
    assert "阶段性结果（截至2011-07-28，问卷调查至2011-08-31结束）" in city["内容"].iloc[0]
    fired = city[city["unit_ids"].map(len) > 0]
    consequences = fired[fired["code"].isin(res.ruleset.consequence_flags)]
    assert len(consequences) and consequences["事项"].str.startswith("预警：").all()
    # b's panel has not been held: its component reads 尚未开展, and the headline says where the weight went
    weight = f"{res.ruleset.weights.onsite * 100:g}%"
    gap = city.set_index("code").loc["component_gap", "内容"]
    assert f"乙区安监局：现场评议尚未开展，其{weight}权重暂计入问卷调查" in gap
    league = scores.league(res, "district").set_index(res.ruleset.column_labels["unit_id"])
    assert league.loc["b", res.ruleset.header("onsite_index")] == "尚未开展"
    unit = headline.unit_headline(res, "b").set_index("code")
    assert "尚未开展" in unit.loc["composite", "内容"] and unit.index[0] == "interim"
    assert headline.page_title(res, "x") == "x（阶段性结果）"
    blocks = notice_blocks(res, followup.FollowUp(res, None, ""), "t")
    text = "\n".join(str(v) for _, v in blocks)
    assert blocks[0] == ("title", "关于t阶段性结果的通报") and "已完成现场评议" not in text
    assert "四、评议结果运用（预警）" in text and "问卷调查至2011年8月31日结束" in text


def test_after_the_round_a_missing_component_is_still_named(tmp_path):
    from pingyi_lib.scoring.results import at_day
    from pingyi_lib.sections import headline, scores

    res = at_day(py.score(py.load_dataset(interim_round(tmp_path))), pd.Timestamp("2011-09-20").date())
    assert not res.interim
    weight = f"{res.ruleset.weights.onsite * 100:g}%"
    city = headline.city_headline(res)
    assert "interim" not in set(city["code"]) and not city["事项"].str.startswith("预警").any()
    assert f"没有现场评议的有效数据，其{weight}权重计入问卷调查" in city.set_index("code").loc["component_gap", "内容"]
    league = scores.league(res, "district").set_index(res.ruleset.column_labels["unit_id"])
    assert pd.isna(league.loc["b", res.ruleset.header("onsite_index")])
    # the day the collection closes is still interim; the day after is final
    assert at_day(res, pd.Timestamp("2011-08-31").date()).interim
    assert not at_day(res, pd.Timestamp("2011-09-01").date()).interim


@pytest.fixture(scope="module")
def interim_reports(tmp_path_factory):
    import contextlib
    import io

    from pingyi_lib.cli import main

    out = tmp_path_factory.mktemp("interim") / "r"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", str(SAMPLE_2011), "--out", str(out), "--units", "wj", "--jobs", "2",
                     "--report-date", "2011-07-28"])
    return out, code, err.getvalue()


def test_an_interim_report_says_so_on_every_page_the_workbook_and_the_notice(interim_reports):
    import docx
    import openpyxl

    from pingyi_lib.output.runner import NOTICE_NAME, WORKBOOK_NAME

    out, code, err = interim_reports
    assert code == 0
    label = "阶段性结果（截至2011-07-28，问卷调查至2011-08-31结束）"
    assert [line for line in err.splitlines() if label in line] == [
        f"注意：{label}：报告日在问卷调查截止之前，得分和排名还会变化，评议结果运用列为预警"]
    for page in ("index.html", "city.html", "units/wj.html"):
        assert label in (out / page).read_text(encoding="utf-8"), page
    assert "预警" in (out / "units/wj.html").read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(out / WORKBOOK_NAME)
    about = [c.value for row in wb["说明"].iter_rows() for c in row if c.value]
    assert any(label in str(v) for v in about)
    head = [c.value for c in wb["结果运用"][1]]
    assert head[0] == "性质" and all("预警" in r[0].value for r in wb["结果运用"].iter_rows(min_row=2))
    sheet = wb["整改台账"]
    col = [c.value for c in sheet[1]].index("截至报告日")
    states = [r[col].value for r in sheet.iter_rows(min_row=2)]
    # on 07-28 every 2011 deadline (07-31 … 09-22) is still ahead; only R2011-003 (done 07-22) and
    # R2011-019 (done 07-28) are done by then
    assert len(states) == 30 and states.count("已完成") == 2
    assert sum(s.startswith("未到期（") for s in states) == 28
    text = "\n".join(p.text for p in docx.Document(str(out / NOTICE_NAME)).paragraphs)
    assert "阶段性结果的通报" in text and "已完成现场评议" not in text and "评议结果运用（预警）" in text


def test_the_final_workbook_carries_the_ledger_on_its_day(sample_reports):
    import openpyxl

    from pingyi_lib.output.runner import WORKBOOK_NAME

    out, code = sample_reports
    assert code == 0
    ws = openpyxl.load_workbook(out / WORKBOOK_NAME)["整改台账"]
    head = [c.value for c in ws[1]]
    rows = {r[head.index("编号")].value: r for r in ws.iter_rows(min_row=2)}
    r18 = rows["R2011-018"]
    assert r18[head.index("截至报告日")].value == "逾期4天" and "晚于报告日" in r18[head.index("说明")].value
    assert "性质" not in [c.value for c in openpyxl.load_workbook(out / WORKBOOK_NAME)["结果运用"][1]]


def test_followup_command_lookback_on_the_sample_rounds(capsys):
    import json

    from pingyi_lib.cli import main

    from .conftest import SAMPLE_2012

    assert main(["followup", str(SAMPLE_2012), "--previous", str(SAMPLE_2011), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    look = {r["item_id"]: r for r in doc["lookback"]}
    # R2011-001 (整改中 in 2011) is named by R2012-005, done 2012-08-31, before the 2012-09-20 report
    assert look["R2011-001"]["closed"] and look["R2011-001"]["by"] == "R2012-005"
    assert look["R2011-002"]["by"] == "R2011-002"  # done in 2011
    # R2011-010 is named by R2012-012, still 未开始: open
    assert not look["R2011-010"]["closed"] and look["R2011-010"]["by"] is None
    assert main(["followup", str(SAMPLE_2012), "--report-date", "9/15"]) == 2
    assert "--report-date “9/15”不是日期" in capsys.readouterr().err
