"""Main problems raised by the public (群众反映主要问题, seed §五(六)).

Questionnaire comments and case summaries are read by :mod:`pingyi_lib.text.matching`
against the themes of the ruleset (each theme belongs to one of the five dimensions of
seed §三): keywords with synonyms and gaps, negation, praise kept apart, similarity to
example sentences. Every theme found keeps the keyword or example that found it, so a
report can say why. Quotes are published, so personal data in them is masked first
(``text/masking.py``).

Every text is looked at once: identical comments are read once and counted by their
multiplicity.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from pingyi_lib.common.masking import mask_personal_data
from pingyi_lib.dataset.load import Dataset
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.text.matching import KEYWORD, PRAISE, PROBLEM, UNTHEMED, matcher


def themes_of(text: str, ruleset: Ruleset) -> list[str]:
    """The themes a text raises, in ruleset order.

    >>> themes_of("窗口推诿扯皮，态度冷淡", rs)            # doctest: +SKIP
    ['推诿扯皮', '服务态度差']
    """
    return matcher(ruleset.problems).read(text).themes


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


def read_texts(tx: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """The columns of ``tx`` plus kind (problem, praise, blank, unthemed; see
    :mod:`pingyi_lib.text.matching`) and reading (the :class:`Reading`, with its matches)."""
    uniques = list(pd.unique(tx["text"].astype(str)))
    per_text = dict(zip(uniques, matcher(ruleset.problems).read_all(uniques)))  # each distinct text once
    readings = tx["text"].astype(str).map(per_text)
    return tx.assign(kind=[r.kind for r in readings], reading=readings.to_numpy())


def tag_themes(tx: pd.DataFrame, ruleset: Ruleset) -> pd.DataFrame:
    """One row per (text, theme) it raises: the columns of ``tx`` plus theme, dimension,
    via (keyword or example), rule (the keyword or example sentence) and why (in words)."""
    read = read_texts(tx, ruleset)
    rows = read[read["kind"] == PROBLEM]
    matches = rows["reading"].map(lambda r: list(r.matches))
    long = rows.drop(columns=["reading"]).assign(match=matches.to_numpy()).explode("match")
    cols = list(tx.columns) + ["theme", "dimension", "via", "rule", "why"]
    if not len(long):
        return pd.DataFrame(columns=cols)
    m = long["match"]
    long = long.assign(theme=[x.theme for x in m], dimension=[x.dimension for x in m], via=[x.via for x in m],
                       rule=[x.rule for x in m], why=[x.explain() for x in m])
    return long[cols].reset_index(drop=True)


def coverage(ds: Dataset, ruleset: Ruleset | None = None) -> pd.DataFrame:
    """How much of what the public wrote the themes account for, per unit.

    Columns: unit_id ('' for the city as a whole, first), texts (comments and case
    summaries), substantive (complaints and suggestions: not praise, not empty), themed
    (substantive texts with a theme), unthemed, praise, blank, coverage (themed /
    substantive; NaN without a substantive text).
    """
    rs = ruleset or ds.ruleset
    read = read_texts(texts(ds), rs)
    kinds = pd.crosstab(read["unit_id"], read["kind"]).reindex(columns=[PROBLEM, UNTHEMED, PRAISE, "blank"],
                                                                 fill_value=0)
    kinds = kinds.reindex(ds.units["unit_id"], fill_value=0)
    kinds.loc[""] = kinds.sum()
    kinds = kinds.loc[["", *ds.units["unit_id"]]]
    out = pd.DataFrame({"unit_id": kinds.index, "texts": kinds.sum(axis=1).to_numpy(),
                        "substantive": (kinds[PROBLEM] + kinds[UNTHEMED]).to_numpy(),
                        "themed": kinds[PROBLEM].to_numpy(), "unthemed": kinds[UNTHEMED].to_numpy(),
                        "praise": kinds[PRAISE].to_numpy(), "blank": kinds["blank"].to_numpy()})
    out["coverage"] = out["themed"] / out["substantive"].where(out["substantive"] > 0)
    return out.astype({c: "int64" for c in ("texts", "substantive", "themed", "unthemed", "praise", "blank")})


def _basis(group: pd.DataFrame, n: int = 3) -> str:
    """Which rules found a theme's texts: 关键词“推诿”×3、“扯皮”×1；相似例句×2."""
    kw = Counter(r.replace("*", "…") for r in group.loc[group["via"] == KEYWORD, "rule"])
    parts = []
    if kw:
        top = sorted(kw.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = "、".join(f"“{k}”×{c}" for k, c in top[:n]) + ("等" if len(top) > n else "")
        parts.append("关键词" + shown)
    ex = int((group["via"] != KEYWORD).sum())
    if ex:
        parts.append(f"相似例句×{ex}")
    return "；".join(parts)


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
    basis (the keywords and examples that found these texts, in words), rank (1 = most
    raised). At most ``problems.top`` themes per unit.
    """
    rs = ruleset or ds.ruleset
    rules = rs.problems
    tx = texts(ds)
    tagged = tag_themes(tx, rs)
    city = tagged.assign(unit_id="")
    totals = pd.concat([tx["unit_id"].value_counts(), pd.Series({"": len(tx)})])
    both = pd.concat([tagged, city], ignore_index=True)
    cols = ["unit_id", "theme", "dimension", "dimension_label", "count", "share", "quotes", "basis", "rank"]
    if not len(both):
        return pd.DataFrame(columns=cols)
    counts = _ranked(both, "unit_id", rs)
    kept = set(zip(counts["unit_id"], counts["theme"]))
    quotes, basis = {}, {}
    for (uid, theme), g in both.groupby(["unit_id", "theme"]):
        if (uid, theme) in kept:
            quotes[(uid, theme)] = [mask_personal_data(t) for t in _distinct(
                _quote_order(g.drop_duplicates("text"), rules.quote_chars)["text"], rules.quotes)]
            basis[(uid, theme)] = _basis(g)
    counts["quotes"] = [quotes[(u, t)] for u, t in zip(counts["unit_id"], counts["theme"])]
    counts["basis"] = [basis[(u, t)] for u, t in zip(counts["unit_id"], counts["theme"])]
    counts["dimension"] = counts["theme"].map({t.name: t.dimension for t in rules.themes})
    counts["dimension_label"] = counts["dimension"].map(rs.item_labels)
    counts["share"] = counts["count"] / counts["unit_id"].map(totals).astype(float)
    return counts[cols].reset_index(drop=True)


def dimension_problems(ds: Dataset, ruleset: Ruleset | None = None) -> pd.DataFrame:
    """The themes the public raised under each dimension, city-wide: ``dimension``, ``theme``,
    ``count`` (texts raising it), ``rank`` within its dimension (1 = most raised; ties in
    ruleset order); at most ``problems.top`` themes per dimension."""
    rs = ruleset or ds.ruleset
    tagged = tag_themes(texts(ds), rs)
    cols = ["dimension", "theme", "count", "rank"]
    if not len(tagged):
        return pd.DataFrame(columns=cols)
    return _ranked(tagged, "dimension", rs)[cols].reset_index(drop=True)


def _ranked(tagged: pd.DataFrame, by: str, ruleset: Ruleset) -> pd.DataFrame:
    """Texts per ``by`` × theme (``count``), ranked within each ``by`` (1 = most raised; ties in
    ruleset order), at most ``problems.top`` themes each."""
    order = {t.name: i for i, t in enumerate(ruleset.problems.themes)}
    counts = tagged.groupby([by, "theme"]).size().rename("count").reset_index()
    counts = counts.assign(_order=counts["theme"].map(order)) \
        .sort_values([by, "count", "_order"], ascending=[True, False, True], kind="stable")
    counts["rank"] = counts.groupby(by).cumcount() + 1
    return counts[counts["rank"] <= ruleset.problems.top]
