"""The terminal the commands print their tables on (rich), the same for every command."""

from __future__ import annotations

import sys

from pingyi_lib.common.controlchars import visible


def console(stream=None):
    """A rich Console on ``stream`` (default stdout): the terminal's width, or 160 columns when
    the output is a file or a pipe; no markup, highlighting or emoji read into the data."""
    from rich.console import Console

    stream = stream or sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 160, highlight=False,
                   soft_wrap=False, emoji=False, markup=False)


def shown(v) -> str:
    """A value for a terminal table: text with its control characters written out."""
    return visible(str(v))


def print_frame(con, df, title: str) -> None:
    """A section frame (Chinese headings) as a rich table; numbers right-aligned, as published."""
    from rich.table import Table

    from pingyi_lib.common.numbers import format_number

    t = Table(title=title, title_justify="left")
    for c in df.columns:
        t.add_column(str(c), justify="right" if df[c].dtype.kind in "iuf" else "left", overflow="fold")
    for row in df.itertuples(index=False):
        t.add_row(*(format_number(v) if isinstance(v, float) else "" if v is None else shown(v) for v in row))
    con.print(t)
