"""The scored bundle a report batch hands its notebooks: an Arrow and JSON store in the user's
cache folder (output/store.py, output/scored.py), never a pickle, never in the report folder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pingyi_lib.output import scored, store
from tests.conftest import SAMPLE_2011, SAMPLE_2012


def assert_same(a, b, path: str = "bundle", seen: set | None = None) -> None:
    """``b`` is ``a`` read back: equal values, dtypes and indexes, the same classes throughout."""
    seen = set() if seen is None else seen
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if id(a) in seen:
        return
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=path)
        assert a.attrs.keys() == b.attrs.keys(), path
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=path)
    elif isinstance(a, pd.Index):
        pd.testing.assert_index_equal(a, b, exact=True, obj=path)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), path
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]", seen)
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            assert_same(dict.__getitem__(a, k), dict.__getitem__(b, k), f"{path}[{k!r}]", seen)
    elif type(a).__module__.startswith("pingyi_lib."):
        seen.add(id(a))
        assert_same(vars(a), vars(b), path, seen)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.fixture(scope="module")
def bundle():
    return scored.compute(str(SAMPLE_2012), "", str(SAMPLE_2011), "")


def test_a_scored_round_with_its_look_back_reads_back_as_it_was_written(bundle, tmp_path):
    folder = store.write(bundle, tmp_path / "s")
    back = store.read(folder)
    assert_same(bundle, back)
    res, last, follow = back
    assert follow.res is res and follow.previous is last  # shared objects stay shared
    assert res.dataset.ruleset is res.ruleset
    names = {p.suffix for p in folder.rglob("*") if p.is_file()}
    assert names <= {".json", ".arrow", ".npy"}  # nothing that runs code when read
    for p in folder.rglob("*.npy"):
        np.load(p, allow_pickle=False)  # raises for an array that needs pickle


def test_the_store_rebuilds_only_pingyi_classes(tmp_path):
    for name in ("subprocess:Popen", "os:system", "builtins:eval", "pingyi_lib.cli:main",
                 "pingyi_lib.output.store:np", "pingyi_lib.x:y.z"):
        tmp = tmp_path / name.replace(":", "_")
        tmp.mkdir()
        (tmp / store.MANIFEST).write_text(json.dumps(
            {"format": store.FORMAT, "value": {"$obj": name, "$id": 0, "state": {"$dict": []}}}))
        with pytest.raises(store.StoreError):
            store.read(tmp)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / store.MANIFEST).write_text(json.dumps(
        {"format": store.FORMAT, "value": {"$array": "../x.npy", "$id": 0}}))
    with pytest.raises(store.StoreError, match="outside"):
        store.read(outside)
    (tmp_path / "pickled").mkdir()
    with pytest.raises(store.StoreError):
        store.read(tmp_path / "pickled")


def test_a_value_the_store_cannot_hold_is_refused_on_writing(tmp_path):
    for bad in (lambda: 1, Path("/x"), object()):
        with pytest.raises(store.StoreError):
            store.write({"v": bad}, tmp_path / "bad")


@dataclasses.dataclass
class _Foreign:  # a class outside pingyi_lib: refused
    x: int = 1


def test_a_foreign_class_is_refused_on_writing(tmp_path):
    with pytest.raises(store.StoreError, match="cannot be stored"):
        store.write(_Foreign(), tmp_path / "f")


cells = st.one_of(st.none(), st.text(max_size=5), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=False),
                  st.tuples(st.text(max_size=2), st.integers(0, 3)), st.booleans())


@given(rows=st.lists(st.tuples(st.integers(-10**12, 10**12), st.floats(allow_nan=True), st.one_of(st.none(), st.text()),
                          cells, st.sampled_from(["甲", "乙", "丙"]), st.booleans()), max_size=12),
       index=st.sampled_from(["range", "text", "int", "multi"]))
def test_frames_of_every_kind_read_back_as_written(rows, index, tmp_path_factory):
    df = pd.DataFrame(rows, columns=["n", "x", "t", "mixed", "cat", "b"])
    df["cat"] = df["cat"].astype(pd.CategoricalDtype(["甲", "乙", "丙"]))
    df["when"] = pd.Timestamp("2011-08-01") + pd.to_timedelta(df["n"].abs() % 1000, unit="s")
    df["Int"] = pd.array([None if i % 3 == 0 else i for i in range(len(df))], dtype="Int64")
    if index == "text":
        df.index = pd.Index([f"u{i}" for i in range(len(df))], name="unit_id")
    elif index == "int":
        df.index = pd.Index(np.arange(len(df)) * 7, name=None)
    elif index == "multi":
        df.index = pd.MultiIndex.from_tuples([(i % 2, f"k{i}") for i in range(len(df))], names=["a", "b"])
    array, series = df["x"].to_numpy(), df["n"]
    df.columns = ["n", 2, ("t", 1), "mixed", "cat", "b", "when", "Int"]  # labels that are not text
    folder = tmp_path_factory.mktemp("frame")
    value = {"frame": df, "series": series, "again": df, "array": array, "when": dt.date(2011, 9, 20),
             "ids": frozenset({"a", "b"}), "nan": float("nan"), "big": np.int64(2**40), "t": (1, "a")}
    back = store.read(store.write(value, folder))
    assert_same(value, back)
    assert back["again"] is back["frame"]
    shutil.rmtree(folder)


def test_a_report_uses_the_store_while_its_inputs_match_and_scores_afresh_once_they_change(bundle, tmp_path,
                                                                                         monkeypatch):
    ds = tmp_path / "2012"
    shutil.copytree(SAMPLE_2012, ds)
    inputs = scored.inputs_of(str(ds), "", str(SAMPLE_2011), "2012-09-20")
    folder = scored.write(bundle, "k1", inputs, root=tmp_path / "cache")
    assert folder == tmp_path / "cache" / "scored" / "k1"
    assert oct((tmp_path / "cache").stat().st_mode & 0o777) == "0o700"  # raw rows: the user's only
    calls = []
    monkeypatch.setattr(scored, "compute", lambda *a: calls.append(a) or "fresh")
    got = scored.load(str(folder), str(ds), "", str(SAMPLE_2011), "2012-09-20")
    assert isinstance(got, tuple) and not calls
    assert scored.load(str(folder), str(ds), "", str(SAMPLE_2011), "2012-09-21") == "fresh"  # another day
    survey = ds / "survey.csv"
    os.utime(survey, ns=(survey.stat().st_atime_ns, survey.stat().st_mtime_ns + 10**9))  # the data was edited
    assert scored.load(str(folder), str(ds), "", str(SAMPLE_2011), "2012-09-20") == "fresh"
    assert scored.load(str(tmp_path / "gone"), str(ds), "", str(SAMPLE_2011), "2012-09-20") == "fresh"
    assert len(calls) == 3


def test_old_stores_are_pruned_and_a_half_written_one_is_cleared(bundle, tmp_path):
    base = tmp_path / "cache" / "scored"
    base.mkdir(parents=True)
    for i in range(scored.KEEP + 3):
        (base / f"old{i}").mkdir()
        os.utime(base / f"old{i}", (1e9 + i, 1e9 + i) if i < 2 else None)  # two unused for years
    (base / ".k.half").mkdir()
    os.utime(base / ".k.half", (1e9, 1e9))
    scored.write(bundle, "new", {"files": []}, root=tmp_path / "cache")
    left = sorted(p.name for p in base.iterdir())
    assert "new" in left and ".k.half" not in left and "old0" not in left and "old1" not in left
    assert len(left) == scored.KEEP


def test_a_kept_notebook_names_no_cache_folder():
    nb = {"metadata": {"papermill": {"parameters": {"scored": "/home/a/.cache/pingyi/scored/k", "dataset": "d"}}},
          "cells": [{"metadata": {"tags": ["injected-parameters"]},
                     "source": '# Parameters\ndataset = "d"\nscored = "/home/a/.cache/pingyi/scored/k"\n'},
                    {"metadata": {}, "source": 'scored = "keep me"\n'}]}
    assert scored.forget(nb)
    assert ".cache" not in json.dumps(nb["metadata"]) + nb["cells"][0]["source"]
    assert 'dataset = "d"' in nb["cells"][0]["source"] and nb["cells"][1]["source"] == 'scored = "keep me"\n'
    assert not scored.forget(nb)


def test_a_later_batch_reuses_the_store_while_its_files_are_as_they_were(bundle, tmp_path, monkeypatch):
    monkeypatch.setenv(scored.CACHE_ENV, str(tmp_path / "cache"))
    ds = tmp_path / "2012"
    shutil.copytree(SAMPLE_2012, ds)
    assert scored.reuse("k2", str(ds), "", str(SAMPLE_2011)) is None  # nothing stored yet
    folder = scored.keep(bundle, "k2", str(ds), "", str(SAMPLE_2011), "2012-09-20")
    back, where = scored.reuse("k2", str(ds), "", str(SAMPLE_2011))
    assert where == folder
    assert_same(bundle, back)
    assert scored.reuse("k2", str(tmp_path / "elsewhere"), "", str(SAMPLE_2011)) is None  # other files
    survey = ds / "survey.csv"
    os.utime(survey, ns=(survey.stat().st_atime_ns, survey.stat().st_mtime_ns + 10**9))  # touched since
    assert scored.reuse("k2", str(ds), "", str(SAMPLE_2011)) is None
    os.utime(survey, ns=(survey.stat().st_atime_ns, survey.stat().st_mtime_ns - 10**9))
    assert scored.reuse("k2", str(ds), "", str(SAMPLE_2011)) is not None
    (Path(folder) / store.MANIFEST).write_text("{", encoding="utf-8")  # damaged
    assert scored.reuse("k2", str(ds), "", str(SAMPLE_2011)) is None


def test_the_next_page_in_a_kernel_gets_a_fresh_copy_of_the_store_without_reading_it_again(bundle, tmp_path,
                                                                                          monkeypatch):
    inputs = scored.inputs_of(str(SAMPLE_2012), "", str(SAMPLE_2011), "2012-09-20")
    folder = scored.write(bundle, "k3", inputs, root=tmp_path / "cache")
    reads = []
    read = store.read
    monkeypatch.setattr(store, "read", lambda f: reads.append(f) or read(f))
    args = (str(folder), str(SAMPLE_2012), "", str(SAMPLE_2011), "2012-09-20")
    first = scored.load(*args)
    res = first[0]  # a page that changes what it was given, every way pandas allows
    res.units.loc[:, "composite"] = -1.0
    res.units.iloc[0, 0] = None
    res.units.index.name = "changed"
    res.units.columns.name = "changed"
    res.units["extra"] = 1
    res.units.attrs["note"] = "changed"
    res.dataset.tables["survey"].pop(res.dataset.tables["survey"].columns[-1])
    res.dataset.tables["survey"].loc[:, "unit_id"] = "changed"
    with pytest.raises(ValueError, match="read-only"):  # the bootstrap replicates: read-only views
        res.replicates.composite[0, 0] = -1.0
    first[2].problems = None
    second = scored.load(*args)
    assert len(reads) == 1  # copied, not read again
    assert_same(bundle, second)  # as written, whatever the first page did
    assert second[2].res is second[0] and second[2].previous is second[1]  # shared objects stay shared
    made_of = (folder / scored.INPUTS).read_bytes()
    shutil.rmtree(folder)
    store.write(bundle, folder)  # the store written again: read again
    (folder / scored.INPUTS).write_bytes(made_of)
    assert_same(bundle, scored.load(*args))
    assert len(reads) == 2


def test_a_private_copy_shares_data_until_changed_and_keeps_the_tree_shape():
    shared = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}, index=pd.Index([3, 4], name="i"))
    arr = np.arange(6.0).reshape(2, 3)
    objs = np.array([["k"], ["l"]], dtype=object)
    tree = {"one": shared, "two": [shared, arr], "s": shared["a"], "ix": shared.index, "objs": objs,
            "t": (arr, {"n": 1})}
    got = scored.private_copy(tree)
    assert got["one"] is got["two"][0] and got["one"] is not shared  # shared stays shared, a new object
    assert np.shares_memory(got["one"]["a"].to_numpy(), shared["a"].to_numpy())  # no data copied yet
    assert got["t"][0] is got["two"][1] and np.shares_memory(got["t"][0], arr)
    assert not got["t"][0].flags.writeable and arr.flags.writeable
    got["one"].loc[3, "a"] = 99.0
    got["one"].index.name = "changed"
    got["s"].iloc[1] = -1.0
    got["ix"].name = "other"
    got["objs"][0, 0] = "changed"  # an array of objects is a real copy
    got["t"][1]["n"] = 2
    assert shared.loc[3, "a"] == 1.0 and shared["a"].tolist() == [1.0, 2.0]
    assert shared.index.name == "i" and objs[0, 0] == "k" and tree["t"][1]["n"] == 1
