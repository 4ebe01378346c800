"""Raw text tables → clean typed tables + a quarantine of every rejected row.

Rules (SPEC §2): a row with any invalid value is rejected whole; a row whose id repeats
an earlier row's id is rejected and the earlier row kept; a rejected row is never
dropped silently: it lands in the quarantine with its file, spreadsheet row number and
a reason in plain words. All checks are vectorised per column; Python only formats the
reasons of the rows that fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from pingyi_lib.common.controlchars import CONTROL, REMOVED_FROM_TEXT, visible
from pingyi_lib.dataset import engine, schema
from pingyi_lib.dataset.read import CONTROL_COLUMNS, ROW, Deferred, RawTable, read_table
from pingyi_lib.scheme.ruleset import Ruleset

QUARANTINE_COLUMNS = ["table", "file", "row", "unit_id", "column", "value", "reason_code", "reason"]
SHOWN_VALUE_CHARS = 200  # a rejected value is shown up to this length (a whole essay helps nobody)


def shown(value) -> str:
    """A rejected value as the quarantine shows it: control characters written out
    (``\\x00``), cut to :data:`SHOWN_VALUE_CHARS`."""
    text = visible(str(value))
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "…"


def _arrow(s: pd.Series):
    import pyarrow as pa

    return pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def control_mask(s: pd.Series) -> pd.Series:
    """True where a text cell holds a control character (any C0/C1 control or DEL)."""
    import pyarrow.compute as pc

    hit = pc.match_substring_regex(_arrow(s), CONTROL)
    return pd.Series(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), index=s.index)


def strip_text_controls(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Free text with control characters removed (tab and newline kept, CR LF → LF) and the
    mask of cells that lost one. Vectorised in Arrow; only columns that hold one pay."""
    import pyarrow.compute as pc

    arr = _arrow(s)
    crlf = pc.fill_null(pc.match_substring(arr, "\r\n"), False)
    if pc.any(crlf).as_py():
        arr = pc.replace_substring(arr, "\r\n", "\n")
    hit = pc.fill_null(pc.match_substring_regex(arr, REMOVED_FROM_TEXT), False)
    mask = pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index)
    if not mask.any() and not pc.any(crlf).as_py():
        return s, mask
    fixed = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, REMOVED_FROM_TEXT, ""))
    return pd.Series(pc.fill_null(fixed, "").to_numpy(zero_copy_only=False), index=s.index, dtype=object), mask


_FULLWIDTH = str.maketrans("（）：，　", "():, ")


def normalise(text: str) -> str:
    """The form an enumerated value is matched in: full-width brackets and spaces as
    ASCII, Latin letters lower-case (乡镇（街道）干部代表 = 乡镇(街道)干部代表, District = district)."""
    return text.translate(_FULLWIDTH).strip().lower()


def _lookup(ruleset: Ruleset, kind: str) -> dict[str, object]:
    """normalised text → canonical value for the enumerated kinds."""
    return {normalise(k): v for k, v in _raw_lookup(ruleset, kind).items()}


def _raw_lookup(ruleset: Ruleset, kind: str) -> dict[str, object]:
    if kind == schema.ANSWER:
        m: dict[str, object] = {lv.label: lv.code for lv in ruleset.levels}
        for lv in ruleset.levels:
            m[str(lv.code)] = lv.code
            m[f"{lv.code}.0"] = lv.code
        return m
    if kind == schema.UNIT_LEVEL:
        return {**{k: k for k in ruleset.unit_level_labels},
                **{v: k for k, v in ruleset.unit_level_labels.items()}}
    if kind == schema.CHANNEL:
        return {**{k: k for k in ruleset.channels}, **{v: k for k, v in ruleset.channels.items()}}
    if kind == schema.BOOL:
        return {**{y: True for y in ruleset.yes}, **{n: False for n in ruleset.no}}
    if kind == schema.DECISION:
        review = ruleset.integrity
        return {**{w: "exclude" for w in review.review_exclude}, **{w: "keep" for w in review.review_keep}}
    vocab = {schema.PANEL_CATEGORY: ruleset.panel_categories, schema.CASE_SOURCE: ruleset.case_sources,
             schema.VIOLATION_KIND: ruleset.violation_kinds, schema.STATUS: ruleset.rectification_status,
             schema.STEP: ruleset.milestone_steps}[kind]
    return {v: v for v in vocab}


_WHAT = {schema.ANSWER: "answer", schema.UNIT_LEVEL: "unit level", schema.CHANNEL: "channel",
         schema.BOOL: "yes/no value", schema.DECISION: "decision",
         schema.PANEL_CATEGORY: "panel member category", schema.CASE_SOURCE: "case source",
         schema.VIOLATION_KIND: "violation kind", schema.STATUS: "status", schema.STEP: "step"}

def _allowed(ruleset: Ruleset, kind: str) -> list[str]:
    """The values a person should be told are allowed (English id = Chinese label)."""
    if kind == schema.UNIT_LEVEL:
        return [f"{k} {v}" for k, v in ruleset.unit_level_labels.items()]
    if kind == schema.CHANNEL:
        return [f"{k} {v}" for k, v in ruleset.channels.items()]
    if kind == schema.BOOL:
        return ["/".join(ruleset.yes[:1] + ruleset.no[:1])]
    if kind == schema.DECISION:
        return list(ruleset.integrity.review_exclude + ruleset.integrity.review_keep)
    return [str(v) for v in _raw_lookup(ruleset, kind)]


_CN_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")


_YEAR_FIRST = re.compile(r"^\s*\d{4}\s*[-/年.]")


YEARS = (1900, 2100)  # a date outside these years is a typing slip (0001-01-01), not a date of a round


def parse_datetimes(s: pd.Series) -> pd.Series:
    """Text → datetime64; accepts ISO, 2011/8/3 and 2011年8月3日 (year first, as written in
    China) in the years of :data:`YEARS`. Anything else ('now', 3/8/2011 with its month-day
    ambiguity, 0001-01-01) → NaT."""
    year_first = s.str.match(_YEAR_FIRST).fillna(False).astype(bool)
    s = s.where(year_first, "")
    out = pd.to_datetime(s, errors="coerce", format="ISO8601")
    rest = out.isna() & (s != "")
    if rest.any():
        t = s[rest].str.replace(_CN_DATE, r"\1-\2-\3", regex=True).str.replace("/", "-", regex=False)
        out.loc[rest] = pd.to_datetime(t, errors="coerce", format="mixed")
    year = out.dt.year
    return out.where((year >= YEARS[0]) & (year <= YEARS[1]))


def map_values(s: pd.Series, lut: dict, key=lambda x: x) -> pd.Series:
    """``s.map(lambda x: lut[key(x)])`` for columns with few distinct values: look each
    distinct value up once (factorize), then spread the results back. Unmapped → NaN."""
    codes, uniques = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
    looked = np.array([lut.get(key(u), np.nan) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(looked[codes], index=s.index)


class _Problems:
    """Collects (row position, column, value, code, reason) for failing cells."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, column: str, code: str, reason) -> None:
        """`reason` is a string or a function value -> string, called on failing cells only."""
        if not mask.any():
            return
        vals = self.frame.loc[mask, column] if column in self.frame else pd.Series("", index=mask[mask].index)
        vals = [shown(v) for v in vals]  # no control character or essay reaches a reason or a sheet
        reasons = [reason(v) if callable(reason) else reason for v in vals]
        self.parts.append(pd.DataFrame({"pos": np.flatnonzero(mask.to_numpy()), "column": column,
                                        "value": vals, "reason_code": code, "reason": reasons}))

    def rejected(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["pos", "column", "value", "reason_code", "reason"])
        p = pd.concat(self.parts, ignore_index=True).sort_values("pos", kind="stable")
        # one line per rejected row: the first failing column names it, every reason is listed
        many = p["pos"].duplicated(keep=False)
        single = p[~many]
        if many.any():
            joined = p[many].groupby("pos", sort=True).agg(
                column=("column", "first"), value=("value", "first"),
                reason_code=("reason_code", "first"), reason=("reason", "; ".join)).reset_index()
            single = pd.concat([single, joined], ignore_index=True)
        return single.sort_values("pos", kind="stable").reset_index(drop=True)


def _duplicates(df: pd.DataFrame, column: str, pb: _Problems) -> None:
    """A row repeating the id of an earlier row is rejected and the earlier row kept.
    Only rows that pass every other check count: a corrected re-entry after a rejected
    row is kept, not lost with it."""
    bad = np.zeros(len(df), dtype=bool)
    for part in pb.parts:
        bad[part["pos"].to_numpy(dtype=np.int64)] = True
    s = df[column]
    ok = ~bad & (s != "").to_numpy()
    dup = np.zeros(len(df), dtype=bool)
    dup[ok] = s[ok].duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    first_row = dict(zip(s[ok][~dup[ok]], df[ROW].to_numpy()[ok][~dup[ok]]))
    vals = s[dup]
    pb.parts.append(pd.DataFrame({
        "pos": np.flatnonzero(dup), "column": column, "value": [shown(v) for v in vals],
        "reason_code": "duplicate_id", "reason": [duplicate_reason(column, v, first_row[v]) for v in vals]}))


def duplicate_reason(column: str, value: str, first_row: int) -> str:
    """The reason of a row repeating an earlier valid row's id (also used by dataset/engine.py)."""
    return f"duplicate {column} '{shown(value)}' (first on row {first_row})"


def _rows_text(rows) -> str:
    rows = [str(int(r)) for r in rows]
    return "、".join(rows[:5]) + ("等" if len(rows) > 5 else "")


def _check_table(raw: RawTable, table: schema.Table, ruleset: Ruleset, units: set[str],
                 rejected_units: set[str], notes: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = raw.frame
    out = pd.DataFrame({ROW: df[ROW].to_numpy()}, index=df.index)
    pb = _Problems(df)
    # the reader noted which columns hold a control character; only those are scanned
    scan = df.attrs.get(CONTROL_COLUMNS)
    for col in table.columns:
        s = df[col.id]
        blank = s == ""
        label = col.id if col.zh == col.id else f"{col.zh} ({col.id})"
        k = col.kind
        has_control = scan is None or col.id in scan
        if k in (schema.ID, schema.UNIT, schema.PARENT):  # an id with an invisible character names nothing
            control = control_mask(s) if has_control else pd.Series(False, index=s.index)
            pb.add(control, col.id, "control_character",
                   lambda v, label=label: f"{label} '{v}' 含控制字符（不可见字符），编码中不允许")
        if k == schema.ID:
            pb.add(blank, col.id, "missing_id", f"{label} is blank")
            out[col.id] = s
        elif k in (schema.UNIT, schema.PARENT):
            unknown = ~s.isin(units) & ~blank & ~control
            pb.add(unknown, col.id, "unknown_unit",
                   lambda v: f"unit '{v}' was rejected in the units table" if v in rejected_units
                   else f"unknown unit '{v}' (not in the units table)")
            if k == schema.UNIT:
                pb.add(blank, col.id, "missing_unit", f"{label} is blank")
            out[col.id] = s.where(~blank, None) if k == schema.PARENT else s
        elif k in (schema.TEXT, schema.REQUIRED_TEXT):
            s, cleaned = strip_text_controls(s) if has_control else (s, None)
            if cleaned is not None and cleaned.any():
                blank = s == ""
            if cleaned is not None and cleaned.any() and notes is not None:
                notes.append(f"{visible(raw.path)}: 已删去 {col.id} 列 {int(cleaned.sum())} 个单元格中的控制字符"
                             f"（不可见字符；第 {_rows_text(df.loc[cleaned, ROW])} 行）")
            if k == schema.REQUIRED_TEXT:
                pb.add(blank, col.id, "missing_value", f"{label} is blank")
            out[col.id] = s
        elif k in _WHAT:
            lut = _lookup(ruleset, k)
            v = map_values(s, lut, normalise)
            bad = v.isna() & ~blank
            if k == schema.ANSWER:
                pb.add(bad, col.id, "unknown_answer",
                       lambda x, label=label: f"unknown answer '{x}' in {label}; use "
                       + "/".join(lv.label for lv in ruleset.levels) + " or codes 1-" + str(len(ruleset.levels)))
                out[col.id] = v.fillna(0).astype(np.int8)
            else:
                allowed = ", ".join(_allowed(ruleset, k))
                pb.add(bad, col.id, f"unknown_{k}", lambda x, k=k, label=label, allowed=allowed:
                       f"unknown {_WHAT[k]} '{x}' in {label}; allowed: {allowed}")
                pb.add(blank, col.id, "missing_value", f"{label} is blank")
                out[col.id] = v
        elif k in (schema.DATE, schema.OPTIONAL_DATE, schema.DATETIME):
            d = parse_datetimes(s)
            pb.add(d.isna() & ~blank, col.id, "bad_date",
                   lambda x, label=label: f"'{x}' in {label} is not a date (write it as 2011-08-03)")
            if k == schema.DATE:
                pb.add(blank, col.id, "missing_value", f"{label} is blank")
            out[col.id] = d if k == schema.DATETIME else d.dt.normalize()
        elif k in (schema.AMOUNT, schema.REQUIRED_AMOUNT):
            x = pd.to_numeric(s.where(~blank, None), errors="coerce")
            x = x.where(np.isfinite(x.astype(float)))  # inf, 1e309: not a number of points
            pb.add(x.isna() & ~blank, col.id, "not_a_number",
                   lambda v, label=label: f"{label} '{v}' is not a number")
            pb.add(x < 0, col.id, "negative", lambda v, label=label: f"{label} '{v}' is negative")
            if k == schema.REQUIRED_AMOUNT:
                pb.add(blank, col.id, "missing_value", f"{label} is blank")
            out[col.id] = x.fillna(0.0).astype(float)
        else:  # pragma: no cover - a schema bug
            raise AssertionError(f"unknown column kind {k}")
    if table.id_column:
        _duplicates(df, table.id_column, pb)
    rej = pb.rejected()
    keep = np.ones(len(df), dtype=bool)
    keep[rej["pos"].to_numpy(dtype=np.int64)] = False
    clean = out[keep].reset_index(drop=True)
    pos = rej["pos"].to_numpy(dtype=np.int64)
    rej["row"] = df[ROW].to_numpy()[pos]
    # the unit the rejected row was about, as written (for data quality per unit)
    rej["unit_id"] = [shown(u) for u in df["unit_id"].to_numpy()[pos]] if "unit_id" in df else ""
    return clean, rej.drop(columns="pos")


_EMPTY_DTYPES = {schema.ANSWER: np.int8, schema.AMOUNT: float, schema.REQUIRED_AMOUNT: float, schema.BOOL: bool,
                 schema.DATE: "datetime64[ns]", schema.OPTIONAL_DATE: "datetime64[ns]",
                 schema.DATETIME: "datetime64[ns]"}


def empty_table(table: schema.Table) -> pd.DataFrame:
    """A table with no rows but the columns and dtypes of a validated one (a missing
    optional table means "none")."""
    return pd.DataFrame({ROW: pd.Series(dtype=np.int64),
                         **{c.id: pd.Series(dtype=_EMPTY_DTYPES.get(c.kind, object)) for c in table.columns}})


def validate_tables(raws: dict[str, RawTable | Deferred], ruleset: Ruleset, engine_counts: list | None = None,
                    engines: dict[str, str] | None = None, unit_sets: dict | None = None):
    """Return (clean tables, quarantine frame, counts frame, notes).

    A :class:`Deferred` table is read, checked and counted by ``dataset/engine.py``
    (falling back to the pandas path where the engine cannot promise the same answer):
    its clean table is then an ``engine.DeferredTable`` (built on first use), and its
    answer counts go to ``engine_counts``. ``engines`` receives the path each table took,
    ``unit_sets`` the valid and the rejected unit ids (what checking a response table needs).
    """
    specs = schema.tables(ruleset)
    clean: dict[str, pd.DataFrame] = {}
    quarantine: list[pd.DataFrame] = []
    counts = []
    notes: list[str] = []
    units: set[str] = set()
    rejected_units: set[str] = set()
    for name, table in specs.items():  # units first: the others refer to it
        raw = raws.get(name)
        if raw is None:
            clean[name] = empty_table(table)
            continue
        if isinstance(raw, Deferred):
            try:
                scanned = engine.scan(raw.path, table, ruleset, units, rejected_units)
            except engine.Unsupported:
                raw = read_table(Path(raw.path), table)
            else:
                if scanned.ignored_columns:
                    notes.append(visible(f"{raw.path}: ignored unknown columns "
                                         f"{', '.join(scanned.ignored_columns)}"))
                rej = scanned.rejected
                rej.insert(0, "file", raw.path)
                rej.insert(0, "table", name)
                quarantine.append(rej)
                clean[name] = engine.DeferredTable(raw.path, name, ruleset, frozenset(units),
                                                   frozenset(rejected_units))
                counts.append({"table": name, "file": raw.path, "accepted": scanned.accepted,
                               "rejected": len(rej)})
                if engine_counts is not None:
                    engine_counts.append(scanned.counts)
                if engines is not None:
                    engines[name] = "duckdb"
                continue
        if engines is not None:
            engines[name] = "pandas"
        if raw.ignored_columns:
            notes.append(visible(f"{raw.path}: ignored unknown columns {', '.join(raw.ignored_columns)}"))
        if name == "units":
            # parents may come later in the file: check them against every unit id
            units = set(raw.frame["unit_id"][raw.frame["unit_id"] != ""])
        c, rej = _check_table(raw, table, ruleset, units, rejected_units, notes)
        if name == "units":
            written = set(raw.frame["unit_id"]) | {u for *_, u in raw.bad_rows if u}
            units = set(c["unit_id"])
            while True:  # a unit whose parent was rejected has nothing to hang on, at any depth
                rejected_units = written - units
                orphan = c["parent_id"].isin(rejected_units)
                if not orphan.any():
                    break
                parents = c.loc[orphan, "parent_id"]
                rej = pd.concat([rej, pd.DataFrame({
                    "column": "parent_id", "value": parents, "reason_code": "unknown_unit",
                    "reason": [f"parent unit '{p}' was rejected" for p in parents],
                    "row": c.loc[orphan, ROW], "unit_id": c.loc[orphan, "unit_id"]})], ignore_index=True)
                c = c[~orphan].reset_index(drop=True)
                units = set(c["unit_id"])
            c["rank_group"] = c["level"].map(ruleset.rank_groups)
            if unit_sets is not None:
                unit_sets.update(units=frozenset(units), rejected=frozenset(rejected_units))
        notes.extend(visible(n) for n in raw.notes)
        bad = pd.DataFrame({"row": [r for r, *_ in raw.bad_rows], "unit_id": [shown(u) for *_, u in raw.bad_rows],
                            "column": "", "value": "", "reason_code": [c for _, c, _, _ in raw.bad_rows],
                            "reason": [visible(m) for _, _, m, _ in raw.bad_rows]})
        rej = pd.concat([x for x in (rej, bad) if len(x)], ignore_index=True) if len(bad) else rej
        rej.insert(0, "file", raw.path)
        rej.insert(0, "table", name)
        quarantine.append(rej)
        clean[name] = c
        counts.append({"table": name, "file": raw.path, "accepted": len(c), "rejected": len(rej)})
    q = pd.concat([x for x in quarantine if len(x)], ignore_index=True) if any(len(x) for x in quarantine) \
        else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    order = {name: i for i, name in enumerate(specs)}
    q = q[QUARANTINE_COLUMNS].sort_values(["table", "row"], key=lambda c: c.map(order) if c.name == "table" else c,
                                          kind="stable").reset_index(drop=True)
    q["row"] = q["row"].astype(np.int64)
    q = q.astype({c: object for c in QUARANTINE_COLUMNS if c != "row"})  # one dtype whichever path found them
    return clean, q, pd.DataFrame(counts, columns=["table", "file", "accepted", "rejected"]), notes
