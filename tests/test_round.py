"""The round's identity (round.toml or the data), never the ruleset's: title, year, city and
the day the ledger is read."""

from __future__ import annotations

import datetime as dt

import pytest

import pingyi_lib as py
from pingyi_lib.dataset.round import RoundInfo, round_toml

from .conftest import ITEMS, survey_rows, write_dataset

UNITS = "unit_id,name,level\nlj,临江市安全生产监督管理局,city\na,东区安监局,district\nb,西区安监局,district\n"
SURVEY = "response_id,unit_id,channel," + ITEMS + "\n" + survey_rows("a", ["1,1,1,1,1"]) \
    + survey_rows("b", ["2,2,2,2,2"], start=5) + survey_rows("lj", ["1,2,1,2,1"], start=9)


def folder(tmp_path, round_text: str | None = None, units: str = UNITS, **tables):
    d = write_dataset(tmp_path / "round", units=units, survey=SURVEY, **tables)
    if round_text is not None:
        (d / "round.toml").write_text(round_text, encoding="utf-8")
    return d


def test_round_toml_gives_city_year_title_and_report_date(tmp_path):
    r = py.load_dataset(folder(tmp_path, 'city = "临江市"\nyear = 2013\nreport_date = 2013-09-20\n')).round
    assert (r.city, r.year, r.title) == ("临江市", 2013, "临江市2013年民主评议政风行风")
    assert r.report_day().day == dt.date(2013, 9, 20) and "round.toml" in r.report_day().source


def test_a_title_in_round_toml_is_used_as_written(tmp_path):
    r = py.load_dataset(folder(tmp_path, 'city = "临江市"\nyear = 2013\ntitle = "临江市安监系统2013年政风行风评议"\n'))
    assert r.round.title == "临江市安监系统2013年政风行风评议"


def test_without_round_toml_the_year_comes_from_the_data_and_the_city_from_the_city_bureau(tmp_path):
    ms = "unit_id,step,submitted_on\na,动员部署,2013-07-09\nb,动员部署,2013-07-10\n"
    r = py.load_dataset(folder(tmp_path, milestones=ms)).round
    assert (r.city, r.year, r.title) == ("临江市", 2013, "临江市2013年民主评议政风行风")
    assert "常州" not in r.title  # the ruleset's city is not the round's


def test_without_a_city_bureau_the_title_names_no_city(tmp_path):
    units = "unit_id,name,level\na,东区安监局,district\nb,西区安监局,district\nlj,某局,district\n"
    ms = "unit_id,step,submitted_on\na,动员部署,2014-07-09\n"
    r = py.load_dataset(folder(tmp_path, units=units, milestones=ms)).round
    assert r.city == "" and r.title == "2014年民主评议政风行风"


def test_without_dates_or_round_toml_the_title_names_no_year(tmp_path):
    r = py.load_dataset(folder(tmp_path)).round
    assert r.year is None and r.title == "临江市民主评议政风行风"


def test_report_date_option_beats_round_toml_beats_the_data():
    info = RoundInfo(title="t", year=2011, report_date=dt.date(2011, 9, 20), last_date=dt.date(2011, 9, 30))
    assert info.report_day("2011-10-01").day == dt.date(2011, 10, 1)
    assert info.report_day().day == dt.date(2011, 9, 20)
    assert RoundInfo(title="t", year=2011, last_date=dt.date(2011, 9, 30)).report_day().day == dt.date(2011, 9, 30)


def test_a_past_round_without_dates_is_never_read_at_the_machine_clock():
    info = RoundInfo(title="t", year=2011)
    assert info.report_day(today=dt.date(2026, 5, 1)).day == dt.date(2011, 12, 31)


def test_a_report_date_more_than_a_year_after_the_round_is_warned_about():
    info = RoundInfo(title="t", year=2011, last_date=dt.date(2011, 9, 30))
    assert info.report_day("2012-09-30").warning == ""  # a calendar year to the day: not more than a year
    late = info.report_day("2012-10-01")
    assert "晚一年以上" in late.warning and "2012-10-01" in late.warning


def test_bad_report_date_is_an_option_error():
    with pytest.raises(py.OptionError, match="2011-09-15"):
        RoundInfo(title="t").report_day("明天")


@pytest.mark.parametrize("text, key", [('city = "x"\ncolour = "red"\n', "colour"),
                                       ('year = "二〇一三"\n', "year"),
                                       ("report_date = 2013-13-40\n", ""),
                                       ('report_date = "昨天"\n', "report_date")])
def test_a_bad_round_toml_is_a_plain_chinese_error(tmp_path, text, key):
    with pytest.raises(py.DatasetError, match="round.toml") as exc:
        py.load_dataset(folder(tmp_path, text))
    assert key in str(exc.value)


def test_round_toml_text_reads_back(tmp_path):
    text = round_toml("临江市", 2013, dt.date(2013, 9, 20))
    r = py.load_dataset(folder(tmp_path, text)).round
    assert (r.city, r.year, r.report_date) == ("临江市", 2013, dt.date(2013, 9, 20))
