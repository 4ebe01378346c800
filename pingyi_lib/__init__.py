"""pingyi: scoring and reporting for a democratic evaluation of government conduct (民主评议政风行风).

The public surface is small on purpose::

    import pingyi_lib as py
    ds = py.load_dataset("data/sample/2011")   # validated tables + quarantine
    res = py.score(ds)                          # units, items, consequences, warnings
    res = py.score(ds, intervals=True)          # ... and an interval on every score (docs/statistics.md)
"""

import os

# All of pingyi's linear algebra is on tiny matrices (the bootstrap's 30 × 30 covariances),
# where a threaded BLAS only costs: on a loaded 2-core machine one 30 × 30 eigh took 72 ms
# with OpenBLAS threads and 0.15 ms without, and `pingyi report` runs one process per core
# anyway. Set before numpy loads; a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pingyi_lib.common.errors import DatasetError, OptionError, PingyiError, ReportError, RulesetError
from pingyi_lib.dataset.load import Dataset, load_dataset
from pingyi_lib.scheme.ruleset import Ruleset, load_ruleset
from pingyi_lib.scoring.results import Results
from pingyi_lib.scoring.results import score as _score

__all__ = ["load_dataset", "score", "load_ruleset", "Dataset", "Results", "Ruleset",
           "PingyiError", "DatasetError", "RulesetError", "ReportError", "OptionError"]
__version__ = "0.1.0"


def score(ds: Dataset, ruleset: Ruleset | None = None, *, integrity: bool = True,
          intervals: bool = False) -> Results:
    """Score every unit (SPEC §4-5; ``integrity``: see :func:`pingyi_lib.scoring.results.score`).
    With ``intervals=True`` also the bootstrap and analytic intervals, rank intervals,
    consequence probabilities and robustness labels
    (:func:`pingyi_lib.stats.uncertainty.add_intervals`; columns listed there)."""
    res = _score(ds, ruleset, integrity=integrity)
    if intervals:
        from pingyi_lib.stats.uncertainty import add_intervals

        res = add_intervals(res)
    return res
