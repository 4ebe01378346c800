"""Scores → the consequences of seed §六 as flags, with reasons in words (SPEC §5).

All comparisons use the published (rounded) values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.common.numbers import format_number
from pingyi_lib.scheme.ruleset import Ruleset


def rule_array(in_bottom, composite, group_mean, satisfaction, ruleset: Ruleset) -> dict[str, np.ndarray]:
    """The two rules that depend on the scores (``no_excellence``, ``talk``) on arrays.

    Shapes broadcast (``units × replicates`` with ``group_mean`` one per replicate): the
    bootstrap applies the rules to every replicate through this function, and :func:`flags`
    to the published values. A missing value never fires a rule.
    """
    bottom = np.asarray(in_bottom, dtype=bool)
    comp, mean = np.asarray(composite, dtype=float), np.asarray(group_mean, dtype=float)
    sat = np.asarray(satisfaction, dtype=float)
    with np.errstate(invalid="ignore"):
        return {"no_excellence": bottom & (comp < mean), "talk": bottom & (sat < ruleset.talk_threshold)}


def flags(units: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """One boolean column per flag, indexed like ``units``.

    ``units`` needs: composite, group_mean, in_bottom, satisfaction, violation,
    panel_share, survey_valid, onsite_valid.
    """
    share = units["panel_share"]
    low = pd.Series(False, index=units.index)
    for comp_name, minimum in ruleset.minimum.items():
        v = units[f"{comp_name}_valid"]
        low |= (v > 0) & (v < minimum)
    rules = rule_array(units["in_bottom"].to_numpy(dtype=bool), units["composite"].to_numpy(dtype=float),
                       units["group_mean"].to_numpy(dtype=float), units["satisfaction"].to_numpy(dtype=float),
                       ruleset)
    return pd.DataFrame({
        "no_excellence": rules["no_excellence"],
        "talk": rules["talk"],
        "worst": units["violation"].astype(bool),
        "panel_noncompliant": (share < ruleset.panel_min_share).fillna(False),
        "low_sample": low,
    }, index=units.index).astype(bool)


COLUMNS = ["unit_id", "name", "flag", "label", "reason", "consequence", "clause"]


def consequences(units: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """Long table of the consequences (评议结果运用) that fire: unit_id, name, flag, label,
    reason, consequence, clause (where the scheme says so).

    ``reason`` says in Chinese why the flag fired, with the numbers that made it fire.
    Data-quality flags (``kind = "data_quality"``, 样本不足) are not consequences: see :func:`notes`.
    """
    return _fired(units, ruleset, ruleset.consequence_flags)


def notes(units: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """Long table of the data-quality flags that fire (样本不足), columns as :func:`consequences`:
    shown apart from the consequences, beside the figures they qualify."""
    return _fired(units, ruleset, ruleset.note_flags)


def _fired(units: pd.DataFrame, ruleset: Ruleset, which: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for u in units.itertuples(index=False):  # a few dozen units: per-row text is fine
        where = f"第{u.rank}名/共{u.group_n}名" if pd.notna(u.rank) else ""
        reasons = {
            "no_excellence": f"排名靠后（{where}），综合得分{format_number(u.composite)}分"
                             f"低于平均分{format_number(u.group_mean)}分"
            if u.no_excellence else None,
            "talk": f"排名靠后（{where}），群众满意度{format_number(u.satisfaction)}%低于{ruleset.talk_threshold:g}%"
            if u.talk else None,
            "worst": f"确认违反评议纪律：{u.violation_kinds}" if u.worst else None,
            "panel_noncompliant": f"现场评议{u.panel_ballots}票中群众代表和企业代表{u.panel_public}票，"
                                  f"占{u.panel_share:.1%}，低于{ruleset.panel_min_share:.0%}"
            if u.panel_noncompliant else None,
            "low_sample": "；".join(
                f"{ruleset.component_labels[c]}有效答卷{int(v)}份，少于{ruleset.minimum[c]}份"
                for c, v in (("survey", u.survey_valid), ("onsite", u.onsite_valid))
                if 0 < v < ruleset.minimum[c]) if u.low_sample else None,
        }
        for flag in which:
            if reasons[flag]:
                f = ruleset.flags[flag]
                rows.append({"unit_id": u.unit_id, "name": u.name, "flag": flag, "label": f.label,
                             "reason": reasons[flag], "consequence": f.consequence, "clause": f.clause})
    return pd.DataFrame(rows, columns=COLUMNS)


def flag_words(units: pd.DataFrame, ruleset: Ruleset, which: tuple[str, ...] | None = None) -> pd.Series:
    """The flags of each unit as Chinese labels joined by 、 ('' when none fire).

    ``which``: the flags to name (default: the consequences; ``ruleset.note_flags`` for the
    data-quality notes)."""
    which = ruleset.consequence_flags if which is None else which
    labels = np.array([ruleset.flags[f].label for f in which], dtype=object)
    m = units[list(which)].to_numpy(dtype=bool).reshape(len(units), len(which))
    return pd.Series(["、".join(labels[row]) for row in m], index=units.index,
                     name="flags" if which == ruleset.consequence_flags else "notes")
