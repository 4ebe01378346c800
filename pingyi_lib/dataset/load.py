"""A dataset folder read and validated: :func:`load_dataset` and the :class:`Dataset` it returns.

    >>> import pingyi_lib as py
    >>> ds = py.load_dataset("data/sample/2011")
    >>> ds.survey            # clean rows of one table
    >>> ds.quarantine        # every rejected row with its file, row number and reason
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pingyi_lib.dataset.read import read_folder
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

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    @property
    def rejected(self) -> int:
        return int(self.table_counts["rejected"].sum()) if len(self.table_counts) else 0

    def __repr__(self) -> str:
        lines = [f"Dataset {self.path} (ruleset {self.ruleset.name})"]
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
    return Dataset(str(path), ruleset, clean, quarantine, table_counts, notes)


def _files(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith((".", "~$"))} if folder.is_dir() else {}


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


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
    return all(_digest(fa[n]) == _digest(fb[n]) for n in fa)
