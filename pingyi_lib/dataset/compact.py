"""The clean rows of a big response table in compact form (:data:`COMPACT` columns and the
answers), fetched from the DuckDB engine's checked rows in ranges (dataset/engine.py): ids as
Arrow text, answers as level codes, times parsed as the pandas path parses them, few-valued
text as categories. What the integrity check and ``pingyi progress`` read of a round whose
table stays in its file (``Dataset.compact_rows``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.dataset import schema

# the columns of a clean table (besides ``row`` and the answers) kept in memory in compact form
# while its rows stay in the file: what the integrity check reads (integrity/detect.py)
COMPACT = {"survey": ("response_id", "unit_id", "respondent_category", "channel", "submitted_at", "fingerprint", "ip",
                      "duration_s", "comment")}
BATCH_ROWS = 1 << 20  # rows fetched from DuckDB at a time for the compact rows
# a text column whose first range has more distinct values than this share of its rows is kept
# as text and dictionary-encoded once at the end: merging ten ranges' dictionaries of a million
# device ids each cost as much again as encoding them
DISTINCT_SHARE = 0.2


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def odd_name(cid: str) -> str:
    """The checked table's column of a date-time column's odd values, as written (2011年8月3日;
    NULL where the value is plain or blank)."""
    return "_odd_" + cid


def typed_columns(table: schema.Table, sql_cols: dict[str, str], codes: dict[str, str], plain: dict[str, str],
                  raw, t_fast) -> list[str]:
    """SQL of the :data:`COMPACT` columns and the answers (the id apart: the engine's ``_id``)
    over the file's rows, named as in the compact rows: answers as level codes, times as
    DuckDB reads the plain values (the odd ones, as written, are the engine's :func:`odd_name`), durations
    as numbers, ids and free text stripped, enumerated values as written. The engine's
    checked table keeps these, not the text of the file (six answers as text took 96 bytes
    a row in DuckDB, as codes 6), so the rows are fetched with no more work."""
    select = []
    for c in _wanted(table):
        name = _ident(c.id)
        if c.id == table.id_column:
            continue
        if c.kind == schema.ANSWER:
            select.append(f"{codes[c.id]} AS {name}")
        elif c.kind == schema.DATETIME and c.id in sql_cols:  # plain: the cast cannot fail (the odd: odd_name)
            select.append(f"CASE WHEN {plain[c.id]} THEN TRY_CAST({raw(c.id)} AS TIMESTAMP) END AS {name}")
        elif c.kind == schema.DATETIME:
            select.append(f"CAST(NULL AS TIMESTAMP) AS {name}")
        elif c.kind == schema.SECONDS:  # checked already: blank or a plain number
            select.append(f"TRY_CAST(nullif({t_fast(c.id)}, '') AS DOUBLE) AS {name}")
        elif c.kind in (schema.UNIT, schema.TEXT):
            select.append(f"{t_fast(c.id)} AS {name}")
        else:  # enumerated: as written, looked up once each distinct value (_compact)
            select.append(f"{raw(c.id)} AS {name}")
    return select


def _wanted(table: schema.Table) -> list:
    return [c for c in table.columns if c.id in COMPACT[table.name] or c.kind == schema.ANSWER]


def _compact(con, table: schema.Table, sql_cols: dict[str, str], enums: dict, odd_dates: dict,
             release=None) -> pd.DataFrame:
    """The clean rows of ``table`` (the view ``ok`` of the checked table, whose columns are
    :func:`typed_columns`), only the columns of :data:`COMPACT` and the answers, in file
    order, with the values the pandas path gives them (ids and units stripped, channels
    canonical, times parsed, free text cleaned) in compact dtypes: answers as level codes,
    few-valued text as categories. ``sql_cols``: the SQL name of each column the file has
    (a column it lacks is not a key). ``release``: called once every row is fetched, before
    the columns are assembled (the engine closes DuckDB there: its memory and the rows'
    are then not held at once)."""
    import pyarrow.compute as pc

    wanted = _wanted(table)
    select = ['_row AS "row"']
    for c in wanted:
        select.append(f"_id AS {_ident(c.id)}" if c.id == table.id_column else _ident(c.id))
        if c.kind == schema.DATETIME and c.id in sql_cols:
            select.append(_ident(odd_name(c.id)))

    # in ranges of rows, each result freed before the next: a streamed result of millions of
    # rows is held whole by DuckDB, outside its memory limit
    (lo, hi), = con.execute("SELECT coalesce(min(_row), 0), coalesce(max(_row), -1) FROM ok").fetchall()
    parts: dict[str, list] = {c: [] for c in ["row", *(c.id for c in wanted)]}
    plain_text: set[str] = set()  # text columns kept as text per range, not dictionaries
    for start in range(int(lo), int(hi) + 1, BATCH_ROWS):
        batch = con.sql(f"SELECT {', '.join(select)} FROM ok WHERE _row >= {start} "
                        f"AND _row < {start + BATCH_ROWS} ORDER BY _row").to_arrow_table()  # a scan may interleave
        parts["row"].append(batch.column("row").to_numpy().astype(np.int64))
        for c in wanted:
            col = batch.column(c.id)
            if c.kind == schema.ANSWER:
                parts[c.id].append(col.to_numpy(zero_copy_only=False).astype(np.int8))
            elif c.kind == schema.DATETIME:
                parts[c.id].append(_times(batch, c.id, c.id in sql_cols, odd_dates.get(c.id)))
            elif c.kind == schema.ID:
                parts[c.id].append(col.combine_chunks())  # its own buffers: the batch's are freed
            elif c.kind == schema.SECONDS:
                parts[c.id].append(col.to_numpy(zero_copy_only=False).astype(float))
            else:  # text: Arrow dictionaries per range, made categories once at the end
                col = pc.fill_null(col, "")
                if c.id in plain_text:  # mostly distinct values (device ids): encoded once at the end
                    parts[c.id].append(col.combine_chunks())
                    continue
                enc = pc.dictionary_encode(col).chunks
                if start == lo and sum(len(e.dictionary) for e in enc) > DISTINCT_SHARE * max(len(col), 1):
                    plain_text.add(c.id)
                    enc = [col.combine_chunks()]
                parts[c.id].extend(enc)
        del batch, col
    if release is not None:
        release()
    out = pd.DataFrame({"row": _joined(parts["row"], np.int64)})  # in file order: ranges ascend, each sorted
    for c in wanted:
        got = parts.pop(c.id)
        if c.kind == schema.ID:
            out[c.id] = _one_chunk(got).to_pandas() if got else pd.Series([], dtype="str")
        elif c.kind in (schema.UNIT, schema.TEXT):
            out[c.id] = _categories(got, _cleaned if c.kind == schema.TEXT else None)
        elif c.kind == schema.SECONDS:
            out[c.id] = _joined(got, float)
        elif c.kind not in (schema.ANSWER, schema.DATETIME):
            out[c.id] = _categories(got, lambda v, m=enums[c.id]: (pd.Series(v.map(m), dtype="str"), True))
        else:
            out[c.id] = _joined(got, np.int8 if c.kind == schema.ANSWER else "datetime64[us]")
    return out


def _one_chunk(arrays: list):
    """Arrow arrays as one chunk where the text fits one (under 2 GB): a take of a few rows from
    ten chunks of a million costs as much as copying them all (79 ms for 16,000 ids, against 1 ms
    from one chunk), and the detectors take the ids of the rows they rank by id."""
    import pyarrow as pa

    chunked = pa.chunked_array(arrays)
    try:
        return pa.chunked_array([chunked.combine_chunks()]) if chunked.num_chunks > 1 else chunked
    except pa.lib.ArrowException:  # past what 32-bit offsets hold: kept in chunks
        return chunked


def arrow_text(values: pd.Series):
    """A text column (Arrow-backed or Python strings) as an Arrow array, without a Python
    string per value where it is Arrow already."""
    import pyarrow as pa

    return pa.array(values.array) if values.dtype != object else pa.array(values.to_numpy(), type=pa.string())


def _joined(arrays: list, dtype) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)


def _times(batch, cid: str, present: bool, odd: dict | None) -> np.ndarray:
    """A date-time column of one batch: DuckDB's reading of the plain values, and the odd
    values (2011年8月3日, …) as validate.parse_datetimes read them (``odd``: text → time)."""
    if not present:
        return np.full(batch.num_rows, np.datetime64("NaT"), dtype="datetime64[us]")
    at = pd.Series(batch.column(cid).to_pandas(), dtype="datetime64[us]")
    if odd:
        text = pd.Series(batch.column(odd_name(cid)).to_pandas())
        hit = text.notna()
        at[hit] = text[hit].map(odd).astype("datetime64[us]")
    return at.to_numpy()


def _cleaned(values: pd.Series) -> tuple[pd.Series, bool]:
    """Free text as the pandas path cleans it (validate.strip_text_controls), and whether any changed."""
    from pingyi_lib.dataset import validate

    cleaned, hit = validate.strip_text_controls(values)
    return cleaned, bool(hit.any())


def _categories(chunks: list, convert=None) -> pd.Categorical:
    """Dictionary-encoded Arrow text (one dictionary per range of rows) as categories, each
    distinct value converted once (``convert``: a Series of the distinct values → (converted,
    whether any changed)). The categories stay Arrow text (pandas' ``str``), so millions of
    distinct device ids cost no Python objects."""
    import pyarrow as pa

    if not chunks or not sum(len(c) for c in chunks):
        return pd.Categorical([], categories=pd.Index([], dtype="str"))
    values, codes = _encoded(pa.chunked_array(chunks))
    if convert is not None:
        converted, changed = convert(values)
        if changed:  # cleaning may make two values one: number them again
            same, values = pd.factorize(pd.Series(converted, dtype="str").fillna(""))
            codes = same[codes]
    # the codes index the distinct values by construction: pandas need not check them again
    return pd.Categorical.from_codes(codes, dtype=_distinct_dtype(pd.Index(values, dtype="str")), validate=False)


def _encoded(chunked) -> tuple[pd.Series, np.ndarray]:
    """(the distinct values, each row's code) of Arrow text, plain or dictionary-encoded per chunk.
    Plain text is encoded in one pass over its chunks, which gives every chunk one dictionary
    (one table of values across the chunks): the codes are then the chunks' indices, with no
    merging of dictionaries."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(chunked.type):
        chunked = pc.dictionary_encode(chunked)
        first = chunked.chunks[0].dictionary if chunked.num_chunks else None
        if first is not None and all(c.dictionary.equals(first) for c in chunked.chunks[1:]):
            codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunked.chunks])
            return pd.Series(first, dtype="str"), codes
    enc = chunked.unify_dictionaries().combine_chunks()
    return pd.Series(enc.dictionary, dtype="str"), enc.indices.to_numpy(zero_copy_only=False)


def _distinct_dtype(values: pd.Index) -> pd.CategoricalDtype:
    """The categorical dtype of values known to be distinct (a dictionary's values, or
    ``pd.factorize``'s). pandas' constructor hashes every value again to check that they
    are (2.6 s for 3 million device ids); its fast path, where this pandas has it, does not.

    >>> list(_distinct_dtype(pd.Index(["a", "b"], dtype="str")).categories)
    ['a', 'b']
    """
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    if fast is not None:
        try:
            dtype = fast(values, False)
            if isinstance(dtype, pd.CategoricalDtype) and len(dtype.categories) == len(values):
                return dtype
        except TypeError:  # another pandas, another signature
            pass
    return pd.CategoricalDtype(values)
