"""Main problems raised by the public (群众反映主要问题, seed §五(六)).

Questionnaire comments and case summaries are matched against the theme dictionary of
the ruleset (each theme belongs to one of the five dimensions); a keyword that is
negated nearby ("没有推诿", "乱罚款少了") does not count. Quotes are published, so
personal data in them is masked first (``text/masking.py``).

Every text is looked at once: identical comments are matched once and counted by
their multiplicity.
"""

from __future__ import annotations

import functools
import re

import pandas as pd

from pingyi_lib.dataset.load import Dataset
from pingyi_lib.scheme.ruleset import Ruleset, Theme
from pingyi_lib.text.masking import mask_personal_data


# --- themes ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _theme_patterns(rules) -> list[tuple[Theme, re.Pattern]]:
    out = []
    for t in rules.themes:
        kw = "|".join(re.escape(k) for k in sorted(t.keywords, key=len, reverse=True))
        out.append((t, re.compile(kw)))
    return out


_CLAUSE = re.compile(r"[，。；！？、,.;!?\s]")


def _negated(text: str, start: int, end: int, rules) -> bool:
    """A negation word shortly before the keyword in the same clause ("没有推诿扯皮"), or a
    word saying it went away right after it ("乱罚款少了")."""
    before = _CLAUSE.split(text[max(0, start - 6):start])[-1]
    after = text[end:end + 4]
    return any(n in before for n in rules.negation_before) or any(after.startswith(n)
                                                                  for n in rules.negation_after)


def themes_of(text: str, ruleset: Ruleset) -> list[str]:
    """The themes a text raises, in ruleset order.

    >>> themes_of("窗口推诿扯皮，态度冷淡", rs)            # doctest: +SKIP
    ['推诿扯皮', '服务态度差']
    """
    rules = ruleset.problems
    hits = []
    for theme, pat in _theme_patterns(rules):
        if any(not _negated(text, m.start(), m.end(), rules) for m in pat.finditer(text)):
            hits.append(theme.name)
    return hits


def texts(ds: Dataset) -> pd.DataFrame:
    """Every text the public raised: questionnaire comments and case summaries.

    Columns: unit_id, source (问卷意见 / 实例调查), ref (response or case id), text.
    """
    sv = ds.survey[ds.survey["comment"].astype(str).str.strip() != ""]
    cs = ds.cases[ds.cases["summary"].astype(str).str.strip() != ""]
    return pd.concat([
        pd.DataFrame({"unit_id": sv["unit_id"], "source": "问卷意见", "ref": sv["response_id"], "text": sv["comment"]}),
        pd.DataFrame({"unit_id": cs["unit_id"], "source": "实例调查", "ref": cs["case_id"], "text": cs["summary"]}),
    ], ignore_index=True)


def tag_themes(tx: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """One row per (text, theme) it raises: the columns of ``tx`` plus theme, dimension."""
    uniques = pd.unique(tx["text"])
    per_text = {t: themes_of(t, ruleset) for t in uniques}  # each distinct text once
    dim = {t.name: t.dimension for t in ruleset.problems.themes}
    themes = tx["text"].map(per_text)
    long = tx.assign(theme=themes).explode("theme").dropna(subset=["theme"])
    long["dimension"] = long["theme"].map(dim)
    return long.reset_index(drop=True)


def _quote_order(group: pd.DataFrame, chars: tuple[int, int]) -> pd.DataFrame:
    """Representative quotes: texts of a moderate length first (``problems.quote_chars``),
    then the shorter, then by id: deterministic and readable."""
    n = group["text"].str.len()
    return group.assign(_fit=~n.between(*chars), _len=n).sort_values(["_fit", "_len", "ref"], kind="stable")


def _distinct(candidates, n: int) -> list[str]:
    """The first ``n`` texts of which none contains another (no near-repeats as quotes)."""
    picked: list[str] = []
    for t in candidates:
        if not any(t in p or p in t for p in picked):
            picked.append(t)
        if len(picked) == n:
            break
    return picked


def main_problems(ds: Dataset, ruleset: Ruleset | None = None) -> pd.DataFrame:
    """Top themes per unit and for the whole city.

    Columns: unit_id ('' for the city as a whole), theme, dimension, dimension_label,
    count (texts raising it), share (of the unit's texts), quotes (list of masked texts),
    rank (1 = most raised). At most ``problems.top`` themes per unit.
    """
    rs = ruleset or ds.ruleset
    rules = rs.problems
    tx = texts(ds)
    tagged = tag_themes(tx, rs)
    city = tagged.assign(unit_id="")
    totals = pd.concat([tx["unit_id"].value_counts(), pd.Series({"": len(tx)})])
    both = pd.concat([tagged, city], ignore_index=True)
    cols = ["unit_id", "theme", "dimension", "dimension_label", "count", "share", "quotes", "rank"]
    if not len(both):
        return pd.DataFrame(columns=cols)
    order = {t.name: i for i, t in enumerate(rules.themes)}
    counts = both.groupby(["unit_id", "theme"]).size().rename("count").reset_index()
    counts["_order"] = counts["theme"].map(order)
    counts = counts.sort_values(["unit_id", "count", "_order"], ascending=[True, False, True], kind="stable")
    counts["rank"] = counts.groupby("unit_id").cumcount() + 1
    counts = counts[counts["rank"] <= rules.top]
    quotes = {}
    for (uid, theme), g in both.groupby(["unit_id", "theme"]):
        if (counts["unit_id"].eq(uid) & counts["theme"].eq(theme)).any():
            quotes[(uid, theme)] = [mask_personal_data(t) for t in _distinct(
                _quote_order(g.drop_duplicates("text"), rules.quote_chars)["text"], rules.quotes)]
    counts["quotes"] = [quotes[(u, t)] for u, t in zip(counts["unit_id"], counts["theme"])]
    counts["dimension"] = counts["theme"].map({t.name: t.dimension for t in rules.themes})
    counts["dimension_label"] = counts["dimension"].map(rs.item_labels)
    counts["share"] = counts["count"] / counts["unit_id"].map(totals).astype(float)
    return counts[cols].reset_index(drop=True)
