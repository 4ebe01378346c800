"""Sampling uncertainty: intervals on every published index, rank uncertainty, how robust each
consequence is, the funnel plot and the respondent mix (docs/statistics.md).

The entry point is :func:`pingyi_lib.stats.uncertainty.add_intervals` (or
``pingyi_lib.score(ds, intervals=True)``).
"""
