"""The exceptions a user can cause. The CLI prints them as one plain sentence."""

from __future__ import annotations


class PingyiError(Exception):
    """Base of every error caused by input the user controls (data, ruleset, options)."""

    exit_code = 1


class DatasetError(PingyiError):
    """A dataset folder cannot be read: missing table, missing column, unreadable file."""

    def __init__(self, message: str, *, path: str | None = None, table: str | None = None,
                 column: str | None = None):
        super().__init__(message)
        self.path = path
        self.table = table
        self.column = column


class RulesetError(PingyiError):
    """A ruleset file is missing, not TOML, or has a key with a bad value."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        super().__init__(message)
        self.path = path
        self.key = key


class ReportError(PingyiError):
    """A report could not be produced for reasons outside the data (options, notebooks)."""


class UsageError(PingyiError):
    """An option names something that does not exist (a unit, a date): exit code 2."""

    exit_code = 2
