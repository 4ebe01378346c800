"""The questionnaires a count file carries: each part's clean survey rows in compact form
(:data:`compact.COMPACT` columns and the answers, about 60 bytes a questionnaire), so the
office that merges the parts judges integrity exactly as one machine judges the whole round
(``pingyi score --counts``, the Dask gather; docs/scale.md).

A count file is one Parquet table. Its count records (``counted.COUNT_COLUMNS``) and its
rows share it: a row has ``table`` = :data:`ROWS` and its columns prefixed ``r.``, the
count columns empty; a count record has the ``r.`` columns empty. Parquet stores the empty
halves in a few bytes, and each reader reads only the columns and records it needs.

    >>> tb = with_rows(counts_table, compact_rows, rs)        # doctest: +SKIP
    >>> labels = ["c0.parquet：survey.csv（第 0/2 部分）", "c1.parquet：survey.csv（第 1/2 部分）"]  # doctest: +SKIP
    >>> rows = read_rows(["c0.parquet", "c1.parquet"], labels, rs)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pingyi_lib.dataset import schema
from pingyi_lib.dataset.compact import COMPACT, _categories, arrow_text
from pingyi_lib.scheme.ruleset import Ruleset

ROWS = "rows:survey"  # the ``table`` of a count file's questionnaire rows
PREFIX = "r."
TABLE = "survey"


def _kinds(ruleset: Ruleset) -> dict[str, str]:
    """The carried columns and their kinds (schema kinds; ``row``: the row in the part's file)."""
    spec = schema.tables(ruleset)[TABLE]
    return {"row": "row", **{c.id: c.kind for c in spec.columns if c.id in COMPACT[TABLE] or c.kind == schema.ANSWER}}


def rows_table(rows: pd.DataFrame, ruleset: Ruleset):
    """``rows`` (the engine's compact rows or the pandas path's clean table) as the Arrow
    records of a count file: :data:`ROWS`, the carried columns prefixed, fixed types."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = {"table": pa.array(np.full(len(rows), ROWS, dtype=object), type=pa.string())}
    for cid, kind in _kinds(ruleset).items():
        if cid not in rows:
            continue
        v = rows[cid]
        if kind == "row":
            arr = pa.array(v.to_numpy(dtype=np.int64))
        elif kind == schema.ANSWER:
            arr = pa.array(v.to_numpy(dtype=np.int8))
        elif kind == schema.DATETIME:
            arr = pa.array(pd.to_datetime(v).to_numpy(dtype="datetime64[us]"))
        elif kind == schema.SECONDS:
            arr = pa.array(v.to_numpy(dtype=float))
        else:
            arr = _text(v)
            if kind != schema.ID:
                arr = pc.dictionary_encode(pc.fill_null(arr, ""))
        cols[PREFIX + cid] = arr
    if "file" in rows:  # rows gathered from several files (the Dask path): the file each row is in
        cols[PREFIX + "file"] = pc.dictionary_encode(_text(rows["file"]))
    return pa.table(cols)


def _text(v: pd.Series):
    import pyarrow as pa

    if isinstance(v.dtype, pd.CategoricalDtype):
        v = v.astype(object)
    try:
        return arrow_text(v).cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(v.astype(str).to_numpy(dtype=object), type=pa.string())


def with_rows(counts, rows: pd.DataFrame | None, ruleset: Ruleset):
    """One Arrow table of a count file: the count records (an Arrow table) and, unless
    ``rows`` is None, the questionnaire rows after them (a frame, or already :func:`rows_table`)."""
    import pyarrow as pa

    if rows is None:
        return counts
    tb = rows if isinstance(rows, pa.Table) else rows_table(rows, ruleset)
    return pa.concat_tables([counts, tb], promote_options="default")


def has_rows(schema_names: Sequence[str]) -> bool:
    """Does a count file with these columns carry the questionnaires?"""
    return PREFIX + "response_id" in schema_names


def counts_only(path: str | Path):
    """The count records of a count file (the rows' columns are not read)."""
    import pyarrow.parquet as pq

    from pingyi_lib.dataset.counted import COUNT_COLUMNS

    names = pq.read_schema(path).names
    if not has_rows(names):
        return pq.read_table(path)
    return pq.read_table(path, columns=COUNT_COLUMNS, filters=[("table", "!=", ROWS)])


@dataclass
class CarriedTable:
    """The survey of a merged round: the parts' carried rows (``rows``), and the ids a
    later check took out (``excluded``). Used like ``engine.DeferredTable``: the table
    itself is these rows, as far as the parts carried them."""

    rows: pd.DataFrame | None = field(default=None, repr=False)
    excluded: frozenset = frozenset()

    def __call__(self) -> pd.DataFrame:
        return self.rows


def read_rows(paths: Sequence[str | Path], labels: Sequence[str], ruleset: Ruleset) -> pd.DataFrame:
    """The questionnaire rows of count files, part after part, in the compact form the
    engine makes (ids as Arrow text, text as categories, answers as level codes) plus
    ``file``: the file each row's ``row`` numbers a row of (``labels``: one per count file;
    rows gathered from several files name the count file and theirs)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = _kinds(ruleset)
    tables, files = [], []
    for p, label in zip(paths, labels):
        names = [n for n in pq.read_schema(p).names
                 if n.startswith(PREFIX) and (n[len(PREFIX):] in kinds or n == PREFIX + "file")]
        text = [n for n in names if n == PREFIX + "file" or kinds[n[len(PREFIX):]] not in (
            "row", schema.ANSWER, schema.DATETIME, schema.SECONDS, schema.ID)]
        tb = pq.read_table(p, columns=names, filters=[("table", "==", ROWS)], read_dictionary=text)
        if PREFIX + "file" in names:
            for c in tb.column(PREFIX + "file").chunks:
                files.append(pa.DictionaryArray.from_arrays(
                    c.indices, pa.array([f"{Path(p).name}：{v}" for v in c.dictionary.to_pylist()], type=pa.string())))
            tb = tb.drop_columns([PREFIX + "file"])
        else:
            files.append(pa.DictionaryArray.from_arrays(pa.array(np.zeros(tb.num_rows, dtype=np.int32)),
                                                        pa.array([label], type=pa.string())))
        tables.append(tb)
    tb = pa.concat_tables(tables, promote_options="default") if tables else pa.table({})
    del tables
    out = pd.DataFrame(index=pd.RangeIndex(tb.num_rows))
    for cid, kind in kinds.items():
        name = PREFIX + cid
        if name not in tb.column_names:
            continue
        col = tb.column(name)
        if kind == "row":
            out[cid] = col.to_numpy().astype(np.int64)
        elif kind == schema.ANSWER:
            out[cid] = col.to_numpy(zero_copy_only=False).astype(np.int8)
        elif kind == schema.DATETIME:
            out[cid] = pd.Series(col.to_pandas(), dtype="datetime64[us]").to_numpy()
        elif kind == schema.SECONDS:
            out[cid] = col.to_numpy(zero_copy_only=False).astype(float)
        elif kind == schema.ID:
            out[cid] = col.to_pandas()
        else:
            out[cid] = _categories([_filled(c) for c in col.chunks])
        del col
        tb = tb.drop_columns([name])  # each column's Arrow buffers freed once it is in pandas
    out["file"] = _categories([f for f in files if len(f)]) if len(out) else pd.Categorical([])
    return out


def _filled(chunk):
    """A chunk of a text column as a dictionary without nulls (a part without the column: all '')."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(chunk.type) and chunk.null_count == 0:
        return chunk
    plain = chunk.cast(chunk.type.value_type) if pa.types.is_dictionary(chunk.type) else chunk
    if pa.types.is_null(plain.type):
        plain = pa.nulls(len(plain), type=pa.string())
    return pc.dictionary_encode(pc.fill_null(plain, ""))
