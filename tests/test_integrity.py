"""Integrity (seed §六(三)): stuffed questionnaires are found, the policy excludes what the
ruleset says, reviewed overrides are honoured and recorded, and nothing is lost."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.integrity import detect, sources
from pingyi_lib.integrity.policy import check
from pingyi_lib.scheme.ruleset import default_ruleset_path, parse_ruleset

from . import integrity_cases as cases
from .conftest import SAMPLE_2011, SAMPLE_2012, write_dataset

HEADER = "response_id,unit_id,channel,submitted_at,fingerprint,lawful,fair,open,service,integrity,comment\n"
UNITS = "unit_id,name,level\na,甲区安监局,district\nb,乙区安监局,district\n"


def survey(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


def reasons_of(found, response_id: str) -> tuple[str, ...]:
    r = found.rows.set_index("response_id")
    return r.loc[response_id, "reasons"] if response_id in r.index else ()


# ---- fingerprints and the default policy ------------------------------------------------
FINGERPRINTS = survey(
    "r1,a,online,2012-08-01 10:00:00,X,1,1,1,1,1,",
    "r2,a,online,2012-08-01 10:05:00,X,1,1,1,1,1,",
    "r3,a,online,2012-08-02 09:00:00,Y,4,4,4,4,4,",
    "r4,b,online,2012-08-01 10:06:00,X,1,1,1,1,1,",
    "r5,a,paper,2012-08-03 09:00:00,,2,2,2,2,2,",
    "r6,a,online,2012-07-31 10:00:00,X,3,3,3,3,3,",
)


def test_a_devices_later_questionnaires_for_a_unit_are_flagged_in_time_order(tmp_path):
    found = check(py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=FINGERPRINTS)))
    # r6 (07-31) is device X's first for unit a, although it is the last line of the file
    assert reasons_of(found, "r1") == ("fingerprint_repeat",) and reasons_of(found, "r2") == ("fingerprint_repeat",)
    assert reasons_of(found, "r6") == () and reasons_of(found, "r4") == ()  # r4: X's first for unit b
    assert reasons_of(found, "r5") == ()  # no fingerprint, nothing to repeat
    detail = found.rows.set_index("response_id").loc["r2", "detail"]
    assert "第3次提交" in detail and "第7行" in detail  # r6 is on spreadsheet row 7 (header = row 1)


def test_default_policy_excludes_repeats_scores_without_them_and_quarantines_them(tmp_path):
    ds = py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=FINGERPRINTS))
    res = py.score(ds)
    # with: r3 0, r5 0.8, r6 0.6 -> 100 x 1.4 / 3 = 46.67; without: + r1 1, r2 1 -> 100 x 3.4 / 5 = 68.00
    c = res.integrity.comparison.set_index("unit_id")
    assert c.loc["a", "survey_index"] == 46.67 and c.loc["a", "survey_index_without"] == 68.0
    assert c.loc["a", "excluded"] == 2 and c.loc["a", "changed"] and not c.loc["b", "changed"]
    assert set(res.dataset.survey["response_id"]) == {"r3", "r4", "r5", "r6"}
    q = res.quarantine
    assert list(q["row"]) == [2, 3] and set(q["reason_code"]) == {"integrity_fingerprint_repeat"}
    assert set(q["column"]) == {"fingerprint"} and set(q["value"]) == {"X"}
    assert all(r.startswith("按评议纪律规则剔除") for r in q["reason"])
    assert len(ds.survey) == 6 and len(ds.quarantine) == 0  # the loaded dataset itself is untouched
    unscored = py.score(ds, integrity=False)
    assert unscored.integrity is None and unscored.units.set_index("unit_id").loc["a", "survey_index"] == 68.0


def test_exclusion_can_change_a_rank_and_both_ranks_are_shown(tmp_path):
    honest_a = [f"a{i},a,paper,2012-08-0{i} 09:00:00,,2,2,2,2,2," for i in range(1, 4)]
    stuffed = [f"x{i},a,online,2012-08-05 20:0{i}:00,X,1,1,1,1,1," for i in range(1, 4)]
    b = [f"b{i},b,paper,2012-08-0{i} 09:00:00,,{a},{a},{a},{a},{a}," for i, a in enumerate("1111133", 1)]
    res = py.score(py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=survey(*honest_a, *stuffed, *b))))
    c = res.integrity.comparison.set_index("unit_id")
    # a without: (3 x 0.8 + 3 x 1) / 6 = 0.9 -> 90.00; with x2, x3 excluded: (2.4 + 1) / 4 = 0.85 -> 85.00
    # b: (5 x 1 + 2 x 0.6) / 7 = 0.8857 -> 88.57, between the two
    assert (c.loc["a", "survey_index"], c.loc["a", "survey_index_without"]) == (85.0, 90.0)
    assert c.loc["b", "survey_index"] == 88.57
    assert (c.loc["a", "rank"], c.loc["a", "rank_without"]) == (2, 1)
    assert (c.loc["b", "rank"], c.loc["b", "rank_without"]) == (1, 2) and c.loc["b", "changed"]


def test_fingerprint_limit_comes_from_the_ruleset(tmp_path):
    raw = _raw()
    raw["integrity"]["fingerprint_repeat"]["limit"] = 2
    ds = py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=FINGERPRINTS))
    found = check(ds, parse_ruleset(raw))
    assert reasons_of(found, "r1") == () and reasons_of(found, "r2") == ("fingerprint_repeat",)


# ---- bursts ----------------------------------------------------------------------------------
def _background(unit: str, days: int = 10) -> list[str]:
    """Two questionnaires a day, at 09:00 and 15:00, mixed answers, own devices."""
    return [f"{unit}-{d}-{h},{unit},online,2012-08-{d:02d} {h}:00:00,{unit}{d}{h},{2 + (d + h) % 2},2,3,2,2,"
            for d in range(1, days + 1) for h in (9, 15)]


def _burst(unit: str, n: int, day: int = 5, straight_every: int = 2) -> list[str]:
    rows = []
    for k in range(n):
        a = "1,1,1,1,1" if k % straight_every == 0 else "1,2,1,1,1"
        rows.append(f"{unit}-b{k},{unit},online,2012-08-{day:02d} 20:{2 * k:02d}:00,dev{unit}{k},{a},")
    return rows


def test_a_burst_far_above_the_units_own_baseline_is_found_with_hand_arithmetic(tmp_path):
    found = check(py.load_dataset(write_dataset(tmp_path / "d", units=UNITS,
                                                survey=survey(*_background("a"), *_burst("a", 12)))))
    # 12 questionnaires in 22 minutes: each one's ±30 min neighbourhood holds all 12 (x = 12).
    # Days: nine of 2 and one of 14 -> median m = 2; that day outside the window: 14 - 12 = 2.
    # lam = max(2 / 16, 2 / (16 - 1)) x 1 h = 0.1333; Chernoff bound of log P(X >= 12):
    # -0.1333 + 12 (1 + ln 0.1333 - ln 12) = -0.1333 + 12 (1 - 2.0149 - 2.4849) = -42.13 < ln 1e-6 = -13.82
    flagged = found.rows[found.rows["reasons"].map(lambda r: "burst" in r)]
    assert sorted(flagged["response_id"]) == sorted(f"a-b{k}" for k in range(12))
    d = found.bursts.iloc[0]
    assert (d["unit_id"], d["responses"], d["fingerprints"]) == ("a", 12, 12)
    assert d["straightline_share"] == 0.5
    assert math.isclose(d["expected"], 2 / 15, rel_tol=1e-9)
    # straight-lining counts only inside the burst: the six 1,1,1,1,1 rows
    straight = found.rows[found.rows["reasons"].map(lambda r: "burst_straightline" in r)]
    assert sorted(straight["response_id"]) == sorted(f"a-b{k}" for k in range(0, 12, 2))


def test_fewer_than_the_minimum_or_spread_over_the_day_is_not_a_burst(tmp_path):
    spread = [f"s{k},b,online,2012-08-05 {8 + k}:00:00,devs{k},1,1,1,1,1," for k in range(12)]
    found = check(py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=survey(
        *_background("a"), *_burst("a", 9), *_background("b"), *spread))))
    # a: 9 < min_responses 10; b: one an hour, x <= 3 in any ±30 min neighbourhood
    assert found.bursts.empty and not found.rows["reasons"].map(lambda r: "burst" in r).any()


def test_channels_outside_the_rulesets_burst_channels_are_not_judged(tmp_path):
    raw = _raw()
    raw["integrity"]["burst"]["channels"] = ["paper"]
    ds = py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=survey(*_background("a"), *_burst("a", 12))))
    assert check(ds, parse_ruleset(raw)).bursts.empty


# ---- identical runs ----------------------------------------------------------------------------
def _mixed(unit: str, n: int) -> list[str]:
    levels = ["1,2,3,2,1", "2,2,2,3,1", "3,1,2,2,2", "1,1,2,2,3", "2,3,1,1,2"]
    return [f"{unit}m{k},{unit},online,2012-08-01 {8 + k // 4}:{(k % 4) * 15:02d}:00,m{unit}{k},{levels[k % 5]},"
            for k in range(n)]


def _run(unit: str, comments: list[str]) -> list[str]:
    return [f"{unit}r{k},{unit},online,2012-08-03 10:{k:02d}:00,r{unit}{k},1,2,1,2,1,{c}"
            for k, c in enumerate(comments)]


def test_a_run_of_identical_answers_and_comments_is_flagged(tmp_path):
    found = check(py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=survey(
        *_mixed("a", 20), *_run("a", ["服务很好", "服务很好！", " 服务很好", "服务很好", "服务很好。", "服务很好"])))))
    # near-identical comments are the same after normalising. n = 26 in the group; the content
    # occurs nowhere else, so p = 1/26: ln 26 + 5 ln(1/26) = 3.258 - 16.290 = -13.03 < ln 1e-4 = -9.21
    run = found.rows[found.rows["reasons"].map(lambda r: "identical_run" in r)]
    assert sorted(run["response_id"]) == [f"ar{k}" for k in range(6)]
    assert "连续6份" in run["detail"].iloc[0]


def test_a_different_comment_breaks_the_run_and_short_runs_pass(tmp_path):
    found = check(py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=survey(
        *_mixed("a", 20), *_run("a", ["服务很好"] * 3 + ["服务很好，就是慢"] + ["服务很好"] * 3),
        *_mixed("b", 20), *_run("b", [""] * 4)))))
    assert not found.rows["reasons"].map(lambda r: "identical_run" in r).any()  # runs of 3, 1, 3 and 4 < 5


# ---- survey window and plausible volume ------------------------------------------------------------
def test_the_survey_window_uses_the_rulesets_days_in_the_year_of_the_data(tmp_path):
    rows = survey(*(f"w{k},a,online,{t},f{k},1,2,3,2,1," for k, t in enumerate(
        ["2012-07-24 23:59:59", "2012-07-25 00:00:00", "2012-08-10 12:00:00", "2012-08-31 23:59:59",
         "2012-09-01 00:00:00"])))
    found = check(py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=rows)))
    # the ruleset says 2011, the data 2012: the window is 2012-07-25 .. 2012-08-31 (whole day)
    assert found.window == (pd.Timestamp("2012-07-25"), pd.Timestamp("2012-08-31"))
    outside = found.rows[found.rows["reasons"].map(lambda r: "outside_window" in r)]
    assert sorted(outside["response_id"]) == ["w0", "w4"]
    assert "2012-07-25至2012-08-31" in outside["detail"].iloc[0]


def test_round_toml_year_sets_the_window(tmp_path):
    ds = write_dataset(tmp_path / "d", units=UNITS, survey=survey("w0,a,online,2012-08-10 12:00:00,f,1,2,3,2,1,"))
    (ds / "round.toml").write_text("city = \"常州市\"\nyear = 2013\n", encoding="utf-8")
    found = check(py.load_dataset(ds))
    assert found.window[0] == pd.Timestamp("2013-07-25") and reasons_of(found, "w0") == ("outside_window",)


def test_more_questionnaires_than_the_population_or_quota_allows_flags_the_latest(tmp_path):
    units = "unit_id,name,level,population,quota\na,甲,district,4,\nb,乙,district,,2\nc,丙,district,,\n"
    rows = [f"{u}{k},{u},paper,2012-08-{10 - k:02d} 09:00:00,,1,2,3,2,1," for u in "abc" for k in range(6)]
    found = check(py.load_dataset(write_dataset(tmp_path / "d", units=units, survey=survey(*rows))))
    # a: population 4 x 1.0 = 4; b: quota 2 x 1.5 = 3; c: nothing given. Latest first in time = k = 0, 1, ...
    flagged = found.rows[found.rows["reasons"].map(lambda r: "implausible_volume" in r)]
    assert sorted(flagged["response_id"]) == ["a0", "a1", "b0", "b1", "b2"]
    assert "超过合理上限4份" in found.rows.set_index("response_id").loc["a0", "detail"]


# ---- policy and reviewed overrides ----------------------------------------------------------------
def _raw():
    import tomllib

    return tomllib.loads(default_ruleset_path().read_text(encoding="utf-8"))


def test_the_ruleset_decides_which_reasons_exclude(tmp_path):
    raw = _raw()
    raw["integrity"]["burst_straightline"]["exclude"] = True
    rs = parse_ruleset(raw)
    ds = py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=survey(*_background("a"), *_burst("a", 12))),
                         ruleset=rs)
    res = py.score(ds)
    assert res.integrity.excluded == 6 and set(res.quarantine["reason_code"]) == {"integrity_burst_straightline"}
    assert rs.integrity.excluding == ("fingerprint_repeat", "burst_straightline")


REVIEW = ("response_id,decision,note,reviewer\n"
          "r1,保留,核实为同一企业两名员工共用一台电脑,张三\n"
          "r3,剔除,电话回访查无此人,李四\n"
          "nope,exclude,,\n")


def test_reviewed_overrides_are_honoured_and_recorded(tmp_path):
    ds = py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=FINGERPRINTS, integrity_review=REVIEW))
    res = py.score(ds)
    rows = res.integrity.rows.set_index("response_id")
    assert not rows.loc["r1", "excluded"] and rows.loc["r1", "decision"] == "keep"  # flagged, kept by review
    assert rows.loc["r2", "excluded"]  # flagged, not reviewed: the policy holds
    assert rows.loc["r3", "excluded"] and rows.loc["r3", "reasons"] == ("review",)  # no detector, reviewer's call
    assert set(res.dataset.survey["response_id"]) == {"r1", "r4", "r5", "r6"}
    q = res.quarantine.set_index("row")
    assert q.loc[4, "reason_code"] == "integrity_review" and "电话回访查无此人" in q.loc[4, "reason"]
    log = res.integrity.reviews.set_index("response_id")
    assert log.loc["r1", "outcome"] == "保留（推翻自动剔除）" and log.loc["r1", "reviewer"] == "张三"
    assert log.loc["r3", "outcome"] == "剔除（复核决定，检测未标记）"
    assert log.loc["nope", "outcome"] == "未找到该问卷，未执行"
    assert any("nope" in m for m in res.warnings["message"])
    assert "核实为同一企业" in rows.loc["r1", "detail"]


def test_a_review_with_an_unknown_decision_is_rejected_like_any_bad_row(tmp_path):
    ds = py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=FINGERPRINTS,
                                       integrity_review="问卷编号,处理决定,复核意见\nr1,删掉,\nr2,保留,\n"))
    q = ds.quarantine
    assert list(q["table"]) == ["integrity_review"] and q["reason_code"].iloc[0] == "unknown_decision"
    assert "剔除" in q["reason"].iloc[0]  # the allowed words are named
    assert ds.tables["integrity_review"]["decision"].tolist() == ["keep"]


# ---- the sample rounds: evidence ----------------------------------------------------------------
def test_the_2012_sample_burst_is_found_in_full_and_nothing_else():
    ds = py.load_dataset(SAMPLE_2012)
    found = check(ds)
    s = ds.survey
    injected = s[(s["unit_id"] == "tn-win") & (s["submitted_at"] >= "2012-08-21 20:07")
                 & (s["submitted_at"] <= "2012-08-21 21:03")]
    assert len(injected) == 111 and injected["fingerprint"].nunique() == 3
    flagged = set(found.rows["response_id"])
    assert flagged == set(injected["response_id"])  # recall 111/111, no honest questionnaire flagged
    assert found.excluded == 108  # the first questionnaire of each of the 3 devices stays
    b = found.bursts
    assert len(b) == 1
    assert (b.iloc[0]["unit_id"], b.iloc[0]["responses"], b.iloc[0]["fingerprints"]) == ("tn-win", 111, 3)


def test_the_2011_sample_stays_clean():
    found = check(py.load_dataset(SAMPLE_2011))
    assert found.flagged == 0 and found.excluded == 0 and found.bursts.empty


# ---- adversarial rounds -----------------------------------------------------------------------------
ROUND = {"a": "district", "b": "district", "w": "window"}


def _honest(rng):
    return [cases.honest(rng, "a", 400), cases.honest(rng, "a", 200, "paper"), cases.honest(rng, "b", 600),
            cases.honest(rng, "w", 80)]


def _outcome(tmp_path, *frames, ruleset=None):
    folder, attack = cases.write_round(tmp_path / "r", ROUND, *frames)
    found = check(py.load_dataset(folder, ruleset=ruleset))
    rows = found.rows
    is_attack = rows["response_id"].isin(attack)
    return found, attack, set(rows.loc[is_attack, "response_id"]), set(rows.loc[is_attack & rows["excluded"],
                                                                                "response_id"]), rows[~is_attack]


def test_stuffing_spread_over_many_devices_is_flagged_though_no_device_repeats(tmp_path):
    rng = np.random.default_rng(1)
    attack_rows = cases.stuffing(rng, "w", 100, pd.Timestamp("2012-08-10 21:00"), 60, devices=100)
    found, attack, flagged, excluded, honest = _outcome(tmp_path, *_honest(rng), attack_rows)
    assert flagged == attack  # recall 100/100
    # an honest questionnaire sent in the same hour is in the burst too, and only that
    assert len(honest) <= 3 and set(honest["reasons"]) <= {("burst",)}
    assert not excluded  # no device repeats: the default policy only flags them for review
    w = found.units.set_index("unit_id").loc["w"]
    assert w["burst_straightline"] == 100 and w["suspicion"] > 50
    raw = _raw()
    raw["integrity"]["burst_straightline"]["exclude"] = True  # an office that excludes them outright
    *_, excluded, honest = _outcome(tmp_path, *_honest(np.random.default_rng(1)),
                                    cases.stuffing(np.random.default_rng(1), "w", 100, pd.Timestamp("2012-08-10 21:00"),
                                                   60, devices=100), ruleset=parse_ruleset(raw))
    assert len(excluded) == 100 and not honest["excluded"].any()


def test_a_slow_drip_from_few_devices_is_excluded_without_a_burst(tmp_path):
    rng = np.random.default_rng(2)
    found, attack, flagged, excluded, honest = _outcome(tmp_path, *_honest(rng),
                                                        cases.drip(rng, "w", per_day=3, days=14, devices=2))
    assert len(attack) == 42 and len(excluded) == 40  # all but each device's first
    assert flagged == excluded and honest.empty
    assert found.bursts.empty  # three an evening never stand out as a burst


def test_stuffing_mixed_into_real_traffic_is_found_and_no_honest_row_is_excluded(tmp_path):
    rng = np.random.default_rng(3)
    heavy = cases.honest(rng, "b", 800)
    attack_rows = cases.stuffing(rng, "b", 60, pd.Timestamp("2012-08-12 19:00"), 120, devices=12, varied=True)
    found, attack, flagged, excluded, honest = _outcome(tmp_path, *_honest(rng), heavy, attack_rows)
    assert len(flagged) >= 55  # recall >= 55/60: bursts and device repeats together
    assert len(excluded) == 48  # 12 devices x 5, each device's first kept
    assert not honest["excluded"].any()  # honest rows caught in the burst or its period are only flagged
    assert (honest["reasons"].map(lambda r: r != ("period",))).sum() <= 3
    assert found.alerts["unit_id"].tolist() == ["b"]  # the evening, against b's other days


def test_an_honest_surge_after_a_media_report_is_not_excluded(tmp_path):
    rng = np.random.default_rng(4)
    surge = np.ones(cases.DAYS)
    surge[20:23] = [6, 4, 2.5]  # a report on day 20: six times the usual traffic, then fading
    frames = [cases.honest(rng, "a", 400, day_weights=surge), cases.honest(rng, "b", 600), cases.honest(rng, "w", 80)]
    found, *_ = _outcome(tmp_path, *frames)
    assert found.excluded == 0 and found.flagged == 0  # the day's own rate raises its baseline
    assert found.units["suspicion"].max() == 0


def test_an_honest_evening_peak_after_a_tv_programme_is_flagged_at_most_never_excluded(tmp_path):
    rng = np.random.default_rng(5)
    tv = cases.honest(rng, "a", 50)
    tv["submitted_at"] = pd.Timestamp("2012-08-15 20:00") + pd.to_timedelta(rng.integers(0, 3600, 50), unit="s")
    found, *_ = _outcome(tmp_path, *_honest(rng), tv)
    assert found.excluded == 0
    a = found.units.set_index("unit_id").loc["a"]
    assert a["burst_straightline"] <= 0.1 * a["burst"]  # diverse answers: few straight-lined
    assert a["identical_run"] == 0 and a["suspicion"] < 10


# ---- invariants ---------------------------------------------------------------------------------
ROW = st.tuples(st.sampled_from("ab"), st.sampled_from(["", "F1", "F2", "F3"]), st.integers(0, 5 * 24 * 60),
                st.sampled_from(["1,1,1,1,1", "2,2,3,1,2", "4,4,4,4,4"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=40), keep=st.sets(st.integers(0, 39), max_size=5))
def test_nothing_is_lost_every_row_is_scored_or_quarantined(tmp_path_factory, rows, keep):
    lines = [f"q{k},{u},online,{pd.Timestamp('2012-08-01') + pd.Timedelta(minutes=m):%Y-%m-%d %H:%M:%S},{fp},{a},"
             for k, (u, fp, m, a) in enumerate(rows)]
    review = "response_id,decision\n" + "".join(f"q{k},keep\n" for k in sorted(keep))
    folder = write_dataset(tmp_path_factory.mktemp("p"), units=UNITS, survey=survey(*lines), integrity_review=review)
    ds = py.load_dataset(folder)
    res = py.score(ds)
    scored = set(res.dataset.survey["response_id"])
    q = res.quarantine[res.quarantine["reason_code"].str.startswith("integrity_")]
    assert len(scored) + len(q) == len(ds.survey)
    gone = set(res.integrity.rows.loc[res.integrity.rows["excluded"], "response_id"])
    assert scored | gone == set(ds.survey["response_id"]) and not scored & gone
    assert not gone & {f"q{k}" for k in keep}  # a reviewed keep is never excluded
    assert (res.integrity.rows["excluded"] <= res.integrity.rows["policy_excluded"]).all()  # no exclude decisions


def test_occurrence_counts_equal_keys_before_each_in_order():
    seq, first = sources.occurrence(np.array([7, 3, 7, 7, 3]))
    assert seq.tolist() == [0, 0, 1, 2, 1] and first.tolist() == [0, 1, 0, 0, 1]


@given(lam=st.floats(0.01, 50), x=st.integers(1, 300))
def test_the_poisson_tail_bound_is_never_below_the_exact_tail(lam, x):
    # exact log P(X >= x) = log(1 - sum_{k<x} e^-lam lam^k / k!), summed in log space
    terms = [-lam + k * math.log(lam) - math.lgamma(k + 1) for k in range(x)]
    below = math.fsum(math.exp(t) for t in terms)
    if below >= 1 - 1e-12:
        return  # the exact tail underflows to 0; the bound is >= anything
    exact = math.log1p(-below)
    assert sources.poisson_tail_log(np.array([x]), np.array([lam]))[0] >= exact - 1e-9


@pytest.mark.parametrize("mutate, key, words", [
    (lambda r: r["integrity"]["burst"].update(channels=["fax"]), "integrity.burst.channels",
     "不是 vocab.channel 中的渠道"),
    (lambda r: r["integrity"]["fingerprint_repeat"].update(exclude="yes"), "integrity.fingerprint_repeat.exclude",
     "true 或 false"),
    (lambda r: r["integrity"]["identical_run"].update(weight=2), "integrity.identical_run.weight", "不能大于 1"),
    (lambda r: r["integrity"]["review"].update(keep=["剔除"]), "integrity.review.keep", "'剔除'"),
    (lambda r: r["timeline"].update(survey_end="07-01"), "timeline.survey_end", "不能早于"),
])
def test_bad_integrity_rules_name_the_key(mutate, key, words):
    r = _raw()
    mutate(r)
    with pytest.raises(py.RulesetError) as exc:
        parse_ruleset(r, "bad.toml")
    assert exc.value.key == key and words in str(exc.value)


# ---- the command line ---------------------------------------------------------------------------
def test_pingyi_integrity_json_has_the_shape_of_the_issue(capsys):
    assert main(["integrity", str(SAMPLE_2012), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"units", "flagged", "reviews"}
    units = {u["unit_id"]: u for u in doc["units"]}
    assert set(units["tn-win"]) == {"unit_id", "responses", "flagged", "excluded", "suspicion", "reasons",
                                    "without_flagged", "alerts"}
    assert (units["tn-win"]["responses"], units["tn-win"]["flagged"], units["tn-win"]["excluded"]) == (181, 111, 108)
    assert units["tn-win"]["reasons"] == {"fingerprint_repeat": 108, "burst": 111, "burst_straightline": 111,
                                          "identical_run": 111, "period": 111}
    (alert,) = units["tn-win"]["alerts"]  # the evening of the burst, against tn-win's other days
    assert alert["start"] <= "2012-08-21 20:07" and alert["end"] >= "2012-08-21 21:01"
    assert alert["flagged"] == 111 and "答案明显偏高" in alert["evidence"]
    assert all(not u["alerts"] for k, u in units.items() if k != "tn-win")
    assert units["wj"]["reasons"] == {} and units["wj"]["suspicion"] == 0
    assert len(doc["flagged"]) == 111 and {r["unit_id"] for r in doc["flagged"]} == {"tn-win"}
    assert set(doc["flagged"][0]) == {"response_id", "unit_id", "reasons", "excluded"}
    assert sum(r["excluded"] for r in doc["flagged"]) == 108


def test_pingyi_integrity_table_names_the_burst_and_the_effect(capsys):
    assert main(["integrity", str(SAMPLE_2012)]) == 0
    out = capsys.readouterr().out
    assert "剔除问卷108份" in out and "天宁区行政服务中心安监窗口" in out and "2012-08-21 20:07" in out
    assert main(["integrity", str(SAMPLE_2011)]) == 0
    assert "未发现疑似刷票问卷" in capsys.readouterr().out


def test_pingyi_score_says_on_stderr_what_it_excluded_and_why(capsys):
    assert main(["score", str(SAMPLE_2012), "--format", "csv"]) == 0
    err = capsys.readouterr().err
    assert "剔除问卷108份" in err and "同一终端重复提交108份" in err and "pingyi integrity" in err
    assert main(["score", str(SAMPLE_2011), "--format", "csv"]) == 0
    assert "剔除" not in capsys.readouterr().err


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(0, 4), st.one_of(st.integers(0, 10**6), st.just(int(detect.NO_TIME))),
                          st.integers(0, 10**6)), min_size=0, max_size=60, unique_by=lambda r: r[2]),
       st.booleans(), st.booleans())
def test_time_order_is_the_three_key_sort_by_id_whatever_the_place_of_the_rows(rows, few_seconds, wide):
    """One stable sort of a packed key (or lexsort where it does not fit) gives
    np.lexsort((id, sec, major)): rows of one second in the order of their ids, so the same
    rows in another order (a round split in parts) are ordered the same."""
    major = np.array([m for m, _, _ in rows], dtype=np.int64)
    sec = np.array([s % 3 if few_seconds and s != detect.NO_TIME else s for _, s, _ in rows], dtype=np.int64)
    if wide and len(sec):
        sec[0] = -(1 << 40)  # a span the packed key cannot hold
    ids = np.array([f"R{i:07d}" for _, _, i in rows], dtype=object)
    expected = ids[np.lexsort((ids.astype(str), sec, major))] if len(rows) else ids
    got = detect.time_order(major, sec, ids)
    np.testing.assert_array_equal(ids[got], expected)
    perm = np.random.default_rng(len(rows)).permutation(len(rows))
    np.testing.assert_array_equal(ids[perm][detect.time_order(major[perm], sec[perm], ids[perm])], expected)
    np.testing.assert_array_equal(ids[perm][detect.time_order(major[perm], sec[perm],
                                                              lambda pos: pd.Series(ids[perm][pos]))], expected)
    # a finer group (a unit's channels): one stable sort of its codes over the unit's order
    group = major * 3 + np.array([i % 3 for _, _, i in rows], dtype=np.int64)
    finer = ids[np.lexsort((ids.astype(str), sec, group))] if len(rows) else ids
    np.testing.assert_array_equal(ids[detect.within_groups(detect.time_order(major, sec, ids), group)], finer)


def test_detection_does_not_depend_on_the_order_of_the_rows(tmp_path):
    """Shuffled rows (a file sorted by unit, not by time; the engine's categories) give the same
    flags for the same questionnaires and the same burst episodes, numbered by unit."""
    ds = py.load_dataset(write_dataset(tmp_path / "d", units=UNITS, survey=survey(
        *_background("a"), *_background("b"), *_burst("b", 12, day=3), *_burst("a", 12))))
    sv = ds.survey
    window = (pd.Timestamp("2012-07-25"), pd.Timestamp("2012-08-31"))
    plain = detect.detect(sv, ds.units, ds.ruleset, window)
    shuffled = sv.iloc[np.random.default_rng(3).permutation(len(sv))].reset_index(drop=True)
    shuffled["unit_id"] = shuffled["unit_id"].astype("category")
    other = detect.detect(shuffled, ds.units, ds.ruleset, window)
    by_id = other.flags.set_index(shuffled["response_id"]).loc[sv["response_id"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(plain.flags, by_id)
    assert plain.flags["burst"].sum() == 24
    pd.testing.assert_frame_equal(plain.bursts, other.bursts)
    assert list(plain.bursts["unit_id"]) == ["a", "b"]  # episodes numbered by unit, not by who came first


def test_the_blocks_hand_freed_memory_back_before_each_block(monkeypatch):
    """Each block of units starts with the last block's freed arrays handed back to the system
    (common/memory.py), so a round of millions judged in blocks does not grow block by block."""
    from pingyi_lib.common import memory

    calls = []
    monkeypatch.setattr(detect, "release_freed", lambda: calls.append(True))
    blocks = list(detect._blocks(np.array([0, 0, 1, 2, 2, 2]), 2))
    assert [b.tolist() for b in blocks] == [[0, 1, 2], [3, 4, 5]] and len(calls) == 2
    assert memory.release_freed() is (memory._trim() is not None)  # glibc: asked; elsewhere: nothing to ask


@pytest.mark.parametrize("block_rows", [1, 40, 10**9], ids=["a-unit-a-block", "a-few-units", "one-block"])
def test_judging_units_in_blocks_finds_what_judging_the_round_at_once_finds(tmp_path, block_rows):
    """Blocks of whole units are judged against round-wide shares and days counted from the
    round's first submission: every flag, number and episode is the one-block result."""
    rng = np.random.default_rng(11)
    units = {"a": "district", "b": "district", "c": "district", "w": "window"}
    frames = [cases.honest(rng, u, 60) for u in units] + [cases.honest(rng, "c", 30, channel="paper")]
    frames += [cases.stuffing(rng, "b", 15, cases.START + pd.Timedelta(days=3, hours=21), 20, 2),
               cases.stuffing(rng, "w", 12, cases.START + pd.Timedelta(days=50), 15, 12),
               cases.stuffing(rng, "a", 10, cases.START + pd.Timedelta(days=9, hours=20), 10, 10, comment="好")]
    folder, _ = cases.write_round(tmp_path / "r", units, *frames, population={"c": 50})
    ds = py.load_dataset(folder)
    window = (pd.Timestamp("2012-07-25"), pd.Timestamp("2012-08-31"))
    whole = detect.detect(ds.survey, ds.units, ds.ruleset, window, block_rows=10**9)
    parts = detect.detect(ds.survey, ds.units, ds.ruleset, window, block_rows=block_rows)
    for what in ("flags", "details", "bursts"):
        pd.testing.assert_frame_equal(getattr(whole, what), getattr(parts, what))
    found = whole.flags.sum()
    assert found["fingerprint_repeat"] and found["burst"] and found["identical_run"]
    assert found["outside_window"] == 12 and found["implausible_volume"] == 40  # c: 90 questionnaires, cap 50
