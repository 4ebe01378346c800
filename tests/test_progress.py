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


def test_a_library_warning_during_a_run_goes_to_the_log_not_stderr(tmp_path, capsys):
    import warnings

    from pingyi_lib.output.runlog import logging_to

    before = warnings.showwarning
    with logging_to(tmp_path / "report.log", verbose=False) as handler, warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("this argument will change", FutureWarning, stacklevel=1)
        handler.finish()
    assert capsys.readouterr().err == ""
    assert "FutureWarning: this argument will change" in (tmp_path / "report.log").read_text(encoding="utf-8")
    assert warnings.showwarning is before  # outside a run: warnings are shown as before


def test_the_kernels_output_is_folded_into_the_log_once_per_distinct_line(tmp_path):
    from pingyi_lib.output.runlog import fold_in, logging_to

    kernels = tmp_path / "kernels.log"
    kernels.write_text("[IPKernelApp] WARNING | over TCP\n[IPKernelApp] WARNING | over TCP\n\n"
                       "电话 13912345678 的答卷\n", encoding="utf-8")
    with logging_to(tmp_path / "report.log", verbose=False) as handler:
        fold_in(kernels)
        handler.finish()
    log = (tmp_path / "report.log").read_text(encoding="utf-8")
    assert "内核输出（2 次）：[IPKernelApp] WARNING | over TCP" in log and log.count("over TCP") == 1
    assert "13912345678" not in log and "139****5678" in log
    assert not kernels.exists()
