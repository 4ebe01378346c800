"""Numbers as they are published: one rounding rule (half up, 四舍五入) and one way to
write a number, a share or a rank as text. Every published figure goes through here."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.common.values import is_missing


def round_half_up(x, decimals: int):
    """Round half up to ``decimals`` places, as published figures are (四舍五入).

    The scaled value is first rounded to 6 places so that binary noise (80.00499999999)
    cannot push a half the wrong way: ``round_half_up(2.675, 2) == 2.68`` (Python's
    ``round`` and pandas' ``.round`` give 2.67 and round halves to even).
    Accepts a scalar, an array or a Series (the index is kept); NaN stays NaN.
    """
    r = np.floor(np.round(np.asarray(x, dtype=float) * 10.0 ** decimals, 6) + 0.5) / 10.0 ** decimals
    if isinstance(x, pd.Series):
        return pd.Series(r, index=x.index, name=x.name)
    return float(r) if np.ndim(r) == 0 else r


def format_number(value, digits: int = 2, suffix: str = "", missing: str = "—") -> str:
    """A number as published text: fixed ``digits`` decimals (half up), then ``suffix``;
    ``missing`` when there is none; booleans as 是/否; integers without decimals.

    >>> format_number(80.005), format_number(None), format_number(3), format_number(0.5, 1, "%")
    ('80.01', '—', '3', '0.5%')
    """
    if is_missing(value):
        return missing
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (int, np.integer)):
        return f"{int(value)}{suffix}"
    return f"{round_half_up(float(value), digits):.{digits}f}{suffix}"


def format_share(value, digits: int = 1, missing: str = "—") -> str:
    """A share 0-1 as a percentage: ``format_share(0.8371) == '83.7%'``."""
    return missing if is_missing(value) else format_number(float(value) * 100, digits, "%")


def format_rank(rank, missing: str = "") -> str:
    """A rank (nullable integer) as text; ``missing`` for a unit that is not ranked."""
    return missing if is_missing(rank) else str(int(rank))
