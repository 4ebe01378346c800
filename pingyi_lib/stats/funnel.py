"""Funnel plot data: satisfaction against the number of valid questionnaires, with control
limits around the group mean (Spiegelhalter 2005, "Funnel plots for comparing institutional
performance", Statistics in Medicine 24:1185-1202).

For a unit with ``n`` valid questionnaires, a satisfaction within ``θ₀ ± z_p · σ / √n`` is
what sampling alone gives a unit whose true satisfaction is the group mean ``θ₀``. ``σ`` is
the spread of one questionnaire's contribution, pooled over the group's units from their
linearised variances (``σ_u² = n_u · var_u``, pooled with weights ``n_u − 1``). A low score
inside the funnel may be small-sample noise; one below the outer limit is not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.scoring.results import Results
from pingyi_lib.stats import intervals
from pingyi_lib.stats.patterns import answer_patterns


def funnel(res: Results, group: str, points: int = 120) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The units of one rank group and the funnel's limits.

    Returns ``(units, limits, centre)``:

    * ``units``: ``unit_id``, ``name``, ``n`` (valid questionnaires), ``satisfaction``,
      ``in_bottom``, ``talk`` and ``position`` per level (``"above"``, ``"below"`` or ``""``
      against the limits at that unit's ``n``), in columns ``outside_<level>`` (e.g. ``outside_0.95``);
    * ``limits``: ``n`` and ``lo_<level>``, ``hi_<level>`` for each of ``stats.funnel_levels``,
      on a grid of ``points`` sample sizes spanning the units' (0-100, clipped);
    * ``centre``: ``{"mean": θ₀, "sigma": σ}``.
    """
    rs = res.ruleset
    u = res.units[(res.units["rank_group"] == group) & res.units["rank"].notna()
                  & res.units["satisfaction"].notna()]
    lin = intervals.linearised(answer_patterns(res.dataset.survey, rs), u["unit_id"], rs)["units"]
    n = lin["valid"].to_numpy(dtype=float)
    var_one = n * lin["index_var"].to_numpy()
    ok = (n > 1) & np.isfinite(var_one)
    sigma = float(np.sqrt((var_one[ok] * (n[ok] - 1)).sum() / (n[ok] - 1).sum())) if ok.any() else np.nan
    mean = float(u["satisfaction"].mean()) if len(u) else np.nan
    out = pd.DataFrame({"unit_id": u["unit_id"].to_numpy(), "name": u["name"].to_numpy(), "n": n.astype(np.int64),
                        "satisfaction": u["satisfaction"].to_numpy(), "in_bottom": u["in_bottom"].to_numpy(),
                        "talk": u["talk"].to_numpy()})
    lo_n = max(2.0, float(n.min()) * 0.8) if len(n) else 2.0
    hi_n = float(n.max()) * 1.25 if len(n) else 10.0
    grid = np.unique(np.geomspace(lo_n, hi_n, points))
    limits = pd.DataFrame({"n": grid})
    for level in rs.stats.funnel_levels:
        z = intervals.z_value(level)
        limits[f"lo_{level:g}"] = np.clip(mean - z * sigma / np.sqrt(grid), 0, 100)
        limits[f"hi_{level:g}"] = np.clip(mean + z * sigma / np.sqrt(grid), 0, 100)
        with np.errstate(invalid="ignore", divide="ignore"):
            half = z * sigma / np.sqrt(n)
        out[f"outside_{level:g}"] = np.where(out["satisfaction"] < mean - half, "below",
                                             np.where(out["satisfaction"] > mean + half, "above", ""))
    return out, limits, {"mean": mean, "sigma": sigma}
