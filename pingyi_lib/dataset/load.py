"""A dataset folder read and validated: :func:`load_dataset` and the :class:`Dataset` it returns.

    >>> import pingyi_lib as py
    >>> ds = py.load_dataset("data/sample/2011")
    >>> ds.survey            # clean rows of one table
    >>> ds.quarantine        # every rejected row with its file, row number and reason
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pingyi_lib.common.errors import OptionError
from pingyi_lib.dataset import counted, schema
from pingyi_lib.dataset import engine as engine_mod
from pingyi_lib.dataset.compact import arrow_text
from pingyi_lib.dataset.read import read_folder
from pingyi_lib.dataset.round import RoundInfo, round_info
from pingyi_lib.dataset.validate import shown, validate_tables
from pingyi_lib.scheme.ruleset import Ruleset, default_ruleset_path, load_ruleset

ENGINES = ("auto", "duckdb", "pandas")


class Tables(dict):
    """Clean tables by name. A table the engine checked is built on first use
    (``engine.DeferredTable``), so scoring a big round never holds its rows in pandas."""

    def __getitem__(self, name: str) -> pd.DataFrame:
        v = super().__getitem__(name)
        if callable(v):
            v = v()
            super().__setitem__(name, v)
        return v

    def get(self, name, default=None):
        return self[name] if name in self else default

    def loaded(self, name: str) -> bool:
        """Is the clean table in memory (not waiting to be built)?"""
        return not callable(super().__getitem__(name))

    def waiting(self, name: str):
        """The table's ``engine.DeferredTable`` while it is not built, else None."""
        v = dict.get(self, name)
        return v if callable(v) else None


@dataclass
class Dataset:
    """A validated evaluation round: clean tables, quarantine and accepted/rejected counts."""

    path: str
    ruleset: Ruleset
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    table_counts: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    round: RoundInfo | None = None  # city, year, title (round.toml or the data); set by load_dataset
    written_unit_names: dict[str, str] = field(default_factory=dict)  # unit id -> name, as written (rejected too)
    # answer counts (counted.COUNT_COLUMNS) of the response tables the engine counted, or that
    # `pingyi score --counts` merged; scoring counts the other tables from their rows
    counts: pd.DataFrame | None = None
    engines: dict[str, str] = field(default_factory=dict)  # table → "duckdb", "pandas" or "counts"
    unit_sets: dict = field(default_factory=dict)  # "units": valid unit ids, "rejected": rejected ones
    # `pingyi score --counts`: the count files merged, and those that carry no questionnaires
    # (written before count files carried them): the integrity check cannot judge the round then
    parts: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()

    def counted(self, table: str) -> bool:
        """Are ``table``'s answers in :attr:`counts` (read by the engine, or merged parts)
        rather than in its rows?"""
        return self.counts is not None and self.engines.get(table) in ("duckdb", "counts")

    def accepted_per_unit(self, table: str) -> pd.Series:
        """Accepted rows of a response table per unit id, from the counts when its rows are
        not in memory (never builds them)."""
        if self.counted(table):
            c = self.counts[(self.counts["table"] == table) & (self.counts["measure"] == "rows")]
            return c.groupby("unit_id")["n"].sum()
        rows = self.compact_rows(table)
        return rows.groupby(rows["unit_id"].to_numpy()).size().rename_axis("unit_id")

    def compact_rows(self, table: str) -> pd.DataFrame:
        """The clean rows of ``table`` as far as checks and counts need them, without building
        the table: while it waits in its file, the engine's compact rows (``compact.COMPACT``
        columns and the answers; text as categories), else the table itself."""
        tables = self.tables if isinstance(self.tables, Tables) else Tables(self.tables)
        waiting = tables.waiting(table)
        rows = getattr(waiting, "rows", None)
        return rows if rows is not None else self.tables[table]

    def without_rows(self, table: str, ids: set, quarantine: pd.DataFrame) -> Dataset:
        """This dataset without the rows of ``table`` whose id is in ``ids``; ``quarantine``
        (their reasons) joins the quarantine, in the quarantine's order. Counts the engine
        made (or merged parts carried) lose the counts of those rows (:meth:`scored_without`)."""
        spec = schema.tables(self.ruleset)
        id_col = spec[table].id_column
        tables = Tables(self.tables)
        waiting = tables.waiting(table)
        held = self.compact_rows(table)
        out = isin(held[id_col], ids)
        kept = held[~out].reset_index(drop=True)
        tables[table] = dataclasses.replace(waiting, rows=kept, excluded=waiting.excluded | frozenset(ids)) \
            if waiting is not None and waiting.rows is not None else kept
        order = {name: i for i, name in enumerate(spec)}
        q = pd.concat([self.quarantine, quarantine], ignore_index=True)
        q = q.sort_values(["table", "row"], key=lambda c: c.map(order) if c.name == "table" else c,
                          kind="stable").reset_index(drop=True)
        counts = self.scored_without(table, out).counts if self.counted(table) else self.counts
        return dataclasses.replace(self, tables=tables, quarantine=q, counts=counts)

    def scored_without(self, table: str, out: np.ndarray) -> Dataset:
        """For a rescoring (``scoring.results``: without a period, without every flagged
        questionnaire): this dataset as scoring sees it without the rows ``out`` (a mask over
        :meth:`compact_rows`). A table the engine counted (or merged parts carried) keeps its
        rows untouched and loses only the counts of those rows, counted on their own
        (sufficient statistics: leaving a few questionnaires out of millions costs the few);
        a table scored from its rows loses them."""
        rows = self.compact_rows(table)
        if not out.any():
            return self
        if not self.counted(table):
            tables = Tables(self.tables)
            tables[table] = rows[~out].reset_index(drop=True)
            return dataclasses.replace(self, tables=tables)
        taken = counted.counts_of_rows(rows[out], schema.tables(self.ruleset)[table], self.ruleset)
        return dataclasses.replace(self, counts=counted.subtract_counts(self.counts, taken))

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def file_of(self, table: str) -> str:
        """The file ``table`` was read from, as the quarantine names it ('' when it was not read)."""
        tc = self.table_counts
        hit = tc.loc[tc["table"] == table, "file"] if "file" in tc else []
        return str(hit.iloc[0]) if len(hit) else ""

    @property
    def rejected(self) -> int:
        return int(self.table_counts["rejected"].sum()) if len(self.table_counts) else 0

    def __repr__(self) -> str:
        lines = [f"Dataset {self.path}: {self.round.title if self.round else ''} (ruleset {self.ruleset.name})"]
        for r in self.table_counts.itertuples(index=False):
            lines.append(f"  {r.table:<15} {r.accepted:>8} accepted {r.rejected:>6} rejected")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return (f"<p>Dataset <code>{_esc(self.path)}</code> (ruleset {_esc(self.ruleset.name)})</p>"
                + self.table_counts.to_html(index=False, escape=True))


def isin(values: pd.Series, ids) -> np.ndarray:
    """``values.isin(ids)`` for a column of ids, in Arrow: pandas looks each value up in Python
    for Arrow-backed text (3 s for a million ids)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = list(ids)
    if not ids or not len(values):
        return np.zeros(len(values), dtype=bool)
    try:
        arr = arrow_text(values)
        found = pc.is_in(arr, value_set=pa.array(ids).cast(arr.type))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return values.isin(ids).to_numpy()
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _esc(s: str) -> str:
    return html.escape(str(s))


def ruleset_file(folder: str | Path, ruleset: str | Path | None = None) -> Path:
    """The ruleset file a round is read with: ``ruleset`` when given, else the folder's own
    ``ruleset.toml``, else the bundled default."""
    if ruleset:
        return Path(ruleset)
    own = Path(folder) / "ruleset.toml"
    return own if own.is_file() else default_ruleset_path()


def load_dataset(path: str | Path, ruleset: Ruleset | str | Path | None = None, engine: str | None = None,
                 skip: tuple[str, ...] = ()) -> Dataset:
    """Read and validate a dataset folder.

    ``ruleset``: a :class:`Ruleset`, a path to a TOML file, or ``None`` for the folder's own
    ``ruleset.toml`` if it has one, else the bundled default.
    ``engine``: how the big response tables (survey, onsite; CSV or Parquet) are read:
    ``"duckdb"`` (dataset/engine.py), ``"pandas"``, or ``"auto"`` (DuckDB for files of
    4 MB or more); default ``$PINGYI_ENGINE`` or auto. Both give the same quarantine and scores.
    ``skip``: tables not read at all (their counts come from elsewhere: ``pingyi score --counts``).
    """
    path = Path(path)
    if ruleset is None:
        ruleset = load_ruleset(ruleset_file(path))
    elif not isinstance(ruleset, Ruleset):
        ruleset = load_ruleset(ruleset)
    engine = engine or os.environ.get("PINGYI_ENGINE") or "auto"
    if engine not in ENGINES:
        raise OptionError(f"不认识的读取引擎“{engine}”；可用：{'、'.join(ENGINES)}")

    def defer(name: str, p: Path) -> bool:
        if engine == "pandas" or name not in engine_mod.ENGINE_TABLES or not engine_mod.available():
            return False
        return engine == "duckdb" or p.stat().st_size >= engine_mod.AUTO_MIN_BYTES

    raws = read_folder(path, ruleset, defer=defer, skip=skip)
    engine_counts: list[pd.DataFrame] = []
    engines: dict[str, str] = {}
    unit_sets: dict = {}
    clean, quarantine, table_counts, notes = validate_tables(raws, ruleset, engine_counts, engines, unit_sets,
                                                             engine_take=engine_mod.take)
    counts = pd.concat(engine_counts, ignore_index=True) if engine_counts else None
    units = raws["units"].frame
    # as the quarantine shows them (control characters written out), so a rejected unit is named
    written = {shown(u): shown(n) for u, n in zip(units["unit_id"], units["name"])}
    tables = Tables(clean)
    info = round_info(path, tables, ruleset, days_of(counts, engines))
    return Dataset(str(path), ruleset, tables, quarantine, table_counts, notes, info, written, counts, engines,
                   unit_sets)


def days_of(counts: pd.DataFrame | None, engines: dict[str, str]) -> dict[str, pd.Series]:
    """The day counts (``days`` measure) of the response tables whose rows are not in memory."""
    return {t: counted.day_counts(counts, t) for t in engine_mod.ENGINE_TABLES
            if counts is not None and engines.get(t) in ("duckdb", "counts")}


def _files(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith((".", "~$"))} if folder.is_dir() else {}


def file_digest(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def same_content(a: str | Path, b: str | Path) -> bool:
    """Are two dataset folders the same round: the same folder, or the same files with the
    same bytes? (Sizes are compared first; files are hashed only when every size matches.)"""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    fa, fb = _files(a), _files(b)
    if not fa or fa.keys() != fb.keys():
        return False
    if any(fa[n].stat().st_size != fb[n].stat().st_size for n in fa):
        return False
    return all(file_digest(fa[n]) == file_digest(fb[n]) for n in fa)
