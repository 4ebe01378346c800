"""The DuckDB engine, partial counts and the Dask path give what the pandas path gives."""

from __future__ import annotations

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
    pd.testing.assert_frame_equal(py.score(a).units, py.score(b).units)
    pd.testing.assert_frame_equal(py.score(a).items, py.score(b).items)
    for t in ("survey", "onsite"):
        pd.testing.assert_frame_equal(a.tables[t], b.tables[t])
    return a, b


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
    rejected_unit = a.quarantine[a.quarantine["reason"].str.contains("was rejected in the units table")]
    assert len(rejected_unit)


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
    assert q["reason"].iloc[1] == "duplicate response_id 'r1' (first on row 2)"


def test_clean_response_tables_are_built_only_when_asked_for():
    ds = py.load_dataset(SAMPLE_2011, engine="duckdb")
    py.score(ds, integrity=False)
    assert not ds.tables.loaded("survey")  # scoring used the engine's counts
    # the integrity check reads the questionnaire rows (fingerprints, times, answers, comments)
    assert len(ds.survey) == 5018
    assert ds.tables.loaded("survey")


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
    assert main(["score", str(whole), "--format", "json"]) == 0
    direct = json.loads(capsys.readouterr().out)
    assert main(["score", str(whole), "--counts", *files, "--format", "json"]) == 0
    merged = json.loads(capsys.readouterr().out)
    assert merged == direct
    ds = parts.with_counts(whole, files)
    full = py.load_dataset(whole)
    cols = ["accepted", "rejected"]
    pd.testing.assert_frame_equal(ds.table_counts.set_index("table").loc[["survey", "onsite"], cols],
                                  full.table_counts.set_index("table").loc[["survey", "onsite"], cols])


def test_a_part_holding_another_parts_ids_is_refused(tmp_path, capsys):
    whole = generate.write_round(tmp_path / "whole", 500, "parquet", seed=5)
    assert main(["count", str(whole), "--part", "0/2", "--out", str(tmp_path / "p.parquet")]) == 1
    assert "do not belong to part 0/2" in capsys.readouterr().err


def test_a_part_given_twice_is_refused(tmp_path):
    whole = generate.write_round(tmp_path / "whole", 500, "parquet", seed=5)
    folders = split_round(whole, tmp_path, 2)
    part = parts.write_part(py.load_dataset(folders[0]), tmp_path / "c0.parquet", (0, 2))
    with pytest.raises(DatasetError, match="given twice"):
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
        counts, quarantine, accepted = count_parquet_dir(client, whole, parts_dir)
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
        with pytest.raises(DatasetError, match="not one part"):
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
