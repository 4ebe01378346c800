"""Is a change between two rounds real? Differences of two rounds' bootstrap replicates.

The rounds are independent samples, so replicate ``r`` of this round minus replicate
``π(r)`` of the last (``π`` a fixed permutation drawn from the seed, so the two rounds'
random streams are never paired draw for draw) is a replicate of the change. A change is
significant when its interval at the ruleset's level excludes 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.stats.intervals import percentile

PAIRING_STREAM = 0x1B  # a stream of the seed used only for pairing replicates across rounds


def change_intervals(now, prev, ruleset: Ruleset) -> pd.DataFrame:
    """Per unit present in both rounds (``now``, ``prev``: :class:`ScoreReplicates`): the interval
    of the change in composite and in satisfaction, and whether each excludes 0.

    Columns (index ``unit_id``): ``composite_change_lo``, ``composite_change_hi``,
    ``composite_significant``, ``satisfaction_change_lo``, ``satisfaction_change_hi``,
    ``satisfaction_significant`` (NA where a round has no value).
    """
    st = ruleset.stats
    ids = [u for u in now.unit_ids if u in set(prev.unit_ids)]
    a, b = now.unit_ids.get_indexer(ids), prev.unit_ids.get_indexer(ids)
    r = min(now.replicates, prev.replicates)
    perm = np.random.default_rng([st.seed, PAIRING_STREAM]).permutation(r)
    out = pd.DataFrame(index=pd.Index(ids, name="unit_id"))
    for name, x, y in (("composite", now.composite_raw, prev.composite_raw),
                       ("satisfaction", now.survey, prev.survey)):
        diff = x[a][:, :r] - y[b][:, perm]
        lo, hi = percentile(diff, st.level, axis=1)
        out[f"{name}_change_lo"] = round_half_up(lo, ruleset.decimals)
        out[f"{name}_change_hi"] = round_half_up(hi, ruleset.decimals)
        known = ~np.isnan(lo) & ~np.isnan(hi)
        out[f"{name}_significant"] = pd.array(np.where(known, (lo > 0) | (hi < 0), False), dtype="boolean")
        out.loc[~known, f"{name}_significant"] = pd.NA
    return out


def ranks_differ(lo_a: pd.Series, hi_a: pd.Series, lo_b: pd.Series, hi_b: pd.Series) -> pd.Series:
    """A rank change is real only when the two rank intervals do not overlap; NA when either
    is missing. Inputs share one index, which the result keeps."""
    lo_a, hi_a, lo_b, hi_b = (x.astype("Float64") for x in (lo_a, hi_a, lo_b, hi_b))
    return ((hi_a < lo_b) | (hi_b < lo_a)).astype("boolean")
