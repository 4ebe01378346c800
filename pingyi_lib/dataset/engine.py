"""The big response tables (survey, onsite) read, checked and counted in DuckDB.

Only what a person must see comes back to Python: the rejected rows (their reasons are
written by the same code as the pandas path, ``validate._check_table`` on those rows
alone, and ``validate.duplicate_reason``) and the answer counts per unit × item ×
level. The clean rows stay in the file; :class:`DeferredTable` builds them with the
pandas path only if a notebook asks for them.

Row numbers are those a spreadsheet shows (header = row 1): Parquet's
``file_row_number`` + 2; for CSV the position in the file + 2, used only when every
line is one record (no blank lines, no line breaks inside cells, no row with the wrong
number of fields: otherwise :class:`Unsupported` sends the table to the exact ``csv``
path of ``read.py``). GB18030 CSV is transcoded to a temporary UTF-8 file first
(DuckDB cannot read GB18030 without an extension it would download).

The counts come out as a long table (``COUNT_COLUMNS``), the unit of exchange between
machines (``pingyi count``): they add up over any split of the rows that never puts
the same ``response_id`` in two parts.

    measure  item   level  n
    rows     ''     -1     ballots or questionnaires of the unit
    valid    ''     -1     of which with at least one scored answer
    public   ''     -1     on-site ballots of public + enterprise members
    answers  ITEM   L      answers at level code L (0 = blank) to ITEM
    days     DAY    -1     rows submitted on DAY (YYYY-MM-DD; survey's submitted_at)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pingyi_lib.common.controlchars import CONTROL
from pingyi_lib.dataset import schema
from pingyi_lib.dataset.compact import COMPACT, _compact, _ident, odd_name, typed_columns
from pingyi_lib.dataset.counted import counts_frame, counts_of_rows
from pingyi_lib.dataset.read import MAX_FIELD_CHARS, ROW, RawTable
from pingyi_lib.dataset.source import WHITESPACE, Unsupported, _lit, _Source
from pingyi_lib.scheme.ruleset import Ruleset

ENGINE_TABLES = ("survey", "onsite")
AUTO_MIN_BYTES = 4 << 20  # "auto" reads smaller files with pandas: DuckDB's start-up would not pay
MAX_DISTINCT = 10_000  # more distinct values in a checked column: hostile or odd data, use pandas
_KINDS = {schema.ID, schema.UNIT, schema.TEXT, schema.REQUIRED_TEXT, schema.ANSWER, schema.CHANNEL,
          schema.PANEL_CATEGORY, schema.DATETIME, schema.SECONDS}
# a date-time DuckDB and pandas both read the same way; anything else is decided by validate.parse_datetimes
_PLAIN_DATETIME = r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])( ([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?)?"


def available() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


IN_LIST_MAX = 4  # longer lists of values are matched through a hash table (a semi-join), not one by one


def _in(expr: str, values) -> str:
    """SQL: is ``expr`` one of ``values``. A long list (200 units, the answer levels as
    written) as a subquery: DuckDB then hashes the values once and looks each row up, where a
    literal list compares every row with each value in turn (at 10M rows the checked table
    took 5.6 s with literal lists, 3.7 s with subqueries)."""
    values = list(values)
    if not values:
        return "false"
    listed = ", ".join(_lit(v) for v in values)
    return f"{expr} IN (SELECT unnest([{listed}]))" if len(values) > IN_LIST_MAX else f"{expr} IN ({listed})"


@dataclass
class Scanned:
    """What the engine hands ``validate.validate_tables`` for one table."""

    name: str
    path: str
    accepted: int
    rejected: pd.DataFrame  # the columns of _check_table's quarantine part: column, value, reason_code, reason, row,
    # header, unit_id
    counts: pd.DataFrame  # COUNT_COLUMNS
    ignored_columns: list[str] = field(default_factory=list)
    rows: pd.DataFrame | None = None  # the clean rows in compact form (:func:`_compact`), for COMPACT tables


@dataclass
class DeferredTable:
    """A clean table built on first use, by the pandas path (read + validate), so it is
    the very frame that path would have made. Picklable: it holds no open file.

    ``rows``: the same rows in compact form (:data:`COMPACT` columns, made by the engine as
    it read the file), for checks that need rows without building the table; not pickled.
    ``excluded``: ids of rows a later check took out (the integrity policy): they are left
    out of the built table too.
    """

    path: str
    name: str
    ruleset: Ruleset
    units: frozenset
    rejected_units: frozenset
    rows: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    excluded: frozenset = frozenset()

    def __call__(self) -> pd.DataFrame:
        from pingyi_lib.dataset.read import read_table
        from pingyi_lib.dataset.validate import _check_table

        table = schema.tables(self.ruleset)[self.name]
        raw = read_table(Path(self.path), table)
        clean, _ = _check_table(raw, table, self.ruleset, set(self.units), set(self.rejected_units))
        if self.excluded:
            clean = clean[~clean[table.id_column].isin(self.excluded)].reset_index(drop=True)
        return clean

    def __getstate__(self) -> dict:
        return {**self.__dict__, "rows": None}


def scan(path: str | Path, table: schema.Table, ruleset: Ruleset, units: set[str], rejected_units: set[str],
         threads: int | None = None) -> Scanned:
    """Read, check and count one response table in DuckDB (see the module docstring)."""
    path = Path(path)
    if table.name not in ENGINE_TABLES or any(c.kind not in _KINDS for c in table.columns):
        raise Unsupported(f"table {table.name}")
    src = _Source(path, table, threads)
    try:
        return _scan(src, path, table, ruleset, units, rejected_units)
    finally:
        src.close()


def take(deferred, table: schema.Table, ruleset: Ruleset, units: set[str], rejected_units: set[str]):
    """:func:`scan` as ``validate.validate_tables`` asks for it: (what was scanned, the clean table
    built on first use), or None where the pandas path must read the file."""
    try:
        scanned = scan(deferred.path, table, ruleset, units, rejected_units)
    except Unsupported:
        return None
    return scanned, DeferredTable(str(deferred.path), table.name, ruleset, frozenset(units),
                                  frozenset(rejected_units), scanned.rows)


def _strip(values: list[str]) -> list[str]:
    """read.py's stripping (Arrow's utf8_trim_whitespace), for a few distinct values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.utf8_trim_whitespace(pa.array(values, type=pa.string())).to_pylist() if values else []


def _scan(src: _Source, path: Path, table: schema.Table, ruleset: Ruleset, units: set[str],
          rejected_units: set[str]) -> Scanned:
    """Checked columns are matched on their raw text (each distinct value is stripped and
    looked up once, in Python, as validate.map_values does), so DuckDB never strips a
    whole column; only the id column is stripped, where a value starts or ends in white space."""
    from pingyi_lib.dataset import validate

    con = src.con
    ws = _lit(WHITESPACE)
    ws_codes = ", ".join(str(ord(c)) for c in WHITESPACE)

    def raw(cid: str) -> str:  # the text as stored, '' for blank or absent
        return f"coalesce(CAST({src.col[cid]} AS VARCHAR), '')" if cid in src.col else "''"

    def t(cid: str) -> str:  # stripped text (read._assemble)
        return f"trim({raw(cid)}, {ws})" if cid in src.col else "''"

    def t_fast(cid: str) -> str:  # the same, stripping only where needed
        r = raw(cid)
        return f"(CASE WHEN unicode({r}) IN ({ws_codes}) OR unicode(right({r}, 1)) IN ({ws_codes}) " \
               f"THEN trim({r}, {ws}) ELSE {r} END)" if cid in src.col else "''"

    def distinct(cid: str) -> dict[str, str]:
        """raw value → stripped value, for every distinct value of a column."""
        if cid not in src.col:
            return {"": ""}
        vals = [v for (v,) in con.execute(
            f"SELECT DISTINCT {raw(cid)} FROM src WHERE _keep LIMIT {MAX_DISTINCT + 1}").fetchall()]
        if len(vals) > MAX_DISTINCT:
            raise Unsupported(f"too many distinct values in {cid}")
        return dict(zip(vals, _strip(vals)))

    def looked_up(cid: str, kind: str) -> dict[str, object]:
        """raw value → canonical value, for the values the ruleset knows."""
        lut = validate._lookup(ruleset, kind)
        found = {v: lut.get(validate.normalise(s)) for v, s in distinct(cid).items() if s}
        return {v: c for v, c in found.items() if c is not None}

    good: list[str] = []
    codes: dict[str, str] = {}  # item → SQL level code expression
    enums: dict[str, dict[str, object]] = {}  # enumerated column → raw value → canonical value
    odd_dates: dict[str, dict[str, pd.Timestamp]] = {}  # date-time column → odd raw value → its time
    plain: dict[str, str] = {}  # date-time column → SQL: is it a plain value DuckDB reads as pandas does
    # what the checked table's subquery computes once a row, for the check and the table both: the
    # stripped id, each answer's level code (NULL: unknown), whether a date-time is plain
    pre: list[str] = [f"{t_fast(table.id_column)} AS _id"]
    code_of: dict[str, str] = {}  # item → its column of level codes in the subquery
    public_expr = "false"
    for col in table.columns:
        k, e = col.kind, raw(col.id)
        if col.id in src.col:  # a field past the limit: its row is set aside (read.set_aside_long_fields)
            good.append(f"length({e}) <= {MAX_FIELD_CHARS}")
        if k == schema.ID:
            stripped = "_id" if col.id == table.id_column else t_fast(col.id)
            good.append(f"{stripped} <> '' AND NOT regexp_matches({e}, {_lit(CONTROL)})")
        elif k == schema.REQUIRED_TEXT:
            good.append(f"{t(col.id)} <> ''")
        elif k == schema.UNIT:
            good.append(_in(e, [v for v, s in distinct(col.id).items() if s in units]))
        elif k == schema.ANSWER:
            found = looked_up(col.id, k)
            blank = [v for v, s in distinct(col.id).items() if not s]
            arms = " ".join(f"WHEN {_lit(v)} THEN {int(c)}" for v, c in found.items())
            codes[col.id] = f"CAST(CASE {e} {arms} ELSE 0 END AS TINYINT)" if arms else "CAST(0 AS TINYINT)"
            code_of[col.id] = _ident("_code_" + col.id)  # blank: 0; unknown: NULL, the row fails
            arms += "".join(f" WHEN {_lit(v)} THEN 0" for v in blank)
            pre.append(f"{f'CAST(CASE {e} {arms} END AS TINYINT)' if arms else 'CAST(NULL AS TINYINT)'} "
                       f"AS {code_of[col.id]}")
            good.append(f"{code_of[col.id]} IS NOT NULL")
        elif k == schema.DATETIME:  # odd values (2011年8月3日) judged once the table is made
            if col.id not in src.col:
                continue
            plain[col.id] = _ident("_plain_" + col.id)  # one regular expression a row, in the table's subquery
            pre.append(f"regexp_full_match({e}, {_lit(_PLAIN_DATETIME)}) AND coalesce("  # 2011-02-30: no date
                       f"year(TRY_CAST({e} AS TIMESTAMP)) BETWEEN {validate.YEARS[0]} AND {validate.YEARS[1]}, false) "
                       f"AS {plain[col.id]}")
        elif k == schema.SECONDS:
            good.append(f"({t(col.id)} = '' OR regexp_full_match({t(col.id)}, {_lit(validate.SECONDS_TEXT)}))")
        elif k != schema.TEXT:  # an enumerated column: channel, panel member category
            found = looked_up(col.id, k)
            enums[col.id] = found
            good.append(_in(e, found))
            if k == schema.PANEL_CATEGORY:
                public_expr = _in(e, [v for v, c in found.items() if c in ruleset.public_categories])
    good_sql = " AND ".join(good) or "true"
    id_col = table.id_column

    # every row checked once, kept with the columns the rest reads and whether it passed: a
    # table whose rows are fetched (COMPACT) keeps them as they are fetched (codes, times), the
    # others the text the counts read
    when = next((c.id for c in table.columns if c.kind == schema.DATETIME and c.id in src.col), None)
    compact = table.name in COMPACT
    if compact:
        used = typed_columns(table, src.col, code_of, plain, raw, t_fast)
        unit_sql, at_sql = '"unit_id"', "NULL" if when is None else \
            f"coalesce({_ident(odd_name(when))}, strftime({_ident(when)}, '%Y-%m-%d %H:%M:%S'))"
    else:
        used = [src.col[c.id] for c in table.columns if c.id in src.col and c.kind != schema.TEXT]
        unit_sql, at_sql = t("unit_id"), t(when) if when else "NULL"
    used += [f"CASE WHEN NOT {p} AND {raw(cid)} <> '' THEN {raw(cid)} END AS {_ident(odd_name(cid))}"
             for cid, p in plain.items()]  # a date-time not plain, as written (NULL: plain or blank)
    con.execute(f"CREATE TEMP TABLE chk AS SELECT _row, _id, {''.join(u + ', ' for u in used)}"
                f"coalesce({good_sql}, false) AS _good FROM (SELECT *, {', '.join(pre)} FROM src WHERE _keep)")
    con.execute("CREATE TEMP VIEW ok AS SELECT * FROM chk WHERE _good")
    for cid in plain:  # each distinct odd date-time read as the pandas path reads it; a row with none fails
        odd = _ident(odd_name(cid))
        odd_dates[cid], unread = _odd_dates(con, odd)
        if unread:
            con.execute(f"UPDATE chk SET _good = false WHERE {_in(odd, unread)}")

    # rejected rows: the pandas path writes their reasons, on these rows alone
    names = [c.id for c in table.columns]
    bad = con.execute(f"SELECT _row, {', '.join(t(c) for c in names)} FROM src "
                      f"WHERE _keep AND _row IN (SELECT _row FROM chk WHERE NOT _good) ORDER BY _row").df()
    bad.columns = [ROW, *names]
    bad = bad[[*names, ROW]].astype({c: object for c in names})
    raw_table = RawTable(table.name, str(path), bad.reset_index(drop=True), headers=src.headers)
    still_clean, rejected = validate._check_table(raw_table, table, ruleset, units, rejected_units)
    if len(still_clean):
        raise Unsupported("the engine and the pandas path disagree on a row")  # never expected: fall back

    # duplicate ids among them; the first is kept (the time as written: its text, or a plain time's)
    dup = con.execute(f"SELECT _row, _id AS id, {unit_sql} AS unit, {at_sql} AS at "
                      f"FROM ok WHERE _id IN "
                      f"(SELECT _id FROM ok GROUP BY _id HAVING count(*) > 1) ORDER BY _row").df()
    (n_good,), = con.execute("SELECT count(*) FROM ok").fetchall()
    if len(dup):
        first = ~dup["id"].duplicated(keep="first")
        first_row = dict(zip(dup.loc[first, "id"], dup.loc[first, "_row"]))
        d = dup[~first]
        header = src.headers.get(id_col) or next(c.zh for c in table.columns if c.id == id_col)
        dups = pd.DataFrame({"column": id_col, "header": header, "value": d["id"].astype(object),
                             "reason_code": "duplicate_id",
                             "reason": [validate.duplicate_reason(header, v, first_row[v]) for v in d["id"]],
                             ROW: d["_row"].astype(np.int64), "unit_id": d["unit"].astype(object),
                             validate.QUARANTINE_TIME: validate.parse_datetimes(d["at"].astype(object))})
        rejected = pd.concat([x for x in (rejected, dups) if len(x)], ignore_index=True) \
            .sort_values(ROW, kind="stable").reset_index(drop=True)
        con.register("dup_rows", pd.DataFrame({"_row": d["_row"].to_numpy(dtype=np.int64)}))
        # marked in place (a join would lose the file's order)
        con.execute("UPDATE chk SET _good = false WHERE _row IN (SELECT _row FROM dup_rows)")
    else:
        d = dup

    if compact:  # the rows are in memory anyway: count them there (one bincount a measure)
        # DuckDB is closed once the rows are fetched: its memory (the checked table) is freed
        # before the rows are assembled and counted, not held beside them
        rows = _compact(con, table, src.col, enums, odd_dates, release=src.close)
        counts = counts_of_rows(rows, table, ruleset)
    else:
        rows = None
        counts = _counts(con, table, ruleset, raw, codes, public_expr, raw(when) if when else None)
        con.execute("DROP VIEW ok")
        con.execute("DROP TABLE chk")
    return Scanned(table.name, str(path), n_good - len(d), rejected, counts, src.ignored, rows)


def _odd_dates(con, odd: str) -> tuple[dict[str, pd.Timestamp], list[str]]:
    """The distinct values of the checked table's column ``odd`` (date-times not plain, as
    written) read by validate.parse_datetimes: (value → time, the values it cannot read and
    that are not blank once stripped: their rows fail)."""
    from pingyi_lib.dataset import validate

    values = [v for (v,) in con.execute(
        f"SELECT DISTINCT {odd} FROM chk WHERE {odd} IS NOT NULL LIMIT {MAX_DISTINCT + 1}").fetchall()]
    if len(values) > MAX_DISTINCT:
        raise Unsupported(f"too many distinct odd dates in {odd}")
    stripped = _strip(values)
    parsed = validate.parse_datetimes(pd.Series(stripped, dtype=object)) if values else pd.Series([])
    read = parsed.notna().to_numpy()
    return ({v: p for v, p, y in zip(values, parsed, read) if y},
            [v for v, s, y in zip(values, stripped, read) if s and not y])


def _counts(con, table: schema.Table, ruleset: Ruleset, raw, codes: dict[str, str], public_expr: str,
            when: str | None = None) -> pd.DataFrame:
    """One pass over the rows that passed every check (``ok``), one group per unit (as
    written; stripped here) and day: rows, valid rows, public ballots, and answers per
    item × level, summed per unit; and the ``days`` measure,
    rows per unit × calendar day of the date-time column ``when`` (the round's year and last
    date are read from it, dataset/round.py)."""
    from pingyi_lib.dataset import validate

    items = [c.id for c in table.columns if c.kind == schema.ANSWER]
    levels = range(len(ruleset.levels) + 1)
    scored_codes = [lv.code for lv in ruleset.levels if lv.score is not None]
    scored = [it for it in ruleset.scored_items if it in items]
    # a valid value shaped YYYY-MM-DD, alone or before a space, is of that day (no regex per row);
    # the few other forms are grouped as written and read by validate.parse_datetimes below
    day = (f"CASE WHEN substr({when}, 5, 1) = '-' AND substr({when}, 8, 1) = '-' AND "
           f"(length({when}) = 10 OR substr({when}, 11, 1) = ' ') THEN left({when}, 10) ELSE {when} END") \
        if when else "''"
    inner = ", ".join([f"{raw('unit_id')} AS u", f"{day} AS k", f"{public_expr} AS p"]
                      + [f"{codes[it]} AS a{i}" for i, it in enumerate(items)])
    valid = " OR ".join(f"a{items.index(it)} IN ({', '.join(map(str, scored_codes))})" for it in scored) \
        if scored and scored_codes else "false"
    aggs = ["count(*)", f"count(*) FILTER (WHERE {valid})", "count(*) FILTER (WHERE p)"]
    aggs += [f"count(*) FILTER (WHERE a{i} = {lv})" for i in range(len(items)) for lv in levels]
    wide = con.execute(f"SELECT u, k, {', '.join(aggs)} FROM (SELECT {inner} FROM ok) "
                       f"GROUP BY u, k").df()
    wide["u"] = _strip(list(wide["u"]))  # ' u001' and 'u001' are one unit
    per_day = wide[["u", "k"]].assign(n=wide.iloc[:, 2].to_numpy(dtype=np.int64))
    wide = wide.drop(columns="k").groupby("u", sort=True).sum()
    rows = []
    for u, rec in zip(wide.index, wide.to_numpy(dtype=np.int64).tolist()):
        n, v, p, rest = rec[0], rec[1], rec[2], rec[3:]
        rows += [(table.name, u, "rows", "", -1, n), (table.name, u, "valid", "", -1, v)]
        if table.name == "onsite":
            rows.append((table.name, u, "public", "", -1, p))
        for i, it in enumerate(items):
            rows += [(table.name, u, "answers", it, lv, rest[i * len(levels) + lv]) for lv in levels]
    if when and len(per_day):
        odd = ~per_day["k"].str.fullmatch(r"\d{4}-\d{2}-\d{2}")
        if odd.any():
            parsed = validate.parse_datetimes(pd.Series(_strip(list(per_day.loc[odd, "k"])),
                                                        index=per_day.index[odd], dtype=object))
            per_day.loc[odd, "k"] = parsed.dt.strftime("%Y-%m-%d")
        g = per_day.dropna(subset=["k"]).groupby(["u", "k"], sort=True)["n"].sum()
        rows += [(table.name, u, "days", k, -1, int(n)) for (u, k), n in g.items()]
    return counts_frame(rows)


def part_buckets(path: str | Path, table: schema.Table, n: int) -> dict[int, int]:
    """How many non-blank ids of a CSV or Parquet table fall in each part of ``n``
    (scoring/parts.py: the first 8 hex digits of the MD5 of the stripped id, modulo n)."""
    src = _Source(Path(path), table, threads=None)
    try:
        ident = src.col.get(table.id_column)
        if ident is None:
            return {}
        idx = f"trim(coalesce(CAST({ident} AS VARCHAR), ''), {_lit(WHITESPACE)})"
        rows = src.con.execute(f"SELECT CAST('0x' || md5({idx})[1:8] AS UBIGINT) % {int(n)} AS k, count(*) "
                               f"FROM src WHERE _keep AND {idx} <> '' GROUP BY k").fetchall()
        return {int(k): int(c) for k, c in rows}
    finally:
        src.close()
