"""The terminal the commands print their tables on (rich), the same for every command."""

from __future__ import annotations

import sys


def console(stream=None):
    """A rich Console on ``stream`` (default stdout): the terminal's width, or 160 columns when
    the output is a file or a pipe; no markup, highlighting or emoji read into the data."""
    from rich.console import Console

    stream = stream or sys.stdout
    return Console(file=stream, width=None if stream.isatty() else 160, highlight=False,
                   soft_wrap=False, emoji=False, markup=False)
