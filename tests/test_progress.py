"""Time left on the progress line, estimated from the first finished report on."""

from __future__ import annotations

from pingyi_lib.output.runlog import time_left


def test_time_left_is_unknown_until_a_report_is_done():
    assert time_left(19.0, 0, 20) is None
    assert time_left(None, 0, 20) is None


def test_time_left_follows_the_average_pace_from_the_first_report():
    # 1 of 20 done after 6 s: 6 / 1 × 19 = 114 s left
    assert time_left(6.0, 1, 20) == 114.0
    # 10 of 20 after 30 s: 3 s each, 10 left → 30 s
    assert time_left(30.0, 10, 20) == 30.0
    assert time_left(50.0, 20, 20) == 0.0
