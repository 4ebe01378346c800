"""pingyi: scoring and reporting for a democratic evaluation of government conduct (民主评议政风行风).

The public surface is small on purpose::

    import pingyi_lib as py
    ds = py.load_dataset("data/sample/2011")   # validated tables + quarantine
    res = py.score(ds)                          # units, items, consequences, warnings
"""

from .errors import DatasetError, PingyiError, ReportError, RulesetError
from .pipeline import Dataset, Results, load_dataset, score
from .ruleset import Ruleset, load_ruleset

__all__ = ["load_dataset", "score", "load_ruleset", "Dataset", "Results", "Ruleset",
           "PingyiError", "DatasetError", "RulesetError", "ReportError"]
__version__ = "0.1.0"
