"""pingyi: scoring and reporting for a democratic evaluation of government conduct (民主评议政风行风).

The public surface is small on purpose::

    import pingyi_lib as py
    ds = py.load_dataset("data/sample/2011")   # validated tables + quarantine
    res = py.score(ds)                          # units, items, consequences, warnings
"""

from pingyi_lib.common.errors import DatasetError, OptionError, PingyiError, ReportError, RulesetError
from pingyi_lib.dataset.load import Dataset, load_dataset
from pingyi_lib.scheme.ruleset import Ruleset, load_ruleset
from pingyi_lib.scoring.results import Results, score

__all__ = ["load_dataset", "score", "load_ruleset", "Dataset", "Results", "Ruleset",
           "PingyiError", "DatasetError", "RulesetError", "ReportError", "OptionError"]
__version__ = "0.1.0"
