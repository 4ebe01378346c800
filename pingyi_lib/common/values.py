"""Cells of a DataFrame as plain Python values, for JSON, CSV, workbooks and pages."""

from __future__ import annotations

import pandas as pd


def is_missing(v) -> bool:
    """None, NaN, NaT and pandas NA are missing; anything else (including '') is not."""
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # lists, arrays: not a missing scalar
        return False


def plain(v):
    """A numpy/pandas scalar as the Python value it holds; missing values as None."""
    if is_missing(v):
        return None
    if hasattr(v, "item") and not isinstance(v, str):
        return v.item()
    return v
