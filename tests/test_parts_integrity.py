"""One league on every path (issue 36): a round counted in parts (`pingyi count --part K/N`,
or on Dask) and merged (`pingyi score --counts`) is judged by the same integrity check and
policy as one machine judging the whole round: the same flags, exclusions, periods, reviews,
scores, ranks and consequences, whether split in 2, 3 or 8 parts. Count files that carry no
questionnaires make an incomplete league, never a silent one."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.scoring import parts

from . import integrity_cases as ic
from . import period_cases as pc

REVIEW = ("response_id,decision,note,reviewer,unit_id,period_start,period_end\n"
          "R000010,exclude,电话回访：非本人填写,王,,,\n"
          "{kept},keep,复核为真实问卷,李,,,\n"
          ",exclude,按时段剔除,王,d4,2012-08-20,2012-08-20\n")


def twins(rng, unit: str, devices: int) -> pd.DataFrame:
    """Two questionnaires from each of ``devices`` devices in the same second, one pleased and
    one not: which of the two counts is decided by the order of their ids, wherever they stand."""
    at = pd.Timestamp("2012-08-03 10:00") + pd.to_timedelta(rng.integers(0, 20 * 86400, devices), unit="s")
    frame = pd.DataFrame({"unit_id": unit, "channel": "online", "submitted_at": np.repeat(at.to_numpy(), 2),
                          "fingerprint": np.repeat([f"twin-{k}" for k in range(devices)], 2),
                          "comment": "", "attack": False})
    for it in ic.ITEMS:
        frame[it] = np.tile(["很满意", "不满意"], devices)
    return frame


@pytest.fixture(scope="module")
def stuffed(tmp_path_factory):
    """Seven districts: d5 stuffed from six devices in 25 minutes, d6 dripped from three devices
    over six days, d7 filled at night by an auto-fill tool (a suspicious period), and a review
    of single questionnaires and of one unit's day."""
    tmp = tmp_path_factory.mktemp("stuffed")
    rng = np.random.default_rng(36)
    frames = pc.honest_round(rng, per_unit=240)
    frames += [ic.stuffing(rng, "d5", 180, pd.Timestamp("2012-08-12 21:00"), 25, devices=6),
               ic.drip(rng, "d6", per_day=25, days=6, devices=3),
               pc.night_drip(rng, "d7", total=200), twins(rng, "d2", 16)]
    folder, attack = ic.write_round(tmp / "whole", pc.DISTRICTS, *frames)
    survey = pd.read_csv(folder / "survey.csv", dtype=str, keep_default_na=False)
    kept = survey.loc[survey["response_id"].str.startswith("X") & (survey["unit_id"] == "d5"), "response_id"].iloc[3]
    (folder / "integrity_review.csv").write_text(REVIEW.format(kept=kept), encoding="utf-8")
    return folder, attack


@pytest.fixture(scope="module")
def one_machine(stuffed):
    """The whole round scored on one machine: (results, `pingyi score --format json` out and err)."""
    folder, _ = stuffed
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["score", str(folder), "--format", "json"]) == 0
    return py.score(py.load_dataset(folder)), json.loads(out.getvalue()), err.getvalue()


@pytest.fixture(scope="module")
def counted_in(stuffed, tmp_path_factory):
    """The round split in n parts and each counted by `pingyi count --part k/n` (made once per n)."""
    made = {}

    def files(n: int):
        if n not in made:
            made[n] = counted(stuffed[0], tmp_path_factory.mktemp(f"parts{n}"), n)
        return made[n]
    return files


def split(folder, dest, n: int, fmt: str = "csv") -> list:
    """Part k of n: the questionnaires whose id has part_of(id, n) == k, in file order; the
    units table copied (the review stays with the office that merges)."""
    survey = pd.read_csv(folder / "survey.csv", dtype=str, keep_default_na=False)
    out = []
    for k in range(n):
        f = dest / f"part{k}"
        f.mkdir(parents=True)
        shutil.copy(folder / "units.csv", f / "units.csv")
        mine = survey[survey["response_id"].map(lambda i: parts.part_of(i, n) == k)]
        if fmt == "csv":
            mine.to_csv(f / "survey.csv", index=False)
        else:
            mine.to_parquet(f / "survey.parquet", index=False)
        out.append(f)
    return out


def counted(folder, dest, n: int) -> list[str]:
    files = []
    for k, f in enumerate(split(folder, dest, n)):
        files.append(str(dest / f"c{k}.parquet"))
        assert main(["count", str(f), "--part", f"{k}/{n}", "--out", files[-1]]) == 0
    return files


def judged(res) -> dict:
    """What the integrity check decided, in a form that does not depend on the order of rows."""
    found = res.integrity
    rows = found.rows
    alerts = found.alerts[["unit_id", "start", "end", "responses", "flagged", "composite_without",
                           "rank_without", "flags_without"]]
    return {
        "rows": sorted((r.response_id, r.unit_id, tuple(r.reasons), bool(r.excluded), r.decision)
                       for r in rows.itertuples(index=False)),
        # where the device's first questionnaire is: a row of the file, or of a part's file
        "quarantine": sorted(re.sub(r"（第一次在.*?第\d+行）", "", v + r) for v, r in zip(
            found.quarantine["value"].astype(str), found.quarantine["reason"])),
        "units": found.units.sort_values("unit_id").reset_index(drop=True),
        "alerts": alerts.sort_values(["unit_id", "start"]).reset_index(drop=True),
        "members": sorted(found.members["response_id"]),
        "reviews": found.reviews.drop(columns=["row"]).sort_values(["period", "response_id"]).reset_index(drop=True),
        "comparison": found.comparison.sort_values("unit_id").reset_index(drop=True),
        "warnings": sorted(found.warnings),
    }


@pytest.mark.parametrize("n", [2, 3, 8])
def test_a_round_counted_in_parts_is_judged_and_scored_as_one_machine_judges_it(stuffed, one_machine, counted_in,
                                                                                 capsys, n):
    folder, attack = stuffed
    single, direct, direct_err = one_machine
    files = counted_in(n)
    merged = py.score(parts.with_counts(folder, files))
    one, many = judged(single), judged(merged)
    assert one["rows"] == many["rows"]
    for key in ("units", "alerts", "reviews", "comparison"):
        pd.testing.assert_frame_equal(one[key], many[key], check_dtype=False, check_categorical=False)
    assert one["quarantine"] == many["quarantine"] and one["members"] == many["members"]
    assert one["warnings"] == many["warnings"]
    pd.testing.assert_frame_equal(single.units, merged.units)
    pd.testing.assert_frame_equal(single.consequences, merged.consequences)
    # the round is one the check has work on: stuffing excluded, a period alerted, the reviews applied
    rows = single.integrity.rows
    assert rows["excluded"].sum() > 100 and set(single.integrity.alerts["unit_id"]) >= {"d7"}
    assert (rows["decision"] != "").sum() >= 3 and not merged.gaps.shape[0]
    assert len(set(rows.loc[rows["excluded"], "response_id"]) & attack) > 100

    capsys.readouterr()
    assert main(["score", str(folder), "--counts", *files, "--format", "json"]) == 0
    via = capsys.readouterr()
    assert json.loads(via.out) == direct
    said = [line for line in via.err.splitlines() if "剔除问卷" in line]
    assert said and said[0].split("`")[0] == [x for x in direct_err.splitlines() if "剔除问卷" in x][0].split("`")[0]
    assert f"pingyi integrity {folder} --counts" in said[0]


def test_the_merged_quarantine_names_each_part_and_its_row(stuffed, counted_in, capsys):
    folder, _ = stuffed
    files = counted_in(3)
    res = py.score(parts.with_counts(folder, files))
    q = res.integrity.quarantine
    assert len(q) > 100
    for k, f in enumerate(files):
        part = pd.read_csv(Path(f).parent / f"part{k}" / "survey.csv", dtype=str, keep_default_na=False)
        mine = q[q["file"] == f"c{k}.parquet：survey.csv（第 {k}/3 部分）"]
        assert len(mine)
        for r in mine.itertuples(index=False):  # the part's own row numbers (line 1 is the header)
            assert part.iloc[int(r.row) - 2]["unit_id"] == r.unit_id
    first = [r for r in q["reason"] if "第一次在c" in r]
    assert first and all(re.search(r"第一次在c\d\.parquet：survey\.csv（第 \d/3 部分）第\d+行", r) for r in first)
    capsys.readouterr()
    assert main(["integrity", str(folder), "--counts", *files, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sum(f["excluded"] for f in doc["flagged"]) == len(q)


def test_count_files_holding_the_same_questionnaire_are_refused(stuffed, counted_in, tmp_path, capsys):
    """Two count files without --part that overlap (the whole round and one of its parts):
    the shared questionnaires would count twice, so the merge refuses, naming the files."""
    folder, _ = stuffed
    whole = tmp_path / "whole.parquet"
    assert main(["count", str(folder), "--out", str(whole)]) == 0
    capsys.readouterr()
    assert main(["score", str(folder), "--counts", str(whole), counted_in(2)[0]]) == 1
    err = capsys.readouterr().err
    assert "whole.parquet" in err and "c0.parquet" in err and "不止一个计数文件" in err


def test_count_files_without_questionnaires_make_an_incomplete_league_not_a_silent_one(stuffed, counted_in, tmp_path,
                                                                                        capsys):
    """A count file from before count files carried questionnaires: the check cannot judge the
    round, so `score --counts` stops (exit 1) unless --allow-incomplete, and then says so."""
    folder, _ = stuffed
    files = counted_in(2)
    old = tmp_path / "old1.parquet"
    ds = py.load_dataset(Path(files[1]).parent / "part1")
    parts.write_counts(parts.dataset_counts(ds), old, {"part": "1/2", "tables": parts.table_totals(
        ds, ("survey", "onsite"))}, None, ds.ruleset)
    capsys.readouterr()
    assert main(["score", str(folder), "--counts", files[0], str(old)]) == 1
    err = capsys.readouterr().err
    assert "排名不完整" in err and "old1.parquet" in err and "不含问卷明细" in err and "未经问卷异常检查" in err
    assert main(["score", str(folder), "--counts", files[0], str(old), "--allow-incomplete", "--format", "csv"]) == 0
    err = capsys.readouterr().err
    assert "本次排名不完整" in err and "未经问卷异常检查" in err and "缺少" not in err.split("本次排名不完整")[1]
    res = py.score(parts.with_counts(folder, [files[0], str(old)]))
    assert res.integrity is None and "未经问卷异常检查" in res.incomplete
    whole = py.score(py.load_dataset(folder), integrity=False)  # every questionnaire counted, none judged
    pd.testing.assert_frame_equal(res.units, whole.units)
    assert main(["integrity", str(folder), "--counts", files[0], str(old)]) == 1
    assert "不含问卷明细" in capsys.readouterr().err


def test_the_dask_gather_carries_the_questionnaires_and_judges_as_one_machine(stuffed, tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    folder, _ = stuffed
    parts_dir = tmp_path / "survey-parts"
    parts_dir.mkdir()
    for k, f in enumerate(split(folder, tmp_path, 3, fmt="parquet")):
        shutil.copy(f / "survey.parquet", parts_dir / f"survey-{k}.parquet")
    out = tmp_path / "counts.parquet"
    assert main(["count", str(folder), "--dask", "local", "--parts-dir", str(parts_dir), "--out", str(out)]) == 0
    single = py.score(py.load_dataset(folder))
    merged = py.score(parts.with_counts(folder, [out]))
    assert judged(single)["rows"] == judged(merged)["rows"]
    pd.testing.assert_frame_equal(single.units, merged.units)
    files = set(merged.integrity.quarantine["file"])
    assert files and all(f.startswith("counts.parquet：survey-") for f in files)
