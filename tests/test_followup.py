"""Rectification ledger dates, timeline compliance and the look-back between rounds."""

from __future__ import annotations

import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.followup import ledger, lookback
from pingyi_lib.sections import followup

from .conftest import ITEMS, SAMPLE_2011, SAMPLE_2012, survey_rows, write_dataset

UNITS = "unit_id,name,level\na,甲区安监局,district\nb,乙区安监局,district\nw,窗口,window\n"


def ds_with(tmp_path, name="d", units=UNITS, **tables):
    survey = "response_id,unit_id,channel," + ITEMS + "\n" + survey_rows("a", ["1,1,1,1,1"] * 3) \
        + survey_rows("b", ["2,2,2,2,2"] * 3, start=10) + survey_rows("w", ["3,3,3,3,3"] * 3, start=20)
    return py.load_dataset(write_dataset(tmp_path / name, units=units, survey=survey, **tables))


LEDGER = """item_id,unit_id,problem,measure,owner,deadline,status,completed_on
R1,a,窗口推诿扯皮,明确职责,局办公室,2011-09-01,整改中,
R2,a,收费依据未公示,公示,局办公室,2011-09-10,未开始,
R3,a,态度冷淡,培训,行政服务处,2011-08-20,已完成,2011-08-25
R4,b,乱罚款,修订基准,政策法规处,2011-08-31,已完成,2011-08-31
R5,b,检查走过场,规范,监察支队,2011-09-30,整改中,
"""


def test_ledger_overdue_due_today_and_completed_late(tmp_path):
    led = ledger.ledger(ds_with(tmp_path, rectifications=LEDGER), "2011-09-10").set_index("item_id")
    # R1: open, deadline 9-01 passed by 9 days on 9-10
    assert led.loc["R1", "overdue"] and led.loc["R1", "state"] == "overdue" and led.loc["R1", "days"] == 9
    # R2: open, due on the report date itself: due today, not yet overdue
    assert led.loc["R2", "due_today"] and not led.loc["R2", "overdue"]
    # R3: done 5 days after its deadline
    assert led.loc["R3", "completed_late"] and led.loc["R3", "days"] == 5 and not led.loc["R3", "overdue"]
    assert led.loc["R3", "state"] == "done_late"
    # R4: done on the deadline day: on time
    assert not led.loc["R4", "completed_late"] and led.loc["R4", "state"] == "done"
    # R5: open, deadline later: neither
    assert not led.loc["R5", "overdue"] and not led.loc["R5", "due_today"]
    assert led.loc["R5", "state"] == "not_due" and led.loc["R5", "days"] == 20
    assert led.loc["R1", "themes"] == "推诿扯皮" and led.loc["R2", "themes"] == "办事程序和结果不公开"


def test_ledger_summary_completion_rate(tmp_path):
    led = ledger.ledger(ds_with(tmp_path, rectifications=LEDGER), "2011-09-10")
    s = ledger.ledger_summary(led).set_index("unit_id")
    # a: R1 overdue, R2 due today, R3 done: all three due, one done
    assert s.loc["a", "items"] == 3 and s.loc["a", "due"] == 3 and s.loc["a", "completed"] == 1
    assert s.loc["a", "completion_rate"] == pytest.approx(1 / 3) and s.loc["a", "overdue"] == 1
    # b: R4 done, R5 not due until 9-30: the rate counts what was due (1 of 1), not 1 of 2
    assert s.loc["b", "due"] == 1 and s.loc["b", "not_due"] == 1
    assert s.loc["b", "completion_rate"] == 1.0 and s.loc["b", "overdue"] == 0


def test_report_date_defaults_to_the_last_date_in_the_data_not_today(tmp_path):
    ds = ds_with(tmp_path, rectifications=LEDGER)
    # the last date in the data is R5's deadline, 2011-09-30: nothing is read as of today
    assert ledger.report_day(ds).day.isoformat() == "2011-09-30"
    led = ledger.ledger(ds).set_index("item_id")
    assert not led.loc["R5", "overdue"] and led.loc["R5", "due_today"]
    assert led.loc["R1", "days"] == 29  # 9-01 → 9-30


def test_timeline_on_time_late_missing(tmp_path):
    ms = ("unit_id,step,submitted_on\n"
          "a,动员部署,2011-07-10\n"    # on the deadline day: on time
          "a,自查自纠,2011-07-28\n"    # 3 days late
          "a,自查自纠,2011-07-30\n"    # a second submission: the first counts
          "b,动员部署,2011-07-01\n"
          "w,动员部署,2011-07-01\n")  # windows owe no reports: not listed
    tl = ledger.timeline(ds_with(tmp_path, milestones=ms), "2011-09-20").set_index(["unit_id", "step"])
    assert tl.loc[("a", "动员部署"), "state"] == "on_time"
    assert tl.loc[("a", "自查自纠"), "state"] == "late" and tl.loc[("a", "自查自纠"), "days"] == 3
    assert tl.loc[("a", "整改"), "state"] == "missing" and tl.loc[("a", "整改"), "days"] == 5
    assert tl.loc[("b", "自查自纠"), "state"] == "missing"
    assert "w" not in tl.index.get_level_values("unit_id")
    assert tl.loc[("a", "整改"), "deadline"] == pd.Timestamp("2011-09-15")


def test_timeline_year_follows_the_data_not_the_ruleset(tmp_path):
    ds = ds_with(tmp_path, milestones="unit_id,step,submitted_on\na,动员部署,2012-07-11\n")
    tl = ledger.timeline(ds).set_index(["unit_id", "step"])
    assert ledger.round_year(ds) == 2012
    assert tl.loc[("a", "动员部署"), "state"] == "late" and tl.loc[("a", "动员部署"), "days"] == 1


def test_timeline_table_shows_state_and_date(tmp_path):
    ds = ds_with(tmp_path, milestones="unit_id,step,submitted_on\na,自查自纠,2011-07-28\n")
    t = followup.timeline_table(ledger.timeline(ds, "2011-09-20"), ruleset=ds.ruleset).set_index("单位编码")
    assert t.loc["a", "自查自纠（07-25前）"] == "逾期3天（07-28）"
    assert t.loc["b", "整改（09-15前）"] == "未报送"


def test_lookback_with_units_added_and_removed(tmp_path):
    prev = py.score(ds_with(tmp_path, "p", units=UNITS))
    now = py.score(ds_with(tmp_path, "n", units="unit_id,name,level\na,甲区安监局,district\n"
                                               "b,乙区安监局,district\nz,新窗口,window\n"))
    c = lookback.compare(now, prev).set_index("unit_id")
    assert c.loc["z", "presence"] == "本年新增" and pd.isna(c.loc["z", "composite_prev"])
    assert c.loc["w", "presence"] == "本年未参评" and pd.isna(c.loc["w", "composite_now"])
    assert c.loc["a", "presence"] == "两年均参评" and c.loc["a", "composite_change"] == 0
    assert c.loc["a", "composite_prev"] == c.loc["a", "composite_now"] == 100.0  # 0.8·100 + 20
    assert c["significant"].isna().all()  # no intervals yet: unknown, not guessed


def test_lookback_changes_against_hand_arithmetic(tmp_path):
    units = "unit_id,name,level\na,甲区安监局,district\nb,乙区安监局,district\n"

    def round_of(name, a_answer):
        survey = "response_id,unit_id,channel," + ITEMS + "\n" + survey_rows("a", [a_answer] * 3) \
            + survey_rows("b", ["2,2,2,2,2"] * 3, start=10)
        return py.score(py.load_dataset(write_dataset(tmp_path / name, units=units, survey=survey)))

    prev, now = round_of("p", "1,1,1,1,1"), round_of("n", "2,2,2,2,2")
    c = lookback.compare(now, prev).set_index("unit_id")
    # a: last year every answer 很满意: 0.8·100 + 20 = 100; now 比较满意: 0.8·80 + 20 = 84 → −16
    assert c.loc["a", "composite_prev"] == 100.0 and c.loc["a", "composite_change"] == -16.0
    assert c.loc["a", "lawful_now"] == 80.0 and c.loc["a", "lawful_change"] == -20.0
    # b: 84 both years; rank 2 last year, tied first now (84 = 84): up one place
    assert c.loc["b", "composite_change"] == 0.0 and c.loc["b", "rank_change"] == 1


def test_lookback_changes_on_the_sample_rounds():
    now, prev = py.score(py.load_dataset(SAMPLE_2012)), py.score(py.load_dataset(SAMPLE_2011))
    c = lookback.compare(now, prev).set_index("unit_id")
    u11, u12 = prev.units.set_index("unit_id"), now.units.set_index("unit_id")
    assert c.loc["wj", "composite_change"] == round(u12.loc["wj", "composite"] - u11.loc["wj", "composite"], 2)
    assert c.loc["wj", "rank_change"] == u11.loc["wj", "rank"] - u12.loc["wj", "rank"]
    assert c.loc["jt-xuebu", "presence"] == "本年未参评" and c.loc["wj-gxq-win", "presence"] == "本年新增"
    lawful = now.items[(now.items.component == "survey") & (now.items.item == "lawful")].set_index("unit_id")
    assert c.loc["ly", "lawful_now"] == lawful.loc["ly", "index"]


def test_closure_follows_lookback_items(tmp_path):
    prev = py.score(ds_with(tmp_path, "p", rectifications=LEDGER))
    now = py.score(ds_with(tmp_path, "n", rectifications=(
        "item_id,unit_id,problem,measure,owner,deadline,status,completed_on\n"
        "N1,a,回头看(R1): 窗口推诿扯皮,复查,局办公室,2012-08-01,已完成,2012-07-30\n"
        "N2,b,回头看(R5): 检查走过场,复查,监察支队,2012-08-01,整改中,\n")))
    cl = lookback.closure(now, prev).set_index("item_id")
    assert cl.loc["R1", "followup_item"] == "N1" and cl.loc["R1", "closed"]  # closed by this year's look-back
    assert cl.loc["R1", "by"] == "N1" and cl.loc["R3", "by"] == "R3" and cl.loc["R5", "by"] == ""
    assert cl.loc["R3", "closed"] and cl.loc["R3", "followup_item"] == ""  # done last year
    assert not cl.loc["R5", "closed"] and cl.loc["R5", "status_now"] == "整改中"
    assert not cl.loc["R2", "closed"]  # open last year, never followed up
    s = lookback.closure_summary(lookback.closure(now, prev)).set_index("unit_id")
    assert s.loc["a"].tolist() == [3, 1, 1, 2]  # items, done then, followed up, closed


def test_lookback_significance_from_both_rounds_replicates(tmp_path):
    # the same answers in both rounds: no change is significant and no rank change is real
    prev = py.score(ds_with(tmp_path, "p"), intervals=True)
    same = lookback.compare(py.score(ds_with(tmp_path, "s"), intervals=True), prev).set_index("unit_id")
    both = same[same["presence"] == "两年均参评"]
    assert not both["significant"].any() and not both["satisfaction_significant"].any()
    assert not both["rank_change_real"].fillna(False).any()


def test_lookback_on_the_sample_rounds_says_which_changes_are_significant():
    now = py.score(py.load_dataset(SAMPLE_2012), intervals=True)
    prev = py.score(py.load_dataset(SAMPLE_2011), intervals=True)
    c = lookback.compare(now, prev).set_index("unit_id")
    # 武进区安监局: 61.24 → 87.68 (its 2011 case deductions are gone): significant, and a real climb
    assert c.loc["wj", "significant"] and c.loc["wj", "composite_change_lo"] > 0 and c.loc["wj", "rank_change_real"]
    # 武进区湖塘镇安监站: +0.61 with an interval across 0 on about a hundred questionnaires: not significant
    assert not c.loc["wj-hutang", "significant"]
    assert c.loc["wj-hutang", "composite_change_lo"] < 0 < c.loc["wj-hutang", "composite_change_hi"]
    assert pd.isna(c.loc["wj-gxq-win", "significant"])  # new this year: nothing to compare
    t = followup.lookback_table(lookback.compare(now, prev), ruleset=now.ruleset).set_index("单位编码")
    assert set(t["变化是否显著"]) <= {"是", "否", "未评估"} and t.loc["wj", "变化是否显著"] == "是"
    assert t.loc["wj-hutang", "变化是否显著"] == "否" and t.loc["wj-gxq-win", "变化是否显著"] == "未评估"
