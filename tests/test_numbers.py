"""The one rounding rule and the one way of writing published numbers (common/numbers.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pingyi_lib.common.names import unit_slug
from pingyi_lib.common.numbers import format_number, format_rank, format_share, round_half_up


def test_round_half_up_rounds_halves_away_from_even():
    # Python's round(2.675, 2) is 2.67 (binary 2.67499999…) and round(0.125, 2) is 0.12 (half to even);
    # published figures round halves up: 2.68 and 0.13.
    assert round_half_up(2.675, 2) == 2.68
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(80.005, 2) == 80.01
    assert round_half_up(79.994999, 2) == 79.99


def test_round_half_up_keeps_series_index_and_nan():
    s = pd.Series([1.005, np.nan], index=["a", "b"], name="x")
    r = round_half_up(s, 2)
    assert list(r.index) == ["a", "b"] and r.name == "x"
    assert r["a"] == 1.01 and math.isnan(r["b"])


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(min_value=0, max_value=4))
def test_round_half_up_is_within_half_a_unit(x, d):
    assert abs(round_half_up(x, d) - x) <= 0.5 * 10 ** -d + 1e-9


def test_format_number_fixed_decimals_missing_and_booleans():
    assert format_number(65.5) == "65.50"
    assert format_number(2.675) == "2.68"  # the same half-up rule as the scores
    assert format_number(None) == "—" and format_number(np.nan, missing="") == ""
    assert format_number(True) == "是" and format_number(np.bool_(False)) == "否"
    assert format_number(np.int64(7), suffix="份") == "7份"
    assert format_number(83.7, 1, "%") == "83.7%"


def test_format_share_and_rank():
    assert format_share(0.8371) == "83.7%" and format_share(None) == "—"
    assert format_rank(pd.NA) == "" and format_rank(np.int64(3)) == "3" and format_rank(None, "—") == "—"


def test_unit_slug_keeps_plain_ids_and_separates_look_alikes():
    assert unit_slug("wj") == "wj"
    a, b = unit_slug("a/b"), unit_slug("a?b")
    assert a != b and "/" not in a and a.startswith("a_b~")
