"""A dataset folder read and validated: :func:`load_dataset` and the :class:`Dataset` it returns.

    >>> import pingyi_lib as py
    >>> ds = py.load_dataset("data/sample/2011")
    >>> ds.survey            # clean rows of one table
    >>> ds.quarantine        # every rejected row with its file, row number and reason
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pingyi_lib.dataset.read import read_folder
from pingyi_lib.dataset.round import RoundInfo, round_info
from pingyi_lib.dataset.validate import validate_tables
from pingyi_lib.scheme.ruleset import Ruleset, load_ruleset


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

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

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


def _esc(s: str) -> str:
    return html.escape(str(s))


def load_dataset(path: str | Path, ruleset: Ruleset | str | Path | None = None) -> Dataset:
    """Read and validate a dataset folder.

    ``ruleset``: a :class:`Ruleset`, a path to a TOML file, or ``None`` for the folder's own
    ``ruleset.toml`` if it has one, else the bundled default.
    """
    path = Path(path)
    if ruleset is None:
        own = path / "ruleset.toml"
        ruleset = load_ruleset(own if own.is_file() else None)
    elif not isinstance(ruleset, Ruleset):
        ruleset = load_ruleset(ruleset)
    raws = read_folder(path, ruleset)
    clean, quarantine, table_counts, notes = validate_tables(raws, ruleset)
    units = raws["units"].frame
    written = dict(zip(units["unit_id"], units["name"]))
    return Dataset(str(path), ruleset, clean, quarantine, table_counts, notes, round_info(path, clean, ruleset),
                   written)
