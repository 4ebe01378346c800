"""The exceptions a user can cause, one per layer. Each carries the data to point at the
fault (file, row, key); the command line (and only it) maps them to exit codes."""

from __future__ import annotations


class PingyiError(Exception):
    """Base of every error caused by input the user controls (data, ruleset, options)."""


class DatasetError(PingyiError):
    """A dataset folder cannot be read: missing table, missing column, unreadable file."""

    def __init__(self, message: str, *, path: str | None = None, table: str | None = None,
                 column: str | None = None):
        super().__init__(message)
        self.path = path
        self.table = table
        self.column = column


class DatasetNotFound(DatasetError):
    """The dataset folder named does not exist (a wrong argument rather than bad data)."""


class RulesetError(PingyiError):
    """A ruleset file is missing, not TOML, or has a key with a bad value."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        super().__init__(message)
        self.path = path
        self.key = key


class ReportError(PingyiError):
    """A report could not be produced for reasons outside the data (notebooks, output folder)."""


class OptionError(PingyiError):
    """A value passed to a library entry point names something that does not exist
    (a unit, a date, a notebook folder)."""


class LeagueIncomplete(DatasetError):
    """A league table would change silently: a units row was rejected, or a ranked unit has
    no valid questionnaire. ``gaps`` is the frame of :func:`scoring.completeness.league_gaps`."""

    def __init__(self, message: str, gaps=None):
        super().__init__(message)
        self.gaps = gaps
