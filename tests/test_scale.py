"""The DuckDB engine, partial counts and the Dask path give what the pandas path gives."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

import pingyi_lib as py
from pingyi_lib.cli import main
from pingyi_lib.common.errors import DatasetError
from pingyi_lib.dataset.validate import QUARANTINE_TIME
from pingyi_lib.scoring import parts

from .conftest import ROOT, SAMPLE_2011, SAMPLE_2012

_spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)


def assert_same_round(folder):
    """Quarantine, accepted/rejected counts, scores and clean tables agree between the engines."""
    a = py.load_dataset(folder, engine="pandas")
    b = py.load_dataset(folder, engine="duckdb")
    pd.testing.assert_frame_equal(a.quarantine, b.quarantine)
    pd.testing.assert_frame_equal(a.table_counts, b.table_counts)
    assert a.round == b.round  # year and last date read from the engine's day counts, not from rows
    # the engine's counts (numpy over the compact rows for survey, SQL for onsite) are the pandas path's
    pd.testing.assert_frame_equal(parts.dataset_counts(a), parts.dataset_counts(b))
    ra, rb = py.score(a), py.score(b)
    for what in ("units", "gaps", "items", "quarantine"):
        pd.testing.assert_frame_equal(getattr(ra, what), getattr(rb, what))
    # the integrity check ran on the engine's compact rows and found what it finds in the table
    if b.engines["survey"] == "duckdb":
        assert not b.tables.loaded("survey") and not rb.dataset.tables.loaded("survey")
    for what in ("rows", "units", "bursts", "quarantine", "comparison"):
        pd.testing.assert_frame_equal(getattr(ra.integrity, what), getattr(rb.integrity, what))
    assert_compact_rows_are_the_table(b)
    for t in ("survey", "onsite"):
        pd.testing.assert_frame_equal(a.tables[t], b.tables[t])
        pd.testing.assert_frame_equal(ra.dataset.tables[t], rb.dataset.tables[t])
    return a, b


def assert_compact_rows_are_the_table(ds):
    """The engine's compact rows hold the clean table's values, column for column."""
    if ds.engines.get("survey") != "duckdb":
        return
    rows = ds.compact_rows("survey")
    assert len(rows.columns) >= 8  # row, id, unit, channel, time, fingerprint, comment, answers
    table = ds.tables["survey"]
    for c in rows.columns:
        pd.testing.assert_series_equal(rows[c].astype(object), table[c].astype(object), check_names=True)


@pytest.mark.parametrize("sample", [SAMPLE_2011, SAMPLE_2012], ids=["2011", "2012"])
def test_engine_reads_the_samples_as_the_pandas_path_does(sample):
    _, b = assert_same_round(sample)
    assert b.engines["survey"] == "duckdb"


@pytest.mark.parametrize("fmt", ["parquet", "csv", "gb18030"])
def test_engine_quarantines_every_kind_of_bad_row_as_the_pandas_path_does(tmp_path, fmt):
    folder = generate.write_round(tmp_path / fmt, 6000, fmt, seed=7)
    a, b = assert_same_round(folder)
    assert b.engines == {**b.engines, "survey": "duckdb", "onsite": "duckdb"}
    # every kind the generator plants is there, with row numbers as a spreadsheet shows them
    codes = set(a.quarantine["reason_code"])
    assert {"missing_id", "unknown_unit", "missing_unit", "unknown_channel", "missing_value", "unknown_answer",
            "bad_date", "duplicate_id", "unknown_panel_category"} <= codes
    rejected_unit = a.quarantine[a.quarantine["reason"].str.contains("在评议单位表中被拒绝，本行随之不计")]
    assert len(rejected_unit)


def test_rows_taken_out_of_a_counted_round_are_subtracted_from_its_counts(tmp_path):
    """Leaving questionnaires out (the integrity policy, each rescoring without a period) takes
    their counts from the engine's, which stay in use: the same counts as counting the kept rows."""
    folder = generate.write_round(tmp_path / "r", 6000, "parquet", seed=3)
    ds = py.load_dataset(folder, engine="duckdb")
    rows = ds.compact_rows("survey")
    whole_unit = set(rows.loc[rows["unit_id"] == rows["unit_id"].iloc[0], "response_id"])  # a unit emptied
    some = set(rows["response_id"].iloc[::7])
    out = ds.without_rows("survey", whole_unit | some, ds.quarantine.iloc[:0])
    assert out.counted("survey") and out.counts is not ds.counts
    kept = out.compact_rows("survey")
    assert len(kept) == len(rows) - len(whole_unit | some)
    recounted = py.score(dataclasses.replace(out, engines={**out.engines, "survey": "pandas"}), integrity=False)
    subtracted = py.score(out, integrity=False)
    pd.testing.assert_frame_equal(subtracted.units, recounted.units)
    pd.testing.assert_frame_equal(subtracted.gaps, recounted.gaps)
    survey = out.counts[out.counts["table"] == "survey"]
    expected = parts.dataset_counts(dataclasses.replace(out, engines={**out.engines, "survey": "pandas"}))
    expected = expected[expected["table"] == "survey"]
    live = survey[(survey["measure"] != "answers") | (survey["n"] > 0)].reset_index(drop=True)
    pd.testing.assert_frame_equal(live, expected[(expected["measure"] != "answers") | (expected["n"] > 0)]
                                  .reset_index(drop=True))
    assert rows["unit_id"].iloc[0] not in set(survey["unit_id"])
    # a rescoring that reads only the counts copies no row, and scores the same
    light = ds.scored_without("survey", rows["response_id"].isin(whole_unit | some).to_numpy())
    assert light.compact_rows("survey") is rows
    pd.testing.assert_frame_equal(light.counts, out.counts)
    pd.testing.assert_frame_equal(py.score(light, integrity=False).units, subtracted.units)


def test_a_file_with_line_breaks_in_cells_takes_the_exact_path_and_agrees(tmp_path):
    folder = generate.write_round(tmp_path / "hostile", 3000, "csv", seed=2, hostile=True)
    a, b = assert_same_round(folder)
    assert b.engines["survey"] == "pandas"  # the csv module's path keeps line numbers exact
    # the repeat of a rejected row is kept (duplicates are judged among valid rows)
    sv = a.tables["survey"]
    assert (sv["response_id"] == sv["response_id"].iloc[0]).sum() == 1


def test_engine_row_numbers_skip_nothing_a_spreadsheet_shows(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    (d / "units.csv").write_text("unit_id,name,level\na,甲,district\n", encoding="utf-8")
    (d / "survey.csv").write_text(
        "response_id,unit_id,channel,lawful,fair,open,service,integrity\n"
        "r1,a,online,1,1,1,1,1\n"
        ",,,,,,,\n"  # row 3: no value at all, holds no data
        "r2,z,online,1,1,1,1,1\n"  # row 4: unknown unit
        "r1,a,online,2,2,2,2,2\n", encoding="utf-8")  # row 5: duplicate of row 2
    ds = py.load_dataset(d, engine="duckdb")
    assert ds.engines["survey"] == "duckdb"
    q = ds.quarantine
    assert list(q["row"]) == [4, 5]
    assert q["reason"].iloc[1] == "“response_id”重复：“r1”在第 2 行已有（保留第 2 行）"


def test_a_ranked_unit_without_valid_questionnaires_stops_the_league_on_every_path(tmp_path, capsys):
    d = tmp_path / "r"
    d.mkdir()
    (d / "units.csv").write_text("unit_id,name,level\na,甲区安监局,district\nb,乙区安监局,district\n", encoding="utf-8")
    (d / "survey.csv").write_text(
        "response_id,unit_id,channel,submitted_at,lawful,fair,open,service,integrity\n"
        "r1,a,online,2013-08-01 09:00,1,1,1,1,1\n"
        "r2,b,online,2013-08-02 10:00,,,,,\n"  # b: questionnaires, none with a scored answer
        "r3,b,online,2013-08-03,,,,,\n", encoding="utf-8")
    pandas_path = py.score(py.load_dataset(d, engine="pandas"), integrity=False)
    engine_ds = py.load_dataset(d, engine="duckdb")
    engine_path = py.score(engine_ds, integrity=False)
    assert engine_ds.engines["survey"] == "duckdb" and not engine_ds.tables.loaded("survey")
    pd.testing.assert_frame_equal(pandas_path.gaps, engine_path.gaps)
    assert list(engine_path.gaps["kind"]) == ["no_valid_survey"]
    assert "本单位的 2 份问卷没有一份有效答案" in engine_path.gaps["cause"].iloc[0]
    assert engine_ds.round.year == 2013 and str(engine_ds.round.last_date) == "2013-08-03"
    # from counts alone (no rows at all): the same gap, and the CLI stops
    part = parts.write_part(py.load_dataset(d), tmp_path / "c.parquet")
    counted = parts.with_counts(d, [part])
    assert counted.round == engine_ds.round
    gaps = py.score(counted, integrity=False).gaps
    assert list(gaps["unit_id"]) == ["b"] and "2 份问卷没有一份有效答案" in gaps["cause"].iloc[0]
    assert main(["score", str(d), "--counts", str(part)]) == 1
    assert "单位“b”（乙区安监局）没有有效问卷" in capsys.readouterr().err


def test_clean_response_tables_are_built_only_when_asked_for():
    ds = py.load_dataset(SAMPLE_2012, engine="duckdb")
    res = py.score(ds)
    # scoring used the engine's counts, and the integrity check the engine's compact rows
    assert not ds.tables.loaded("survey") and not res.dataset.tables.loaded("survey")
    gone = set(res.integrity.rows.loc[res.integrity.rows["excluded"], "response_id"])
    assert len(gone) == res.integrity.excluded == 108  # the 2012 sample's stuffed device
    # built on demand: the accepted rows without the excluded ones, the engine's rows unchanged
    assert len(ds.survey) == 4363 and len(res.dataset.survey) == 4363 - 108
    assert not res.dataset.survey["response_id"].isin(gone).any()
    assert ds.tables.loaded("survey") and res.dataset.tables.loaded("survey")


def test_engine_and_pandas_agree_on_odd_times_and_control_characters(tmp_path):
    """Years outside 1900-2100 and days no calendar has are typing slips on both paths; control characters in a device
    id or a comment are cleaned the same way in the compact rows as in the table."""
    d = tmp_path / "r"
    d.mkdir()
    (d / "units.csv").write_text("unit_id,name,level\na,甲区安监局,district\n", encoding="utf-8")
    lines = ["response_id,unit_id,channel,submitted_at,fingerprint,lawful,fair,open,service,integrity,comment"]
    times = ["0001-01-01", "2200-03-01 10:00", "2013-08-01 09:00", "2013年8月2日", " 2013-08-03 10:00", "2013-02-30"]
    for i in range(60):
        fp = "dev\x01ice" if i % 3 else "device"
        lines.append(f"r{i},a,online,{times[i % len(times)]},{fp},1,2,1,1,1,好\x02评{i % 2}")
    (d / "survey.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    a, b = assert_same_round(d)
    assert b.engines["survey"] == "duckdb"
    bad = a.quarantine[a.quarantine["reason_code"] == "bad_date"]
    assert len(bad) == 30  # every 0001, 2200 and 02-30 row: 3 of each 6, 60 rows
    assert set(b.compact_rows("survey")["fingerprint"]) == {"device"}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_duplicate_ids_time_is_read_as_written_on_both_paths(tmp_path, fmt):
    """The engine's checked table keeps times as read (not the text): a repeated id's time in the
    quarantine is still the one written, odd (2013年8月2日), date only, blank or with a padded unit."""
    d = tmp_path / "r"
    d.mkdir()
    (d / "units.csv").write_text("unit_id,name,level\na,甲区安监局,district\nb,乙区安监局,district\n",
                                 encoding="utf-8")
    times = ["2013年8月2日", "2013-08-03", "", "2013-08-01 09:00", "2013/8/4 10:05"]
    rows = []
    for i in range(40):
        rid = f"r{i % 30}"  # r0..r9 twice: ten duplicates, each kind of time
        rows.append({"response_id": rid, "unit_id": " b " if i % 4 == 1 else "a", "channel": "online",
                     "submitted_at": times[i % len(times)], "fingerprint": f"f{i}", "lawful": "1", "fair": "2",
                     "open": "1", "service": "1", "integrity": "1", "comment": ""})
    frame = pd.DataFrame(rows)
    if fmt == "csv":
        frame.to_csv(d / "survey.csv", index=False)
    else:
        frame.to_parquet(d / "survey.parquet", index=False)
    a, b = assert_same_round(d)
    assert b.engines["survey"] == "duckdb"
    dups = b.quarantine[b.quarantine["reason_code"] == "duplicate_id"]
    assert len(dups) == 10
    assert set(dups["unit_id"]) == {"a", "b"}  # " b " stripped, as the pandas path strips it
    at = dups[QUARANTINE_TIME]
    assert at.isna().sum() == 2  # the blank times
    assert {pd.Timestamp("2013-08-02"), pd.Timestamp("2013-08-03"), pd.Timestamp("2013-08-04 10:05")} <= set(at)


def split_round(src, dest, n):
    """Part k of n: the rows whose id has part_of(id, n) == k, in file order; small tables copied."""
    folders = []
    survey = pq.read_table(src / "survey.parquet").to_pandas()
    onsite = pq.read_table(src / "onsite.parquet").to_pandas()
    for k in range(n):
        f = dest / f"part{k}"
        f.mkdir(parents=True)
        shutil.copy(src / "units.parquet", f / "units.parquet")
        for name, df, col in (("survey", survey, "response_id"), ("onsite", onsite, "ballot_id")):
            mine = df[col].map(lambda i: parts.part_of(i, n) == k)
            df[mine].to_parquet(f / f"{name}.parquet", index=False)
        folders.append(f)
    return folders


def test_counts_of_parts_split_by_id_hash_score_as_the_whole_round(tmp_path, capsys):
    whole = generate.write_round(tmp_path / "whole", 6000, "parquet", seed=5)
    folders = split_round(whole, tmp_path, 3)
    files = []
    for k, f in enumerate(folders):
        files.append(str(tmp_path / f"c{k}.parquet"))
        assert main(["count", str(f), "--part", f"{k}/3", "--out", files[-1]]) == 0
    capsys.readouterr()
    # the generator plants a rejected units row (u199): the league is incomplete from the counts too
    assert main(["score", str(whole), "--counts", *files, "--format", "json"]) == 1
    assert "单位“u199”（第199评议单位）不在排名中" in capsys.readouterr().err
    assert main(["score", str(whole), "--format", "json", "--allow-incomplete"]) == 0
    direct = json.loads(capsys.readouterr().out)
    assert main(["score", str(whole), "--counts", *files, "--format", "json", "--allow-incomplete"]) == 0
    merged = json.loads(capsys.readouterr().out)
    assert merged == direct
    ds = parts.with_counts(whole, files)
    full = py.load_dataset(whole)
    cols = ["accepted", "rejected"]
    pd.testing.assert_frame_equal(ds.table_counts.set_index("table").loc[["survey", "onsite"], cols],
                                  full.table_counts.set_index("table").loc[["survey", "onsite"], cols])
    assert ds.round == full.round  # the questionnaires' days came with the counts
    assert not (whole / "round.toml").exists() and ds.round.last_date is not None


def test_a_part_holding_another_parts_ids_is_refused(tmp_path, capsys):
    whole = generate.write_round(tmp_path / "whole", 500, "parquet", seed=5)
    assert main(["count", str(whole), "--part", "0/2", "--out", str(tmp_path / "p.parquet")]) == 1
    assert "不属于第 0/2 部分" in capsys.readouterr().err


def test_a_part_given_twice_is_refused(tmp_path):
    whole = generate.write_round(tmp_path / "whole", 500, "parquet", seed=5)
    folders = split_round(whole, tmp_path, 2)
    part = parts.write_part(py.load_dataset(folders[0]), tmp_path / "c0.parquet", (0, 2))
    with pytest.raises(DatasetError, match="给了两次"):
        parts.read_parts([part, part])


def test_dask_counts_a_directory_of_parts_as_one_machine_does(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    from pingyi_lib.dataset.distributed import count_parquet_dir

    whole = generate.write_round(tmp_path / "whole", 6000, "parquet", seed=11)
    folders = split_round(whole, tmp_path, 3)
    parts_dir = tmp_path / "survey-parts"
    parts_dir.mkdir()
    for k, f in enumerate(folders):
        shutil.copy(f / "survey.parquet", parts_dir / f"survey-{k}.parquet")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        got = count_parquet_dir(client, whole, parts_dir)
    counts, quarantine, accepted = got.counts, got.quarantine, got.accepted
    assert got.rows.num_rows == accepted  # the questionnaires for the integrity check came along
    single = py.load_dataset(whole, engine="duckdb")
    expected = single.counts[single.counts["table"] == "survey"].reset_index(drop=True)
    pd.testing.assert_frame_equal(counts, parts.dataset_counts(single).query("table == 'survey'")
                                  .reset_index(drop=True))
    assert counts["n"].sum() == expected["n"].sum()
    survey_q = single.quarantine[single.quarantine["table"] == "survey"]
    assert len(quarantine) == len(survey_q)
    assert accepted == int(single.table_counts.set_index("table").loc["survey", "accepted"])
    # and the scores: the whole round's scores from the Dask counts
    ds = py.load_dataset(whole, skip=("survey",))
    ds.counts = pd.concat([counts, single.counts[single.counts["table"] == "onsite"]], ignore_index=True)
    ds.engines.update(survey="counts", onsite="counts")
    pd.testing.assert_frame_equal(py.score(ds).units, py.score(single).units)


def test_dask_refuses_files_not_split_by_the_id_hash(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    from pingyi_lib.dataset.distributed import count_parquet_dir

    whole = generate.write_round(tmp_path / "whole", 2000, "parquet", seed=3)
    parts_dir = tmp_path / "halves"
    parts_dir.mkdir()
    survey = pq.read_table(whole / "survey.parquet").to_pandas()
    survey.iloc[:1000].to_parquet(parts_dir / "a.parquet", index=False)
    survey.iloc[1000:].to_parquet(parts_dir / "b.parquet", index=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with pytest.raises(DatasetError, match="不是 2 个部分中的一个"):
            count_parquet_dir(client, whole, parts_dir)


@pytest.mark.parametrize("argv", [["--help"], ["validate", str(SAMPLE_2011)]], ids=["help", "validate"])
def test_help_and_validate_never_import_the_report_stack(argv):
    code = ("import sys, runpy\n"
            f"sys.argv = ['pingyi', *{argv!r}]\n"
            "try:\n    runpy.run_module('pingyi_lib', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "heavy = sorted(m for m in ('plotly', 'papermill', 'jieba', 'nbconvert') if m in sys.modules)\n"
            "print('HEAVY', heavy, file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in out.stderr, out.stderr[-2000:]


def test_compact_rows_read_in_many_ranges_are_the_table(monkeypatch):
    """The compact rows are fetched from DuckDB a range of rows at a time; with ranges of 700
    rows the 2012 sample takes seven, and the rows are still the table's, in file order."""
    from pingyi_lib.dataset import compact

    monkeypatch.setattr(compact, "BATCH_ROWS", 700)
    ds = py.load_dataset(SAMPLE_2012, engine="duckdb")
    assert len(ds.compact_rows("survey")) == 4363
    # the ids in one Arrow chunk, not seven: a take of a few of them does not copy them all
    assert ds.compact_rows("survey")["response_id"].array._pa_array.num_chunks == 1
    assert_compact_rows_are_the_table(ds)


def test_duckdb_is_closed_before_the_compact_rows_are_assembled_and_counted(monkeypatch):
    """DuckDB's memory (the checked table) is freed before the compact rows are assembled:
    a round of millions would otherwise hold both at once. The rows are still the table."""
    from pingyi_lib.dataset import compact, engine

    closed, seen = [], []
    close, assemble, count = engine._Source.close, compact._categories, engine.counts_of_rows
    monkeypatch.setattr(engine._Source, "close", lambda self: (closed.append(self), close(self))[1])
    last = lambda: closed[-1] if closed else None  # noqa: E731 - the source closed last, as rows are assembled
    monkeypatch.setattr(compact, "_categories", lambda *a, **k: (seen.append(last()), assemble(*a, **k))[1])
    monkeypatch.setattr(engine, "counts_of_rows", lambda *a: (seen.append(last()), count(*a))[1])
    ds = py.load_dataset(SAMPLE_2012, engine="duckdb")
    # the survey's source: closed once its rows were fetched, then again by scan (which does nothing);
    # the on-site ballots' (counted in DuckDB) once
    twice = [s for s in set(closed) if closed.count(s) == 2]
    assert len(twice) == 1 and len(set(closed)) == 2
    assert seen and all(s is twice[0] for s in seen)  # closed before its rows were assembled and counted
    assert_compact_rows_are_the_table(ds)


def test_the_engine_draws_no_progress_bar_on_standard_output():
    """DuckDB draws a progress bar on standard output for queries over two seconds: on a big
    round it would land in `pingyi score --format csv > FILE`. The engine's connection has it
    off (asked in a process of its own: under pytest DuckDB starts with it off)."""
    code = ("import pathlib, pingyi_lib as py; from pingyi_lib.dataset import engine, schema; "
            "src = engine._Source(pathlib.Path(r'%s'), schema.tables(py.load_ruleset())['survey']); "
            "print(src.con.execute(\"SELECT current_setting('enable_progress_bar')\").fetchall()); src.close()"
            % (SAMPLE_2011 / "survey.csv"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[(False,)]"


def test_a_generated_round_of_any_size_keeps_its_shares_and_rejects_its_last_unit(tmp_path, capsys):
    folder = generate.write_round(tmp_path / "r", 4000, "csv", seed=4, units=1200)
    units = pd.read_csv(folder / "units.csv", dtype=str, keep_default_na=False)
    assert len(units) == 1200 and units["unit_id"].is_unique and units["unit_id"].iloc[-1] == "u1199"
    assert (units["level"] == "district").sum() == 180 and (units["level"] == "window").sum() == 600
    districts = set(units.loc[units["level"] == "district", "unit_id"])
    assert set(units.loc[units["level"].isin(["window", "station"]), "parent_id"]) <= districts
    survey = pd.read_csv(folder / "survey.csv", dtype=str, keep_default_na=False)
    assert survey["unit_id"].str.fullmatch(r"u\d{4}|x999|").all()  # four-digit ids, no three-digit one
    assert main(["score", str(folder), "--format", "json"]) == 1
    assert "单位“u1199”（第1199评议单位）不在排名中" in capsys.readouterr().err
    with pytest.raises(ValueError):
        generate.write_round(tmp_path / "small", 100, "csv", units=10)
