"""Quality of the theme step on the labelled comments, written into bench/RESULTS.md.

    .venv/bin/python bench/bench_themes.py [--ruleset FILE] [--dry-run]

Reads tests/data/comments-labelled.csv (text, dimension, theme, split), reads every
comment with the ruleset's themes, and writes precision, recall and F1 per dimension and
coverage for the held-out half (the figures that count) and the tune half (the one the
dictionary was tuned on) under the heading "## Theme matching quality" of
bench/RESULTS.md, replacing that section and leaving the others alone. Also times
reading the 2011 sample round's texts.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import pingyi_lib as py
from pingyi_lib.common.numbers import format_number, format_share
from pingyi_lib.text import evaluation, themes
from pingyi_lib.text.matching import Matcher

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "comments-labelled.csv"
RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "## Theme matching quality (`bench/bench_themes.py`)"


def dimension_rows(table) -> list[str]:
    return [f"| {r.label} `{r.dimension}` | {r.support} | {format_number(r.precision, 3)} | "
            f"{format_number(r.recall, 3)} | {format_number(r.f1, 3)} |" for r in table.itertuples(index=False)]


def section(ruleset) -> str:
    labelled = evaluation.read_labelled(LABELLED)
    parts = {s: labelled[labelled["split"] == s] for s in ("heldout", "tune")}
    res = {s: evaluation.evaluate(df, ruleset) for s, df in parts.items()}
    kinds = labelled["dimension"].str.split(";").str[0].map(
        lambda d: d if d in ("praise", "none", "other") else "complaint").value_counts()
    ds = py.load_dataset(ROOT / "data" / "sample" / "2011")
    tx = themes.texts(ds)
    start = time.perf_counter()
    Matcher(ds.ruleset.problems).read_all(list(tx["text"]))  # compiled afresh: no cache in the figure
    secs = time.perf_counter() - start
    out = [HEADING, "",
           f"Labelled set: `tests/data/comments-labelled.csv`, {len(labelled)} comments written as complainants put "
           f"them, independently of the keyword lists ({kinds.get('complaint', 0)} complaints or suggestions, "
           f"{kinds.get('praise', 0)} praise, {kinds.get('none', 0)} saying nothing, {kinds.get('other', 0)} "
           "substantive but about none of the five dimensions). Split per theme into a tune half "
           f"({len(parts['tune'])}) and a held-out half ({len(parts['heldout'])}); the dictionary "
           "(keywords, synonyms, examples, thresholds) was tuned on the tune half only.", "",
           "Per dimension: does the comment raise it (a comment may raise two). Coverage: the share of "
           "the comments labelled with a dimension that got a theme; with `other`: the same share with the "
           "off-topic comments in the denominator, as a unit report counts them.", ""]
    for split, title in (("heldout", "Held-out half (the figures that count)"), ("tune", "Tune half")):
        table, s = res[split]
        out += [f"### {title}", "", "| dimension | comments | precision | recall | F1 |", "|---|---:|---:|---:|---:|",
                *dimension_rows(table), "",
                "| macro F1 | coverage | coverage with `other` | theme precision | theme recall | "
                "praise read as praise | praise or empty given a theme |",
                "|---:|---:|---:|---:|---:|---:|---:|",
                f"| {format_number(s['macro_f1'], 3)} | {format_share(s['coverage'])} | "
                f"{format_share(s['coverage_with_other'])} | {format_share(s['theme_precision'])} | "
                f"{format_share(s['theme_recall'])} | {format_share(s['praise_as_praise'])} | "
                f"{format_share(s['false_alarm'])} |", ""]
    out += ["Targets (issue 18): macro F1 ≥ 0.85 and coverage ≥ 90% on the held-out half "
            "(`tests/test_evaluation.py` asserts both).", "",
            "Read these figures with their limits: one person wrote the labelled comments and the dictionary "
            "(the labels first, committed before the dictionary was widened), so the held-out half is "
            "independent of the tuning but not of the author's idiom; real comments will score lower. The "
            "held-out errors were never listed while tuning, only these summary figures were seen. Counting "
            "the off-topic comments as a unit report does, coverage stays under 90%: those comments are "
            "rightly left unthemed and go to `pingyi problems --unmatched`.", "",
            f"Reading the {len(tx)} texts of the 2011 sample round (compiling the rules included): "
            f"{secs:.2f} s.", ""]
    return "\n".join(out)


def write(text: str, path: Path = RESULTS) -> None:
    doc = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    doc = pattern.sub(lambda _: text + "\n", doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + text
    path.write_text(doc.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ruleset", default=None)
    ap.add_argument("--dry-run", action="store_true", help="print the section instead of writing it")
    args = ap.parse_args()
    text = section(py.load_ruleset(args.ruleset))
    print(text) if args.dry_run else write(text)


if __name__ == "__main__":
    main()
