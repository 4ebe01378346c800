"""Several past rounds (issue 28): reading them, matching units across years, the trend and
its significance, the 历年对比 sheet, and the refusals of bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.common.errors import DatasetError, OptionError
from pingyi_lib.followup import history, lookback
from pingyi_lib.output import scored
from pingyi_lib.sections import trend as trend_view

from .conftest import derive_round

ROOT = Path(__file__).resolve().parents[1]
S2011, S2012 = ROOT / "data" / "sample" / "2011", ROOT / "data" / "sample" / "2012"


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    """2010 (made from the 2011 sample), the 2011 and 2012 samples; and a 2012 round in which
    zl is called zl2 from 2012 on (unit_history.csv)."""
    base = tmp_path_factory.mktemp("rounds")
    r2010 = derive_round(S2011, base / "2010", 2010)
    renamed = derive_round(S2012, base / "2012-renamed", 2012, drop_unit="none", rename={"zl": "zl2"})
    (renamed / history.UNIT_HISTORY).write_text("old_id,new_id,year\nzl,zl2,2012\n", encoding="utf-8")
    return {"2010": r2010, "2011": S2011, "2012": S2012, "renamed": renamed, "base": base}


@pytest.fixture(scope="module")
def scored_alone(rounds):
    """Each round scored on its own, as a one-round report would."""
    return {y: py.score(py.load_dataset(rounds[y]), intervals=True) for y in ("2010", "2011", "2012", "renamed")}


def test_every_figure_of_the_trend_is_the_single_round_score(scored_alone):
    rs = [scored_alone[y] for y in ("2012", "2011", "2010")]
    t = history.trend(rs)
    assert sorted(set(t["year"])) == [2010, 2011, 2012]
    checked = 0
    for res in rs:
        year = res.dataset.round.year
        u = res.units.set_index("unit_id")
        survey = res.items[res.items["component"] == "survey"]
        for row in t[t["year"] == year].itertuples(index=False):
            for c in ("composite", "composite_lo", "composite_hi", "satisfaction", "satisfaction_lo",
                      "satisfaction_hi", "rank", "rank_lo", "rank_hi", "group_n"):
                a, b = getattr(row, c), u.loc[row.unit_id, c]
                assert (pd.isna(a) and pd.isna(b)) or a == b, (row.unit_id, year, c)
            for item in res.ruleset.scored_items:
                want = survey[(survey["unit_id"] == row.unit_id) & (survey["item"] == item)]["index"]
                assert getattr(row, item) == pytest.approx(float(want.iloc[0]), nan_ok=True)
            checked += 1
        assert checked and len(t[t["year"] == year]) == len(u)  # every unit of the round, once
    # units in the current round's order; each unit's years ascending
    assert list(dict.fromkeys(t["unit_id"]))[:len(rs[0].units)] == list(rs[0].units["unit_id"])
    assert (t.groupby("unit_id", sort=False)["year"].apply(lambda s: s.is_monotonic_increasing)).all()


def test_year_on_year_changes_are_the_lookbacks(scored_alone):
    r12, r11, r10 = (scored_alone[y] for y in ("2012", "2011", "2010"))
    t = history.trend([r12, r11, r10]).set_index(["unit_id", "year"])
    for now, prev in ((r12, r11), (r11, r10)):
        cmp = lookback.compare(now, prev).set_index("unit_id")
        both = cmp[cmp["presence"] == lookback.PRESENCE["both"]]
        y = now.dataset.round.year
        for uid, c in both.iterrows():
            row = t.loc[(uid, y)]
            assert row["prev_year"] == prev.dataset.round.year
            assert row["composite_change"] == pytest.approx(c["composite_change"], nan_ok=True)
            assert row["satisfaction_change"] == pytest.approx(c["satisfaction_change"], nan_ok=True)
            assert row["composite_change_lo"] == pytest.approx(c["composite_change_lo"], nan_ok=True)
            assert row["composite_change_hi"] == pytest.approx(c["composite_change_hi"], nan_ok=True)
            for col in ("significant", "satisfaction_significant", "rank_change", "rank_change_real"):
                a, b = row[col], c[col]
                assert (pd.isna(a) and pd.isna(b)) or a == b, (uid, y, col)
    # the derived 2010 differs from 2011 in wj only: a real difference, found in the right place
    assert t.loc[("wj", 2011), "composite_change"] != 0
    assert t.loc[("xb", 2011), "composite_change"] == 0
    assert t.loc[("wj", 2012), "significant"]  # 61 → 88: significant in the sample
    # a unit's first year has no change
    assert t.xs(2010, level="year")["prev_year"].isna().all()


def test_a_renamed_unit_keeps_its_past(scored_alone):
    now = scored_alone["renamed"]
    hist = history.read_unit_history(now.dataset.path)
    t = history.trend([now, scored_alone["2011"], scored_alone["2010"]], hist)
    zl = t[t["unit_id"] == "zl2"].set_index("year")
    assert list(zl.index) == [2010, 2011, 2012]
    assert list(zl["id_then"]) == ["zl", "zl", "zl2"]
    old = scored_alone["2011"].units.set_index("unit_id").loc["zl"]
    assert zl.loc[2011, "composite"] == old["composite"] and zl.loc[2011, "rank"] == old["rank"]
    assert not (t["unit_id"] == "zl").any()  # nothing left under the old id
    assert not pd.isna(zl.loc[2012, "significant"])  # the replicates were matched under the new id too
    # without the file zl and zl2 are two units
    plain = history.trend([now, scored_alone["2011"]])
    assert set(plain[plain["unit_id"].isin(["zl", "zl2"])]["unit_id"]) == {"zl", "zl2"}


def test_id_map_chains_mergers_and_splits():
    h = pd.DataFrame({"old_id": ["a", "b", "x", "y", "s", "s", "m"], "new_id": ["b", "c", "xy", "xy", "s1", "s2", "k"],
                      "year": [2011, 2012, 2012, 2012, 2012, 2012, 2012]})
    renames, merged = history.id_map(h, 2010, ["a", "x", "y", "s", "m", "k"])
    assert renames == {"a": "c"}  # a → b (2011) → c (2012)
    assert merged == {"x": "xy", "y": "xy", "m": "k"}  # two into one; one into a unit that exists
    assert history.id_map(h, 2011, ["b"]) == ({"b": "c"}, {})  # the 2011 change is already in a 2011 round
    assert history.id_map(h, 2012, ["b", "x"]) == ({}, {})
    assert history.id_map(h, None, ["a"]) == ({}, {})


def test_unit_history_file_errors_name_the_row(tmp_path):
    assert history.read_unit_history(tmp_path).empty
    (tmp_path / history.UNIT_HISTORY).write_text("old_id,new_id,year\na,b,2012\n\n,c,2012\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="第 4 行"):
        history.read_unit_history(tmp_path)
    (tmp_path / history.UNIT_HISTORY).write_text("old,new\na,b\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="缺少列 old_id、new_id、year"):
        history.read_unit_history(tmp_path)
    (tmp_path / history.UNIT_HISTORY).write_bytes("old_id,new_id,year\n湖塘,湖塘新,2012\n".encode("gb18030"))
    assert history.read_unit_history(tmp_path).iloc[0].tolist() == ["湖塘", "湖塘新", 2012]


def test_history_folder_finds_the_past_rounds_and_leaves_out_this_year(rounds, tmp_path):
    hist = tmp_path / "rounds"
    hist.mkdir()
    for y in ("2010", "2011"):
        shutil.copytree(rounds[y], hist / y)
    shutil.copytree(S2012, hist / "2012")  # this year's round is in the folder too
    derive_round(S2012, hist / "2013", 2013)  # and a later one
    (hist / "notes").mkdir()  # not a round
    found = history.past_paths(S2012, None, hist)
    assert [Path(p).name for p in found] == ["2010", "2011"]
    # --previous first, in the order given; a round of --history already given is not added again
    both = history.past_paths(S2012, [str(rounds["2011"])], hist)
    assert [Path(p).name for p in both] == ["2011", "2010"]
    ds = py.load_dataset(S2012)
    assert [r.round.year for r in history.load_past(ds, found)] == [2011, 2010]  # most recent first


def test_bad_past_rounds_are_one_line_each(rounds, tmp_path):
    ds = py.load_dataset(S2012)
    same_year = shutil.copytree(S2011, tmp_path / "again")
    (same_year / "bonuses.csv").write_text((same_year / "bonuses.csv").read_text(encoding="utf-8") + "\n",
                                           encoding="utf-8")
    with pytest.raises(OptionError, match="两轮往年数据都是 2011 年"):
        history.load_past(ds, history.past_paths(S2012, [str(S2011), str(same_year)]))
    with pytest.raises(OptionError, match="往年数据给了两次"):
        history.past_paths(S2012, [str(S2011), str(S2011) + "/"])
    with pytest.raises(OptionError, match="内容相同"):
        history.past_paths(S2012, [str(S2011), str(S2012)])
    bad = shutil.copytree(S2011, tmp_path / "bad-rules")
    (bad / "ruleset.toml").write_text("[weights\nonsite = ", encoding="utf-8")
    with pytest.raises(OptionError, match="的评议规则无法读取"):
        history.load_past(ds, [str(bad)])
    with pytest.raises(OptionError, match="不是文件夹"):
        history.past_paths(S2012, None, tmp_path / "nowhere")


@pytest.mark.parametrize("case", ["same-year", "current", "bad-ruleset"])
def test_report_refuses_bad_past_rounds_writing_nothing(case, rounds, tmp_path, capsys, quick_notebooks):
    if case == "same-year":
        other = shutil.copytree(S2011, tmp_path / "again")
        (other / "bonuses.csv").write_text((other / "bonuses.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
        args, said = ["--previous", str(S2011), "--previous", str(other)], "两轮往年数据都是 2011 年"
    elif case == "current":
        args, said = ["--previous", str(S2011), "--previous", str(S2012)], "内容相同"
    else:
        bad = shutil.copytree(rounds["2010"], tmp_path / "bad")
        (bad / "ruleset.toml").write_text("not = [toml", encoding="utf-8")
        args, said = ["--previous", str(S2011), "--previous", str(bad)], "的评议规则无法读取"
    out = tmp_path / "out"
    assert main(["report", str(S2012), "--out", str(out), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1
    assert not out.exists() and not quick_notebooks


def test_report_with_two_past_rounds(rounds, tmp_path, quick_notebooks):
    out = tmp_path / "out"
    assert main(["report", str(S2012), "--out", str(out), "--quiet",
                 "--previous", str(rounds["2010"]), "--previous", str(S2011)]) == 0
    params = {j.kind: j.parameters for j in quick_notebooks[0]}
    assert [Path(p).name for p in params["unit"]["previous"]] == ["2010", "2011"]
    p = params["unit"]
    # the pages read the batch's store (the past rounds are part of what it was made from), not a fresh score
    assert scored._matches(Path(p["scored"]), scored.inputs_of(p["dataset"], p["ruleset"], p["previous"],
                                                               p["report_date"]))
    bundle = scored.store.read(Path(p["scored"]))
    assert bundle[1].dataset.round.year == 2011  # the look-back is last year's, whatever the order given
    t = bundle[2].trend
    wb = openpyxl.load_workbook(out / "评议结果.xlsx")
    rows = list(wb[trend_view.SHEET].iter_rows(values_only=True))
    head, body = rows[0], rows[1:]
    assert len(body) == len(t)
    col = {h: i for i, h in enumerate(head)}
    for r, (_, want) in zip(body, t.iterrows()):
        assert (r[col["单位编码"]], r[col["年度"]]) == (want["unit_id"], want["year"])
        assert r[col["综合得分"]] == pytest.approx(want["composite"], nan_ok=True)
    wj12 = next(r for r in body if r[col["单位编码"]] == "wj" and r[col["年度"]] == 2012)
    assert wj12[col["综合得分变化判断"]] == "显著上升" and wj12[col["比较年度"]] == 2011
    inputs = json.loads((out / "run.json").read_text(encoding="utf-8"))["inputs"]["previous"]
    assert inputs["paths"] == ["2010", "2011"] and "2010/survey.csv" in inputs["files"]
    # the same run with the rounds given the other way round is the same report (--if-changed: nothing to do)
    assert main(["report", str(S2012), "--out", str(out), "--quiet", "--if-changed",
                 "--previous", str(S2011), "--previous", str(rounds["2010"])]) == 0
    assert len(quick_notebooks) == 1


def test_trend_words():
    assert trend_view.change_word(1.2, True) == "显著上升"
    assert trend_view.change_word(-0.4, True) == "显著下降"
    assert trend_view.change_word(3.0, False) == "变化不显著"
    assert trend_view.change_word(np.nan, pd.NA) == "—"
    assert trend_view.rank_word(2, True) == "上升2位（名次区间不重叠）"
    assert trend_view.rank_word(-1, False) == "下降1位"
    assert trend_view.rank_word(0, pd.NA) == "名次未变"
    assert trend_view.rank_word(pd.NA, pd.NA) == "—"


def test_movers_are_the_significant_changes_of_the_latest_year(scored_alone):
    rs = scored_alone["2012"].ruleset
    t = history.trend([scored_alone[y] for y in ("2012", "2011", "2010")])
    m = trend_view.movers(t, rs)
    latest = t[(t["year"] == 2012) & (t["significant"] == True)]  # noqa: E712
    assert set(m["单位编码"]) == set(latest["unit_id"]) and len(m) == len(latest) > 0
    ups = m[m["变化"] == "显著上升"]["综合得分变化"].tolist()
    downs = m[m["变化"] == "显著下降"]["综合得分变化"].tolist()
    assert all(x > 0 for x in ups) and all(x < 0 for x in downs) and len(ups) + len(downs) == len(m)
    assert ups == sorted(ups, reverse=True) and downs == sorted(downs)  # rises first, largest change first
    assert list(m["变化"]) == sorted(m["变化"], key=lambda w: w != "显著上升")
    said = f"2012 年综合得分比上一次参评显著上升的单位 {len(ups)} 个，显著下降的 {len(downs)} 个。"
    assert trend_view.movers_text(t, rs) == said
    m2011 = trend_view.movers(t, rs, 2011)
    assert list(m2011["单位编码"]) == list(t[(t["year"] == 2011) & (t["significant"] == True)]["unit_id"])  # noqa: E712
    assert "2010、2011、2012 年共 3 轮" in trend_view.years_text(t, rs)
    assert trend_view.years_text(None, rs) == trend_view.NO_TREND and trend_view.movers(None, rs) is None


def test_a_units_table_and_chart_hold_each_year(scored_alone):
    rs = scored_alone["2012"].ruleset
    t = history.trend([scored_alone[y] for y in ("2012", "2011", "2010")])
    table = trend_view.unit_table(t, "wj", rs)
    assert list(table["年度"]) == [2010, 2011, 2012]
    assert "单位编码" not in table and "当年编码" not in table  # the same id every year: not repeated
    assert list(table["综合得分"]) == list(t[t["unit_id"] == "wj"]["composite"])
    assert list(table["综合得分变化判断"]) == ["—", "变化不显著", "显著上升"]
    frame = trend_view.unit_chart_frame(t, "wj")
    from pingyi_lib.sections import charts

    fig = charts.trend_lines(frame, "t")
    composite = fig.data[0]
    assert list(composite.x) == ["2010", "2011", "2012"] and list(composite.y) == list(frame["composite"])
    assert list(composite.error_y.array + composite.y) == pytest.approx(list(frame["composite_hi"]))
    assert list(composite.y - composite.error_y.arrayminus) == pytest.approx(list(frame["composite_lo"]))


def test_the_pages_show_the_trend(rounds, tmp_path):
    out = tmp_path / "out"
    assert main(["report", str(S2012), "--out", str(out), "--quiet", "--units", "wj",
                 "--history", str(_history_folder(rounds, tmp_path))]) == 0
    unit = (out / "units" / "wj.html").read_text(encoding="utf-8")
    city = (out / "city.html").read_text(encoding="utf-8")
    assert "历年对比：2010、2011、2012 年共 3 轮评议" in unit
    assert json.dumps("历年综合得分和群众满意度")[1:-1] in unit  # the chart's title, as plotly writes it
    assert unit.count("显著上升") >= 1 and "61.05" in unit and "61.24" in unit and "87.68" in unit
    i = city.index(">趋势<")
    section = city[i:i + 20000]
    assert "历年对比：2010、2011、2012 年共 3 轮评议" in section
    assert "显著上升的单位" in section and "武进区安监局" in section


def _history_folder(rounds, tmp_path) -> Path:
    hist = tmp_path / "rounds"
    hist.mkdir()
    shutil.copytree(rounds["2010"], hist / "2010")
    shutil.copytree(S2011, hist / "2011")
    return hist


# --- consequences over several rounds, the past rounds' open items, the notice ----------------------


def _with_rule(src: Path, dst: Path, years: int) -> Path:
    """A copy of ``src`` whose ruleset turns [consequences.repeat_bottom] on for ``years`` rounds."""
    from pingyi_lib.scheme.ruleset import default_ruleset_path

    shutil.copytree(src, dst)
    text = default_ruleset_path().read_text(encoding="utf-8")
    on = text.replace("[consequences.repeat_bottom]\nyears = 0", f"[consequences.repeat_bottom]\nyears = {years}")
    assert on != text
    (dst / "ruleset.toml").write_text(on, encoding="utf-8")
    return dst


@pytest.mark.parametrize("years", [2, 3])
def test_repeat_bottom_catches_the_units_at_the_bottom_every_year(years, rounds, tmp_path):
    from pingyi_lib.sections import headline, scores

    now = _with_rule(S2012, tmp_path / "2012", years)
    res, _, fu = scored.compute(str(now), "", [str(S2011), str(rounds["2010"])], "")
    t = fu.trend
    last = sorted(set(t["year"]))[-years:]
    bottom = t[t["year"].isin(last)].groupby("unit_id")["in_bottom"].agg(lambda s: len(s) == years and s.all())
    want = set(bottom[bottom].index)
    assert want  # the sample has units at the bottom in 2010, 2011 and 2012
    c = res.consequences[res.consequences["flag"] == "repeat_bottom"]
    assert set(c["unit_id"]) == want
    for r in c.itertuples(index=False):
        assert all(f"{y}年第" in r.reason for y in last) and f"连续{years}轮排名靠后" in r.reason
        assert r.label == "连续排名靠后" and r.clause == "本地规定"
        assert "连续排名靠后" in res.units.set_index("unit_id").loc[r.unit_id, "flags"]
    assert set(res.units[res.units["repeat_bottom"]]["unit_id"]) == want
    assert fu.res is res  # the pages read the same results
    head = headline.city_headline(res)
    row = head[head["code"] == "repeat_bottom"].iloc[0]
    assert set(row["unit_ids"]) == want and f"（{len(want)}个单位）" in row["事项"]
    summary = scores.consequence_summary(res)
    assert summary[summary["结果"] == "连续排名靠后"]["单位数（个）"].iloc[0] == len(want)


def test_repeat_bottom_is_off_by_default_and_not_judged_without_past_rounds(rounds, tmp_path):
    from pingyi_lib.sections import headline

    res, _, fu = scored.compute(str(S2012), "", [str(S2011), str(rounds["2010"])], "")
    assert not res.ruleset.repeat_bottom.on and "repeat_bottom" not in res.units
    assert not (res.consequences["flag"] == "repeat_bottom").any()
    on = _with_rule(S2012, tmp_path / "2012", 2)
    alone, _, _ = scored.compute(str(on), "", "", "")  # the rule is on, but there is nothing to judge it by
    assert "repeat_bottom" not in alone.units
    assert "repeat_bottom" not in set(headline.city_headline(alone)["code"])


def test_repeat_bottom_rule_is_read_strictly(tmp_path):
    from pingyi_lib.common.errors import RulesetError
    from pingyi_lib.scheme.ruleset import default_ruleset_path, load_ruleset

    text = default_ruleset_path().read_text(encoding="utf-8")
    for bad, said in (("years = 1", "必须是 0（不启用）或不小于 2"), ("years = -2", "不能小于 0"),
                      ('years = "2"', "必须是整数"), ("years = 2\nyaers = 3", "是未知的键")):
        p = tmp_path / "r.toml"
        p.write_text(text.replace("[consequences.repeat_bottom]\nyears = 0", f"[consequences.repeat_bottom]\n{bad}"),
                     encoding="utf-8")
        with pytest.raises(RulesetError, match=said):
            load_ruleset(p)
    start = text.index("[consequences.repeat_bottom]")
    end = text.index("\n\n", start)
    p.write_text(text[:start] + text[end:], encoding="utf-8")  # a ruleset written before the rule
    assert not load_ruleset(p).repeat_bottom.on


def test_open_items_of_every_past_round(rounds, tmp_path):
    # 2012's look-back item R2012-005 (done) also names czsaj's 2010 item R2010-001 (open in 2010)
    now = shutil.copytree(S2012, tmp_path / "2012")
    rect = now / "rectifications.csv"
    text = rect.read_text(encoding="utf-8")
    assert "回头看(R2011-001)" in text
    # and ly's done R2012-009 names jt's 2010 item R2010-010: another unit's item stays open
    assert "回头看(R2011-005)" in text
    text = text.replace("回头看(R2011-001)", "回头看(R2010-001、R2011-001)")
    rect.write_text(text.replace("回头看(R2011-005)", "回头看(R2011-005、R2010-010)"), encoding="utf-8")
    r12 = py.score(py.load_dataset(now))
    r11, r10 = (py.score(py.load_dataset(rounds[y])) for y in ("2011", "2010"))
    day = pd.Timestamp("2012-09-20")
    still = history.open_items([r12, r11, r10], day)
    # last year's: exactly the items the one-year look-back finds not closed
    cl = lookback.closure(r12, r11, day)
    assert sorted(still[still["year"] == 2011]["item_id"]) == sorted(cl[~cl["closed"]]["item_id"])
    # 2010's: not done in 2010 and named by no done look-back item of 2011 (none) or 2012
    items10 = r10.dataset.rectifications
    open10 = set(items10[items10["status"] != r10.ruleset.rectification_done]["item_id"]) - {"R2010-001"}
    assert set(still[still["year"] == 2010]["item_id"]) == open10 and "R2010-010" in open10
    # naming a 2010 item is not a data problem when 2010 is given; it is when only 2011 is
    assert not lookback.reference_problems(r12, r11, [r10])["reason"].str.contains("R2010-001").any()
    assert lookback.reference_problems(r12, r11)["reason"].str.contains("R2010-001").any()
    n11 = int((~cl["closed"]).sum())
    assert (trend_view.open_items_text(still) ==
            f"往年的整改事项仍未整改到位 {len(still)} 项（2010 年 {len(open10)} 项，2011 年 {n11} 项）："
            "当年未完成，以后也没有本单位已完成的回头看事项提到它。")


def test_the_notice_says_where_the_trend_matters(rounds):
    from pingyi_lib.sections.notice import notice_blocks

    res, _, fu = scored.compute(str(S2012), "", [str(S2011), str(rounds["2010"])], "")
    blocks = notice_blocks(res, fu, res.dataset.round.title)
    heads = [v for k, v in blocks if k == "heading"]
    assert any(h.endswith("、历年对比") for h in heads)
    start = next(i for i, (k, v) in enumerate(blocks) if k == "heading" and v.endswith("历年对比"))
    end = next(i for i, (k, v) in enumerate(blocks) if i > start and k == "heading")
    paras = [v for k, v in blocks[start:end] if k == "para"]
    t = fu.trend
    movers = t[(t["year"] == 2012) & (t["significant"] == True)]  # noqa: E712
    for r in movers.itertuples(index=False):
        assert sum(p.startswith(f"{r.name}综合得分{r.composite:.2f}分，比2011年") for p in paras) == 1
    longest = history.repeat_bottom(t, 3)
    assert len(longest) and all(any(p == f"{r.name}{r.reason}。" for p in paras) for r in longest.itertuples())
    assert paras[-1] == trend_view.open_items_text(fu.open_past)
    # one round: no such section
    alone, _, fu1 = scored.compute(str(S2012), "", "", "")
    assert not any(v.endswith("历年对比") for k, v in notice_blocks(alone, fu1, "t") if k == "heading")


def test_followup_reads_the_most_recent_past_round_whatever_the_order(rounds, capsys):
    for order in ([rounds["2010"], S2011], [S2011, rounds["2010"]]):
        args = [a for p in order for a in ("--previous", str(p))]
        assert main(["followup", str(S2012), *args, "--format", "json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["lookback"] and all(x["item_id"].startswith("R2011-") for x in doc["lookback"])
    assert main(["followup", str(S2012), "--previous", str(S2011), "--previous", str(S2011), "--format", "json"]) == 2
    assert "往年数据给了两次" in capsys.readouterr().err


def test_the_one_year_look_back_follows_a_renamed_unit(rounds, scored_alone):
    # zl is called zl2 from 2012 on: last year's figures and items of zl are zl2's
    from pingyi_lib.sections.followup import FollowUp

    fu = FollowUp(scored_alone["renamed"], scored_alone["2011"], "", older=[scored_alone["2010"]])
    plain = FollowUp(scored_alone["2012"], scored_alone["2011"], "")
    cmp, want = fu.compare.set_index("unit_id"), plain.compare.set_index("unit_id")
    assert cmp.loc["zl2", "presence"] == lookback.PRESENCE["both"] and "zl" not in cmp.index
    for col in ("composite_prev", "composite_now", "composite_change", "satisfaction_prev", "rank_prev",
                "rank_change"):
        a, b = cmp.loc["zl2", col], want.loc["zl", col]
        assert (pd.isna(a) and pd.isna(b)) or a == b, col
    # the replicates were matched too (their draws follow the unit's id, so the interval itself may differ)
    assert not pd.isna(cmp.loc["zl2", "composite_change_lo"]) and not pd.isna(cmp.loc["zl2", "significant"])
    got = fu.closure[fu.closure["unit_id"] == "zl2"].drop(columns="unit_id").reset_index(drop=True)
    was = plain.closure[plain.closure["unit_id"] == "zl"].drop(columns="unit_id").reset_index(drop=True)
    assert len(got) and got.equals(was)  # the same items, closed by the same look-back items
    assert not (fu.data_problems["reason_code"] == "other_unit_reference").any()
    assert scored_alone["2011"].units["unit_id"].eq("zl").any()  # the past round itself is not changed


def test_a_history_folder_knows_a_round_by_any_name_of_its_units_table(tmp_path):
    # a clerk's round: 评议单位.csv (the Chinese name of units) and no round.toml; a workbook; not a round
    hist = tmp_path / "rounds"
    for name, files in (("2009", {"评议单位.csv": "unit_id,name,level\n"}), ("2010", {"评议数据.xlsx": ""}),
                        ("notes", {"说明.txt": "", "units.txt": ""})):
        (hist / name).mkdir(parents=True)
        for f, text in files.items():
            (hist / name / f).write_text(text, encoding="utf-8")
    assert [p.name for p in history.history_rounds(hist)] == ["2009", "2010"]
