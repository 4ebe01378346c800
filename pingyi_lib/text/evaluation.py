"""How well the theme step reads comments, measured on comments a person labelled.

A labelled file is a CSV with the columns ``text, dimension, theme, split``:

- ``dimension``: one or more item ids joined by ";" for a complaint or a suggestion
  (``open;fair``), or ``praise`` (praise, thanks, an improvement), ``none`` (nothing
  said: 无, 没有意见) or ``other`` (substantive, but about none of the dimensions);
- ``theme``: the theme names of the ruleset, joined by ";" like the dimensions ('' for
  praise, none and other);
- ``split``: ``tune`` (the half the dictionary was tuned on) or ``heldout``.

The figures (:func:`evaluate`):

- per dimension, precision, recall and F1 of "the comment raises this dimension";
  macro F1 is their mean over the dimensions;
- coverage: the share of the comments labelled with a dimension (the complaints and
  suggestions the themes are for) that got a theme; ``coverage_with_other`` counts the
  ``other`` comments in the denominator too, as a unit report does (there they are
  unthemed, rightly, so this share is lower);
- theme precision and recall over (comment, theme) pairs;
- how praise and empty comments were read (false alarm: given a theme).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.text.matching import BLANK, PRAISE, PROBLEM, matcher

NOT_A_PROBLEM = ("praise", "none", "other")


def read_labelled(path: str | Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = {"text", "dimension", "theme", "split"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    return df


def _split(value: str) -> set[str]:
    return {v.strip() for v in str(value).split(";") if v.strip()}


def predict(labelled: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """The labelled rows with what the theme step read: kind, dimensions, themes, why."""
    readings = matcher(ruleset.problems).read_all(list(labelled["text"]))
    return labelled.assign(
        kind=[r.kind for r in readings],
        predicted_dimensions=[";".join(dict.fromkeys(m.dimension for m in r.matches if r.kind == PROBLEM))
                              for r in readings],
        predicted_themes=[";".join(r.themes) for r in readings],
        why=["；".join(m.explain() for m in r.matches) for r in readings],
    )


def evaluate(labelled: pd.DataFrame, ruleset: Ruleset) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-dimension precision/recall/F1 and the summary figures of the module docstring.

    Returns (table with columns dimension, label, support, precision, recall, f1; summary
    dict with macro_f1, coverage, coverage_with_other, theme_precision, theme_recall,
    praise_as_praise, empty_as_empty, false_alarm, n).
    """
    p = predict(labelled, ruleset)
    true_dims = [_split(d) - set(NOT_A_PROBLEM) for d in p["dimension"]]
    pred_dims = [_split(d) for d in p["predicted_dimensions"]]
    rows = []
    for dim in ruleset.scored_items:
        tp = sum(dim in t and dim in q for t, q in zip(true_dims, pred_dims))
        fp = sum(dim not in t and dim in q for t, q in zip(true_dims, pred_dims))
        fn = sum(dim in t and dim not in q for t, q in zip(true_dims, pred_dims))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        rows.append({"dimension": dim, "label": ruleset.item_labels[dim], "support": tp + fn,
                     "precision": prec, "recall": rec, "f1": f1})
    table = pd.DataFrame(rows)
    labels = [_split(d) for d in p["dimension"]]
    complaint = pd.Series([bool(t) for t in true_dims], index=p.index)
    substantive = complaint | pd.Series(["other" in x for x in labels], index=p.index)
    themed = p["kind"].eq(PROBLEM)
    true_themes = [_split(t) for t in p["theme"]]
    pred_themes = [_split(t) for t in p["predicted_themes"]]
    pairs_true = sum(len(t) for t in true_themes)
    pairs_pred = sum(len(q) for q in pred_themes)
    pairs_hit = sum(len(t & q) for t, q in zip(true_themes, pred_themes))
    praise = pd.Series(["praise" in x for x in labels], index=p.index)
    empty = pd.Series(["none" in x for x in labels], index=p.index)

    def share(num: pd.Series, den: pd.Series) -> float:
        return float((num & den).sum() / den.sum()) if den.sum() else float("nan")

    summary = {
        "n": int(len(p)),
        "macro_f1": float(table["f1"].mean()),
        "coverage": share(themed, complaint),
        "coverage_with_other": share(themed, substantive),
        "theme_precision": pairs_hit / pairs_pred if pairs_pred else 0.0,
        "theme_recall": pairs_hit / pairs_true if pairs_true else 0.0,
        "praise_as_praise": share(p["kind"].eq(PRAISE), praise),
        "empty_as_empty": share(p["kind"].eq(BLANK), empty),
        "false_alarm": share(themed, praise | empty),
    }
    return table, summary
