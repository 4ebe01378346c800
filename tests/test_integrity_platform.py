"""What online platforms record, judged (issue 31): many questionnaires for one unit from one IP
address, and answers too fast to have read the questions. Flagged for review by default, never
excluded unless the ruleset says so; an address shared by honest people is not a device."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pingyi_lib.cli import main
from pingyi_lib.common.masking import mask_ip
from pingyi_lib.dataset.load import load_dataset
from pingyi_lib.integrity.detect import detect
from pingyi_lib.integrity.policy import check
from pingyi_lib.integrity.sources import ip_repeat, too_fast
from pingyi_lib.scheme.ruleset import load_ruleset, parse_ruleset
from pingyi_lib.scoring.results import score

from . import integrity_cases as cases
from .conftest import SAMPLE_2011
from .test_import import empty_round, sample_survey, wjx_export

ROUND = {"a": "district", "b": "district", "w": "window"}
RS = load_ruleset()


def test_an_address_concentrated_on_one_unit_is_flagged_a_carriers_is_not():
    # 1,000 questionnaires: unit 0 half, unit 1 a tenth, unit 2 the rest; address 1 sends 12, all
    # for unit 1; address 2, a carrier's gateway, sends 100 spread as everyone's are (50, 10, 40)
    unit = np.array([1] * 12 + [0] * 50 + [1] * 10 + [2] * 40 + [1] * 78 + [0] * 450 + [2] * 360)
    ip = np.array([1] * 12 + [2] * 100 + [0] * 888)
    values = pd.Index(["", "183.1.0.7", "112.3.0.1"])
    order = np.arange(len(unit))
    total = np.bincount(ip)[ip]
    share = np.bincount(unit) / len(unit)
    flag, seq, n, lam = ip_repeat(unit, ip, values, order, total, share, limit=5, p=1e-6)
    # hand arithmetic: λ = 12 × 0.1 = 1.2; log P(X ≥ 12) ≤ -1.2 + 12 (1 + ln 1.2 - ln 12) = -16.8 < ln 1e-6 = -13.8
    assert flag[:12].tolist() == [False] * 5 + [True] * 7
    assert n[0] == 12 and lam[0] == pytest.approx(1.2)
    assert not flag[12:].any()  # the gateway: 10 of 100 for a unit with a tenth of the round
    assert seq[:3].tolist() == [1, 2, 3]
    off = ip_repeat(unit, ip, values, order, total, share, limit=0, p=1e-6)[0]
    assert not off.any()
    # a round that records no address (ip None): nothing judged, zeros of the rows' length
    none = ip_repeat(unit, None, pd.Index([""]), order, None, share, limit=5, p=1e-6)
    assert [len(a) for a in none] == [len(unit)] * 4 and not none[0].any() and not none[2].any()


def test_a_round_without_addresses_is_judged_as_one_with_blank_addresses():
    survey = pd.DataFrame({"response_id": [f"r{i}" for i in range(40)], "unit_id": ["a"] * 30 + ["b"] * 10,
                           "channel": "online", "submitted_at": pd.Timestamp("2013-08-01 10:00"),
                           "fingerprint": [f"d{i % 3}" for i in range(40)], "lawful": 1, "fair": 1, "open": 2,
                           "service": 1, "integrity": 1})
    units = pd.DataFrame({"unit_id": ["a", "b"]})
    plain = detect(survey, units, RS)
    blank = detect(survey.assign(ip=""), units, RS)
    assert plain.flags["fingerprint_repeat"].sum() > 0  # rows with words, their address figures zero
    pd.testing.assert_frame_equal(plain.flags, blank.flags)
    assert (plain.details[["ip_seq", "ip_count"]] == 0).all().all()
    pd.testing.assert_frame_equal(plain.details, blank.details)


def test_too_fast_reads_the_rulesets_seconds_and_leaves_unknown_times_alone():
    d = np.array([5, 19.5, 20, 300, np.nan])
    assert too_fast(d, 20).tolist() == [True, True, False, False, False]
    assert not too_fast(d, 0).any()


def test_masked_addresses_keep_only_the_network():
    assert mask_ip("221.231.12.5") == "221.231.*.*"
    assert mask_ip("") == ""


def _rules() -> dict:
    return tomllib.loads(Path(RS.source).read_text(encoding="utf-8"))


def _round(tmp_path, seed, *attack):
    rng = np.random.default_rng(seed)
    honest = [cases.honest(rng, "a", 400), cases.honest(rng, "a", 200, "paper"), cases.honest(rng, "b", 600),
              cases.honest(rng, "w", 80)]
    frames = [cases.with_platform(rng, f) for f in honest]
    return cases.write_round(tmp_path / f"r{seed}", ROUND, *frames, *(f(rng) for f in attack))


def test_a_script_from_one_address_is_flagged_and_kept_by_default(tmp_path):
    folder, attack = _round(tmp_path, 3, lambda rng: cases.script(rng, "w", 150, pd.Timestamp("2012-08-05 21:00"),
                                                                   days=3, addresses=1))
    ds = load_dataset(folder)
    found = check(ds)
    rows = found.rows.set_index("response_id")
    hit = rows.loc[sorted(attack)]
    assert hit["reasons"].map(lambda r: "too_fast" in r).all()  # every scripted answer took 4-12 s
    assert hit["reasons"].map(lambda r: "ip_repeat" in r).sum() == len(attack) - RS.integrity.ip_limit
    assert not hit["excluded"].any()  # an address is not a device: flagged for review only
    detail = hit["detail"].iloc[-1]
    assert "来自IP 183.0.*.*的本单位第150份问卷" in detail and "答题用时" in detail
    assert "183.0.0.7" not in " ".join(found.rows["detail"])  # the address is never written whole
    honest = found.rows[~found.rows["response_id"].isin(attack)]
    assert honest["excluded"].sum() == 0
    with_off, without = score(ds), score(ds, integrity=False)
    assert with_off.units["composite"].tolist() == without.units["composite"].tolist()


def test_the_ruleset_can_exclude_by_address_and_by_speed(tmp_path):
    folder, attack = _round(tmp_path, 4, lambda rng: cases.script(rng, "w", 60, pd.Timestamp("2012-08-05 21:00"),
                                                                   days=1, addresses=1))
    data = _rules()
    data["integrity"]["too_fast"]["exclude"] = True
    rs = parse_ruleset(data)
    found = check(load_dataset(folder, ruleset=rs), rs)
    gone = set(found.rows.loc[found.rows["excluded"], "response_id"])
    assert attack <= gone
    assert "integrity_too_fast" in set(found.quarantine["reason_code"])


def test_a_ruleset_without_the_platform_sections_does_not_judge_them(tmp_path):
    data = _rules()
    del data["integrity"]["ip_repeat"], data["integrity"]["too_fast"]
    rs = parse_ruleset(data)
    folder, attack = _round(tmp_path, 5, lambda rng: cases.script(rng, "w", 60, pd.Timestamp("2012-08-05 21:00"),
                                                                   days=1, addresses=1))
    found = check(load_dataset(folder, ruleset=rs), rs)
    assert not any({"ip_repeat", "too_fast"} & set(r) for r in found.rows["reasons"])


def test_honest_addresses_are_rarely_flagged_and_never_excluded(tmp_path):
    folder, _ = _round(tmp_path, 6)
    found = check(load_dataset(folder))
    online = 1080
    ip_flags = found.rows["reasons"].map(lambda r: "ip_repeat" in r).sum()
    assert ip_flags / online < 0.05 and found.rows["excluded"].sum() == 0


def test_both_engines_flag_the_same_rows(tmp_path):
    folder, _ = _round(tmp_path, 7, lambda rng: cases.script(rng, "w", 40, pd.Timestamp("2012-08-05 21:00"),
                                                              days=1, addresses=2))
    a = check(load_dataset(folder, engine="pandas")).rows
    b = check(load_dataset(folder, engine="duckdb")).rows
    assert len(a) and a[["response_id", "reasons", "detail"]].equals(b[["response_id", "reasons", "detail"]])


def test_an_imported_export_carries_the_platforms_signals_to_the_check(tmp_path, capsys):
    sv, units = sample_survey()
    part = sv[sv["unit_id"] == "wj"].reset_index(drop=True)
    exp = wjx_export(part, units)
    exp["来自IP"] = [f"10.{i % 200}.{i // 200}.1(江苏-常州)" for i in range(len(exp))]  # every answer its own
    exp.loc[:29, "来自IP"] = "183.2.2.7(江苏-常州)"  # 30 from one address
    exp.loc[:29, "所用时间"] = "6秒"
    path = tmp_path / "wj.xlsx"
    exp.to_excel(path, index=False)
    folder = empty_round(tmp_path)
    shutil.copy(SAMPLE_2011 / "survey.csv", folder / "survey.csv")
    keep = pd.read_csv(folder / "survey.csv", dtype=str, keep_default_na=False)
    keep[keep["unit_id"] != "wj"].to_csv(folder / "survey.csv", index=False)
    assert main(["import", str(path), "--into", str(folder)]) == 0
    capsys.readouterr()
    assert main(["integrity", str(folder), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    wj = next(u for u in out["units"] if u["unit_id"] == "wj")
    assert wj["reasons"] == {"ip_repeat": 30 - RS.integrity.ip_limit, "too_fast": 30}
    assert wj["excluded"] == 0
