"""Raw text tables → clean typed tables + a quarantine of every rejected row.

Rules (SPEC §2): a row with any invalid value is rejected whole; a row whose id repeats
an earlier row's id is rejected and the earlier row kept; a rejected row is never
dropped silently: it lands in the quarantine with its file, spreadsheet row number and
a reason in plain Chinese words for the clerk who fixes the file, naming the column by
its header as written in that file, beside a stable English ``reason_code`` for programs.
All checks are vectorised per column; Python only formats the reasons of the rows that fail.

Every reason text is made by :func:`reason` from a code and its details: any other reader
(a fast engine for large files) calls it too, so the words are the same whatever read the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pingyi_lib.common.controlchars import CONTROL, REMOVED_FROM_TEXT, visible
from pingyi_lib.dataset import schema
from pingyi_lib.dataset.read import CONTROL_COLUMNS, ROW, Deferred, RawTable, read_table
from pingyi_lib.scheme.ruleset import Ruleset

QUARANTINE_COLUMNS = ["table", "file", "row", "unit_id", "column", "header", "value", "reason_code", "reason"]
# beside them: when a rejected row of a table with a date-time column says it was submitted
# (NaT when it does not say or cannot be read), so a count as of a day can include it (pingyi progress)
QUARANTINE_TIME = "submitted_at"
SHOWN_VALUE_CHARS = 200  # a rejected value is shown up to this length (a whole essay helps nobody)

# reason_code -> the words (format fields: header = the column's header as written in the file,
# value = the cell; the others are named where the code is raised). One home for every reason.
REASONS: dict[str, str] = {
    "missing_id": "“{header}”为空（每行都要有编号）",
    "missing_unit": "“{header}”为空（应填评议单位表中的单位编码）",
    "missing_value": "“{header}”为空",
    "unknown_unit": "“{header}”中的“{value}”不是评议单位表中的单位编码",
    "rejected_unit": "“{header}”中的单位“{value}”在评议单位表中被拒绝，本行随之不计",
    "rejected_parent": "“{header}”中的上级单位“{value}”在评议单位表中被拒绝，本单位随之不计",
    "unknown_answer": "“{header}”的答案“{value}”无法识别；应填 {allowed}",
    "unknown_value": "“{header}”的“{value}”不是允许的{what}；允许的值：{allowed}",
    "bad_date": "“{header}”的“{value}”不是日期（请写成 2011-08-03）",
    "not_a_number": "“{header}”的“{value}”不是数字",
    "negative": "“{header}”的“{value}”是负数",
    "duplicate_id": "“{header}”重复：“{value}”在第 {first_row} 行已有（保留第 {first_row} 行）",
    "control_character": "“{header}”中的“{value}”含控制字符（不可见字符），编码中不允许",
    "field_too_long": "“{header}”有 {length} 个字符，超过每格上限 {limit} 个字符（本行不计）",
    "wrong_field_count": "本行有 {fields} 个字段，而表头有 {expected} 个（多了或少了逗号？）",
    "unsaved_formula": "“{header}”是没有保存结果的公式（{formula}）；请在 Excel 中打开并保存，或粘贴为数值",
}


def reason(code: str, header: str = "", value: object = "", **details) -> str:
    """The Chinese words for a rejected row: ``reason("negative", "扣分", "-2")`` →
    ‘“扣分”的“-2”是负数’. ``code`` is a reason_code (``unknown_<kind>`` codes share one
    text, given ``what`` and ``allowed``); ``details`` fill the other fields of the text.
    The value is shown as :func:`shown` writes it (control characters written out, cut)."""
    key = "unknown_value" if code.startswith("unknown_") and code not in REASONS else code
    return REASONS[key].format(header=header, value=shown(value), **details)


def where(file: str, row: int) -> str:
    """‘units.csv 第 4 行’: the place of a rejected row, as a clerk finds it."""
    return f"{file} 第 {int(row)} 行"


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


_WHAT = {schema.ANSWER: "答案", schema.UNIT_LEVEL: "层级", schema.CHANNEL: "渠道",
         schema.BOOL: "值", schema.DECISION: "复核结论",
         schema.PANEL_CATEGORY: "代表类别", schema.CASE_SOURCE: "案例来源",
         schema.VIOLATION_KIND: "违纪类别", schema.STATUS: "整改状态", schema.STEP: "工作环节"}


def allowed_values(ruleset: Ruleset, kind: str) -> str:
    """The values a person should be told are allowed, Chinese first (English ids beside)."""
    if kind == schema.ANSWER:
        return "/".join(lv.label for lv in ruleset.levels) + f" 或代码 1-{len(ruleset.levels)}"
    if kind == schema.UNIT_LEVEL:
        return "、".join(ruleset.unit_level_labels.values()) + f"（或 {', '.join(ruleset.unit_level_labels)}）"
    if kind == schema.CHANNEL:
        return "、".join(ruleset.channels.values()) + f"（或 {', '.join(ruleset.channels)}）"
    if kind == schema.BOOL:
        return "/".join(ruleset.yes[:1] + ruleset.no[:1])
    if kind == schema.DECISION:
        return "、".join(ruleset.integrity.review_exclude + ruleset.integrity.review_keep)
    return "、".join(str(v) for v in _raw_lookup(ruleset, kind))


_CN_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")


_YEAR_FIRST = re.compile(r"^\s*\d{4}\s*[-/年.]")


YEARS = (1900, 2100)  # a date outside these years is a typing slip (0001-01-01), not a date of a round


def as_typed(s: pd.Series) -> pd.Series:
    """Numbers and dates as clerks type them, for parsing: full-width digits and punctuation
    (２．０, ２０１１－０８－１５, ８０％) after Unicode NFKC normalisation (2.0, 2011-08-15, 80%).
    Only values with a character beyond ASCII are touched; a value still refused is shown as
    written (the quarantine keeps the raw text)."""
    wide = ~s.str.isascii().fillna(True).astype(bool)
    if not wide.any():
        return s
    s = s.copy()
    s[wide] = s[wide].str.normalize("NFKC")
    return s


def parse_datetimes(s: pd.Series) -> pd.Series:
    """Text → datetime64; accepts ISO, 2011/8/3 and 2011年8月3日 (year first, as written in
    China) in the years of :data:`YEARS`, in full-width digits too. Anything else ('now',
    3/8/2011 with its month-day ambiguity, 0001-01-01) → NaT."""
    s = as_typed(s)
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

    def __init__(self, frame: pd.DataFrame, headers: dict[str, str]):
        self.frame = frame
        self.headers = headers
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, column: str, code: str, words=None, **details) -> None:
        """Reject the rows of ``mask`` for ``code``; the reason is :func:`reason` of the code
        (``words(value) -> (code, details)`` may refine it per failing value)."""
        if not mask.any():
            return
        vals = self.frame.loc[mask, column] if column in self.frame else pd.Series("", index=mask[mask].index)
        header = self.headers[column]
        codes, reasons = [], []
        for v in vals:
            c, extra = words(v) if words else (code, {})
            codes.append(code)
            reasons.append(reason(c, header, v, **details, **extra))
        # no control character or essay reaches a value or a sheet
        self.parts.append(pd.DataFrame({"pos": np.flatnonzero(mask.to_numpy()), "column": column,
                                        "value": [shown(v) for v in vals], "reason_code": codes,
                                        "reason": reasons}))

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
                reason_code=("reason_code", "first"), reason=("reason", "；".join)).reset_index()
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
        "reason_code": "duplicate_id",
        "reason": [duplicate_reason(pb.headers[column], v, first_row[v]) for v in vals]}))


def duplicate_reason(header: str, value: str, first_row: int) -> str:
    """The reason of a row repeating an earlier valid row's id (also used by dataset/engine.py)."""
    return reason("duplicate_id", header, value, first_row=first_row)


def _rows_text(rows) -> str:
    rows = [str(int(r)) for r in rows]
    return "、".join(rows[:5]) + ("等" if len(rows) > 5 else "")


def _check_table(raw: RawTable, table: schema.Table, ruleset: Ruleset, units: set[str],
                 rejected_units: set[str], notes: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One table's raw text → (clean rows, rejected rows with their reasons). Each column is
    checked by the function for its kind (below); a row with any problem is rejected whole."""
    df = raw.frame
    headers = {c.id: raw.headers.get(c.id, c.zh) for c in table.columns}
    cx = _Context(raw, ruleset, units, rejected_units, notes, headers, _Problems(df, headers),
                  df.attrs.get(CONTROL_COLUMNS))  # the reader noted which columns hold a control character
    out = pd.DataFrame({ROW: df[ROW].to_numpy()}, index=df.index)
    for col in table.columns:
        check = _CHECKS.get(col.kind) or (_check_enumerated if col.kind in _WHAT else None)
        if check is None:  # pragma: no cover - a schema bug
            raise AssertionError(f"unknown column kind {col.kind}")
        out[col.id] = check(cx, col, df[col.id])
    if table.id_column:
        _duplicates(df, table.id_column, cx.pb)
    rej = cx.pb.rejected()
    pos = rej["pos"].to_numpy(dtype=np.int64)
    keep = np.ones(len(df), dtype=bool)
    keep[pos] = False
    clean = out[keep].reset_index(drop=True)
    rej["row"] = df[ROW].to_numpy()[pos]
    rej["header"] = rej["column"].map(headers)
    # the unit the rejected row was about, as written (for data quality per unit)
    rej["unit_id"] = [shown(u) for u in df["unit_id"].to_numpy()[pos]] if "unit_id" in df else ""
    when = next((c.id for c in table.columns if c.kind == schema.DATETIME and c.id in df), None)
    if when is not None:
        rej[QUARANTINE_TIME] = parse_datetimes(pd.Series(df[when].to_numpy()[pos], dtype=object)).to_numpy()
    return clean, rej.drop(columns="pos")


@dataclass
class _Context:
    """What the column checks of one table share."""

    raw: RawTable
    ruleset: Ruleset
    units: set[str]
    rejected_units: set[str]
    notes: list[str] | None
    headers: dict[str, str]
    pb: _Problems
    control_columns: set[str] | None  # None: not noted by the reader, scan every column

    def may_hold_control(self, cid: str) -> bool:
        return self.control_columns is None or cid in self.control_columns

    def reject_control(self, col: schema.Column, s: pd.Series) -> pd.Series:
        """An id with an invisible character names nothing: reject it."""
        control = control_mask(s) if self.may_hold_control(col.id) else pd.Series(False, index=s.index)
        self.pb.add(control, col.id, "control_character")
        return control


def _check_id(cx: _Context, col: schema.Column, s: pd.Series) -> pd.Series:
    cx.reject_control(col, s)
    if col.kind == schema.ID:
        cx.pb.add(s == "", col.id, "missing_id")
    return s


def _check_unit_ref(cx: _Context, col: schema.Column, s: pd.Series) -> pd.Series:
    """A unit id (or a parent id, which may be blank) that must name a valid unit."""
    blank = s == ""
    control = cx.reject_control(col, s)
    unknown = ~s.isin(cx.units) & ~blank & ~control
    rejected = "rejected_unit" if col.kind == schema.UNIT else "rejected_parent"
    cx.pb.add(unknown, col.id, "unknown_unit",
              lambda v: (rejected if v in cx.rejected_units else "unknown_unit", {}))
    if col.kind == schema.UNIT:
        cx.pb.add(blank, col.id, "missing_unit")
        return s
    return s.where(~blank, None)


def _check_text(cx: _Context, col: schema.Column, s: pd.Series) -> pd.Series:
    """Free text: control characters removed, with a note; required text must not be blank."""
    s, cleaned = strip_text_controls(s) if cx.may_hold_control(col.id) else (s, None)
    if cleaned is not None and cleaned.any() and cx.notes is not None:
        rows = _rows_text(cx.raw.frame.loc[cleaned, ROW])
        cx.notes.append(f"{visible(cx.raw.path)}：已删去“{cx.headers[col.id]}”列 {int(cleaned.sum())} 个单元格中的"
                        f"控制字符（不可见字符；第 {rows} 行）")
    if col.kind == schema.REQUIRED_TEXT:
        cx.pb.add(s == "", col.id, "missing_value")
    return s


def _check_enumerated(cx: _Context, col: schema.Column, s: pd.Series) -> pd.Series:
    """Answers (label or code), levels, channels, yes/no, …: looked up in the ruleset."""
    k, blank = col.kind, s == ""
    v = map_values(s, _lookup(cx.ruleset, k), normalise)
    bad = v.isna() & ~blank
    allowed = allowed_values(cx.ruleset, k)
    if k == schema.ANSWER:
        cx.pb.add(bad, col.id, "unknown_answer", allowed=allowed)
        return v.fillna(0).astype(np.int8)
    cx.pb.add(bad, col.id, f"unknown_{k}", what=_WHAT[k], allowed=allowed)
    cx.pb.add(blank, col.id, "missing_value")
    return v


def _check_date(cx: _Context, col: schema.Column, s: pd.Series) -> pd.Series:
    blank = s == ""
    d = parse_datetimes(s)
    cx.pb.add(d.isna() & ~blank, col.id, "bad_date")
    if col.kind == schema.DATE:
        cx.pb.add(blank, col.id, "missing_value")
    return d if col.kind == schema.DATETIME else d.dt.normalize()


def _check_amount(cx: _Context, col: schema.Column, s: pd.Series) -> pd.Series:
    """Points and deductions: a finite number ≥ 0 (blank is 0 unless required)."""
    blank = s == ""
    x = pd.to_numeric(as_typed(s).str.strip().where(~blank, None), errors="coerce")
    x = x.where(np.isfinite(x.astype(float)))  # inf, 1e309: not a number of points
    cx.pb.add(x.isna() & ~blank, col.id, "not_a_number")
    cx.pb.add(x < 0, col.id, "negative")
    if col.kind == schema.REQUIRED_AMOUNT:
        cx.pb.add(blank, col.id, "missing_value")
    return x.fillna(0.0).astype(float)


SECONDS_TEXT = r"[0-9]+(\.[0-9]+)?"  # a number of seconds as written (the DuckDB engine checks the same)


def _check_seconds(cx: _Context, col: schema.Column, s: pd.Series) -> pd.Series:
    """Seconds taken to answer: blank (not known) or a plain number ≥ 0; blank stays missing."""
    blank = s == ""
    typed = as_typed(s)
    ok = typed.str.fullmatch(SECONDS_TEXT).fillna(False).astype(bool)
    cx.pb.add(~ok & ~blank, col.id, "not_a_number")
    return pd.to_numeric(typed.where(ok, None), errors="coerce").astype(float)


_CHECKS = {schema.ID: _check_id, schema.OPTIONAL_ID: _check_id, schema.TEXT: _check_text,
           schema.UNIT: _check_unit_ref, schema.PARENT: _check_unit_ref, schema.REQUIRED_TEXT: _check_text,
           schema.DATE: _check_date, schema.OPTIONAL_DATE: _check_date, schema.DATETIME: _check_date,
           schema.AMOUNT: _check_amount, schema.REQUIRED_AMOUNT: _check_amount,
           schema.SECONDS: _check_seconds}


_EMPTY_DTYPES = {schema.ANSWER: np.int8, schema.AMOUNT: float, schema.SECONDS: float, schema.REQUIRED_AMOUNT: float,
                 schema.BOOL: bool,
                 schema.DATE: "datetime64[ns]", schema.OPTIONAL_DATE: "datetime64[ns]",
                 schema.DATETIME: "datetime64[ns]"}


def empty_table(table: schema.Table) -> pd.DataFrame:
    """A table with no rows but the columns and dtypes of a validated one (a missing
    optional table means "none")."""
    return pd.DataFrame({ROW: pd.Series(dtype=np.int64),
                         **{c.id: pd.Series(dtype=_EMPTY_DTYPES.get(c.kind, object)) for c in table.columns}})


def validate_tables(raws: dict[str, RawTable | Deferred], ruleset: Ruleset, engine_counts: list | None = None,
                    engines: dict[str, str] | None = None, unit_sets: dict | None = None, engine_take=None):
    """Return (clean tables, quarantine frame, counts frame, notes).

    A :class:`Deferred` table is read, checked and counted by ``engine_take`` (``dataset/engine.py``'s
    ``take``, which calls back into this module for every reason; it returns None where the engine
    cannot promise the same answer, and the pandas path reads the file): its clean table is then
    built on first use, and its answer counts go to ``engine_counts``. ``engines`` receives the path each table took,
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
            taken = engine_take(raw, table, ruleset, units, rejected_units) if engine_take else None
            if taken is None:
                raw = read_table(Path(raw.path), table)
            else:
                scanned, deferred_table = taken
                if scanned.ignored_columns:
                    notes.append(visible(f"{raw.path}：以下列不是{table.zh}的列，已忽略："
                                         f"{'、'.join(scanned.ignored_columns)}"))
                rej = scanned.rejected
                rej.insert(0, "file", raw.path)
                rej.insert(0, "table", name)
                quarantine.append(rej)
                clean[name] = deferred_table
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
            notes.append(visible(f"{raw.path}：以下列不是{table.zh}的列，已忽略：{'、'.join(raw.ignored_columns)}"))
        if name == "units":
            # parents may come later in the file: check them against every unit id
            units = set(raw.frame["unit_id"][raw.frame["unit_id"] != ""])
        c, rej = _check_table(raw, table, ruleset, units, rejected_units, notes)
        if name == "units":
            c, rej, units, rejected_units = _drop_orphans(raw, c, rej)
            c["rank_group"] = c["level"].map(ruleset.rank_groups)
            if unit_sets is not None:
                unit_sets.update(units=frozenset(units), rejected=frozenset(rejected_units))
        notes.extend(visible(n) for n in raw.notes)
        bad = _unreadable_rows(raw)
        rej = pd.concat([x for x in (rej, bad) if len(x)], ignore_index=True) if len(bad) else rej
        rej.insert(0, "file", raw.path)
        rej.insert(0, "table", name)
        quarantine.append(rej)
        clean[name] = c
        counts.append({"table": name, "file": raw.path, "accepted": len(c), "rejected": len(rej)})
    return clean, _one_quarantine(quarantine, list(specs)), \
        pd.DataFrame(counts, columns=["table", "file", "accepted", "rejected"]), notes


def _drop_orphans(raw: RawTable, c: pd.DataFrame, rej: pd.DataFrame):
    """Units whose parent was rejected have nothing to hang on, at any depth: reject them
    too. Returns (clean units, rejections, valid unit ids, rejected unit ids)."""
    written = set(raw.frame["unit_id"]) | {u for _, _, u, _ in raw.bad_rows if u}
    units = set(c["unit_id"])
    while True:
        rejected_units = written - units
        orphan = c["parent_id"].isin(rejected_units)
        if not orphan.any():
            return c, rej, units, rejected_units
        parents = c.loc[orphan, "parent_id"]
        header = raw.headers.get("parent_id", "上级单位编码")
        rej = pd.concat([rej, pd.DataFrame({
            "column": "parent_id", "header": header, "value": parents, "reason_code": "unknown_unit",
            "reason": [reason("rejected_parent", header, p) for p in parents],
            "row": c.loc[orphan, ROW], "unit_id": c.loc[orphan, "unit_id"]})], ignore_index=True)
        c = c[~orphan].reset_index(drop=True)
        units = set(c["unit_id"])


def _unreadable_rows(raw: RawTable) -> pd.DataFrame:
    """Rows the reader could not take apart (wrong field count, a field too long, …) as
    quarantine rows, with their reasons from the one builder."""
    b = raw.bad_rows
    return pd.DataFrame({"row": [r for r, _, _, _ in b], "unit_id": [shown(u) for _, _, u, _ in b],
                         "column": [d.get("column", "") for _, _, _, d in b],
                         "header": [d.get("header", "") for _, _, _, d in b], "value": "",
                         "reason_code": [c for _, c, _, _ in b],
                         "reason": [reason(c, **{k: v for k, v in d.items() if k != "column"}) for _, c, _, d in b]})


def _one_quarantine(parts: list[pd.DataFrame], order: list[str]) -> pd.DataFrame:
    """The rejected rows of every table as one frame, in table order then row order."""
    q = pd.concat([x for x in parts if len(x)], ignore_index=True) if any(len(x) for x in parts) \
        else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    rank = {name: i for i, name in enumerate(order)}
    q = with_times(q)[[*QUARANTINE_COLUMNS, QUARANTINE_TIME]].sort_values(
        ["table", "row"], key=lambda c: c.map(rank) if c.name == "table" else c, kind="stable").reset_index(drop=True)
    q["row"] = q["row"].astype(np.int64)
    return q.astype({c: object for c in QUARANTINE_COLUMNS if c != "row"})  # one dtype whichever path found them


def with_times(q: pd.DataFrame) -> pd.DataFrame:
    """``q`` with its :data:`QUARANTINE_TIME` column as date-times (NaT where a row has none)."""
    at = q[QUARANTINE_TIME] if QUARANTINE_TIME in q else pd.Series(pd.NaT, index=q.index)
    return q.assign(**{QUARANTINE_TIME: pd.to_datetime(at).astype("datetime64[ns]")})
