"""Suspicious periods (issue 35): auto-fill tools that send one questionnaire at a time from
fresh devices are found by the unit and the period, the league without the period is shown,
and honest rounds (a media peak, a well-liked unit, a small unit, a weekend unit) stay quiet."""

from __future__ import annotations

import json
import math

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.integrity import evidence
from pingyi_lib.integrity.policy import quiet_hours_text
from pingyi_lib.output.workbook import write_results_workbook
from pingyi_lib.scheme.ruleset import default_ruleset_path, parse_ruleset
from pingyi_lib.sections import headline
from pingyi_lib.sections import integrity as sections
from pingyi_lib.sections.followup import FollowUp
from pingyi_lib.sections.notice import notice_blocks

from . import integrity_cases as ic
from . import period_cases as pc


def _round(tmp_path, seed: int, *attack, replace: dict | None = None):
    """Seven honest districts (``replace``: unit -> frame instead), plus ``attack`` frames."""
    rng = np.random.default_rng(seed)
    frames = pc.honest_round(rng)
    for unit, make in (replace or {}).items():
        frames[list(pc.DISTRICTS).index(unit)] = make(rng)
    frames += [a(rng) for a in attack]
    folder, ids = ic.write_round(tmp_path / "round", pc.DISTRICTS, *frames)
    return folder, ids


def _scored_without(folder, ids: set, alone):
    """The units' results of the round in ``folder`` scored as if ``ids`` had never been submitted."""
    survey = pd.read_csv(folder / "survey.csv", dtype=str, keep_default_na=False)
    alone.mkdir()
    (alone / "units.csv").write_text((folder / "units.csv").read_text(encoding="utf-8"), encoding="utf-8")
    survey[~survey["response_id"].isin(ids)].to_csv(alone / "survey.csv", index=False)
    return py.score(py.load_dataset(alone)).units.set_index("unit_id")


# ---- the statistics, against hand-computed values ---------------------------------------------
def test_the_tails_and_the_combination_match_hand_computed_values():
    assert evidence.binomial_tail_log(np.array([10]), np.array([10]), np.array([0.5]))[0] == pytest.approx(
        10 * math.log(0.5))  # all 10 of 10: 0.5^10 exactly (the bound is tight at the edge)
    assert evidence.binomial_tail_log(np.array([3]), np.array([10]), np.array([0.5]))[0] == 0  # below the mean
    assert math.exp(evidence.normal_tail_log(np.array([1.959964]), two_sided=True)[0]) == pytest.approx(0.05, 1e-5)
    assert evidence.normal_tail_log(np.array([40.0]))[0] == pytest.approx(-40 ** 2 / 2 - math.log(40 * math.sqrt(
        2 * math.pi)), abs=1e-3)  # far past where erfc underflows
    # Fisher, two p = 0.05: x = -2 (2 ln 0.05) = 11.98; P(χ²₄ >= x) = e^(-x/2) (1 + x/2) = 0.01748
    both = evidence.fisher_log(np.log(np.array([[0.05, 0.05, 0.3]])), np.array([[True, True, False]]))
    assert math.exp(both[0]) == pytest.approx(0.017479, abs=1e-6)
    assert evidence.fisher_log(np.zeros((1, 2)), np.array([[True, True]]))[0] == 0  # p = 1 and 1: 1


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.data())
def test_the_binomial_bound_is_never_below_the_exact_tail(n, data):
    x = data.draw(st.integers(0, n))
    p = data.draw(st.floats(0.01, 0.99))
    exact = sum(math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(x, n + 1))
    bound = evidence.binomial_tail_log(np.array([x]), np.array([n]), np.array([p]))[0]
    assert bound >= math.log(exact) - 1e-9


def test_gaps_a_tool_keeps_are_regular_and_random_arrivals_half_so():
    rng = np.random.default_rng(0)
    tool = np.cumsum(rng.uniform(70, 180, 400)).astype(np.int64)
    valid, regular = evidence.regular_gaps(np.zeros(400, dtype=np.int64), tool)
    assert valid[1:-1].all() and regular[valid].mean() == 1.0  # 70/250 .. 180/250: always between 1/4 and 3/4
    honest = np.unique(np.cumsum(rng.exponential(600, 4000)).astype(np.int64))
    valid, regular = evidence.regular_gaps(np.zeros(len(honest), dtype=np.int64), honest)
    assert 0.46 < regular[valid].mean() < 0.54
    two = evidence.regular_gaps(np.array([0, 0, 1, 1, 1]), np.array([0, 10, 20, 30, 40]))[0]
    assert two.tolist() == [False, False, False, True, False]  # a gap pair never spans two units


def test_row_terms_and_quiet_hours_in_words():
    t = evidence.row_terms(np.array([[1, 1, 2], [4, 0, 5], [3, 3, 3]]), np.array([np.nan, 1.0, .8, .6, 0.0, np.nan]))
    assert t["k"].tolist() == [3, 1, 3]
    assert t["mean"][0] == pytest.approx(2.8 / 3) and t["mean"][1] == 0 and t["mean"][2] == pytest.approx(.6)
    assert t["within"][0] == pytest.approx(1 + 1 + .64 - 2.8 ** 2 / 3) and t["within"][2] == pytest.approx(0)
    some = evidence.RowTerms(np.array([[1, 1, 2], [4, 0, 5], [3, 3, 3]]), np.array([np.nan, 1.0, .8, .6, 0.0, np.nan]))
    at = some.at(np.array([2, 0]), ("within", "k"))  # the rows and terms asked, in that order
    assert list(at) == ["k", "within"] and at["k"].tolist() == [3, 3] and at["within"][1] == t["within"][0]
    assert (some["mean"] == t["mean"]).all() and (some.take(np.array([1]))["sum"] == t["sum"][1:2]).all()
    assert quiet_hours_text((22, 23, 0, 1, 2, 3, 4, 5)) == "22时至次日6时"
    assert quiet_hours_text((1, 2)) == "1时至3时" and quiet_hours_text((1, 5)) == "1时、5时"


# ---- the attacks of the issue ----------------------------------------------------------------
def test_a_night_drip_is_alerted_its_rows_flagged_and_the_league_without_it_shown(tmp_path, capsys):
    folder, attack = _round(tmp_path, 0, lambda rng: pc.night_drip(rng, "d6"))
    res = py.score(py.load_dataset(folder))
    found = res.integrity
    a = found.alerts
    assert a["unit_id"].tolist() == ["d6"]
    alert = a.iloc[0]
    assert alert["start"] <= pd.Timestamp("2012-08-06 21:10") and alert["end"] >= pd.Timestamp("2012-08-09 00:20")
    assert alert["end"] - alert["start"] < pd.Timedelta(days=4)
    assert "提交节奏过于规律" in alert["evidence"] and "答案明显偏高" in alert["evidence"]
    assert "22时至次日6时" in alert["evidence"]
    flagged = set(found.rows.loc[found.rows["reasons"].map(len) > 0, "response_id"])
    assert len(flagged & attack) >= 0.9 * len(attack)  # the issue: the night drip's rows get flagged
    in_period = found.rows[found.rows["reasons"].map(lambda r: "period" in r)]
    assert len(in_period) == alert["flagged"] and not in_period["excluded"].any()  # flagged for review only
    assert alert["rank"] <= 3 and alert["rank_without"] >= 5  # stuffed up from the lower half
    # the score without the period is the score of the round without those questionnaires
    members = set(found.members["response_id"])
    other = _scored_without(folder, members, tmp_path / "without")
    assert alert["composite_without"] == other.loc["d6", "composite"]
    assert alert["rank_without"] == other.loc["d6", "rank"] and alert["responses"] == len(members)

    assert main(["integrity", str(folder), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    units = {u["unit_id"]: u for u in doc["units"]}
    (j,) = units["d6"]["alerts"]
    assert {"start", "end", "responses", "evidence", "score_without", "rank_without"} <= set(j)
    assert (j["responses"], j["score_without"], j["rank_without"]) == (
        len(members), alert["composite_without"], alert["rank_without"])
    assert all(not u["alerts"] for k, u in units.items() if k != "d6")
    c = found.comparison.set_index("unit_id").loc["d6"]
    assert units["d6"]["without_flagged"]["rank"] == c["rank_without_flagged"] >= 5  # the flagged rows lifted it
    assert main(["integrity", str(folder)]) == 0
    table = capsys.readouterr().out
    assert "可疑时段" in table and "d6单位" in table


def test_a_slow_day_drip_is_alerted_and_the_headline_says_the_bottom_group_changes(tmp_path):
    folder, attack = _round(tmp_path, 1, lambda rng: pc.day_drip(rng, "d7"))
    res = py.score(py.load_dataset(folder))
    a = res.integrity.alerts
    assert a["unit_id"].tolist() == ["d7"]
    alert = a.iloc[0]
    official = res.units.set_index("unit_id").loc["d7"]
    assert official["rank"] < 7 and "约谈" not in official["flags"]  # the drip lifted it out of the bottom
    assert alert["rank_without"] == 7 and "约谈" in alert["flags_without"]
    (change,) = [c for c in sections.period_changes(res) if "可疑时段" in c["text"]]
    assert change["unit_ids"][0] == "d7" and "d7单位" in change["text"] and "约谈" in change["text"]
    assert sections.period_changes(res, "d1") == []  # d1's consequences do not change
    city = headline.city_headline(res)
    assert any("可疑时段" in t and "d7单位" in t for t in city["内容"])
    assert any("可疑时段" in t for t in headline.unit_headline(res, "d7")["内容"])
    assert not any("可疑时段" in t for t in headline.unit_headline(res, "d1")["内容"])
    assert len(sections.periods(res, "d7")) == 1 and sections.periods(res, "d1").empty
    # the notice and the workbook say it too
    paras = [v for k, v in notice_blocks(res, FollowUp(res, None, ""), "t") if k == "para"]
    assert any(p.startswith("问卷异常提示：") and "d7单位" in p and "约谈" in p for p in paras)
    wb = openpyxl.load_workbook(write_results_workbook(res, tmp_path / "w.xlsx"), read_only=True)
    sheet = [list(r) for r in wb["可疑时段"].values]
    assert sheet[0][:2] == ["单位名称", "可疑时段"] and [r[0] for r in sheet[1:]] == ["d7单位"]
    without = {r[0]: r for r in wb["不计被标记问卷"].values}
    assert set(pc.DISTRICTS) <= set(without)  # every unit, changed or not
    wb.close()


# ---- the honest stay untouched ----------------------------------------------------------------------
@pytest.mark.parametrize("case", ["media_peak", "small_unit", "weekend_unit"])
def test_honest_rounds_raise_no_alert(tmp_path, case):
    replace, attack = {}, []
    if case == "media_peak":  # 150 ordinary questionnaires in an afternoon: a surge, not stuffing
        attack = [lambda rng: pc.media_peak(rng, "d3")]
    elif case == "small_unit":
        replace = {"d4": lambda rng: pc.honest(rng, "d4", 30, pc.MOODS["d4"])}
    else:
        replace = {"d5": lambda rng: pc.weekend_unit(rng, "d5")}
    folder, _ = _round(tmp_path, 2, *attack, replace=replace)
    found = py.score(py.load_dataset(folder)).integrity
    assert found.alerts.empty  # d1, the best-liked unit, is in every round
    assert not found.rows["reasons"].map(lambda r: "burst" in r or "period" in r).any()


def test_a_busy_honest_unit_read_to_the_second_raises_no_alert():
    """Arrivals at random, 200,000 in 37 days (one every 16 s), times written to the whole second:
    read to the second, 0.53 of the gap pairs looked alike instead of 0.5, which over a week of
    such a unit's questionnaires alerted as a tool's rhythm; spread within their second they do not."""
    from pingyi_lib.integrity.detect import _score_table
    from pingyi_lib.integrity.periods import suspicious_periods

    rng = np.random.default_rng(7)
    rs = py.load_ruleset()
    n = 200_000
    first = int(pd.Timestamp(ic.START).normalize().timestamp()) + rs.integrity.period.day_starts * 3600
    sec = np.sort(rng.integers(0, 37 * 86400, n)) + first  # 37 whole days
    mood = rng.choice(4, n, p=[.5, .3, .15, .05])
    answers = np.clip(mood[:, None] + 1 + rng.choice([-1, 0, 0, 1], (n, 6)), 1, 4).astype(np.int8)
    terms = evidence.RowTerms(answers, _score_table(rs))
    unit = np.zeros(n, dtype=np.int64)
    read_to_second = evidence.regular_gaps(unit, sec)
    assert read_to_second[1][read_to_second[0]].mean() > 0.52  # why it alerted
    order, fine = evidence.spread_seconds(unit, sec)
    valid, regular = evidence.regular_gaps(unit, fine)
    assert valid[1:-1].all() and abs(regular[1:-1].mean() - 0.5) < 0.005
    assert (np.floor(fine) == sec[order]).all() and (np.diff(fine) > 0).all()
    found = suspicious_periods(unit, sec, np.ones(n, dtype=bool), terms, rng.integers(0, 4, n), rs.integrity.period)
    assert found.alerts.empty and found.tested > 0
    # the same round, its rows in another order: the same times within the second, so the same result
    shuffled = rng.permutation(n)
    back = suspicious_periods(unit, sec[shuffled], np.ones(n, dtype=bool), terms.take(shuffled),
                              rng.integers(0, 4, n), rs.integrity.period)
    assert back.tested == found.tested and back.alerts.empty
    again = evidence.spread_seconds(unit, sec)
    assert (again[1] == fine).all()


def test_a_busy_honest_units_opening_night_is_not_a_night_drip():
    """A day runs from 06:00 to 06:00, so a survey opening at midnight begins with a "day" of six
    quiet hours. A unit of 20,000 honest questionnaires (the test rounds' hour profile) has 30 of
    them that night, all in the quiet hours against 13% on its other days: read as a day like
    the others it alerted (hours log p -34). The hours test reads only the days the survey
    covers whole; the rest of the evidence still reads that night."""
    from pingyi_lib.integrity.detect import _score_table
    from pingyi_lib.integrity.periods import suspicious_periods

    rs = py.load_ruleset()
    rng = np.random.default_rng(2)
    n = 20_000
    sec = pc.moments(rng, n).to_numpy(dtype="datetime64[s]").astype(np.int64)
    mood = rng.choice(4, n, p=[.5, .3, .15, .05])
    answers = np.clip(mood[:, None] + 1 + rng.choice([-1, 0, 0, 1], (n, 5)), 1, 4).astype(np.int8)
    terms = evidence.RowTerms(answers, _score_table(rs))
    args = (np.zeros(n, dtype=np.int64), sec, np.ones(n, dtype=bool), terms, rng.integers(0, 4, n), rs.integrity.period)
    opened = int(pd.Timestamp(ic.START).timestamp())
    every_day = suspicious_periods(*args)
    assert len(every_day.alerts) == 1 and every_day.alerts["quiet"].iloc[0] == 1.0  # the opening night, alone
    assert every_day.alerts["log_p_hours"].iloc[0] < -30
    whole_days = suspicious_periods(*args, covered=(opened, opened + ic.DAYS * 86400))
    assert whole_days.alerts.empty and whole_days.tested == every_day.tested


def test_the_check_tells_the_periods_which_days_the_survey_covers(tmp_path, monkeypatch):
    from pingyi_lib.integrity import detect
    from pingyi_lib.integrity.policy import survey_window

    seen = []
    real = detect.suspicious_periods
    monkeypatch.setattr(detect, "suspicious_periods", lambda *a, **k: seen.append(a[-1]) or real(*a, **k))
    folder, _ = _round(tmp_path, 3)
    ds = py.load_dataset(folder)
    py.score(ds)
    first, last = survey_window(ds, ds.ruleset)
    assert seen == [(int(first.timestamp()), int((last + pd.Timedelta(days=1)).timestamp()))]


def test_a_ruleset_without_periods_judges_none_and_bad_hours_name_the_key(tmp_path):
    import tomllib

    raw = tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))
    del raw["integrity"]["period"]
    rs = parse_ruleset(raw)
    assert rs.integrity.period is None and not rs.integrity.reasons["period"].exclude
    folder, _ = _round(tmp_path, 0, lambda rng: pc.night_drip(rng, "d6"))
    found = py.score(py.load_dataset(folder, ruleset=rs)).integrity
    assert found.alerts.empty and not found.rows["reasons"].map(lambda r: "period" in r).any()
    raw = tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))
    raw["integrity"]["period"]["quiet_hours"] = [22, 24]
    with pytest.raises(py.RulesetError) as exc:
        parse_ruleset(raw, "bad.toml")
    assert exc.value.key == "integrity.period.quiet_hours"


def test_a_reviewed_period_is_excluded_in_one_line_and_a_single_decision_wins(tmp_path, capsys):
    folder, attack = _round(tmp_path, 0, lambda rng: pc.night_drip(rng, "d6"))
    before = py.score(py.load_dataset(folder)).integrity
    first = before.alerts.iloc[0]
    start, end = sections._when(first["start"]), sections._when(first["end"])  # as the page shows it
    members = set(before.members["response_id"])
    kept = sorted(members)[0]
    (folder / "问卷复核.csv").write_text(
        "问卷编号,单位编码,时段开始,时段结束,处理决定,复核意见,复核人\n"
        f",d6,{start},{end},剔除,回访多人均称未填写,张三\n"
        f"{kept},,,,保留,回访核实本人填写,李四\n"
        ",d6,2012-08-20,2012-08-19,剔除,,\n"  # end before start: not applied, said
        ",d6,2012-09-30 10:00,2012-09-30 11:00,剔除,,\n"  # nothing submitted then: said
        ",,2012-08-01,2012-08-02,剔除,,\n",  # neither an id nor a unit: said
        encoding="utf-8")
    res = py.score(py.load_dataset(folder))
    found = res.integrity
    gone = set(found.rows.loc[found.rows["excluded"], "response_id"])
    assert gone == members - {kept}  # the whole period, but the single row's decision wins
    assert kept in set(res.dataset.survey["response_id"]) and not gone & set(res.dataset.survey["response_id"])
    log = found.reviews
    assert len(log) == 2  # one line for the period, one for the questionnaire
    line = log[log["period"] != ""].iloc[0]
    assert line["unit_id"] == "d6" and line["period"] == f"{start}至{end}"
    assert line["outcome"].startswith(f"按时段剔除{len(members) - 1}份")
    assert "另有1份按其他复核行的决定" in line["outcome"]
    notes = found.rows.set_index("response_id")
    some = sorted(gone)[0]
    assert notes.loc[some, "reasons"][-1] == "review" and "按时段复核（d6" in notes.loc[some, "detail"]
    warned = "\n".join(res.warnings["message"])
    for row in (4, 5, 6):
        assert f"问卷复核表第{row}行" in warned
    assert "早于时段开始" in warned and "没有已接受的问卷" in warned and "没有写全" in warned
    # the rest of the round as if the period had never been submitted
    other = _scored_without(folder, gone, tmp_path / "without")
    assert res.units.set_index("unit_id").loc["d6", "rank"] == other.loc["d6", "rank"]
    page = sections.reviews(res)
    assert "复核时段" in page.columns and f"{start}至{end}" in set(page["复核时段"])
    assert main(["integrity", str(folder), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["period"] for r in doc["reviews"]] == [f"{start}至{end}", ""]
