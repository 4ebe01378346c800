"""Answer patterns: the distinct answer vectors of a unit's questionnaires, with their counts.

A bootstrap over respondents needs to know which answers came together on one
questionnaire (the items are correlated), but not who gave them: a respondent is fully
described by the vector of level codes they ticked. Resampling respondents with
replacement is the same as drawing new counts of these patterns from a multinomial, so
the cost depends on the number of distinct patterns, never on the number of rows.

Only valid questionnaires (at least one scored answer on a scored item, as in
:func:`pingyi_lib.scoring.counts.valid_counts`) are kept: the others add nothing to any
index. Abstentions (不了解) and blanks are one state here (code 0, "no scored answer"),
since no index tells them apart.

    >>> p = answer_patterns(ds.survey, rs)              # doctest: +SKIP
    >>> p.head(2)                                       # doctest: +SKIP
      unit_id  lawful  fair  open  service  integrity  overall  count
    0   czsaj       0     1     1        1          1        1      3
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pingyi_lib.scheme.ruleset import Ruleset


def answer_patterns(answers: pd.DataFrame, ruleset: Ruleset, items: Sequence[str] | None = None) -> pd.DataFrame:
    """Count distinct answer vectors per unit among valid questionnaires.

    ``answers`` holds one row per ballot or questionnaire with ``unit_id`` and the item
    columns as level codes (0 = blank). Returns one row per (unit, pattern): ``unit_id``,
    one column per item (level code, abstain folded into 0) and ``count``, sorted by unit.
    """
    items = [it for it in (items or ruleset.items) if it in answers.columns]
    cols = ["unit_id", *items, "count"]
    scored_codes = [lv.code for lv in ruleset.levels if lv.score is not None]
    scored_cols = [i for i, it in enumerate(items) if it in ruleset.scored_items]
    if not len(answers) or not scored_cols:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "unit_id" else np.int64) for c in cols})
    a = answers[items].to_numpy(dtype=np.int64)
    a = np.where(np.isin(a, scored_codes), a, 0)  # blank and abstain: no scored answer
    valid = (a[:, scored_cols] > 0).any(axis=1)
    a = a[valid]
    unit_codes, units = pd.factorize(answers["unit_id"].to_numpy()[valid], sort=True)
    base = len(ruleset.levels) + 1
    if len(items) * np.log(base) + np.log(max(len(units), 1)) < 62 * np.log(2):
        key = unit_codes.astype(np.int64)  # one integer per row: the unit, then each item as a digit
        for j in range(len(items)):
            key = key * base + a[:, j]
        uniq, counts = np.unique(key, return_counts=True)
        digits = np.empty((len(uniq), len(items)), dtype=np.int64)
        rest = uniq.copy()
        for j in reversed(range(len(items))):
            digits[:, j] = rest % base
            rest //= base
        unit_of = rest
    else:  # too many items for one integer key
        rows, counts = np.unique(np.column_stack([unit_codes, a]), axis=0, return_counts=True)
        unit_of, digits = rows[:, 0], rows[:, 1:]
    out = pd.DataFrame(digits, columns=items)
    out.insert(0, "unit_id", np.asarray(units)[unit_of])
    out["count"] = counts.astype(np.int64)
    return out[cols]
