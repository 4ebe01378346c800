"""The comments no theme took: substantive (not praise, not empty) but unthemed, grouped
by similarity so an analyst sees what the dictionary misses and can add a keyword or a
theme to the ruleset (then the group moves into the theme on the next run).

Grouping is greedy and deterministic: distinct texts are taken from the most frequent
down (ties by text); each joins the group whose first text (its leader) is most similar,
if the cosine similarity of their character n-grams reaches
``problems.unmatched.similarity``, and otherwise starts a group. The words of the
round's domain (``problems.domain_words``) are left out of the similarity and of the
common words shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.common.masking import mask_personal_data
from pingyi_lib.dataset.load import Dataset
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.text.keywords import common_words
from pingyi_lib.text.matching import UNTHEMED, matcher
from pingyi_lib.text.ngrams import NgramSpace
from pingyi_lib.text.themes import read_texts, texts

COLUMNS = ["group", "count", "units", "unit_ids", "words", "examples"]


def group_texts(counts: pd.Series, similarity: float, plain=lambda t: t) -> list[int]:
    """Group numbers (0, 1, …: group 0 is the largest leader's) for the distinct texts of
    ``counts`` (index: text, value: how many times), in the order of ``counts``.

    ``plain`` maps a text to what is compared (for example without domain words).
    """
    order = sorted(range(len(counts)), key=lambda i: (-int(counts.iloc[i]), str(counts.index[i])))
    shown = [plain(str(counts.index[i])) for i in order]
    space = NgramSpace(shown)
    # an n-gram of one text only never adds to a similarity: drop its column (the norm keeps it)
    df = np.zeros(len(space.vocabulary), dtype=np.int64)
    rows = space.rows(shown)
    for idx, _ in rows:
        df[np.unique(idx)] += 1
    keep = df >= 2
    rows = space.rows(shown, keep=keep)
    columns = np.cumsum(keep) - 1
    leaders = np.zeros((8, int(keep.sum())), dtype=np.float32)
    n_groups = 0
    group = [0] * len(counts)
    for pos, (idx, w) in enumerate(rows):
        cols = columns[idx]
        if n_groups:
            sims = leaders[:n_groups, cols] @ w.astype(np.float32)
            best = int(sims.argmax())
            if sims[best] >= similarity:
                group[order[pos]] = best
                continue
        if n_groups == len(leaders):
            leaders = np.vstack([leaders, np.zeros_like(leaders)])
        leaders[n_groups, cols] = w
        group[order[pos]] = n_groups
        n_groups += 1
    return group


def unmatched_groups(ds: Dataset, ruleset: Ruleset | None = None, unit_id: str | None = None) -> pd.DataFrame:
    """Unthemed substantive comments and case summaries, grouped by similarity.

    Columns: group (1 = the largest), count (texts in the group), units (how many units
    they come from), unit_ids (list), words (common words of the group, for a keyword),
    examples (list of masked texts, the most frequent first). ``unit_id``: one unit's
    texts only; ``None``: the whole round. Sorted by count, largest first.
    """
    rs = ruleset or ds.ruleset
    rules = rs.problems
    tx = texts(ds)
    if unit_id is not None:
        tx = tx[tx["unit_id"] == unit_id]
    read = read_texts(tx, rs)
    # masked before anything else: groups, words and examples never show personal data
    un = read[read["kind"] == UNTHEMED].assign(text=lambda d: d["text"].astype(str).map(mask_personal_data))
    if not len(un):
        return pd.DataFrame(columns=COLUMNS)
    counts = un["text"].value_counts(sort=False)
    groups = group_texts(counts, rules.unmatched.similarity, matcher(rules).plain)
    g_of = dict(zip(counts.index, groups))
    un = un.assign(_g=un["text"].map(g_of))
    rows = []
    for _, part in un.groupby("_g", sort=False):
        freq = part["text"].value_counts()
        freq = freq.iloc[np.lexsort((freq.index.to_numpy(dtype=str), -freq.to_numpy()))]
        rows.append({
            "count": len(part), "units": part["unit_id"].nunique(),
            "unit_ids": sorted(part["unit_id"].unique()),
            "words": common_words(freq, rs),
            "examples": list(freq.index[:rules.unmatched.examples]),
            "_first": freq.index[0],
        })
    out = pd.DataFrame(rows).sort_values(["count", "_first"], ascending=[False, True], kind="stable")
    out.insert(0, "group", np.arange(1, len(out) + 1))
    return out.drop(columns="_first").reset_index(drop=True)[COLUMNS]
