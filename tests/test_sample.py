"""The synthetic sample rounds: reproducible to the byte, committed copies never drift,
and each round holds the features the notebooks and the scorer are demonstrated on."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from pingyi_lib.dataset.sample import SAMPLE_YEARS, write_sample
from pingyi_lib.scheme.ruleset import load_ruleset

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("bonuses", "cases", "milestones", "onsite", "rectifications", "survey", "units", "violations")


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted([*folder.glob("*.csv"), *folder.glob("*.toml")])}


def read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def rounds(tmp_path_factory) -> dict[int, Path]:
    base = tmp_path_factory.mktemp("sample")
    for year in SAMPLE_YEARS:
        write_sample(year, base / str(year))
    return {year: base / str(year) for year in SAMPLE_YEARS}


@pytest.fixture(scope="module")
def rs():
    return load_ruleset()


# ---- reproducibility ------------------------------------------------------------------------
@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_rerun_is_byte_identical(tmp_path, year):
    first = write_sample(year, tmp_path / "a")
    second = write_sample(year, tmp_path / "b")
    assert [p.name for p in first] == sorted([*(f"{t}.csv" for t in TABLES), "round.toml"]) \
        == [p.name for p in second]
    assert first == sorted(first)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_committed_sample_equals_a_fresh_generation(rounds, year):
    committed = ROOT / "data" / "sample" / str(year)
    assert digests(committed) == digests(rounds[year]), (
        f"data/sample/{year} differs from write_sample({year}); regenerate it with "
        f"`pingyi sample --year {year} --out data/sample/{year}`")


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_files_are_plain_utf8_with_lf(rounds, year):
    for p in rounds[year].glob("*.csv"):
        raw = p.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw, p.name
        raw.decode("utf-8")


# ---- content --------------------------------------------------------------------------------
def levels_of(units: pd.DataFrame, level: str) -> list[str]:
    return units.loc[units.level == level, "unit_id"].tolist()


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_ids_unique_and_well_formed(rounds, year):
    f = rounds[year]
    for table, col, pattern in (("survey", "response_id", rf"S{year}-\d{{6}}"),
                                ("onsite", "ballot_id", rf"O{year}-\d{{4}}"),
                                ("cases", "case_id", rf"C{year}-\d{{3}}"),
                                ("rectifications", "item_id", rf"R{year}-\d{{3}}")):
        ids = read(f, table)[col]
        assert ids.is_unique and ids.str.fullmatch(pattern).all(), table
    units = read(f, "units")
    assert units.unit_id.is_unique and units.unit_id.str.fullmatch(r"[a-z0-9-]+").all()
    assert (units.parent_id != "").eq(units.level.isin(["window", "station"])).all()


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_questionnaire_counts(rounds, year):
    f = rounds[year]
    units, survey = read(f, "units"), read(f, "survey")
    n = survey.groupby("unit_id").size()
    violators = set(read(f, "violations").query("confirmed == '是'").unit_id)
    assert n[levels_of(units, "district")].between(200, 800).all()
    assert n[levels_of(units, "city")].between(300, 600).all()
    small = [u for u in levels_of(units, "window") + levels_of(units, "station") if u not in violators]
    assert n[small].between(20, 150).all()
    assert (n[small] < 30).any(), "no window/station below the low-sample minimum"


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_answers_channels_and_times(rounds, year, rs):
    survey = read(rounds[year], "survey")
    items = list(rs.items)
    labels = {lv.label for lv in rs.levels} | {""}
    assert survey[items].isin(labels).all().all()
    assert 0.005 < (survey[items] == "").to_numpy().mean() < 0.05
    assert set(survey.channel) <= set(rs.channels)
    assert ((survey.fingerprint != "") == (survey.channel == "online")).all()
    assert survey.fingerprint[survey.fingerprint != ""].str.fullmatch(r"[0-9a-f]{16}").all()
    start = f"{year}-{rs.timeline['survey_start']} 00:00:00"
    end = f"{year}-{rs.timeline['survey_end']} 23:59:59"
    assert survey.submitted_at.str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert survey.submitted_at.between(start, end).all()
    assert 0.15 <= (survey.comment != "").mean() <= 0.25
    pii = survey.comment.str.contains(r"1[3-9]\d{9}|0519-8\d{7}|\d{17}[\dX]|@|苏D", regex=True)
    assert 5 <= pii.sum() <= 15


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_two_districts_below_the_talk_threshold(rounds, year, rs):
    f = rounds[year]
    survey, units = read(f, "survey"), read(f, "units")
    score = {lv.label: lv.score for lv in rs.levels if lv.score is not None}
    d = survey[survey.unit_id.isin(levels_of(units, "district"))]
    index = pd.DataFrame({it: d[it].map(score).groupby(d.unit_id).mean() * 100
                          for it in rs.scored_items}).mean(axis=1)
    assert (index < rs.talk_threshold).sum() >= 2
    assert index.between(70, 96).all()


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_exactly_one_district_panel_below_the_public_share(rounds, year, rs):
    f = rounds[year]
    onsite, units = read(f, "onsite"), read(f, "units")
    assert set(onsite.unit_id) == set(levels_of(units, "district"))
    assert onsite.groupby("unit_id").size().between(25, 40).all()
    share = onsite.member_category.isin(rs.public_categories).groupby(onsite.unit_id).mean()
    assert (share < rs.panel_min_share).sum() == 1


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_caps_and_anomalies(rounds, year, rs):
    f = rounds[year]
    cases, bonuses = read(f, "cases"), read(f, "bonuses")
    cases["d"] = cases.deduction.astype(float)
    assert cases.d.between(0, 8).all() and set(cases.source) <= set(rs.case_sources)
    true = cases[cases.substantiated == "是"]
    assert (true.groupby("unit_id").d.sum() > rs.case_cap).sum() == 1
    assert ((cases.substantiated == "否") & (cases.d > 0)).sum() == 1
    assert (bonuses.points.astype(float).groupby(bonuses.unit_id).sum() > rs.bonus_cap).sum() == 1


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_milestones_and_rectifications(rounds, year, rs):
    f = rounds[year]
    units, ms, rect = read(f, "units"), read(f, "milestones"), read(f, "rectifications")
    districts = levels_of(units, "district")
    assert len(ms) == len(districts) * len(rs.milestone_steps) - 1  # exactly one missing
    due = ms.step.map(lambda s: f"{year}-{rs.timeline[s]}")
    late = pd.to_datetime(ms.submitted_on) - pd.to_datetime(due)
    assert 1 <= (late.dt.days > 0).sum() <= 5 and late.dt.days.max() <= 9
    assert set(rect.status) <= set(rs.rectification_status)
    assert ((rect.completed_on != "") == (rect.status == "已完成")).all()
    assert (rect.completed_on[rect.completed_on != ""] > rect.deadline[rect.completed_on != ""]).any()
    assert rect.groupby("unit_id").size().between(2, 6).all()


def units_added_and_removed(rounds) -> tuple[set, set]:
    before, after = (set(read(rounds[y], "units").unit_id) for y in (2011, 2012))
    return after - before, before - after


def test_2012_adds_and_drops_units(rounds):
    added, removed = units_added_and_removed(rounds)
    assert added and removed
    rect = read(rounds[2012], "rectifications")
    refs = set(rect.problem.str.extract(r"回头看\((R2011-\d{3})\)")[0].dropna())
    assert refs and refs <= set(read(rounds[2011], "rectifications").item_id)


def burst_units(survey: pd.DataFrame, min_n: int = 50, max_devices: int = 5, hours: int = 2) -> set[str]:
    """Units with >= min_n online responses from <= max_devices devices within `hours`."""
    online = survey[survey.channel == "online"].assign(t=lambda x: pd.to_datetime(x.submitted_at))
    found = set()
    for unit, g in online.sort_values("t").groupby("unit_id"):
        t, fp = g.t.tolist(), g.fingerprint.tolist()
        for i in range(len(t)):
            j = i
            while j < len(t) and t[j] - t[i] <= pd.Timedelta(hours=hours):
                j += 1
            top = pd.Series(fp[i:j]).value_counts().head(max_devices).sum()
            if top >= min_n:
                found.add(unit)
                break
    return found


def test_2012_has_the_confirmed_shuapiao_burst(rounds, rs):
    survey, violations = read(rounds[2012], "survey"), read(rounds[2012], "violations")
    confirmed = violations[violations.confirmed == "是"]
    assert confirmed.kind.tolist() == ["刷票"]
    assert burst_units(survey) == set(confirmed.unit_id)


def test_2011_has_no_burst_and_no_confirmed_violation(rounds):
    survey, violations = read(rounds[2011], "survey"), read(rounds[2011], "violations")
    assert burst_units(survey) == set()
    assert violations.confirmed.tolist() == ["否"]


def test_unknown_year_is_refused(tmp_path):
    with pytest.raises(ValueError, match="2011"):
        write_sample(1999, tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_round_file_names_city_year_title_and_report_date(rounds, year):
    import pingyi_lib as py

    r = py.load_dataset(rounds[year]).round
    assert (r.city, r.year, r.title) == ("常州市", year, f"常州市安监系统{year}年民主评议政风行风")
    assert r.report_day().day.isoformat() == f"{year}-09-20"
