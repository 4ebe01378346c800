"""The collection window (followup/collection.py, stats/arrivals.py, `pingyi progress`): counts as
of a day computed by hand, projections against the negative binomial worked out by hand."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pingyi_lib.cli import main
from pingyi_lib.dataset.load import isin, load_dataset
from pingyi_lib.followup.collection import default_day, needed, progress
from pingyi_lib.scheme.ruleset import default_ruleset_path
from pingyi_lib.sections.progress import unit_table
from pingyi_lib.stats.arrivals import HORIZON_DAYS, reach_chance, reach_day

from .conftest import HOSTILE, ITEMS, SAMPLE_2011, write_dataset

D = dt.date
SCORED = {"很满意", "比较满意", "基本满意", "不满意"}


# ---- the sample round cut at several days, counted by hand from the CSV ------------------------

def hand_counts(day: D) -> dict[str, tuple[int, int]]:
    """unit -> (questionnaires submitted on or before ``day``, of them with a scored answer)."""
    out: dict[str, list[int]] = {}
    with open(SAMPLE_2011 / "survey.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if D.fromisoformat(r["submitted_at"][:10]) > day:
                continue
            c = out.setdefault(r["unit_id"], [0, 0])
            c[0] += 1
            c[1] += any(r[it] in SCORED for it in ITEMS.split(","))
    return {u: (n, v) for u, (n, v) in out.items()}


@functools.cache
def sample_round():
    return load_dataset(SAMPLE_2011)


@pytest.fixture(scope="module")
def sample():
    return sample_round()


@pytest.mark.parametrize("day", [D(2011, 7, 25), D(2011, 8, 3), D(2011, 8, 31), D(2011, 9, 10)])
def test_the_sample_cut_at_a_day_counts_what_came_in_by_then(sample, day):
    p = progress(sample, day)
    hand = hand_counts(day)
    u = p.units.set_index("unit_id")
    assert u["excluded"].sum() == 0 and u["rejected"].sum() == 0  # the sample is clean: received = valid + unscored
    for uid, (n, valid) in hand.items():
        assert (u.at[uid, "received"], u.at[uid, "valid"]) == (n, valid), uid
        assert u.at[uid, "short_by"] == max(0, 30 - valid)
    assert set(u.index[u["received"] > 0]) == set(hand)
    assert p.deadline == D(2011, 8, 31) and p.days_left == max(0, (D(2011, 8, 31) - day).days)


def test_the_first_day_paces_on_one_day_and_after_the_deadline_short_units_missed(sample):
    first = progress(sample, D(2011, 7, 25)).units
    assert (first["recent_days"] == 1).all() and (first["recent"] == first["valid"]).all()
    late = progress(sample, D(2011, 9, 10))
    assert late.days_left == 0
    short = late.units["short_by"] > 0
    assert short.any() and late.units.loc[short, "at_risk"].tolist() == [True] * int(short.sum())
    assert (late.units.loc[short, "chance"] == 0).all()
    assert (late.units["recent"] == 0).all()  # nothing arrived in the 7 days after the close


def test_a_day_without_new_questionnaires_of_a_unit_changes_nothing_for_it(sample):
    # a unit and a day on which it received nothing, found by hand in the CSV
    days = [D(2011, 7, 25) + dt.timedelta(days=i) for i in range(38)]
    counts = {d: hand_counts(d) for d in days[:12]}
    uid, day = next((u, d) for d, prev in zip(days[1:12], days[:11]) for u in counts[prev]
                    if counts[d].get(u) == counts[prev].get(u))
    before = progress(sample, day - dt.timedelta(days=1)).units.set_index("unit_id").loc[uid]
    on = progress(sample, day).units.set_index("unit_id").loc[uid]
    assert (on["received"], on["valid"]) == (before["received"], before["valid"]) == counts[day][uid]


# ---- a round made for hand arithmetic ----------------------------------------------------------

def small_round(folder: Path, b_name: str = "乙区安监局") -> Path:
    """Window 2011-08-01..08-10, minimum 5; unit a (quota 12) has a repeated device, a blank
    questionnaire, an undated one, rejected rows dated and undated; b is slow; w has nothing."""
    rules = default_ruleset_path().read_text(encoding="utf-8").replace("survey = 30\nonsite = 10",
                                                                        "survey = 5\nonsite = 10")
    assert "survey = 5\n" in rules
    (folder).mkdir(parents=True, exist_ok=True)
    (folder / "ruleset.toml").write_text(rules, encoding="utf-8")
    (folder / "round.toml").write_text('city = "临江市"\nyear = 2011\nsurvey_start = 2011-08-01\n'
                                       'survey_end = 2011-08-10\n', encoding="utf-8")
    head = "response_id,unit_id,respondent_category,channel,submitted_at,fingerprint," + ITEMS + "\n"
    rows = [f"a{i},a,企业代表,online,2011-08-0{i} 10:00,fp{i},{1 + i % 2},{1 + i // 2 % 2},1,2,1"  # not one run
            for i in range(1, 7)]
    rows += ["a7,a,群众,online,2011-08-06 11:00,fp6,1,1,1,1,1",   # the device of a6 again: excluded
             "a8,a,群众,online,2011-08-07 09:00,fp8,5,5,5,5,5",   # 不了解 throughout: no scored answer
             "a9,a,群众,paper,,,2,2,2,2,2",                        # no submission time
             "a10,a,群众,online,2011-08-09 09:00,fp10,1,1,1,1,1",  # after the day
             "a11,a,群众,online,2011-08-03 09:00,fp11,9,1,1,1,1",  # rejected (answer 9), dated
             "a12,a,群众,online,2011-08-08 09:00,fp12,9,1,1,1,1",  # rejected, after the day
             "a13,a,群众,online,昨天,fp13,1,1,1,1,1",               # rejected (time unreadable): undated
             "x1,zz,群众,online,2011-08-02 09:00,fpx,1,1,1,1,1",   # a unit the round does not have
             "b1,b,群众,online,2011-08-01 09:00,fb1,2,2,2,2,2",
             "b2,b,群众,online,2011-08-05 09:00,fb2,3,3,3,3,3",
             "b2,b,群众,online,2011-08-06 09:00,fb3,1,1,1,1,1"]  # b2's id again: rejected, dated 08-06
    return write_dataset(
        folder,
        units="unit_id,name,level,parent_id,quota\na,甲区安监局,district,,12\n"
              f'b,"{b_name.replace(chr(34), chr(34) * 2)}",district,,\n'
              "w,甲区服务窗口,window,a,\n",
        survey=head + "\n".join(rows) + "\n",
        onsite="ballot_id,unit_id,member_category," + ITEMS + "\n"
               "o1,a,群众代表,1,1,1,1,1\no2,a,人大代表,1,1,1,1,1\no3,a,政协委员,1,1,1,1,1\n"
               "o4,b,群众代表,1,1,1,1,1\no5,b,企业代表,1,1,1,1,1\n")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return small_round(tmp_path_factory.mktemp("collection") / "round")


def test_every_figure_of_a_unit_as_of_a_day_by_hand(small):
    p = progress(load_dataset(small), D(2011, 8, 7))
    a = p.units.set_index("unit_id").loc["a"]
    # valid: a1-a6 and the undated a9; a7 excluded, a8 unscored, a11 and a13 rejected, a10 and a12 later
    assert (a["valid"], a["excluded"], a["unscored"], a["rejected"], a["received"], a["undated"]) == (7, 1, 1, 2, 11, 2)
    assert (a["minimum"], a["short_by"], a["quota"], a["quota_short_by"]) == (5, 0, 12, 5)
    assert a["reached_on"] == D(2011, 8, 4)  # a9 (undated) + a1..a4
    assert a["projected_day"] == D(2011, 8, 4) and a["at_risk"] is False and a["chance"] == 1
    assert (a["recent"], a["recent_days"]) == (6, 7)  # 08-01..08-07: the window so far
    assert p.unattributed == 1 and p.totals()["received"] == 11 + 3 + 0 + 1  # b: 2 valid, 1 repeated id
    assert p.days_left == 3
    table = unit_table(p).set_index("单位编码")
    assert table.at["a", "其中无提交时间（份）"] == 2 and table.at["b", "状态"] == "有风险"
    assert "其中无提交时间（份）" not in unit_table(progress(sample_round(), D(2011, 8, 3))).columns


def test_the_chance_of_a_slow_unit_is_the_negative_binomial_by_hand(small):
    p = progress(load_dataset(small), D(2011, 8, 7))
    b = p.units.set_index("unit_id").loc["b"]
    assert (b["valid"], b["rejected"], b["short_by"], b["recent"]) == (2, 1, 3, 2)
    # r = 2 + 1/2, p = 7 / (7 + 3 days left): P(N >= 3) = 1 - (f0 + f1 + f2)
    f0 = 0.7 ** 2.5
    f1 = f0 * 2.5 * 0.3
    f2 = f1 * 3.5 / 2 * 0.3
    assert b["chance"] == pytest.approx(1 - (f0 + f1 + f2), abs=1e-12)
    assert b["at_risk"] is True  # 12% < progress.at_risk (90%)
    w = p.units.set_index("unit_id").loc["w"]
    assert (w["valid"], w["short_by"], w["recent"], w["at_risk"]) == (0, 5, 0, True)
    assert sorted(p.at_risk["unit_id"]) == ["b", "w"]


def test_before_the_window_nothing_is_projected_and_after_it_the_late_rows_count(small):
    ds = load_dataset(small)
    early = progress(ds, D(2011, 7, 30))
    u = early.units.set_index("unit_id")
    assert u.at["a", "valid"] == 1 and u.at["a", "undated"] == 2  # a9 and the rejected a13: in the file, no time
    assert u.at["b", "at_risk"] is None and early.at_risk.empty and early.days_left == 11
    late = progress(ds, D(2011, 8, 11))
    u = late.units.set_index("unit_id")
    assert (u.at["a", "valid"], u.at["a", "rejected"], late.days_left) == (8, 3, 0)
    assert default_day(ds, today=D(2026, 12, 7)) == D(2011, 8, 10)  # a round that is over: its last day
    assert default_day(ds, today=D(2011, 8, 5)) == D(2011, 8, 5)
    assert default_day(ds, today=D(2011, 1, 1)) == D(2011, 8, 1)


def test_mix_panels_and_alerts_so_far(small):
    p = progress(load_dataset(small), D(2011, 8, 7))
    m = p.mix[p.mix["unit_id"] == "a"].set_index("category")
    # a: 6 企业代表 and 1 群众 valid of 7, planned 12 (its quota); target 企业代表 25%, 群众 21%
    assert m.at["企业代表", "questionnaires"] == 6 and m.at["企业代表", "needed"] == 0
    assert m.at["群众", "questionnaires"] == 1
    assert m.at["群众", "needed"] == max(math.ceil(0.21 * 12 - 1), math.ceil((0.21 * 7 - 1) / 0.79))  # 2
    o = p.onsite.set_index("unit_id")
    assert (o.at["a", "ballots"], o.at["a", "public"], o.at["a", "compliant"]) == (3, 1, False)
    assert (o.at["b", "ballots"], o.at["b", "public"], o.at["b", "compliant"]) == (2, 2, True)
    assert p.alerts.to_dict("records") == [{"unit_id": "a", "reason": "fingerprint_repeat",
                                            "label": "同一终端重复提交", "count": 1}]


def test_the_engine_and_pandas_agree_on_the_collection(small):
    day = D(2011, 8, 7)
    a, b = (progress(load_dataset(small, engine=e), day) for e in ("pandas", "duckdb"))
    cols = ["unit_id", "received", "valid", "rejected", "excluded", "unscored", "undated", "recent", "reached_on"]
    assert a.units[cols].to_dict("records") == b.units[cols].to_dict("records")
    assert a.unattributed == b.unattributed == 1


@given(ids=st.lists(st.text(max_size=4), max_size=30), look=st.lists(st.text(max_size=4), max_size=10),
       arrow=st.booleans())
def test_isin_in_arrow_is_pandas_isin(ids, look, arrow):
    values = pd.Series(ids, dtype="str" if arrow else object)
    assert isin(values, set(look)).tolist() == values.isin(look).tolist()


def test_needed_by_hand():
    assert needed(0.25, 2, 10, 30) == 6  # 7.5 of 30 planned; 1 more would already hold 25% of 11
    assert needed(0.5, 3, 4, 2) == 0
    assert needed(0.2, 0, 10, 5) == 3  # 3 / 13 >= 20%, 2 / 12 is not


# ---- the arrivals model ------------------------------------------------------------------------

def test_reach_chance_by_hand():
    # one more needed: 1 - P(N = 0) = 1 - p^r; k = 1, T = 7, d = 7: p = 1/2, r = 3/2
    assert reach_chance(1, 7, 1, 7) == pytest.approx(1 - 0.5 ** 1.5)
    assert reach_chance(5, 7, 0, 0) == 1 and reach_chance(5, 7, 3, 0) == 0


def test_reach_chance_matches_a_simulation_of_rate_and_arrivals():
    rng = np.random.default_rng(7)
    rate = rng.gamma(7.5, 1 / 7, 400_000)  # k = 7 in T = 7 days, Jeffreys prior
    simulated = (rng.poisson(rate * 30) >= 30).mean()
    assert reach_chance(7, 7, 30, 30) == pytest.approx(simulated, abs=0.005)


@given(k=st.integers(0, 200), days=st.integers(1, 14), short=st.integers(1, 60), q=st.floats(0.05, 0.95))
def test_the_projected_day_is_the_first_day_the_chance_reaches_q(k, days, short, q):
    d = int(reach_day(k, days, short, q))
    if d < 0:
        assert reach_chance(k, days, short, HORIZON_DAYS) < q
        return
    assert reach_chance(k, days, short, d) >= q
    assert d == 0 or reach_chance(k, days, short, d - 1) < q


@given(k=st.integers(0, 100), short=st.integers(1, 40), ahead=st.integers(0, 60))
def test_more_time_or_fewer_needed_never_lowers_the_chance(k, short, ahead):
    c = reach_chance(k, 7, short, ahead)
    assert reach_chance(k, 7, short, ahead + 1) >= c - 1e-12
    assert reach_chance(k, 7, short - 1, ahead) >= c - 1e-12
    assert reach_chance(k + 1, 7, short, ahead) >= c - 1e-12


# ---- the command ---------------------------------------------------------------------------------

def test_json_has_exactly_the_four_keys_and_monitoring_exits_1(small, capsys):
    assert main(["progress", str(small), "--as-of", "2011-08-07", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == ["as_of", "deadline", "days_left", "units"]
    assert (doc["as_of"], doc["deadline"], doc["days_left"]) == ("2011-08-07", "2011-08-10", 3)
    b = next(u for u in doc["units"] if u["unit_id"] == "b")
    for key in ("unit_id", "name", "received", "valid", "rejected", "excluded", "minimum", "short_by",
                "projected_day", "at_risk", "mix_gaps"):
        assert key in b
    assert b["at_risk"] is True and b["short_by"] == 3 and isinstance(b["mix_gaps"], list)
    a = next(u for u in doc["units"] if u["unit_id"] == "a")
    assert a["projected_day"] == "2011-08-04" and a["quota"] == 12 and a["alerts"][0]["count"] == 1
    assert main(["progress", str(small), "--as-of", "2011-08-07", "--fail-if-at-risk"]) == 1
    out, err = capsys.readouterr()
    assert "还剩3天" in out and "乙区安监局" in out and "有风险" in out
    assert err.startswith("2个单位可能无法按期达到最低要求：乙区安监局（还差3份）")
    assert main(["progress", str(small), "--as-of", "2011-08-07", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert main(["progress", str(small), "--as-of", "8月7日"]) == 2
    assert "不是日期" in capsys.readouterr().err


def test_a_ruleset_without_progress_rules_is_named_with_what_to_add(tmp_path, capsys):
    ds = small_round(tmp_path / "round")
    rules = (ds / "ruleset.toml").read_text(encoding="utf-8")
    cut = rules[rules.index("[progress]"):rules.index("# --- main problems")]
    (ds / "ruleset.toml").write_text(rules.replace(cut, ""), encoding="utf-8")
    assert main(["progress", str(ds), "--as-of", "2011-08-07"]) == 2
    err = capsys.readouterr().err
    assert "[progress]" in err and "rate_days" in err
    assert main(["validate", str(ds)]) == 1  # the ruleset is still good for everything else (a11-a13, x1, b2)


def test_the_page_is_offline_escaped_and_replaced_whole(tmp_path, capsys):
    ds = small_round(tmp_path / "round", b_name=HOSTILE)
    out = tmp_path / "progress"
    assert main(["progress", str(ds), "--as-of", "2011-08-07", "--out", str(out)]) == 0
    html = (out / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["assets", "index.html"]
    assert (out / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert 'src="http' not in html and "cdn" not in html.lower()
    assert "问卷收集进度" in html and "有效问卷累计" in html and "@media print" in html
    (out / "stale.txt").write_text("x")  # someone's file: the folder is not replaced
    assert main(["progress", str(ds), "--as-of", "2011-08-07", "--out", str(out)]) == 2
    (out / "stale.txt").unlink()
    assert main(["progress", str(ds), "--as-of", "2011-08-08", "--out", str(out)]) == 0
    assert "截至2011-08-08" in (out / "index.html").read_text(encoding="utf-8")
